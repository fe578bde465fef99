"""Confidence judged two more ways: closed loop (an evaluation's episodes decide which
decisions were right) and on recorded demonstrations with the answers the training
demonstrations themselves disagree on counted as right."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskmimic.models.actions import Action
from deskmimic.models.training.calibration import (
    answer,
    demonstrated_answers,
    element_key,
    is_equivalent,
    named_boxes,
)
from deskmimic.models.training.gate_report import (
    closed_loop_decisions,
    closed_loop_report,
    episode_gate,
    judged_steps,
)


def _row(seed: int, success: bool, conf: list[float], acted: int | None = None,
         stop: str = "task_ended") -> dict:
    return {"seed": seed, "success": success, "reason": "r", "stop_reason": stop,
            "confidences": conf, "acted": len(conf) if acted is None else acted}


RESULTS = [
    _row(1, True, [0.9, 0.8, 0.95]),
    _row(2, True, [0.9, 0.25], acted=2),
    _row(3, False, [0.9, 0.6]),  # clicked the wrong row at 0.6
    _row(4, False, [0.2, 0.9]),  # a doubtful first step, then the wrong one
    # a decision after the task ended (never carried out) is not judged
    _row(5, True, [0.9, 0.1], acted=1),
    _row(6, False, [0.4], acted=0, stop="done"),  # a premature done
    {"seed": 7, "success": False, "reason": "agent error", "stop_reason": "error"},
    # ticked two boxes, then said done before the third: the done was the wrong one
    _row(8, False, [0.9, 0.85, 0.5], acted=2, stop="done"),
]


def test_a_success_makes_every_decision_right_and_a_failure_its_last_wrong():
    conf, right = closed_loop_decisions(RESULTS)
    assert conf.tolist() == [0.9, 0.8, 0.95, 0.9, 0.25, 0.6, 0.9, 0.9, 0.4, 0.5]
    assert right.tolist() == [True] * 5 + [False, False, True, False, False]
    assert judged_steps(RESULTS[6]) is None and judged_steps(_row(9, True, [])) is None
    assert judged_steps(RESULTS[4]) == ([0.9], True)
    assert judged_steps(RESULTS[-1]) == ([0.9, 0.85, 0.5], False)
    # the task's verdict came with the second decision; the third was never carried out
    assert judged_steps(_row(10, False, [0.9, 0.7, 0.2], acted=2)) == ([0.9, 0.7], False)


def test_an_episode_gate_stops_at_the_first_doubtful_decision():
    g = episode_gate(RESULTS, 0.3)
    # seed 2's 0.25 loses a success; seed 4 is stopped before its wrong step
    assert (g["successes_stopped"], g["failures_stopped"]) == (1, 1)
    assert g["successes_stopped_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert g["failures_stopped_rate"] == pytest.approx(1 / 4, abs=1e-4)
    g = episode_gate(RESULTS, 0.7)
    assert (g["successes_stopped"], g["failures_stopped"]) == (1, 4)
    assert episode_gate([], 0.3)["failures_stopped_rate"] is None


def test_the_closed_loop_report_lists_each_failing_decision():
    rep = closed_loop_report(RESULTS, gate=0.3, gates=(0.3, 0.7))
    assert (rep["episodes"], rep["successes"], rep["decisions"]) == (7, 3, 10)
    assert rep["failures_by_stop_reason"] == {"task_ended": 2, "done": 2}
    assert [f["seed"] for f in rep["failed"]] == [3, 4, 6, 8]
    assert rep["failed"][1] == {"seed": 4, "reason": "r", "stop_reason": "task_ended",
                                "step": 1, "confidence": 0.9, "min_before": 0.2}
    assert [s["gate"] for s in rep["sweep"]] == [0.3, 0.7]
    assert rep["sweep"][1]["wrong_stopped_rate"] == pytest.approx(3 / 4, abs=1e-4)
    assert rep["sweep"][1]["failures_stopped"] == 4
    assert 0.0 <= rep["ece"] <= 1.0 and 0.0 <= rep["split_fit_ece"] <= 1.0
    assert closed_loop_report(RESULTS[:1])["split_fit_ece"] is None  # one episode: no halves


BOXES = {"boxes": {"instruction": [0, 0, 400, 40], "field:Subject": [100, 60, 200, 30],
                   "field:Plant": [100, 100, 200, 30], "button:Submit": [150, 150, 80, 30],
                   "list": [0, 200, 300, 100], "entry:Oak": [0, 200, 300, 25], "bad": [1, 2]}}
TEXT = "Type 'fancy owl' into Subject"


def test_an_element_is_named_by_its_place_in_the_instruction():
    named = named_boxes(BOXES)
    assert set(named) == {"instruction", "field:Subject", "field:Plant", "button:Submit",
                          "list", "entry:Oak"}
    assert element_key(150, 70, named, TEXT) == "field:<instruction 1>"
    assert element_key(150, 110, named, TEXT) == "field:Plant"
    assert element_key(160, 160, named, TEXT) == "button:Submit"
    assert element_key(390, 300, named, TEXT) == "-"
    # the order in the instruction tells two named elements apart, whatever their labels
    two = "Click Plant, then Subject"
    assert element_key(150, 110, named, two) == "field:<instruction 1>"
    assert element_key(150, 70, named, two) == "field:<instruction 2>"
    # a label inside a longer word is not named ("Sub" in "Subject")
    assert element_key(150, 70, {"field:Sub": (100, 60, 300, 90)}, TEXT) == "field:Sub"
    # a wheel scrolls the container under it, whichever row the pointer is on
    assert answer(Action("scroll", x=5, y=205, dy=-3), named, TEXT) == ("scroll", "list", -3, 0)
    assert answer(Action("click", x=5, y=205), named, TEXT) == ("click", "entry:Oak")
    assert answer(Action("hotkey", keys=("enter",)), named, TEXT) == ("hotkey", "enter")
    assert answer(Action("done"), named, TEXT) == ("done",)


def test_an_answer_the_demonstrations_give_after_the_same_history_is_equivalent():
    named = named_boxes(BOXES)
    hist = ("click", "type")
    answers = {hist: {("hotkey", "enter"), ("click", "button:Submit")},
               (): {("click", "field:<instruction 1>")},
               ("scroll",): {("scroll", "list", -3, 0), ("scroll", "list", -5, 0),
                             ("click", "-")}}
    enter, submit = Action("hotkey", keys=("enter",)), Action("click", x=160, y=160)
    assert is_equivalent(submit, hist, answers, named, TEXT)
    assert is_equivalent(enter, hist, answers, named, TEXT)
    # not an answer given there, or not after this history
    assert not is_equivalent(Action("click", x=150, y=110), hist, answers, named, TEXT)
    assert not is_equivalent(submit, ("click",), answers, named, TEXT)
    # the wrong field is not the field the instruction names
    assert not is_equivalent(Action("click", x=150, y=110), (), answers, named, TEXT)
    assert is_equivalent(Action("click", x=250, y=65), (), answers, named, TEXT)
    wheel = Action("scroll", x=20, y=290, dy=-5)
    assert is_equivalent(wheel, ("scroll",), answers, named, TEXT)
    assert not is_equivalent(Action("scroll", x=20, y=290, dy=4), ("scroll",), answers, named,
                             TEXT)
    assert not is_equivalent(Action("scroll", x=20, y=20, dy=-5), ("scroll",), answers, named,
                             TEXT)  # over the instruction banner: nothing scrolls
    # a point on no known element is never equivalent, even where a demonstration had one
    assert not is_equivalent(Action("click", x=390, y=300), ("scroll",), answers, named, TEXT)


def test_the_answers_of_recorded_demonstrations(demo_root: Path):
    from deskmimic.models.data.dataset import find_episode_dirs

    table = demonstrated_answers(find_episode_dirs([demo_root / "type"]))
    assert table[()] == {("click", "field:<instruction 1>")}
    typed = table[("click",)]
    assert len(typed) == 2 and all(a[0] == "type" for a in typed)  # two seeds, two texts
    endings = table[("click", "type")]
    assert endings <= {("hotkey", "enter"), ("click", "button:Submit")} and endings
