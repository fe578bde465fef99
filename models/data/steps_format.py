"""Steps as JSON-ready dicts and as the fixed-width table of `deskmimic episodes steps`."""

from __future__ import annotations

from dataclasses import asdict

from deskmimic.core.actions import CLICK_KINDS
from deskmimic.models.data.steps import Step


def steps_to_jsonable(steps: list[Step]) -> list[dict]:
    """Steps as plain JSON-ready dicts (tuples become lists)."""
    out = []
    for s in steps:
        d = asdict(s)
        d["keys"] = list(s.keys)
        d["events"] = list(s.events)
        out.append(d)
    return out


def _detail(s: Step) -> str:
    mods = "+".join(s.keys) + " " if s.keys and s.kind != "hotkey" else ""
    if s.kind in CLICK_KINDS:
        return f"{mods}{s.button} at ({s.x}, {s.y})"
    if s.kind == "drag":
        return f"{mods}{s.button} ({s.x}, {s.y}) -> ({s.x2}, {s.y2})"
    if s.kind == "scroll":
        return f"{mods}dx={s.dx} dy={s.dy} at ({s.x}, {s.y})"
    if s.kind == "hover":
        return f"rest at ({s.x}, {s.y})"
    if s.kind == "type":
        return repr(s.text)
    if s.kind == "hotkey":
        return "+".join(s.keys)
    if s.kind == "raw":
        return f"{s.events[1] - s.events[0]} event(s) kept as they are"
    return ""


def format_steps_table(steps: list[Step]) -> str:
    """A fixed-width table of steps for `deskmimic episodes steps` (times in s)."""
    head = ("#", "kind", "t_start", "dur_ms", "frame", "events", "detail")
    rows = [head] + [
        (str(s.index), s.kind, f"{s.t_start / 1e9:.3f}", f"{(s.t_end - s.t_start) / 1e6:.0f}",
         "-" if s.frame_index is None else str(s.frame_index),
         f"{s.events[0]}-{s.events[1]}", _detail(s))
        for s in steps
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(head) - 1)]
    lines = []
    for r in rows:
        cells = [r[c].rjust(widths[c]) if c in (0, 2, 3, 4) else r[c].ljust(widths[c])
                 for c in range(len(head) - 1)]
        lines.append("  ".join(cells + [r[-1]]).rstrip())
    return "\n".join(lines)
