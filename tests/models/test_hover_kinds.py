"""The ``hover`` kind through the learning side: appended to the vocabulary, it is a pointer
target like a click's, decodes back, and a checkpoint trained before it existed still
loads and acts with the kinds it was trained with."""

from __future__ import annotations

import pytest
import torch

from deskmimic.core.actions import ACTION_KINDS, POINTER_KINDS
from deskmimic.core.errors import ConfigError
from deskmimic.models.actions import Action, action_from_step
from deskmimic.models.data.steps import Step
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.decode import decode_actions
from deskmimic.models.net.policy_net import PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.policy import load_policy
from deskmimic.models.training.checkpoint import load_checkpoint
from deskmimic.tasks.env_actions import parse_action
from tests.models.test_checkpoint_format import GOLDEN, GOLDEN_ACTION, _frame, _spec
from tests.models.test_learning_units import _perfect_output

OLD_KINDS = ("click", "double_click", "right_click", "middle_click", "drag", "scroll", "type",
             "hotkey", "done")


def test_hover_is_appended_and_acts_at_a_point():
    assert ACTION_KINDS[: len(OLD_KINDS)] == OLD_KINDS and ACTION_KINDS[-1] == "hover"
    assert "hover" in POINTER_KINDS
    step = Step(index=1, kind="hover", t_start=0, t_end=1, x=56, y=124)
    assert action_from_step(step) == Action("hover", x=56, y=124)
    with pytest.raises(ConfigError, match="needs x and y"):
        Action("hover")
    # the practice env takes it as any pointer kind (clipped into the window)
    assert parse_action({"kind": "hover", "point": (900, 5)}, 720, 600).to_dict() == {
        "kind": "hover", "point": (719, 5)}


def test_a_hover_target_decodes_back():
    space, tok = ActionSpace(), CharTokenizer(32)
    action = Action("hover", x=431, y=311)
    t = space.encode(action, "Convert the text", tok, 1280, 800)
    assert int(t["kind"]) == ACTION_KINDS.index("hover") and (t["point"] >= 0).all()
    (decoded,) = decode_actions(_perfect_output(t, space, tok), space, ["x"], [(1280, 800)])
    assert decoded.kind == "hover" and (decoded.x, decoded.y) == (431, 311)


def test_a_net_built_now_has_a_logit_for_hover():
    spec = _spec()
    assert spec.space.kinds == ACTION_KINDS and spec.net.num_kinds == len(ACTION_KINDS)
    torch.manual_seed(0)
    net = PolicyNet(spec.net)
    assert net.kind_head.out_features == len(ACTION_KINDS)


def test_a_checkpoint_from_before_hover_loads_and_acts_with_its_own_kinds():
    spec, net, _ = load_checkpoint(GOLDEN)
    assert spec.space.kinds == OLD_KINDS and net.kind_head.out_features == len(OLD_KINDS)
    policy = load_policy(GOLDEN)
    policy.reset()
    for _ in range(3):  # its own history feeds back: only kinds it knows
        action = policy.act({"image": _frame(), "instruction": "Click Save"})
        assert action.kind in OLD_KINDS
    policy.reset()
    first = policy.act({"image": _frame(), "instruction": "Click Save"}).to_dict()
    first.pop("confidence")
    assert first == GOLDEN_ACTION  # decides as it did before the kind was added
    # judged on a new demonstration whose history holds a hover: the hover is left out,
    # as the demonstrations it learned from had no such step; unknown kinds still fail
    space = spec.space
    assert (space.history_tokens(["click", "hover", "type"]).tolist()
            == space.history_tokens(["click", "type"]).tolist())
    policy.set_history(["click", "hover"])
    assert policy.act({"image": _frame(), "instruction": "Click Save"}).kind in OLD_KINDS
    with pytest.raises(ConfigError, match="'hovre'"):
        space.history_tokens(["hovre"])
