"""Reduce raw input events to state-action steps; the rules are in docs/steps.md.

`reduce_events` is pure logic over the event dicts of docs/episode-format.md;
`steps_for_episode` adds each step's state, the settled frame before it started
(`state_frames`), and the hover steps, which need the frames to be seen (`hover`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from deskmimic.core.actions import BUTTON_CLICK_KINDS, STEP_KINDS
from deskmimic.core.errors import ConfigError
from deskmimic.core.keys import is_lock, is_modifier, order_modifiers

# The thresholds are shared with the practice tasks and the replay agent (core/rules.py);
# re-exported because callers of the reduction know them by this module.
from deskmimic.core.rules import HoverRules, SettleRules, StepRules
from deskmimic.models.data.hover import Rest, keep_hovers, rest_candidates
from deskmimic.models.data.keys import KeyState, chord_key, produced_char
from deskmimic.models.data.state_frames import StateFrames

if TYPE_CHECKING:
    from deskmimic.recorder.episode import Episode

logger = logging.getLogger(__name__)
# Bump whenever an episode's steps come out differently (rules, thresholds, the core/keys or
# core/actions tables): dataset caches are keyed on it.
RULES_VERSION = 3

KINDS = STEP_KINDS  # the action kinds (core/actions.py) and "raw"
_NUMBER_FIELDS = {"move": ("x", "y"), "button_down": ("x", "y"), "button_up": ("x", "y"),
                  "scroll": ("x", "y", "dx", "dy"), "key_down": (), "key_up": (), "marker": ()}


@dataclass(frozen=True)
class Step:
    """One action and where its state lies. Coordinates are captured-area pixels, times ns.

    ``keys`` is the chord of a hotkey (modifiers first, e.g. ``("ctrl", "s")``) and,
    on pointer steps, the modifiers held during them (ctrl+click -> ``("ctrl",)``).
    ``events`` is the half-open range ``[first, last + 1)`` of event indices the step
    owns; ranges never overlap and cover every event but markers.
    """

    index: int
    kind: str
    t_start: int
    t_end: int
    x: int | None = None
    y: int | None = None
    x2: int | None = None
    y2: int | None = None
    button: str | None = None
    text: str | None = None
    keys: tuple[str, ...] = ()
    dx: int = 0
    dy: int = 0
    events: tuple[int, int] = (0, 0)
    frame_index: int | None = None


@dataclass(eq=False)
class _Draft:
    """A step being built, plus the working state its kind needs."""

    kind: str                     # a KINDS entry, or "press" until the buttons are up
    first: int
    last: int
    x: int | None = None
    y: int | None = None
    x2: int | None = None
    y2: int | None = None
    button: str | None = None
    text: str = ""
    keys: tuple[str, ...] = ()
    dx: int = 0
    dy: int = 0
    last_t: int = 0               # last key press (type) or wheel event (scroll)
    down_t: int = 0               # press: time of the button_down
    buttons: set[str] = field(default_factory=set)
    max_dist: float = 0.0
    irregular: bool = False       # press: something that does not fit happened
    prev_click: _Draft | None = None


def _valid(ev: Any) -> bool:
    if not isinstance(ev, dict) or ev.get("type") not in _NUMBER_FIELDS:
        return False
    numbers = ("t", *_NUMBER_FIELDS[ev["type"]])
    if not all(isinstance(ev.get(k), int | float) and not isinstance(ev.get(k), bool)
               for k in numbers):
        return False
    if ev["type"].startswith("button") and not isinstance(ev.get("button"), str):
        return False
    return not ev["type"].startswith("key") or (isinstance(ev.get("key"), str) and ev["key"] != "")


def _sign(v: int) -> int:
    return (v > 0) - (v < 0)


class _Reducer:
    def __init__(self, events: list[dict], rules: StepRules, hovers: dict[int, Rest]):
        self.events = events
        self.rules = rules
        self.hovers = hovers              # a kept rest by the index of its last move
        self.drafts: list[_Draft] = []
        self.open: _Draft | None = None
        self.pending: list[int] = []      # owned by no step yet; go to the next one
        self.keys = KeyState()
        self.candidate: _Draft | None = None  # a single click a second click may join
        self.times: list[int] = []
        t = 0
        for ev in events:  # a malformed time borrows the previous one
            if isinstance(ev, dict) and isinstance(ev.get("t"), int | float):
                t = int(ev["t"])
            self.times.append(t)

    # ---- ownership ------------------------------------------------------------------
    def _start(self, kind: str, i: int, **attrs: Any) -> _Draft:
        self._close()
        first = self.pending[0] if self.pending else i
        self.pending = []
        d = _Draft(kind=kind, first=first, last=i, **attrs)
        self.drafts.append(d)
        self.open = d
        self.candidate = None
        return d

    def _continue(self, d: _Draft, i: int) -> None:
        d.last = i
        self.pending = []

    def _attach(self, i: int) -> None:
        if self.open is not None:
            self._continue(self.open, i)
        else:
            self.pending.append(i)

    def _close(self) -> None:
        d, self.open = self.open, None
        if d is not None and d.kind == "press":
            d.irregular = True  # a button is still down
            self._finish_press(d)

    def _raw(self, i: int) -> None:
        d = self.open
        if d is not None and d.kind == "press":
            d.irregular = True
            self._continue(d, i)
        elif d is not None and d.kind == "raw":
            self._continue(d, i)  # neighbouring oddities make one raw step
        else:
            self._start("raw", i)

    # ---- events ---------------------------------------------------------------------
    def run(self) -> list[Step]:
        for i, ev in enumerate(self.events):
            if not _valid(ev):
                self._raw(i)
            elif ev["type"] == "marker":
                self._close()  # markers are never steps and end the open one
                self.candidate = None
            else:
                getattr(self, "_" + ev["type"])(i, ev)
        self._close()
        return self._finish()

    def _move(self, i: int, ev: dict) -> None:
        d = self.open
        if d is not None and d.kind == "press":
            self._continue(d, i)
            d.max_dist = max(d.max_dist, math.hypot(ev["x"] - d.x, ev["y"] - d.y))
        else:
            self.pending.append(i)  # folds into the next step
            rest = self.hovers.get(i)
            if rest is not None:  # the moves to the rest and in it are the hover's
                self._start("hover", i, x=rest.x, y=rest.y)
                self.open = None

    def _button_down(self, i: int, ev: dict) -> None:
        d = self.open
        if d is not None and d.kind == "press":
            d.irregular = True  # a second button during a press: a button chord
            d.buttons.add(ev["button"])
            self._continue(d, i)
            return
        candidate = self.candidate
        d = self._start("press", i, x=int(ev["x"]), y=int(ev["y"]), button=ev["button"],
                        keys=self.keys.modifiers(use=True), down_t=self.times[i])
        d.buttons.add(ev["button"])
        d.prev_click = candidate

    def _button_up(self, i: int, ev: dict) -> None:
        d = self.open
        if d is None or d.kind != "press":
            self._raw(i)  # a release without its press
            return
        self._continue(d, i)
        if ev["button"] not in d.buttons:
            d.irregular = True
        d.buttons.discard(ev["button"])
        d.x2, d.y2 = int(ev["x"]), int(ev["y"])
        d.max_dist = max(d.max_dist, math.hypot(d.x2 - d.x, d.y2 - d.y))
        if not d.buttons:
            self.open = None
            self._finish_press(d)

    def _finish_press(self, d: _Draft) -> None:
        r = self.rules
        if d.irregular or d.x2 is None:
            d.kind = "raw"
            d.x = d.y = d.x2 = d.y2 = d.button = None
            d.keys = ()
            return
        if d.max_dist > r.drag_px:
            d.kind = "drag"
            return
        d.x2 = d.y2 = None
        d.kind = BUTTON_CLICK_KINDS.get(d.button or "", "raw")
        if d.kind == "raw":
            d.x = d.y = d.button = None
            d.keys = ()
            return
        p = d.prev_click
        if (d.kind == "click" and p is not None and p.kind == "click" and p.keys == d.keys
                and len(self.drafts) >= 2 and self.drafts[-2] is p and self.drafts[-1] is d
                and d.down_t - p.down_t <= r.double_click_ms * 1e6
                and math.hypot(d.x - p.x, d.y - p.y) <= r.double_click_px):
            p.kind = "double_click"
            p.last = d.last
            self.drafts.pop()
            self.candidate = None  # a third click is a click of its own
        elif d.kind == "click":
            self.candidate = d

    def _scroll(self, i: int, ev: dict) -> None:
        d, t, r = self.open, self.times[i], self.rules
        if d is not None and d.kind == "press":
            d.irregular = True
            self._continue(d, i)
            return
        x, y, dx, dy = (int(ev[k]) for k in ("x", "y", "dx", "dy"))
        if (d is not None and d.kind == "scroll" and d.keys == self.keys.modifiers()
                and t - d.last_t <= r.scroll_gap_ms * 1e6
                and math.hypot(x - d.x, y - d.y) <= r.scroll_px
                and _sign(dx) * _sign(d.dx) >= 0 and _sign(dy) * _sign(d.dy) >= 0):
            self._continue(d, i)
            d.dx, d.dy = d.dx + dx, d.dy + dy
        else:
            d = self._start("scroll", i, x=x, y=y, dx=dx, dy=dy, keys=self.keys.modifiers(use=True))
        d.last_t = t

    def _key_down(self, i: int, ev: dict) -> None:
        key, t, d = ev["key"], self.times[i], self.open
        held, _ = self.keys.press(ev)
        if d is not None and d.kind == "press":
            if is_modifier(key):
                d.keys = order_modifiers((*d.keys, key))
                held.used = True
            elif not is_lock(key):
                d.irregular = True  # e.g. esc during a drag
            self._continue(d, i)
            return
        if is_lock(key):
            self._attach(i)
            return
        if is_modifier(key):
            self.pending.append(i)  # decided by what comes next
            return
        chord = self.keys.chord_modifiers()
        typing = d is not None and d.kind == "type" and t - d.last_t <= self.rules.idle_gap_ms * 1e6
        char = produced_char(ev, self.keys.caps_lock)
        if key == "backspace" and not chord and typing and d.text:
            d.text = d.text[:-1]  # erases a character typed in this run
        elif char is not None and not chord:
            self.keys.modifiers(use=True)  # shift / AltGr chose the character
            if typing:
                d.text += char
            else:
                d = self._start("type", i, text=char)
        else:
            main = chord_key(ev) or "unknown"
            self._start("hotkey", i, keys=(*self.keys.modifiers(use=True), main))
            return
        self._continue(d, i)
        d.last_t = t

    def _key_up(self, i: int, ev: dict) -> None:
        key, d = ev["key"], self.open
        held = self.keys.release(ev)
        if d is not None and d.kind == "press":
            if held is None and not (is_modifier(key) or is_lock(key)):
                d.irregular = True
            self._continue(d, i)
        elif held is None and not (is_modifier(key) or is_lock(key)):
            self._raw(i)  # a release without its press
        elif held is not None and held.modifier and not held.used:
            names = self.keys.take_unused_modifiers(held)  # pressed alone: a lone tap
            if names == ("shift",) and d is not None and d.kind == "type":
                self._continue(d, i)  # a shift tap while typing types nothing
            else:
                self._start("hotkey", i, keys=names)
        else:
            self._attach(i)

    # ---- output ---------------------------------------------------------------------
    def _finish(self) -> list[Step]:
        n = len(self.events)
        steps = []
        for k, d in enumerate(self.drafts):
            steps.append(Step(
                index=k, kind=d.kind, t_start=self.times[d.first], t_end=self.times[d.last],
                x=d.x, y=d.y, x2=d.x2, y2=d.y2, button=d.button,
                text=d.text if d.kind == "type" else None, keys=d.keys,
                dx=d.dx, dy=d.dy, events=(d.first, d.last + 1)))
        # done: the state is the screen at the end (the stop marker is the last event);
        # it owns what no step took after the last one (trailing moves, late releases).
        t_end = self.times[-1] if n else 0
        first = self.pending[0] if self.pending else n
        steps.append(Step(index=len(steps), kind="done", t_start=t_end, t_end=t_end,
                          events=(first, n)))
        return steps


def reduce_events(events: list[dict], hovers: Iterable[Rest] = (), **rules: float) -> list[Step]:
    """Reduce raw events (docs/episode-format.md) to steps (docs/steps.md).

    Args:
        events: event dicts in recorded order.
        hovers: pointer rests that are ``hover`` steps (`hover.rest_candidates` proposes
            them from the events, `hover.keep_hovers` judges them on the frames).
        **rules: thresholds overriding `StepRules` defaults, e.g. ``double_click_ms=500``.

    Returns:
        Steps in order, the last one always ``done``. Every event except markers is
        owned by exactly one step (``Step.events``); what fits no rule is a ``raw`` step.

    Raises:
        ConfigError: an unknown or non-positive rule.
    """
    names = {f.name for f in fields(StepRules)}
    unknown = sorted(set(rules) - names)
    if unknown:
        raise ConfigError(f"unknown step rule(s) {unknown}: use {sorted(names)}")
    return _Reducer(list(events), StepRules(**rules), {h.last: h for h in hovers}).run()


def steps_for_episode(ep: Episode, settle: SettleRules | None = None,
                      hover: HoverRules | None = None, **rules: float) -> list[Step]:
    """Steps of an episode, each with ``frame_index`` set to its state frame.

    The state frame is the last frame captured at or before ``t_start`` that is
    settled: while a frame differs from its predecessor (`SettleRules.same`, the
    replay agent's test too) the search steps back, at most ``max_back`` frames, so a
    frame grabbed mid-change is not used. ``frame_index`` is ``None`` for a step that
    started before the first frame. Pointer rests that changed what the next action
    acts on become ``hover`` steps (`deskmimic.models.data.hover`); that needs frames,
    so an episode without frames has none.

    Args:
        ep: a `deskmimic.recorder.episode.Episode` (uses read_events, frame_times, frame).
        settle: settle detection settings; defaults to `SettleRules()`.
        hover: when a rest is a hover step; defaults to `HoverRules()`.
        **rules: `StepRules` overrides passed to `reduce_events`.
    """
    events = ep.read_events()
    if len(ep.frame_times) == 0:
        logger.warning("episode %s has no frames: steps carry no state frame",
                       getattr(ep, "id", "?"))
        return reduce_events(events, **rules)
    frames = StateFrames(ep, settle or SettleRules())
    rests = rest_candidates(events, hover)
    if rests:  # judged on a reduction with every candidate a hover, then reduced again
        trial = frames.attach(reduce_events(events, rests, **rules))
        rests = keep_hovers(trial, rests, events, frames, hover)
    return frames.attach(reduce_events(events, rests, **rules))
