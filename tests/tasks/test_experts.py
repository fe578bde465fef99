"""Scripted experts solve every task with real X input (XTEST), with and without a WM."""

from __future__ import annotations

import time

import pytest

from deskmimic.agent.input_state import query_held, release_stuck_input
from deskmimic.tasks import TASKS, all_tasks, run_task
from deskmimic.tasks.expert_base import EXPERTS
from deskmimic.tasks.experts import start_expert

SEEDS = (21, 22, 1_000_021)  # the last one draws held-out words


def solve(qtbot, task, speed: float = 1.5) -> tuple[dict, object]:
    runner = start_expert(task, speed=speed)
    qtbot.waitUntil(lambda: task.is_done() or not runner.is_alive(), timeout=40_000)
    qtbot.waitUntil(lambda: not runner.is_alive(), timeout=10_000)
    assert runner.error is None, f"{task.name} seed {task.seed}: {runner.error}"
    return task.result(), runner


def test_every_task_has_an_expert() -> None:
    assert set(EXPERTS) == set(all_tasks())


@pytest.mark.parametrize("name", list(TASKS))
def test_expert_solves_task(shown, qtbot, name: str) -> None:
    release_stuck_input()
    for seed in SEEDS:
        task = shown(name, seed)
        result, runner = solve(qtbot, task)
        assert result["success"], result
        # The task counted the expert's actions as steps (one per click, typed text, key,
        # drag, scroll burst; a combo pick is two clicks).
        assert result["steps"] == runner.actions, (result, runner.actions)
        task.close()
    assert query_held() == ([], []), "the expert left input held"


def test_step_counts_match_the_task_shape(shown, qtbot) -> None:
    cases = {"click_button": 1, "drag_item": 1}
    for name, steps in cases.items():
        result, _ = solve(qtbot, shown(name, 31))
        assert result["steps"] == steps, result
    task = shown("workflow", 31)
    combo = task.option_widget == "combo"
    result, _ = solve(qtbot, task)
    # menu, item, 2 x (click field, type), option (combo: open + pick), OK
    assert result["steps"] == (9 if combo else 8), result


def test_run_task_host_function(qapp) -> None:
    t0 = time.monotonic()
    result = run_task("click_sequence", 40, expert=True, timeout=30)
    assert result["success"] and result["task"] == "click_sequence" and result["seed"] == 40
    assert set(result) >= {"success", "reward", "reason", "steps", "duration_s"}
    assert 0.3 < result["duration_s"] < time.monotonic() - t0
    seen: list[str] = []
    result = run_task("click_button", 41, expert=False, timeout=0.5,
                      on_ready=lambda t: seen.append(t.instruction),
                      on_finish=lambda t, r: seen.append(r["reason"]))
    assert not result["success"] and result["reason"] == "timeout after 0.5 s"
    assert seen[0].startswith("Click ") and seen[1] == "timeout after 0.5 s"


def test_experts_with_a_window_manager(window_manager, shown, qtbot) -> None:
    """Under openbox the windows get frames and focus rules of a real desktop."""
    for name, seed in (("type_field", 50), ("workflow", 51), ("pick_list", 52), ("drag_item", 53)):
        task = shown(name, seed)
        region = task.region()
        assert region.top > 0, "openbox decorates the window"
        result, _ = solve(qtbot, task)
        assert result["success"], result
        task.close()
