"""What tells demonstrations apart in the Episodes list, read on the scan's worker thread
(Qt-free): the practice task's seed, the seconds actually recorded, and which episodes
look like duplicates of each other.

Two episodes are flagged as duplicates when either

- they are of the same practice task with the same seed (the same generated screen
  recorded twice), or
- their instructions are the same (ignoring case and runs of spaces) and their actions
  are near-identical: the same sequence of clicks (button), scrolls (direction; a run
  of notches counts once) and key presses (key), where each click or scroll lies within
  ``NEAR_FRACTION`` of the captured area's width and height of the other's (positions
  are compared as fractions of each episode's area, so areas of different sizes compare).

Both are hints for a person deciding what to keep, not rules the training applies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# How far (fraction of the area's width or height) a click may move and still count as
# the same click: about a button's half-width on a 460 px practice window.
NEAR_FRACTION = 0.03
EVENTS_FILE = "events.jsonl"

Action = tuple[str, str, float, float]  # kind, detail (button, direction, key), x, y (fractions)


@dataclass(frozen=True)
class DemoFacts:
    """``seed``: the practice task's seed (None: not a practice task); ``recorded_s``:
    seconds of recorded time (pauses taken off); ``actions``: the action sequence (None
    when the events cannot be read)."""

    seed: int | None = None
    recorded_s: float = 0.0
    actions: tuple[Action, ...] | None = None


def recorded_seconds(meta: dict) -> float:
    """The episode's duration less its paused spans."""
    total = float((meta.get("counters") or {}).get("duration_s") or 0.0)
    paused_ns = 0
    for span in meta.get("paused") or []:
        if isinstance(span, dict):
            s, e = span.get("start_ns"), span.get("end_ns")
            if isinstance(s, int) and isinstance(e, int) and e > s:
                paused_ns += e - s
    return max(total - paused_ns / 1e9, 0.0)


def action_signature(events: list[dict], size: tuple[int, int] | None) -> tuple[Action, ...]:
    """The clicks, scroll runs and key presses of ``events``, positions as fractions of
    the captured area (``size`` = width, height; absolute pixels when unknown)."""
    w, h = size if size and size[0] > 0 and size[1] > 0 else (1, 1)
    out: list[Action] = []
    for ev in events:
        kind = ev.get("type")
        if kind == "button_down":
            out.append(("click", str(ev["button"]), ev["x"] / w, ev["y"] / h))
        elif kind == "scroll":
            way = ("up" if ev["dy"] > 0 else "down") if ev["dy"] else \
                ("right" if ev["dx"] > 0 else "left")
            if out and out[-1][:2] == ("scroll", way):
                continue
            out.append(("scroll", way, ev["x"] / w, ev["y"] / h))
        elif kind == "key_down":
            out.append(("key", str(ev["key"]), 0.0, 0.0))
    return tuple(out)


def near_same(a: tuple[Action, ...] | None, b: tuple[Action, ...] | None) -> bool:
    """Whether two action sequences are near-identical (module docstring); an empty or
    unknown sequence is never the same as anything."""
    if not a or not b or len(a) != len(b):
        return False
    return all(x[:2] == y[:2] and abs(x[2] - y[2]) <= NEAR_FRACTION
               and abs(x[3] - y[3]) <= NEAR_FRACTION for x, y in zip(a, b, strict=True))


def read_facts(path: Path, size: tuple[int, int] | None) -> DemoFacts:
    """The facts of the episode at ``path`` (never raises: what cannot be read is left out)."""
    from deskmimic.core.errors import DeskmimicError
    from deskmimic.recorder.episode import iter_event_lines
    from deskmimic.recorder.episode_format import read_meta

    try:
        meta = read_meta(path)
    except (DeskmimicError, OSError, ValueError):
        return DemoFacts()
    seed = (meta.get("extra") or {}).get("seed")
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    try:
        events = [ev for _n, ev in iter_event_lines(Path(path) / EVENTS_FILE, strict=False)]
        actions: tuple[Action, ...] | None = action_signature(events, size)
    except (DeskmimicError, OSError, ValueError) as exc:
        logger.debug("%s: no action signature (%s)", path, exc)
        actions = None
    return DemoFacts(seed, recorded_seconds(meta), actions)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def find_duplicates(rows: list, facts: dict[str, DemoFacts]) -> dict[str, str]:
    """Path (as text) -> why it looks like a duplicate, naming the other episode.

    ``rows`` are objects with ``path``, ``id``, ``task`` and ``instruction`` (the list's
    `EpisodeRow`); ``facts`` their `DemoFacts` by path.
    """
    why: dict[str, str] = {}

    def flag(a, b, reason: str) -> None:
        for x, y in ((a, b), (b, a)):
            why.setdefault(str(x.path), f"{reason} as {y.id}")

    by_seed: dict[tuple[str, int], list] = {}
    by_text: dict[str, list] = {}
    for r in rows:
        f = facts.get(str(r.path))
        if f is None:
            continue
        if r.task and f.seed is not None:
            by_seed.setdefault((r.task, f.seed), []).append(r)
        if _norm(r.instruction):
            by_text.setdefault(_norm(r.instruction), []).append(r)
    for (_task, seed), group in by_seed.items():
        for other in group[1:]:
            flag(group[0], other, f"same task and seed ({seed})")
    for group in by_text.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if near_same(facts[str(a.path)].actions, facts[str(b.path)].actions):
                    flag(a, b, "same instruction and near-identical actions")
    return why


@dataclass(frozen=True)
class Listing:
    """An episodes folder as the list shows it: rows, their facts and the duplicates."""

    rows: list
    facts: dict[str, DemoFacts]
    duplicates: dict[str, str]


def scan_listing(root: Path) -> Listing:
    """Scan ``root`` (`scan_episodes`) and read each episode's facts (worker thread)."""
    from deskmimic.app.gui.state import scan_episodes

    rows = scan_episodes(root)
    facts = {str(r.path): read_facts(r.path, r.size) for r in rows if r.status != "unreadable"}
    return Listing(rows, facts, find_duplicates(rows, facts))
