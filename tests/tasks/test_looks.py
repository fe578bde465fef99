"""Looks (issue 21): the same tasks drawn in other styles, fonts, sizes, scales and palettes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QFontDatabase, QGuiApplication, QPalette

from deskmimic.core.errors import TaskError
from deskmimic.recorder.episode import Episode
from deskmimic.tasks import TASKS, make_task, run_task
from deskmimic.tasks.demos import record_demos
from deskmimic.tasks.looks import DEFAULT_LOOK, HELDOUT, TRAIN, apply_look, look_for
from deskmimic.tasks.runner import close_task
from tests.conftest import run_cli


@pytest.fixture
def looks_reset(qapp) -> Iterator[None]:
    """Leave the application in the default look for the tests after this one."""
    yield
    apply_look(DEFAULT_LOOK)


def _seed_with(task: str, mode: str, **want: object) -> int:
    for seed in range(2000):
        look = look_for(task, seed, mode)
        if all(getattr(look, k) == v for k, v in want.items()):
            return seed
    raise AssertionError(f"no {mode} look with {want} for {task}")


def test_a_seeds_look_is_deterministic_and_leaves_its_layout_alone(qapp, looks_reset) -> None:
    assert look_for("checkboxes", 7, "varied") == look_for("checkboxes", 7, "varied")
    assert look_for("checkboxes", 7, "default") == DEFAULT_LOOK
    assert len({look_for("checkboxes", s, "varied") for s in range(40)}) > 20
    with pytest.raises(TaskError, match="looks mode 'pretty'"):
        look_for("checkboxes", 7, "pretty")
    seed = _seed_with("checkboxes", "varied", scale=1.0)
    texts = []
    for mode in ("default", "varied", "heldout"):
        task = make_task("checkboxes", seed, mode)
        assert task.look == look_for("checkboxes", seed, mode)
        texts.append((task.instruction, sorted(task.boxes())))
        close_task(task)
    assert texts[0] == texts[1] == texts[2]


def test_heldout_looks_never_appear_in_varied_mode(qapp) -> None:
    assert not set(TRAIN.families) & set(HELDOUT.families)
    assert not set(TRAIN.sizes) & set(HELDOUT.sizes)
    assert TRAIN.palettes == ("light",)
    seen: dict[str, set] = {"varied": set(), "heldout": set()}
    for seed in range(1500):
        for task in TASKS:
            for mode, pool in (("varied", TRAIN), ("heldout", HELDOUT)):
                look = look_for(task, seed, mode)
                assert look.family in pool.families and look.point_size in pool.sizes
                assert look.style in pool.styles and look.scale in pool.scales
                assert look.palette in pool.palettes and look.mode == mode
                assert look.point_size * look.scale <= 22
                seen[mode].add((look.family, look.point_size, look.palette))
    assert not seen["varied"] & seen["heldout"]
    # Every font the split names is installed, or Qt would draw another one silently.
    installed = {f.split(" [")[0] for f in QFontDatabase.families()}  # "Nimbus Sans [urw]"
    assert set(TRAIN.families + HELDOUT.families) <= installed


@pytest.mark.parametrize("mode", ["varied", "heldout"])
def test_every_task_fits_the_screen_at_scale_2(qapp, looks_reset, mode: str) -> None:
    for name in TASKS:
        seed = _seed_with(name, mode, scale=2.0)
        task = make_task(name, seed, mode)
        g = task.geometry()  # Qt pixels: a 640x400 screen at scale 2
        assert g.left() >= 0 and g.top() >= 18 and g.right() < 640 and g.bottom() < 400, (name, g)
        assert task.banner.height() >= 46
        close_task(task)


@pytest.mark.parametrize("name", ["workflow", "checkboxes"])
def test_scale_2_dark_window_fits_and_its_expert_solves_it(qapp, looks_reset, name: str) -> None:
    seed = _seed_with(name, "heldout", scale=2.0, palette="dark")
    seen: dict = {}

    def on_ready(task) -> None:
        seen["region"] = task.region()
        seen["dpr"] = task.devicePixelRatioF()
        seen["window"] = QGuiApplication.palette().color(QPalette.ColorRole.Window).lightnessF()

    result = run_task(name, seed, expert=True, timeout=40, speed=2, looks="heldout",
                      on_ready=on_ready, linger=0.0)
    assert result["success"], result
    assert result["look"]["scale"] == 2.0 and result["look"]["palette"] == "dark"
    r = seen["region"]
    assert seen["dpr"] == 2.0 and seen["window"] < 0.3
    assert r.left >= 0 and r.top >= 0 and r.left + r.width <= 1280 and r.top + r.height <= 800, r
    assert r.width > 700  # screen pixels: twice the window's Qt size


def test_the_look_lands_in_the_episode_meta(qapp, looks_reset, tmp_path: Path) -> None:
    seed = _seed_with("click_button", "varied", scale=1.5)
    (demo,) = record_demos("click_button", [seed], tmp_path / "eps", speed=2, looks="varied")
    assert demo.success
    ep = Episode.open(demo.path)
    assert ep.extra["look"] == look_for("click_button", seed, "varied").to_dict()
    assert ep.extra["look"]["mode"] == "varied" and ep.extra["look"]["scale"] == 1.5
    # boxes are captured-area pixels at scale 1.5 too: the click landed inside the target
    left, top, w, h = ep.extra["boxes"][ep.extra["next"][0]]
    assert ep.extra["targets"] == [{"kind": "click", "box": [left, top, w, h]}]
    res = run_cli("episodes", "check", str(demo.path))
    assert res.returncode == 0, res.stdout + res.stderr


def test_cli_lists_toolkit_and_looks_and_runs_a_look() -> None:
    rows = json.loads(run_cli("tasks", "list", "--json").stdout)
    assert all(r["looks"] == ["default", "varied", "heldout"] for r in rows)
    assert {r["name"] for r in rows if r["toolkit"] == "qt"} == set(TASKS)
    proc = run_cli("tasks", "run", "click_button", "--seed", "4", "--expert", "--speed", "2",
                   "--looks", "heldout")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["success"] and result["look"] == look_for("click_button", 4, "heldout").to_dict()
