"""The Gymnasium environment on real task windows with real X input (pytest-xvfb display)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import deskmimic.tasks.env as task_env
from deskmimic.agent.input_state import query_held
from deskmimic.core.errors import ConfigError, TaskError
from deskmimic.tasks import TASKS
from deskmimic.tasks.env import KINDS, SAFE_HOTKEYS, DeskTaskEnv, env_id


@pytest.fixture
def make_env(qapp) -> Iterator:
    """``make_env(id, **kwargs)``: a `gymnasium.make` env, closed after the test; afterwards
    no task window is left visible and nothing is held in the X server."""
    envs = []

    def make(eid: str, **kwargs):
        env = gym.make(eid, **kwargs)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()
    _restore_pointer_root_focus()
    from PySide6.QtWidgets import QApplication

    from deskmimic.tasks import TaskWindow

    left = [w for w in QApplication.topLevelWidgets() if isinstance(w, TaskWindow) and w.isVisible()]
    assert left == [], f"task windows left open: {left}"
    assert query_held() == ([], []), "input left held in the X server"


def _restore_pointer_root_focus() -> None:
    # Clicks made Qt take the X focus; give focus-follows-pointer back so later tests on
    # this bare display start from the same state.
    from Xlib import X

    from deskmimic.agent.inject_xtest import open_display

    d = open_display()
    d.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
    d.sync()
    d.close()


def _centre(box) -> tuple[float, float]:
    left, top, w, h = box
    return left + w / 2, top + h / 2


def test_one_id_per_task_is_registered():
    ids = task_env.register_envs()
    assert env_id("click_button") == "deskmimic/ClickButton-v0"
    assert sorted(ids) == sorted(env_id(name) for name in TASKS)
    for eid in ids:
        assert eid in gym.registry
    assert task_env.register_envs() == ids  # idempotent


def test_spaces_match_the_contract():
    env = DeskTaskEnv("click_button")
    obs_space, act_space = env.observation_space, env.action_space
    assert obs_space["image"].shape == (600, 720, 3) and obs_space["image"].dtype == np.uint8
    assert act_space["kind"].n == len(KINDS) and KINDS[0] == "click" and "done" in KINDS
    assert act_space["hotkey"].n == len(SAFE_HOTKEYS)
    assert list(act_space["point"].high) == [719, 599]
    env.close()
    env.close()  # idempotent, also before any reset
    with pytest.raises(TaskError, match="closed"):
        env.reset(seed=0)


def test_bad_actions_are_rejected_with_the_field_named():
    parse = DeskTaskEnv.parse_action
    with pytest.raises(ConfigError, match="kind"):
        parse({"kind": 99}, 400, 300)
    with pytest.raises(ConfigError, match="point"):
        parse({"kind": "click"}, 400, 300)
    with pytest.raises(ConfigError, match="hotkey"):
        parse({"kind": "hotkey", "hotkey": "alt+f4"}, 400, 300)
    with pytest.raises(ConfigError, match="text"):
        parse({"kind": "type", "text": "caf\u00e9"}, 400, 300)
    # Points far outside are clipped into the window, never beyond it.
    act = parse({"kind": "drag", "point": (-50, 10), "point2": (719.4, 599)}, 400, 300)
    assert (act.x, act.y, act.x2, act.y2) == (0, 10, 399, 299)
    assert parse({"kind": 5, "point": (3, 4), "scroll": [-9]}, 400, 300).dy == -5


def test_check_env_passes_on_click_button(make_env):
    env = make_env("deskmimic/ClickButton-v0")
    with warnings.catch_warnings():
        # Pixel Box actions are deliberately not normalized to [-1, 1].
        warnings.filterwarnings("ignore", message=".*symmetric and normalized space.*")
        check_env(env.unwrapped, skip_render_check=True)


def test_clicking_the_target_solves_click_button(make_env):
    env = make_env("deskmimic/ClickButton-v0", render_mode="rgb_array")
    obs, info = env.reset(seed=3)
    w, h = info["size"]
    assert obs["instruction"] == info["instruction"] and obs["instruction"].startswith("Click ")
    assert obs["image"][:h, :w].any() and not obs["image"][h:].any() and not obs["image"][:, w:].any()
    assert info["seed"] == 3 and len(info["region"]) == 4
    target = info["next"][0]
    kind = KINDS.index("click")
    obs, reward, terminated, truncated, info = env.step(
        {"kind": kind, "point": np.array(_centre(info["boxes"][target]), np.float32)})
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["result"]["success"] and info["is_success"]
    assert env.render().shape == (600, 720, 3)
    with pytest.raises(TaskError, match="reset"):
        env.step({"kind": "done"})


def test_done_before_finishing_fails_and_the_step_limit_truncates(make_env):
    env = make_env("deskmimic/ClickButton-v0", max_steps=2)
    env.reset(seed=5)
    _, reward, terminated, truncated, info = env.step({"kind": "done"})
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info["result"]["success"] is False
    _, info = env.reset(seed=5)
    instruction_box = info["boxes"]["instruction"]  # clicking the banner does nothing
    for expected in (False, True):
        _, reward, terminated, truncated, info = env.step(
            {"kind": "click", "point": _centre(instruction_box)})
        assert (reward, terminated, truncated) == (0.0, False, expected)
    assert "step limit" in info["result"]["reason"]


@pytest.mark.parametrize("name", ["click_button", "type_field"])
def test_random_rollout_leaves_no_window_or_held_input(make_env, name):
    env = make_env(env_id(name), max_steps=8)
    env.action_space.seed(11)
    obs, info = env.reset(seed=21)
    steps = episodes = 0
    while steps < 15:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        assert obs in env.observation_space
        assert query_held() == ([], [])
        if terminated or truncated:
            episodes += 1
            assert "result" in info and reward == float(info["result"]["success"])
            obs, info = env.reset()
    assert episodes >= 1  # at most 8 steps each: 15 steps end at least one episode
