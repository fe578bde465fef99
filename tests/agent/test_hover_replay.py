"""Replaying a hover step (docs/steps.md "Hover"): a demonstration through Edit > Convert >
To Uppercase, recorded and reduced, is replayed by the real runner with real X input; the
hover's move-and-wait opens the submenu so the next click lands on the sub-item. Without
the hover step the same clicks miss, which is why it is a step."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskmimic.agent.policy_protocol import AgentAction, ScriptedPolicy
from deskmimic.agent.runner import ReplayRunner
from deskmimic.models.actions import action_from_step
from deskmimic.models.data.steps import steps_for_episode
from deskmimic.models.data.steps_format import format_steps_table
from deskmimic.recorder.episode import Episode
from tests.agent.test_runner import clean_input, fast, run_in_background  # noqa: F401 (fixture)
from tests.fixtures.menu_window import (
    TEXT,
    MenuWindow,
    record,
    record_region,
    show_menu_window,
    through_submenu,
)

pytestmark = pytest.mark.usefixtures("clean_input")


def _demonstrated(qtbot, w: MenuWindow, out: Path) -> list[AgentAction]:
    ep = record(qtbot, w, out, lambda hand: through_submenu(qtbot, w, hand, 500))
    steps = steps_for_episode(ep)
    assert [s.kind for s in steps] == ["click", "hover", "click", "done"], format_steps_table(steps)
    actions = [action_from_step(s) for s in steps]
    return [AgentAction(a.kind, x=a.x, y=a.y) for a in actions if a is not None]


def _replay(qtbot, w: MenuWindow, actions: list[AgentAction], out: Path | None = None):
    w.field.setText(TEXT)
    w.log.clear()
    cfg = fast(region=record_region(w), record=out is not None, out=out)
    return run_in_background(qtbot, ReplayRunner(ScriptedPolicy(actions), cfg), 30_000)


def test_the_hover_opens_the_submenu_and_the_click_lands_on_the_sub_item(
        qtbot, tmp_path: Path) -> None:
    w = show_menu_window(qtbot)
    actions = _demonstrated(qtbot, w, tmp_path / "demo")
    qtbot.waitUntil(lambda: not w.edit.isVisible(), timeout=3000)

    result = _replay(qtbot, w, actions, tmp_path / "replay")
    assert result.stop_reason == "done", result.message
    qtbot.waitUntil(lambda: w.field.text() == TEXT.upper(), timeout=3000)
    assert w.log == ["upper"]
    # the replay is itself a demonstration: its reduction has the hover too
    steps = steps_for_episode(Episode.open(result.episode))
    assert [s.kind for s in steps] == ["click", "hover", "click", "done"], format_steps_table(steps)

    # the same clicks without the hover: the second one lands where nothing is open yet
    qtbot.waitUntil(lambda: not w.edit.isVisible(), timeout=3000)
    result = _replay(qtbot, w, [a for a in actions if a.kind != "hover"])
    assert result.stop_reason == "done", result.message
    qtbot.wait(300)
    assert "upper" not in w.log and w.field.text() == TEXT
    w.edit.hide()
