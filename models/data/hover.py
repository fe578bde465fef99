"""Hover steps: which pointer rests changed what the next action needed (docs/steps.md).

The reduction itself is pure logic over events, and whether a rest opened something can
only be seen in the frames, so the work is split: `rest_candidates` proposes rests from
the events alone, `keep_hovers` judges them on the frames, and `reduce_events` turns the
kept ones into ``hover`` steps (``hovers=``). `steps_for_episode` runs the three.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deskmimic.core.rules import HoverRules

# Events a rest may contain: only pointer motion. A press, a key, a wheel click or a
# marker ends any rest (a rest then a click in place is the click's aiming).
_MOVE = "move"
_POINTED = ("move", "button_down", "button_up", "scroll")  # events that carry x, y
_CURSOR_BACK = 8  # px a drawn pointer may reach above and left of its hotspot
_GRAB_SLACK_NS = 50_000_000  # a grab's stamp and its content may be this far apart
# The strip left of the pointer in which its row's highlight is read: the drawn arrow
# reaches right and down from its tip, and a menu's padding leaves a few px left of a label.
_STRIP = 6


@dataclass(frozen=True)
class Rest:
    """A pointer rest: events ``first..last`` (moves) kept the pointer near ``(x, y)``.

    ``x, y`` is where the pointer sat last; ``t_arrive`` the time of the first move of
    the rest, ``t_leave`` of the move that left it (event ``last + 1``).
    """

    first: int
    last: int
    x: int
    y: int
    t_arrive: int
    t_leave: int


def rest_candidates(events: Sequence[Any], rules: HoverRules | None = None) -> list[Rest]:
    """Rests of at least ``rest_ms`` within ``rest_px``, nothing but moves, left by a move.

    No button may be down (a rest during a drag is part of the drag). A rest ended by
    anything but a move (a click where the pointer sat, a key) is no candidate.
    """
    r = rules or HoverRules()
    out: list[Rest] = []
    anchor: int | None = None   # index of the move the current rest began with
    last = 0
    down = 0
    for i, ev in enumerate(events):
        kind = ev.get("type") if isinstance(ev, dict) else None
        if kind != _MOVE or not _xy_ok(ev):
            if kind == "button_down":
                down += 1
            elif kind == "button_up":
                down = max(0, down - 1)
            anchor = None
            continue
        if down:
            anchor = None
            continue
        if anchor is not None:
            a = events[anchor]
            if math.hypot(ev["x"] - a["x"], ev["y"] - a["y"]) <= r.rest_px:
                last = i
                continue
            if ev["t"] - a["t"] >= r.rest_ms * 1e6:
                p = events[last]
                out.append(Rest(anchor, last, int(p["x"]), int(p["y"]), int(a["t"]), int(ev["t"])))
        anchor = last = i
    return out


def _xy_ok(ev: dict) -> bool:
    return all(isinstance(ev.get(k), int | float) and not isinstance(ev.get(k), bool)
               for k in ("t", "x", "y"))


def pointer_track(events: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Times (ns) and (x, y) of every event that says where the pointer was."""
    rows = [(ev["t"], ev["x"], ev["y"]) for ev in events
            if isinstance(ev, dict) and ev.get("type") in _POINTED and _xy_ok(ev)]
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    return arr[:, 0], arr[:, 1:]


def pointer_near(track: tuple[np.ndarray, np.ndarray], t: int, window_ns: int) -> np.ndarray:
    """Where the pointer was from ``window_ns`` before ``t`` to as long after (the last
    place before the window included): where a frame grabbed at ``t`` drew it."""
    times, xy = track
    lo = int(np.searchsorted(times, t - window_ns, side="right"))
    hi = int(np.searchsorted(times, t + window_ns, side="right"))
    return xy[max(0, lo - 1):hi]


def _changed(before: np.ndarray, after: np.ndarray, x0: int, x1: int, y0: int, y1: int,
             level: float) -> np.ndarray:
    """Where the gray level of ``[y0:y1, x0:x1]`` differs by more than ``level``."""
    import cv2  # a hard dependency, imported here as in core.rules

    def gray(img: np.ndarray) -> np.ndarray:
        crop = np.ascontiguousarray(img[y0:y1, x0:x1, :3])
        return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.int16)

    return np.abs(gray(after) - gray(before)) > level


