"""Tk practice tasks (a child process per window): experts solve them through real X
input, the task judges a wrong click, and recorded demonstrations are valid episodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskmimic.models.data.steps import steps_for_episode
from deskmimic.recorder.episode import Episode
from deskmimic.tasks import TASKS, all_tasks, make_task, run_task, show_task
from deskmimic.tasks.demos import record_demos
from deskmimic.tasks.runner import close_task
from deskmimic.tasks.tk_tasks import tk_look_for
from deskmimic.tasks.vocab import Vocab
from tests.conftest import run_cli


def _heldout_words(pool: str) -> set[str]:
    import random

    return set(Vocab(random.Random(0), heldout=True).pool(pool))


@pytest.mark.parametrize(("name", "seed", "looks"), [
    ("tk_click_button", 1, "default"),
    ("tk_click_button", 1_000_004, "heldout"),
    ("tk_type_field", 2, "varied"),
    ("tk_type_field", 1_000_007, "heldout"),
])
def test_expert_solves_tk_task(qapp, name: str, seed: int, looks: str) -> None:
    r = run_task(name, seed, expert=True, timeout=30, speed=2.0, linger=0.0, looks=looks)
    assert r["success"], r
    assert r["look"]["style"] == "tk" and r["look"]["mode"] == looks
    # one click (click_button); a click, the text and Enter or a click (type_field)
    assert r["steps"] == (1 if name == "tk_click_button" else 3), r
    assert r["targets"] and all(t["kind"] == "click" for t in r["targets"])


def test_layout_is_seeded_and_heldout_seeds_draw_heldout_words(qapp) -> None:
    states = []
    for seed in (5, 5, 1_000_005):
        task = show_task(make_task("tk_click_button", seed))
        try:
            states.append(task.state())
        finally:
            close_task(task)
    same, again, held = states
    assert same["instruction"] == again["instruction"] and same["boxes"] == again["boxes"]
    assert held["target"] in _heldout_words("labels")
    assert same["target"] not in _heldout_words("labels")
    assert set(held["boxes"]) == {"instruction", *(f"button:{lab}" for lab in held["labels"])}


def test_looks_split_and_font_drawn(qapp) -> None:
    varied = {tk_look_for("tk_type_field", s, "varied").family for s in range(200)}
    heldout = [tk_look_for("tk_type_field", s, "heldout") for s in range(200)]
    assert varied and not varied & {lk.family for lk in heldout}
    assert {lk.palette for lk in heldout} == {"light", "dark"}
    look = tk_look_for("tk_type_field", 3, "heldout")
    task = show_task(make_task("tk_type_field", 3, "heldout"))
    try:
        assert task.state()["font_actual"] == look.family  # installed, not a fallback
    finally:
        close_task(task)


def test_wrong_click_fails_the_task(qapp, inj, in_worker, qtbot) -> None:
    task = show_task(make_task("tk_click_button", 2))
    try:
        s = task.state()
        wrong = next(lab for lab in s["labels"] if lab != s["target"])
        box = s["boxes"][f"button:{wrong}"]
        in_worker(lambda: inj.click(box.left + box.width // 2, box.top + box.height // 2,
                                    duration=0.05))
        qtbot.waitUntil(task.is_done, timeout=5000)
        r = task.result()
        assert not r["success"] and r["reward"] == 0.0 and r["steps"] == 1
        assert r["reason"] == f"clicked {wrong} instead of {s['target']}"
    finally:
        close_task(task)


def test_abort_and_close_end_the_child(qapp) -> None:
    task = show_task(make_task("tk_type_field", 4))
    task.abort("timeout after 1 s")
    assert task.result()["reason"] == "timeout after 1 s" and not task.result()["success"]
    close_task(task)
    assert not task.alive()


@pytest.mark.parametrize(("name", "seed"), [("tk_click_button", 6), ("tk_type_field", 1_000_001)])
def test_demonstration_is_a_valid_episode_with_targets(qapp, tmp_path: Path, name: str,
                                                       seed: int) -> None:
    (demo,) = record_demos(name, [seed], tmp_path / "eps", speed=2.0)
    assert demo.success, demo.result
    res = run_cli("episodes", "check", str(demo.path))
    assert res.returncode == 0, res.stdout + res.stderr
    ep = Episode.open(demo.path)
    assert ep.task == name and ep.extra["look"]["style"] == "tk"
    steps = [s for s in steps_for_episode(ep) if s.kind != "done"]
    assert len(steps) == demo.result["steps"], (steps, demo.result)
    first = ep.extra["next"][0]
    left, top, w, h = ep.extra["boxes"][first]
    assert ep.extra["targets"][0] == {"kind": "click", "box": [left, top, w, h]}
    click = steps[0]
    assert left <= click.x < left + w and top <= click.y < top + h


def test_cli_lists_the_toolkit_of_every_task() -> None:
    res = run_cli("tasks", "list", "--json")
    assert res.returncode == 0, res.stderr
    import json

    kits = {r["name"]: r["toolkit"] for r in json.loads(res.stdout)}
    assert kits["tk_click_button"] == kits["tk_type_field"] == "tk"
    assert kits["click_button"] == "qt" and set(kits) == set(all_tasks())
    assert "tk_click_button" not in TASKS  # what iterates TASKS builds Qt windows
