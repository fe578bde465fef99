"""The seeded draws (`tasks/draws.py`, no toolkit): a seed gives the Qt windows exactly the
content and geometry it gave before the draws moved there, and the same content in Qt and Tk."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from deskmimic.tasks import make_task, show_task
from deskmimic.tasks.runner import close_task

PINNED = Path(__file__).with_name("pinned_qt_draws.json")

# Seeds of every task whose draws moved, both pick_list modes, held-out words, and the
# placement's fallbacks (click_button 4 and drag_item 0: the grid; drag_item 15: rows).
CASES = [("click_button", 3), ("click_button", 4), ("click_button", 1_000_002),
         ("click_sequence", 4), ("click_sequence", 9), ("checkboxes", 5), ("checkboxes", 8),
         ("type_field", 2), ("type_field", 1_000_007), ("pick_list", 0), ("pick_list", 1),
         ("pick_list", 2), ("pick_list", 3), ("drag_item", 0), ("drag_item", 15)]


def snapshot(task: Any) -> dict[str, Any]:
    """What a seed drew: the window's place and size, every box in window pixels, the
    task's own fields, and click_sequence's button colours."""
    s = task.state()
    r = s["region"]
    out = {k: v for k, v in s.items()
           if k not in ("name", "seed", "done", "result", "region", "boxes")}
    out["region"] = [r.left, r.top, r.width, r.height]
    out["boxes"] = {k: [b.left - r.left, b.top - r.top, b.width, b.height]
                    for k, b in s["boxes"].items()}
    if task.name == "click_sequence":
        out["colors"] = {lab: re.search(r"background-color:(#\w+)", b.styleSheet()).group(1)
                         for lab, b in task.buttons.items()}
    return json.loads(json.dumps(out))


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_qt_seed_draws_what_it_drew_before(qapp, name: str, seed: int) -> None:
    want = json.loads(PINNED.read_text())[f"{name}:{seed}"]
    task = show_task(make_task(name, seed))
    try:
        got = snapshot(task)
    finally:
        close_task(task)
    assert got == want


def test_draws_and_tk_windows_import_no_qt() -> None:
    # The Tk windows run in a process of their own, and take their draws from here.
    import ast

    tasks = Path(__file__).resolve().parents[2] / "tasks"
    for name in ("draws.py", "verdicts.py", "tk_host.py", "tk_windows.py", "tk_lists.py"):
        tree = ast.parse((tasks / name).read_text())
        mods = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        mods += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [m for m in mods if m.startswith(("PySide6", "shiboken6"))], name


def test_placement_keeps_boxes_apart_and_inside_or_falls_back_to_rows() -> None:
    import random

    from deskmimic.tasks.draws import place_boxes

    area = (16, 16, 400, 300)
    for seed in range(200):
        rng = random.Random(seed)
        sizes = [(rng.randint(60, 200), rng.randint(28, 60)) for _ in range(rng.randint(2, 12))]
        boxes = place_boxes(rng, area, sizes, gap=12)
        assert len(boxes) == len(sizes)
        for i, (x, y, w, h) in enumerate(boxes):
            assert x >= 16 and y >= 16 and x + w <= 416, (seed, boxes)
            for x2, y2, w2, h2 in boxes[:i]:  # never overlapping, even when crowded
                assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, (seed, boxes)
