"""Seeded layouts: same seed -> same window, different seeds -> different windows."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from deskmimic.core.errors import TaskError
from deskmimic.core.geometry import Rect
from deskmimic.tasks import TASKS, make_task
from deskmimic.tasks import vocab as V
from deskmimic.tasks.base import SCREEN

NAMES = list(TASKS)


def layout(task) -> dict:
    """What must repeat for a seed: instruction, window rect, element boxes in window px."""
    region = task.region()
    boxes = {k: (b.left - region.left, b.top - region.top, b.width, b.height)
             for k, b in task.element_boxes().items()}
    return {"instruction": task.instruction, "region": region, "boxes": boxes,
            "state": {k: v for k, v in task.state().items() if k not in ("boxes", "region")}}


def test_all_eight_tasks_registered() -> None:
    assert NAMES == ["click_button", "click_sequence", "checkboxes", "type_field", "drag_item",
                     "pick_list", "scroll_find", "workflow"]


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_layout_other_seed_other_layout(shown, name: str) -> None:
    a = layout(shown(name, 11))
    again = layout(shown(name, 11))
    assert a == again
    others = [layout(shown(name, s)) for s in (12, 13)]
    for other in others:
        assert other["region"] != a["region"]
        assert other["instruction"] != a["instruction"]
        assert other["boxes"] != a["boxes"]


@pytest.mark.parametrize("name", NAMES)
def test_window_and_elements_fit_on_screen(shown, name: str) -> None:
    for seed in (0, 5, 1_000_001):
        task = shown(name, seed)
        region = task.region()
        assert 360 <= region.width <= 640 and 280 <= region.height <= 560
        assert SCREEN.intersect(region) == region, f"{name} seed {seed}: {region} off screen"
        boxes = task.element_boxes()
        assert task.instruction and "instruction" in boxes
        assert task.next_targets(), "a fresh task always has a next target"
        for key, box in boxes.items():
            assert isinstance(box, Rect)
            assert region.intersect(box) == box, f"{name} seed {seed}: {key} {box} outside {region}"
        # Named elements never overlap each other (the instruction banner aside).
        named = [(k, b) for k, b in boxes.items()
                 if k.split(":")[0] in ("button", "checkbox", "field", "item", "target", "entry")]
        for i, (ka, ba) in enumerate(named):
            for kb, bb in named[i + 1:]:
                assert ba.intersect(bb) is None, f"{name} seed {seed}: {ka} overlaps {kb}"


def test_state_is_a_plain_snapshot(shown) -> None:
    task = shown("type_field", 3)
    s = task.state()
    assert s["name"] == "type_field" and s["seed"] == 3 and not s["done"]
    assert s["instruction"] == f"Type '{s['text']}' into {s['target']}"
    assert s["next"] == [f"field:{s['target']}"]
    s["values"][s["target"]] = "changed"
    assert task.state()["values"][s["target"]] == ""


def test_instruction_names_the_target(shown) -> None:
    for seed in range(5):
        s = shown("click_button", seed).state()
        assert s["instruction"] == f"Click {s['target']}"
        assert f"button:{s['target']}" in s["boxes"]
        assert len(s["labels"]) == len(set(s["labels"])) >= 3


def test_bad_seed_and_name_are_clear_errors(qapp) -> None:
    with pytest.raises(TaskError, match="unknown task 'nope'"):
        make_task("nope", 0)
    with pytest.raises(TaskError, match="seed must be an integer >= 0"):
        make_task("click_button", -1)


def test_vocabularies_are_large_and_split() -> None:
    assert len(V.LABELS) >= 300 and len(V.TEXT_WORDS) >= 200 and len(V.FIELDS) >= 100
    for kind, words in V.LISTS.items():
        held = {w for w in words if V.is_heldout_word(w)}
        assert 0.1 < len(held) / len(words) < 0.35, kind
    for group, values in V.OPTION_SETS.items():
        held = [v for v in values if V.is_heldout_word(v)]
        assert held and len(held) < len(values), group


@pytest.mark.parametrize("name", NAMES)
def test_heldout_seeds_ask_for_unseen_words(qapp, name: str) -> None:
    def asked(seed: int) -> set[str]:
        task = make_task(name, seed)
        words = {w.strip("',.") for w in task.instruction.split()}
        task.deleteLater()
        return words

    train = set().union(*(asked(s) for s in range(25)))
    held = set().union(*(asked(s) for s in range(V.HELDOUT_SEED_START, V.HELDOUT_SEED_START + 25)))
    new = {w for w in held - train if V.is_heldout_word(w)}
    assert new, f"{name}: held-out seeds asked for no unseen word"
    leaked = {w for w in train if V.is_heldout_word(w) and any(w in lst for lst in V.LISTS.values())}
    # Train seeds never ask for a held-out word (common words like 'and'/'then' aside).
    assert not leaked - {"then", "and", "it", "the", "onto", "into", "from", "in", "to"}, leaked


@pytest.mark.parametrize("name", ["click_button", "click_sequence", "drag_item"])
def test_placed_elements_are_whole_on_every_seed(shown, name: str) -> None:
    # `element_boxes` gives the visible part of a widget, so a box placed past the window's
    # bottom edge looked fine there; a drop zone cut off with its label (held-out
    # drag_item seed 1,000,024) cannot be found on screen by anyone. The old grid cut off 13
    # elements on these 50 drag_item seeds.
    cut = []
    for seed in [*range(0, 20), *range(1_000_000, 1_000_030)]:
        task = shown(name, seed)
        for widget in task.body.children():
            if isinstance(widget, QWidget) and widget.isVisible():
                seen = widget.visibleRegion().boundingRect()
                if seen != widget.rect() and widget.height() > 10:
                    cut.append((seed, widget.metaObject().className(), widget.geometry()))
    assert not cut, f"{len(cut)} elements cut off, e.g. {cut[:3]}"


def test_workflow_dialog_shows_every_option_whole(shown, qtbot) -> None:
    # Fixed at 330-420 px, a row of four radio buttons was squeezed ("Titaniu", "Diamo"):
    # 10 of 47 radio dialogs over 100 seeds, and the option to choose could not be read.
    cut, radios = [], 0
    for seed in [*range(0, 20), *range(1_000_000, 1_000_020)]:
        task = shown("workflow", seed)
        task._triggered(task.menu_title, task.action_name)
        dialog = task.dialog
        qtbot.addWidget(dialog)
        qtbot.waitExposed(dialog)
        radios += bool(dialog.radios)
        cut += [(seed, v) for v, r in dialog.radios.items() if r.width() < r.sizeHint().width()]
        dialog.hide()
    assert radios > 10  # the seeds did show radio rows
    assert not cut, f"{len(cut)} options cut off, e.g. {cut[:3]}"
