"""The web practice tasks: our pages in a real Chromium window on Xvfb, solved through real X
input, judged from the DOM by the rules every toolkit shares, and recorded as demos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskmimic.models.data.steps import steps_for_episode
from deskmimic.recorder.episode import Episode
from deskmimic.tasks import TASKS, all_tasks, make_task, run_task, show_task
from deskmimic.tasks.demos import record_demos
from deskmimic.tasks.runner import close_task
from deskmimic.tasks.web_browser import browser_stats, chromium_path, close_shared
from deskmimic.tasks.web_tasks import SCALES, web_look_for
from tests.conftest import run_cli

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module", autouse=True)
def browser_per_module() -> Iterator[None]:
    """One Chromium for the whole module (a start costs seconds), closed at its end."""
    yield
    close_shared()


@pytest.mark.parametrize(("name", "seed", "looks", "scale", "steps"), [
    ("web_click_button", 1, "default", 1.0, 1),
    ("web_checkboxes", 1_000_002, "heldout", 1.0, 2),      # dark
    ("web_pick_list", 0, "default", 1.0, 2),               # the <select> drop-down
    ("web_pick_list", 1_000_001, "heldout", 1.5, 2),       # the drop-down, dark, scale 1.5
    ("web_type_field", 1_000_001, "heldout", 2.0, 3),
])
def test_expert_solves_web_task(qapp, name: str, seed: int, looks: str, scale: float,
                                steps: int) -> None:
    r = run_task(name, seed, expert=True, timeout=30, speed=2.0, linger=0.0, looks=looks)
    assert r["success"], r
    assert r["look"]["style"] == "chromium" and r["look"]["scale"] == scale
    assert r["steps"] == steps, r
    assert r["targets"] and all(t["kind"] == "click" for t in r["targets"])


def test_same_content_as_the_qt_task_and_boxes_on_screen(qapp) -> None:
    qt = show_task(make_task("click_button", 5))
    try:
        want = qt.state()
    finally:
        close_task(qt)
    task = show_task(make_task("web_click_button", 5))
    try:
        s = task.state()
        again = task.element_boxes()
    finally:
        close_task(task)
    assert s["instruction"] == want["instruction"] == f"Click {want['target']}"
    assert s["labels"] == want["labels"] and s["target"] == want["target"]
    assert set(s["boxes"]) == {"instruction", *(f"button:{lab}" for lab in s["labels"])}
    region = s["region"]
    for box in again.values():  # every element inside the window, in screen pixels
        assert region.left <= box.left and box.right <= region.right + 1
        assert region.top <= box.top and box.bottom <= region.bottom + 1


def test_looks_split_and_scales() -> None:
    varied = [web_look_for("web_type_field", s, "varied") for s in range(200)]
    heldout = [web_look_for("web_type_field", s, "heldout") for s in range(200)]
    assert not {lk.family for lk in varied} & {lk.family for lk in heldout}
    assert {lk.palette for lk in varied} == {"light"}
    assert {lk.palette for lk in heldout} == {"light", "dark"}
    assert {lk.scale for lk in varied} == set(SCALES) == {lk.scale for lk in heldout}
    assert web_look_for("web_type_field", 3).scale == 1.0


def test_wrong_click_fails_the_task(qapp, inj, in_worker, qtbot) -> None:
    task = show_task(make_task("web_click_button", 2))
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
        qtbot.waitUntil(lambda: task.state()["done"], timeout=2000)
        assert task.state()["next"] == []
    finally:
        close_task(task)


def test_abort_ends_the_task_and_the_browser_is_reused(qapp) -> None:
    first = show_task(make_task("web_type_field", 4))  # starts the browser if none runs
    close_task(first)
    starts = browser_stats()["starts"]
    task = show_task(make_task("web_type_field", 4))
    task.abort("timeout after 1 s")
    r = task.result()
    assert r["reason"] == "timeout after 1 s" and not r["success"]
    close_task(task)
    # The browser outlives the tasks (and the threads) that used it.
    assert task.browser is first.browser and task.browser.alive()
    assert browser_stats()["starts"] == starts
    assert task.browser.evaluate("location.pathname") == "/host"  # parked between tasks


def test_demonstration_is_a_valid_episode_with_targets(qapp, tmp_path: Path) -> None:
    (demo,) = record_demos("web_click_sequence", [6], tmp_path / "eps", speed=2.0)
    assert demo.success, demo.result
    res = run_cli("episodes", "check", str(demo.path))
    assert res.returncode == 0, res.stdout + res.stderr
    ep = Episode.open(demo.path)
    assert ep.task == "web_click_sequence" and ep.extra["look"]["style"] == "chromium"
    steps = [s for s in steps_for_episode(ep) if s.kind != "done"]
    assert len(steps) == demo.result["steps"] == len(ep.extra["targets"]), (steps, demo.result)
    for step, target in zip(steps, ep.extra["targets"], strict=True):
        left, top, w, h = target["box"]
        assert left <= step.x < left + w and top <= step.y < top + h


def test_cli_lists_the_web_tasks() -> None:
    import json

    res = run_cli("tasks", "list", "--json")
    assert res.returncode == 0, res.stderr
    kits = {r["name"]: r["toolkit"] for r in json.loads(res.stdout)}
    web = [n for n, k in kits.items() if k == "web"]
    assert web == ["web_click_button", "web_click_sequence", "web_checkboxes",
                   "web_type_field", "web_pick_list"]
    assert not set(web) & set(TASKS) and set(web) <= set(all_tasks())
