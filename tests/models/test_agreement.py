"""Does a click land on what the instruction names (`perception.agreement`)? Judged on the
real reader's lines of real task windows on the X display, in the default look and in a
held-out look (a font family, size and palette the rules were not tuned on), and on
hand-built lines for the rules' edges."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from deskmimic.models.perception.agreement import (
    click_agreement,
    done_agreement,
    final_names,
    phrases,
    split_elements,
)
from deskmimic.models.perception.reader import TextLine, read_frame
from deskmimic.recorder.capture import open_capture
from deskmimic.tasks.looks import DEFAULT_LOOK, apply_look, look_for
from deskmimic.tasks.runner import make_task, show_task, spin

# Looks to judge in: the one the eval frames showed, and held-out ones (dark palette,
# URW/Nimbus fonts) found by `_seed`.
LOOKS = [("default", {}), ("heldout", {"palette": "dark", "scale": 1.0}),
         ("heldout", {"palette": "light", "scale": 1.5})]


def line(text: str, x0: int, y0: int, cw: int = 8, h: int = 16) -> TextLine:
    xs = tuple(x0 + cw * (i + 0.5) for i in range(len(text)))
    return TextLine(text, 0.99, (x0, y0, x0 + cw * len(text), y0 + h), xs)


@pytest.fixture
def looks_reset(qapp) -> Iterator[None]:
    yield
    apply_look(DEFAULT_LOOK)


def _seed(task: str, mode: str, want: dict, start: int) -> int:
    for seed in range(start, start + 500):
        look = look_for(task, seed, mode)
        if all(getattr(look, k) == v for k, v in want.items()):
            return seed
    raise AssertionError(f"no {mode} look with {want} for {task}")


def _frame(task) -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """The task's client area as the agent captures it, and its elements' boxes there."""
    spin(0.3)
    region = task.region()
    with open_capture(draw_cursor=False) as cap:
        rgb = np.ascontiguousarray(cap.grab(region)[:, :, 2::-1])
    boxes = {k: (r.left - region.left, r.top - region.top, r.width, r.height)
             for k, r in task.element_boxes().items()}
    return rgb, boxes


def _centre(box: tuple[int, int, int, int]) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2, y + h / 2


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode, want", LOOKS)
def test_checkboxes_the_named_box_agrees_its_neighbours_disagree(qtbot, looks_reset, mode,
                                                                 want) -> None:
    task = make_task("checkboxes", _seed("checkboxes", mode, want, 1_000_100), mode)
    qtbot.addWidget(task)
    show_task(task)
    rgb, boxes = _frame(task)
    lines = read_frame(rgb)
    verdicts = {}
    for label in task.labels:
        x, y, w, h = boxes[f"checkbox:{label}"]
        # On the indicator, left of the label: where a policy (and a person) clicks.
        verdicts[label] = click_agreement(lines, x + h / 2, y + h / 2, task.instruction)
    read = [ln.text for ln in lines]
    for label, v in verdicts.items():
        if label in task.targets:
            assert v.verdict == "agree", (label, v, read)
        else:
            assert v.verdict != "agree", (label, v, read)
    # The box one row below a named one (the policy's typical miss) is caught.
    lefts = {}
    for label in task.labels:
        lefts.setdefault(boxes[f"checkbox:{label}"][0], []).append(label)
    in_a_named_column = [lab for col in lefts.values() if set(col) & set(task.targets)
                         for lab in col if lab not in task.targets]
    assert in_a_named_column
    assert all(verdicts[lab].verdict == "disagree" for lab in in_a_named_column), \
        ({lab: verdicts[lab] for lab in in_a_named_column}, read)
    submit = click_agreement(lines, *_centre(boxes["button:Submit"]), task.instruction)
    assert submit.verdict == "agree"
    # `done` with Submit in view: premature until a click landed on it.
    ticked = [verdicts[t].element for t in task.targets]
    assert done_agreement(lines, task.instruction, ticked).verdict == "disagree"
    assert done_agreement(lines, task.instruction, [*ticked, submit.element]).verdict \
        == "undecided"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode, want", LOOKS[:2])
def test_workflow_menu_item_and_dialog_buttons(qtbot, looks_reset, mode, want) -> None:
    task = make_task("workflow", _seed("workflow", mode, want, 1_000_200), mode)
    qtbot.addWidget(task)
    show_task(task)
    menu = task.menus[task.menu_title]
    task.menubar.setActiveAction(menu.menuAction())
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    rgb, boxes = _frame(task)
    lines = read_frame(rgb)
    read = [ln.text for ln in lines]
    for name in task.actions_by_menu[task.menu_title]:
        v = click_agreement(lines, *_centre(boxes[f"menuitem:{name}"]), task.instruction)
        want_verdict = "agree" if name == task.action_name else "disagree"
        assert v.verdict == want_verdict, (name, task.instruction, v, read)
    menu.hide()
    task._triggered(task.menu_title, task.action_name)  # the dialog the item opens
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible(), timeout=3000)
    rgb, boxes = _frame(task)
    lines = read_frame(rgb)
    read = [ln.text for ln in lines]
    ok = click_agreement(lines, *_centre(boxes["button:OK"]), task.instruction)
    cancel = click_agreement(lines, *_centre(boxes["button:Cancel"]), task.instruction)
    assert (ok.verdict, cancel.verdict) == ("agree", "disagree"), (ok, cancel, read)
    # "..., choose Level High, then press OK": OK before the option is out of order.
    early = click_agreement(lines, *_centre(boxes["button:OK"]), task.instruction, [])
    assert early.verdict == "disagree", (early, [(ln.text, ln.box) for ln in lines])
    in_order = click_agreement(lines, *_centre(boxes["button:OK"]), task.instruction,
                               [task.option_target])
    assert in_order.verdict == "agree", (in_order, read)
    # An empty field is no wrong click, whatever is written around it.
    for label in task.field_labels:
        v = click_agreement(lines, *_centre(boxes[f"field:{label}"]), task.instruction)
        assert v.verdict != "disagree", (label, v, read)


def test_phrases_are_runs_of_words_inside_a_clause_and_quotes_are_values() -> None:
    names, values = phrases("Open Edit \u203a Import Event, set Name to 'amber panda', then press OK")
    assert {"openedit", "importevent", "import", "event", "name", "ok", "pressok"} <= names
    assert "editimport" not in names  # across the "›": two elements, not one
    assert "amber" not in names and values == {"amberpanda"}


def test_done_is_judged_by_the_last_clause_only_when_its_element_is_in_view() -> None:
    assert final_names("Tick Fern and Oak, then press Submit") >= {"submit", "presssubmit"}
    assert "fern" not in final_names("Tick Fern and Oak, then press Submit")
    lines = [line("Fern", 40, 20), line("Submit", 40, 80)]
    instruction = "Tick Fern, then press Submit"
    assert done_agreement(lines, instruction, ["Fern"]).verdict == "disagree"
    assert done_agreement(lines, instruction, ["Fern", "Submit"]).verdict == "undecided"
    # Nothing the last clause names in view (the dialog with OK is not open yet).
    assert done_agreement(lines, "Open Edit, then press OK", []).verdict == "undecided"


def test_a_then_clause_waits_for_the_clause_before_it() -> None:
    lines = [line("Oak", 40, 20), line("Fern", 40, 50), line("Ash", 40, 80),
             line("Level:", 140, 20)]
    instruction = "Click Oak, then Fern, then Ash"
    early = click_agreement(lines, 50, 86, instruction, ["Oak"])
    assert (early.verdict, early.named) == ("disagree", "Fern")
    assert click_agreement(lines, 50, 86, instruction, ["Oak", "Fern"]).verdict == "agree"
    # Without the episode's clicks, or in clauses without "then", no order is judged.
    assert click_agreement(lines, 50, 86, instruction).verdict == "agree"
    assert click_agreement(lines, 50, 86, "Tick Oak, Fern and Ash", []).verdict == "agree"


def test_elements_read_as_one_line_are_split_at_wide_gaps() -> None:
    # A menu bar read as one line: titles 1.3 line heights apart, letters 0.5.
    text = "ToolsView"
    xs = tuple([10 + 8 * i for i in range(5)] + [10 + 8 * 4 + 22 + 8 * i for i in range(4)])
    merged = TextLine(text, 0.9, (6, 0, 96, 16), xs)
    assert [p.text for p in split_elements(merged)] == ["Tools", "View"]
    assert [p.text for p in split_elements(line("Add Booking", 0, 0))] == ["Add Booking"]


def test_undecided_without_text_or_a_named_sibling_and_for_quoted_values() -> None:
    lines = [line("Oak", 40, 20), line("Fern", 40, 50), line("Ash", 40, 80),
             line("Street:", 10, 140), line("star", 90, 140)]
    instruction = "Tick Fern, then press Submit"
    assert click_agreement(lines, 30, 56, instruction).verdict == "agree"  # Fern's box
    assert click_agreement(lines, 30, 86, instruction).verdict == "disagree"  # one below
    assert click_agreement(lines, 300, 250, instruction).verdict == "undecided"  # blank
    # Named nowhere in view: nothing to compare with.
    assert click_agreement(lines, 30, 86, "Tick Birch").verdict == "undecided"
    # A field showing the text to type is a field, not a wrong label...
    assert click_agreement(lines, 100, 146, "Type 'star' into Street").verdict == "undecided"
    # ... but a field labelled with that word is another field than the one named.
    form = [line("Star:", 10, 20), line("Street:", 10, 60)]
    wrong = click_agreement(form, 150, 26, "Type 'star' into Street")
    assert (wrong.verdict, wrong.named) == ("disagree", "Street:")
    assert click_agreement(form, 150, 66, "Type 'star' into Street").verdict == "agree"
    # Nothing read on the frame: nothing to judge by.
    assert click_agreement([], 30, 86, instruction).verdict == "undecided"
