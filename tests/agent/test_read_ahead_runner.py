"""The replay agent offers a policy that can read ahead the screen it is about to decide
on, while it makes sure the screen has settled."""

from __future__ import annotations

import numpy as np

from deskmimic.agent.policy_protocol import AgentAction, ScriptedPolicy
from deskmimic.agent.runner import ReplayRunner
from deskmimic.agent.settle import SettleConfig
from tests.agent.test_runner import clean_input, fast, run_in_background, show_panel  # noqa: F401


class _ReadingPolicy(ScriptedPolicy):
    def __init__(self, actions):
        super().__init__(actions)
        self.offered: list[dict] = []

    def prefetch(self, observation: dict) -> None:
        self.offered.append({"image": observation["image"].copy(),
                             "instruction": observation["instruction"]})


def test_each_decision_is_offered_its_screen_ahead(qtbot, clean_input) -> None:  # noqa: F811
    w = show_panel(qtbot)
    policy = _ReadingPolicy([AgentAction("click", *w.local(w.buttons[0]), confidence=0.9)])
    cfg = fast(region=w.region(), instruction="Press Button 0",
               settle=SettleConfig(threshold=1.0, quiet=2, interval_s=0.04, timeout_s=1.5))
    result = run_in_background(qtbot, ReplayRunner(policy, cfg))
    assert result.stop_reason == "done", result.message
    assert len(policy.observations) == 2  # the click, then "done"
    assert policy.offered and all(o["instruction"] == "Press Button 0" for o in policy.offered)
    # What the policy read ahead is the screen it then decided on (nothing moved after).
    for seen in policy.observations:
        assert any(np.array_equal(o["image"], seen["image"]) for o in policy.offered)


def test_the_evaluation_timer_passes_the_read_ahead_on() -> None:
    from deskmimic.agent.evaluate import _Timed

    policy = _ReadingPolicy([])
    obs = {"image": np.zeros((4, 4, 3), np.uint8), "instruction": "x"}
    _Timed(policy).prefetch(obs)  # the runner finds it on the wrapper it is given
    assert len(policy.offered) == 1
    _Timed(ScriptedPolicy([])).prefetch(obs)  # a policy without one: nothing happens
