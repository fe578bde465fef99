"""GTK 3 practice tasks (a child process per window, without Qt): a seed shows the same
content as in Qt, the Qt experts solve them through real X input in every look (scale 2,
dark), wrong input fails them in Qt's words, and recorded demonstrations are valid."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deskmimic.models.data.steps import steps_for_episode
from deskmimic.recorder.episode import Episode
from deskmimic.tasks import TASKS, all_tasks, make_task, run_task, show_task
from deskmimic.tasks.demos import record_demos
from deskmimic.tasks.gtk_tasks import HOST, gtk_available, gtk_look_for
from deskmimic.tasks.runner import close_task
from tests.conftest import run_cli

pytestmark = pytest.mark.skipif(gtk_available() is not None,
                                reason=f"no GTK 3 in this Python: {gtk_available()}")

GTK_TASKS = ["gtk_click_button", "gtk_click_sequence", "gtk_checkboxes", "gtk_type_field",
             "gtk_pick_list"]
CONTENT = ("instruction", "target", "labels", "targets", "sequence", "text", "mode", "entries")


@contextmanager
def shown(name: str, seed: int, looks: str = "default") -> Iterator[Any]:
    """Task ``name`` at ``seed`` on screen; closed (its child process reaped) after."""
    task = show_task(make_task(name, seed, looks))
    try:
        yield task
    finally:
        close_task(task)


def _click(inj, in_worker, box) -> None:
    in_worker(lambda: inj.click(box.left + box.width // 2, box.top + box.height // 2,
                                duration=0.05))


def test_the_child_loads_no_qt() -> None:
    # What gtk_host runs before its window: the package without its __init__, the kinds.
    probe = (f"import runpy, sys; host = runpy.run_path({str(HOST)!r}); "
             "host['bare_package'](); import deskmimic.tasks.gtk_kinds; "
             "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


@pytest.mark.parametrize(("kind", "seed"), [("click_button", 3), ("pick_list", 3)])
def test_a_seed_draws_the_same_content_in_qt_and_gtk(qapp, kind: str, seed: int) -> None:
    states = []
    for name in (kind, f"gtk_{kind}"):
        with shown(name, seed) as task:
            states.append(task.state())
    want, got = states
    assert {k: got.get(k) for k in CONTENT} == {k: want.get(k) for k in CONTENT}
    assert set(got["boxes"]) == set(want["boxes"])


@pytest.mark.parametrize(("name", "seed", "looks", "steps"), [
    ("gtk_click_button", 1, "default", 1),
    ("gtk_type_field", 1_000_004, "heldout", 3),  # scale 2, dark
    ("gtk_click_sequence", 2, "varied", None),
    ("gtk_checkboxes", 1_000_003, "heldout", None),  # dark, 14 pt
    ("gtk_pick_list", 1_000_001, "heldout", 2),  # the drop-down, scale 2
    ("gtk_pick_list", 1_000_003, "heldout", 1),  # the list, scale 2
])
def test_expert_solves_gtk_task(qapp, name: str, seed: int, looks: str,
                                steps: int | None) -> None:
    r = run_task(name, seed, expert=True, timeout=30, speed=2.0, linger=0.0, looks=looks)
    assert r["success"], r
    look = gtk_look_for(name, seed, looks)
    assert r["look"] == look.to_dict() and look.style.startswith("Adwaita")
    # a step per click (boxes and Submit, buttons, combo and entry); type_field: a click,
    # the text, and Enter or a click
    assert r["steps"] == (steps or len(r["targets"])), r
    assert r["targets"] and all(t["kind"] == "click" for t in r["targets"])


def test_looks_split_scale_and_font_drawn(qapp) -> None:
    varied = [gtk_look_for("gtk_type_field", s, "varied") for s in range(200)]
    heldout = [gtk_look_for("gtk_type_field", s, "heldout") for s in range(200)]
    assert not {lk.family for lk in varied} & {lk.family for lk in heldout}
    assert {lk.palette for lk in heldout} == {"light", "dark"}
    assert {lk.scale for lk in varied} == {lk.scale for lk in heldout} == {1.0, 2.0}
    assert all((lk.style == "Adwaita:dark") == (lk.palette == "dark") for lk in heldout)
    look = gtk_look_for("gtk_type_field", 1_000_004, "heldout")
    assert look.scale == 2.0
    with shown("gtk_type_field", 1_000_004, "heldout") as task:
        s = task.state()
    assert s["font_actual"] == look.family  # installed, not a fallback
    assert s["scale"] == 2
    # Screen pixels: GTK's own, doubled (a GTK pixel is two screen pixels, so even).
    assert all(v % 2 == 0 for box in s["boxes"].values()
               for v in (box.left, box.top, box.width, box.height))


def test_wrong_click_fails_the_task(qapp, inj, in_worker, qtbot) -> None:
    with shown("gtk_click_button", 2) as task:
        s = task.state()
        wrong = next(lab for lab in s["labels"] if lab != s["target"])
        _click(inj, in_worker, s["boxes"][f"button:{wrong}"])
        qtbot.waitUntil(task.is_done, timeout=5000)
        r = task.result()
        assert not r["success"] and r["reward"] == 0.0 and r["steps"] == 1
        assert r["reason"] == f"clicked {wrong} instead of {s['target']}"


def test_wrong_pick_in_the_list_fails_in_qt_words(qapp, inj, in_worker, qtbot) -> None:
    with shown("gtk_pick_list", 3) as task:
        s = task.state()
        assert s["mode"] == "list"
        wrong = next(e for e in s["entries"] if e != s["target"])
        _click(inj, in_worker, s["boxes"][f"entry:{wrong}"])
        qtbot.waitUntil(task.is_done, timeout=5000)
        r = task.result()
        assert not r["success"] and r["steps"] == 1
        assert r["reason"] == f"picked {wrong} instead of {s['target']}"


def test_abort_and_close_end_the_child(qapp) -> None:
    task = show_task(make_task("gtk_type_field", 4))
    task.abort("timeout after 1 s")
    assert task.result()["reason"] == "timeout after 1 s" and not task.result()["success"]
    close_task(task)
    assert not task.alive()


def test_demonstration_is_a_valid_episode_with_targets(qapp, tmp_path: Path) -> None:
    (demo,) = record_demos("gtk_type_field", [1_000_001], tmp_path / "eps", speed=2.0)
    assert demo.success, demo.result
    res = run_cli("episodes", "check", str(demo.path))
    assert res.returncode == 0, res.stdout + res.stderr
    ep = Episode.open(demo.path)
    assert ep.task == "gtk_type_field" and ep.extra["look"]["style"].startswith("Adwaita")
    steps = [s for s in steps_for_episode(ep) if s.kind != "done"]
    assert len(steps) == demo.result["steps"], (steps, demo.result)
    first = ep.extra["next"][0]
    left, top, w, h = ep.extra["boxes"][first]
    assert ep.extra["targets"][0] == {"kind": "click", "box": [left, top, w, h]}
    click = steps[0]
    assert left <= click.x < left + w and top <= click.y < top + h


def test_cli_lists_the_gtk_tasks() -> None:
    res = run_cli("tasks", "list", "--json")
    assert res.returncode == 0, res.stderr
    kits = {r["name"]: r["toolkit"] for r in json.loads(res.stdout)}
    assert [n for n, k in kits.items() if k == "gtk"] == GTK_TASKS
    assert set(kits) == set(all_tasks()) and not set(GTK_TASKS) & set(TASKS)
