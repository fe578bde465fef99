"""The Tk checkboxes, pick_list and click_sequence tasks: a seed shows the same content as
in Qt, the Qt experts solve them through real X input, wrong input fails them in Qt's
words, a drop-down's popdown list is counted and boxed, and demonstrations are valid.
(`tests/tasks/test_tasks_cli.py` checks that `tasks list` shows them as tk.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deskmimic.models.data.steps import steps_for_episode
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from deskmimic.tasks import make_task, run_task, show_task
from deskmimic.tasks.demos import record_demos
from deskmimic.tasks.runner import close_task


@contextmanager
def shown(name: str, seed: int) -> Iterator[Any]:
    """Task ``name`` at ``seed`` on screen; closed (its child process reaped) after."""
    task = show_task(make_task(name, seed))
    try:
        yield task
    finally:
        close_task(task)


CONTENT = ("instruction", "target", "labels", "targets", "sequence", "text", "mode", "entries")


@pytest.mark.parametrize(("kind", "seed"), [("click_button", 3), ("type_field", 1_000_007),
                                            ("checkboxes", 8), ("click_sequence", 9),
                                            ("pick_list", 0), ("pick_list", 3)])
def test_a_seed_draws_the_same_content_in_qt_and_tk(qapp, kind: str, seed: int) -> None:
    states = []
    for name in (kind, f"tk_{kind}"):
        with shown(name, seed) as task:
            states.append(task.state())
    want, got = states
    assert {k: got.get(k) for k in CONTENT} == {k: want.get(k) for k in CONTENT}
    assert {k for k in got["boxes"]} == {k for k in want["boxes"]}


@pytest.mark.parametrize(("name", "seed", "looks", "steps"), [
    ("tk_checkboxes", 1_000_001, "heldout", None),  # dark, 14 pt
    ("tk_pick_list", 1_000_001, "heldout", 2),  # the drop-down, dark
    ("tk_pick_list", 1_000_003, "heldout", 1),  # the list, dark
    ("tk_click_sequence", 2, "varied", None),
])
def test_expert_solves_tk_task(qapp, name: str, seed: int, looks: str,
                               steps: int | None) -> None:
    r = run_task(name, seed, expert=True, timeout=30, speed=2.0, linger=0.0, looks=looks)
    assert r["success"], r
    assert r["look"]["style"] == "tk" and r["look"]["mode"] == looks
    # a step per click: the boxes to tick and Submit, the buttons, or the combo and entry
    assert r["steps"] == (steps or len(r["targets"])), r
    assert r["targets"] and all(t["kind"] == "click" for t in r["targets"])


def _click(inj, in_worker, box, y: int | None = None) -> None:
    y = box.top + box.height // 2 if y is None else y
    in_worker(lambda: inj.click(box.left + box.width // 2, y, duration=0.05))


def test_wrong_tick_fails_in_qt_words(qapp, inj, in_worker, qtbot) -> None:
    with shown("tk_checkboxes", 5) as task:
        s = task.state()
        wrong = next(k[9:] for k in s["boxes"] if k.startswith("checkbox:")
                     and k[9:] not in s["targets"])
        _click(inj, in_worker, s["boxes"][f"checkbox:{wrong}"])
        qtbot.waitUntil(task.is_done, timeout=5000)
        r = task.result()
        assert not r["success"] and r["steps"] == 1
        assert r["reason"] == f"ticked {wrong}, which was not asked for"


def test_a_list_row_is_boxed_to_its_last_pixel(qapp, inj, in_worker, qtbot) -> None:
    with shown("tk_pick_list", 3) as task:  # the list
        s = task.state()
        assert s["mode"] == "list" and s["next"] == [f"entry:{s['target']}"]
        wrong = next(e for e in s["entries"] if e != s["target"])
        box = s["boxes"][f"entry:{wrong}"]
        _click(inj, in_worker, box, box.bottom - 1)  # the row's last line: still this row
        qtbot.waitUntil(task.is_done, timeout=5000)
        assert task.result()["reason"] == f"picked {wrong} instead of {s['target']}"


def test_drop_down_boxes_its_entries_and_counts_the_popdown(qapp, inj, in_worker,
                                                            qtbot) -> None:
    with shown("tk_pick_list", 0) as task:  # the drop-down
        s = task.state()
        assert s["mode"] == "combo" and not s["popup_open"] and s["next"] == ["combo"]
        assert not [k for k in s["boxes"] if k.startswith("entry:")]
        _click(inj, in_worker, s["boxes"]["combo"])
        qtbot.waitUntil(lambda: task.state()["popup_open"], timeout=5000)
        s = task.state()
        assert {k for k in s["boxes"] if k.startswith("entry:")} == \
            {f"entry:{e}" for e in ["Choose\u2026", *s["entries"]]}
        assert s["next"] == [f"entry:{s['target']}"]
        wrong = next(e for e in s["entries"] if e != s["target"])
        box = s["boxes"][f"entry:{wrong}"]
        qtbot.wait(300)  # past a double click's time
        _click(inj, in_worker, box, box.top)  # the row's first line
        qtbot.waitUntil(task.is_done, timeout=5000)
        r = task.result()
        assert r["reason"] == f"picked {wrong} instead of {s['target']}"
        assert r["steps"] == 2  # the click in the popdown counts
        qtbot.waitUntil(lambda: not task.state()["popup_open"], timeout=5000)


def test_a_wrong_sequence_click_fails_in_qt_words(qapp, inj, in_worker, qtbot) -> None:
    with shown("tk_click_sequence", 4) as task:
        s = task.state()
        first, second = s["sequence"][:2]
        _click(inj, in_worker, s["boxes"][f"button:{first}"])
        qtbot.waitUntil(lambda: task.state()["progress"] == 1, timeout=5000)
        assert not task.is_done() and task.state()["next"] == [f"button:{second}"]
        wrong = next(k[7:] for k in s["boxes"] if k.startswith("button:")
                     and k[7:] not in s["sequence"])
        _click(inj, in_worker, s["boxes"][f"button:{wrong}"])
        qtbot.waitUntil(task.is_done, timeout=5000)
        assert task.result()["reason"] == f"clicked {wrong} when {second} was next"


@pytest.mark.parametrize(("name", "seed"), [("tk_checkboxes", 2), ("tk_pick_list", 1)])
def test_demonstration_is_a_valid_episode(qapp, tmp_path: Path, name: str, seed: int) -> None:
    (demo,) = record_demos(name, [seed], tmp_path / "eps", speed=2.0)
    assert demo.success, demo.result
    assert check_episode(demo.path, decode=True) == []
    ep = Episode.open(demo.path)
    # every click the task counted is a step, aimed inside the element the expert meant
    steps = [s for s in steps_for_episode(ep) if s.kind != "done"]
    assert len(steps) == demo.result["steps"] == len(ep.extra["targets"]), steps
    for step, aim in zip(steps, ep.extra["targets"], strict=True):
        left, top, w, h = aim["box"]
        assert left <= step.x < left + w and top <= step.y < top + h, (step, aim)
    assert ep.task == name and ep.extra["look"]["style"] == "tk"