def rest_band(before: np.ndarray, after: np.ndarray, x: int, y: int,
              rules: HoverRules | None = None) -> tuple[int, int] | None:
    """The rows ``(top, bottom)`` that changed where the pointer rests: the highlight of
    the rested-on row. Measured in a strip just left of the pointer (`_STRIP`): the run
    of rows through ``y`` in which most of the strip changed. None when the rest
    point's row did not change."""
    r = rules or HoverRules()
    h, w = before.shape[:2]
    sx0, sx1 = max(0, x - 1 - _STRIP), max(0, x - 1)
    reach = int(r.near_px) + 1  # a band taller than that is no row highlight
    sy0, sy1 = max(0, y - reach), min(h, y + reach + 1)
    if sx0 >= sx1 or not sy0 <= y < sy1 or before.shape != after.shape:
        return None
    rows = _changed(before, after, sx0, sx1, sy0, sy1, r.level).mean(axis=1) > 0.5
    i = y - sy0
    if not rows[i]:
        return None
    top, bottom = i, i
    while top > 0 and rows[top - 1]:
        top -= 1
    while bottom + 1 < rows.size and rows[bottom + 1]:
        bottom += 1
    return sy0 + top, sy0 + bottom


def _median_gray(img: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> float:
    h, w = img.shape[:2]
    crop = img[max(0, y0):min(h, y1), max(0, x0):min(w, x1), :3].astype(np.float32)
    if crop.size == 0:
        return float("nan")
    return float(np.median(crop @ np.array([0.299, 0.587, 0.114], np.float32)))


def on_band(after: np.ndarray, band: tuple[int, int], rest: Rest, x: int, y: int,
            rules: HoverRules | None = None) -> bool:
    """Whether ``(x, y)`` lies on the highlight of the rested-on row: inside its rows, on
    the same fill (median gray of the target's box within ``level`` of the strip left of
    the rest, in the frame before the pointer moved on). A submenu's item level with the
    item that opened it is inside the rows but on the menu's own background."""
    r = rules or HoverRules()
    if not band[0] <= y <= band[1]:
        return False
    fill = _median_gray(after, rest.x - 1 - _STRIP, rest.x - 1, band[0], band[1] + 1)
    bw = int(r.box_px)
    there = _median_gray(after, x - bw, x + bw + 1, max(band[0], y - int(r.box_rows_px)),
                         min(band[1], y + int(r.box_rows_px)) + 1)
    return abs(there - fill) <= r.level


def target_change(before: np.ndarray, after: np.ndarray, x: int, y: int,
                  rules: HoverRules | None = None, cursors: Iterable[Sequence[int]] = (),
                  band: tuple[int, int] | None = None) -> int:
    """Pixels of the box around ``(x, y)`` whose gray level differs by > ``level``.

    ``before`` and ``after`` are RGB frames of the same size; the box is clipped to
    them. Pixels under a drawn pointer at one of ``cursors`` (hotspots) are left out,
    and so are the rows of ``band`` (`rest_band`) when ``y`` lies outside it: the
    highlight of the rested-on row reaching into the box of a target in the next row.
    """
    r = rules or HoverRules()
    h, w = before.shape[:2]
    bw, bh = int(r.box_px), int(r.box_rows_px)
    x0, x1 = max(0, x - bw), min(w, x + bw + 1)
    y0, y1 = max(0, y - bh), min(h, y + bh + 1)
    if x0 >= x1 or y0 >= y1 or before.shape != after.shape:
        return 0
    changed = _changed(before, after, x0, x1, y0, y1, r.level)
    c = int(r.cursor_px)
    for cx, cy in cursors:
        changed[max(0, cy - _CURSOR_BACK - y0):max(0, cy + c - y0),
                max(0, cx - _CURSOR_BACK - x0):max(0, cx + c - x0)] = False
    if band is not None and not band[0] <= y <= band[1]:
        changed[max(0, band[0] - y0):max(0, band[1] + 1 - y0)] = False
    return int(changed.sum())


def last_far(track: tuple[np.ndarray, np.ndarray], rest: Rest, distance: float) -> int | None:
    """The time the pointer was last farther than ``distance`` from ``rest`` before it
    arrived there (None: never, as far as the events tell)."""
    times, xy = track
    before = times < rest.t_arrive
    far = np.hypot(xy[:, 0] - rest.x, xy[:, 1] - rest.y) > distance
    hits = times[before & far]
    return int(hits[-1]) if hits.size else None


def keep_hovers(steps: Sequence[Any], rests: Sequence[Rest], events: Sequence[Any], frames: Any,
                rules: HoverRules | None = None) -> list[Rest]:
    """The rests that are hover steps, judged on the frames (`judge_rests`)."""
    r = rules or HoverRules()
    verdicts = judge_rests(steps, rests, events, frames, r)
    return [rest for rest, v in zip(rests, verdicts, strict=True)
            if isinstance(v, int) and v > r.area_px]


def judge_rests(steps: Sequence[Any], rests: Sequence[Rest], events: Sequence[Any], frames: Any,
                rules: HoverRules | None = None) -> list[int | str]:
    """For each rest, the pixels changed at the next target, or why it was not measured.

    ``steps`` is the reduction with every candidate as a hover step, in which the k-th
    hover step is ``rests[k]``; ``frames`` a `deskmimic.models.data.state_frames.StateFrames`.
    A rest is kept when the next step that is kept acts at a point farther than
    ``near_px`` from it and from where the pointer step before it (not a hover) acted,
    and the box around that point changed (`target_change`, more than ``area_px``
    pixels) between the hover's state frame, or the last frame before the pointer came
    within ``near_px`` of the rest if that is later, and the last frame before it left.
    Judged from the last to the first, so a hover that opened the submenu in which the
    next hover rests is kept.
    """
    r = rules or HoverRules()
    hover_at = [k for k, s in enumerate(steps) if s.kind == "hover"]
    if len(hover_at) != len(rests):
        raise ValueError(f"{len(hover_at)} hover steps for {len(rests)} rests")
    track = pointer_track(events)
    verdicts: list[int | str] = ["unjudged"] * len(rests)
    for h in reversed(range(len(rests))):
        k, rest = hover_at[h], rests[h]
        verdicts[h] = _judge(steps, k, rest, track, frames, r, lambda s: _kept(
            verdicts[hover_at.index(s.index)], r))
    return verdicts


def _kept(verdict: int | str, r: HoverRules) -> bool:
    return isinstance(verdict, int) and verdict > r.area_px


def _judge(steps: Sequence[Any], k: int, rest: Rest, track: tuple[np.ndarray, np.ndarray],
           frames: Any, r: HoverRules, kept: Callable[[Any], bool]) -> int | str:
    nxt = next((s for s in steps[k + 1:] if s.kind != "hover" or kept(s)), None)
    if nxt is None or nxt.x is None or nxt.y is None:
        return "no pointer step next"  # nothing the rest could have opened for it
    if math.hypot(nxt.x - rest.x, nxt.y - rest.y) <= r.near_px:
        return "next acts near the rest"  # a pause before acting there
    prev = next((s for s in reversed(steps[:k]) if s.kind != "hover" and s.x is not None), None)
    if prev is not None and math.hypot(nxt.x - prev.x, nxt.y - prev.y) <= r.near_px:
        return "next acts where the step before did"  # it was there already
    # Before: the hover's state, or later the screen before the pointer neared the rest,
    # so before the thing it rests on could react (a submenu that opens on entering its
    # item, or once its delay ran out while the pointer was still slowing down onto it).
    # Not earlier than the state: the step before may have opened the menu the rest is in.
    t_far = last_far(track, rest, r.near_px)
    candidates = [steps[k].frame_index, None if t_far is None else frames.last_before(t_far)]
    before = max((i for i in candidates if i is not None), default=None)
    after = frames.last_before(rest.t_leave)
    if before is None or after is None or after <= before:
        return "no frames to compare"
    cursors = np.concatenate([pointer_near(track, int(frames.times[i]), _GRAB_SLACK_NS)
                              for i in (before, after)])
    b, a = frames.rgb(before), frames.rgb(after)
    band = rest_band(b, a, rest.x, rest.y, r)
    if band is not None and on_band(a, band, rest, nxt.x, nxt.y, r):
        return "next acts on the rested-on highlight"  # a pause on the thing then clicked
    return target_change(b, a, nxt.x, nxt.y, r, cursors.tolist(), band)
