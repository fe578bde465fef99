"""One home per contract: action kinds, modifier names and step/settle thresholds live in
core/, and every layer reads them from there (issue 19)."""

from __future__ import annotations

import numpy as np
import pytest

from deskmimic.core import actions, keys, rules
from deskmimic.core.errors import ConfigError


# ---- action kinds -----------------------------------------------------------------------
def test_action_kind_order_is_pinned() -> None:
    # Checkpoints index kind logits by this order: appending is fine, reordering is not.
    assert actions.ACTION_KINDS[:9] == ("click", "double_click", "right_click", "middle_click",
                                        "drag", "scroll", "type", "hotkey", "done")
    assert actions.STEP_KINDS == (*actions.ACTION_KINDS, "raw")
    assert actions.CLICK_KINDS < actions.POINTER_KINDS <= set(actions.ACTION_KINDS)
    assert set(actions.BUTTON_CLICK_KINDS.values()) <= actions.CLICK_KINDS


def test_every_layer_uses_the_core_kinds() -> None:
    from deskmimic.agent import policy_protocol
    from deskmimic.models import actions as model_actions
    from deskmimic.models.data import steps
    from deskmimic.tasks import env_actions

    assert model_actions.ACTION_KINDS is actions.ACTION_KINDS
    assert model_actions.POINTER_KINDS is actions.POINTER_KINDS
    assert model_actions.CLICK_KINDS is actions.CLICK_KINDS
    assert policy_protocol.POINTER_KINDS is actions.POINTER_KINDS
    assert env_actions.KINDS is actions.ACTION_KINDS  # the env's Discrete index = checkpoint's
    assert env_actions.POINTER_KINDS is actions.POINTER_KINDS
    assert steps.KINDS is actions.STEP_KINDS


# ---- modifier names ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(keys.MODIFIER_ALIASES))
def test_every_layer_agrees_on_modifiers(name: str) -> None:
    from deskmimic.agent.keysyms import MODIFIERS, key_to_keysym
    from deskmimic.models.data.keys import KeyState
    from deskmimic.recorder.hotkey import key_token

    family = keys.MODIFIER_ALIASES[name]
    assert family in keys.MODIFIER_ORDER
    assert key_token(name) == family  # the recorder's stop hotkey
    assert name in MODIFIERS  # the injector presses it first in a chord
    assert key_to_keysym(name) > 0
    state = KeyState()  # the step reducer
    state.press({"type": "key_down", "key": name})
    assert state.modifiers() == (family,)


def _key(kind: str, name: str, t: int) -> dict:
    return {"type": kind, "t": t, "key": name}


@pytest.mark.parametrize("side", ["super_l", "super_r"])
def test_stop_hotkey_treats_super_as_a_modifier(side: str) -> None:
    from deskmimic.recorder.hotkey import HotkeyFilter, parse_hotkey

    assert parse_hotkey(f"<{side}>+q") == parse_hotkey("<cmd>+q") == frozenset({"cmd", "q"})
    out: list[dict] = []
    fired: list[bool] = []
    filt = HotkeyFilter(parse_hotkey("<cmd>+<shift>+q"), out.append, lambda: fired.append(True),
                        lambda t: {"type": "marker", "t": t, "name": "stop"})
    for i, (kind, name) in enumerate([("key_down", side), ("key_down", "shift_l"),
                                      ("key_down", "q")]):
        filt.feed(_key(kind, name, i))
    # The chord's own presses are held back and replaced by one marker; before super_l
    # and super_r were modifier names here, the press leaked into the recording and
    # the chord never completed.
    assert fired == [True]
    assert out == [{"type": "marker", "t": 2, "name": "stop"}]
    for i, name in enumerate(["q", "shift_l", side]):
        filt.feed(_key("key_up", name, 3 + i))
    assert out == [{"type": "marker", "t": 2, "name": "stop"}]


# ---- step and settle thresholds ---------------------------------------------------------
def test_step_thresholds_have_one_home() -> None:
    from deskmimic.models.data import steps
    from deskmimic.tasks import expert_base
    from deskmimic.tasks.base import StepCounter

    assert steps.StepRules is rules.StepRules and steps.SettleRules is rules.SettleRules
    r = rules.StepRules()
    assert StepCounter.DOUBLE_CLICK_S == r.double_click_ms / 1000
    assert StepCounter.DOUBLE_CLICK_PX == r.double_click_px
    assert StepCounter.SCROLL_GAP_S == r.scroll_gap_ms / 1000
    assert StepCounter.TYPE_GAP_S == r.idle_gap_ms / 1000
    # the scripted experts keep two clicks apart by more than the reducer's double click
    assert expert_base.DOUBLE_CLICK_S > r.double_click_ms / 1000
    assert expert_base.DOUBLE_CLICK_PX > r.double_click_px


def test_training_and_replay_share_one_settle_test() -> None:
    from deskmimic.agent.settle import SettleConfig

    cfg, r = SettleConfig(), rules.SettleRules()
    assert (cfg.threshold, cfg.local) == (r.threshold, r.local)
    assert cfg.rules == rules.SettleRules(threshold=r.threshold, local=r.local)


def _field(text_px: int) -> np.ndarray:
    # A 536 px wide task window with a text field; ``text_px`` columns of dark "text".
    img = np.full((120, 536, 3), 240, np.uint8)
    img[40:70, 20:500] = 255
    img[48:62, 24:24 + text_px] = 20
    return img


def test_a_field_still_filling_is_not_the_same_screen() -> None:
    r = rules.SettleRules()
    a, b = rules.gray_small(_field(60)), rules.gray_small(_field(67))  # one more character
    mean, tile = rules.screen_change(a, b, r.tile)
    assert mean <= r.threshold < r.local < tile  # the mean alone would call it settled
    assert not r.same((mean, tile))
    assert r.same(rules.screen_change(a, a.copy(), r.tile))


def test_gray_small_shrinks_by_a_whole_factor() -> None:
    img = np.zeros((800, 1280, 3), np.uint8)
    img[:, :8] = 80  # exactly one small column
    small = rules.gray_small(img, 160)
    assert small.shape == (100, 160) and small.dtype == np.float32
    assert small[0, 0] == pytest.approx(80, abs=1e-3) and small[0, 1] == 0
    assert rules.gray_small(np.zeros((10, 100, 3), np.uint8), 160).shape == (10, 100)
    assert rules.gray_small(np.zeros((100, 500, 3), np.uint8), 160).shape == (25, 125)
    inf = rules.screen_change(np.zeros((2, 2)), np.zeros((3, 3)))
    assert inf == (float("inf"), float("inf"))


def test_rules_validate() -> None:
    with pytest.raises(ConfigError, match="drag_px"):
        rules.StepRules(drag_px=0)
    with pytest.raises(ConfigError, match="local"):
        rules.SettleRules(local=-1)
    with pytest.raises(ConfigError, match="tile"):
        rules.SettleRules(tile=0)
