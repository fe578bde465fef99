"""Replaying in a window by title follows the app's windows: the agent sees the dialog the
app opens outside the window and clicks into it (real Qt windows, real XTEST input), and
a followed region slides onto the screen when the window moves near the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deskmimic.agent.policy_protocol import AgentAction
from deskmimic.agent.region import RegionTracker, WindowLost
from deskmimic.agent.runner import ReplayRunner
from deskmimic.core.geometry import Rect
from deskmimic.recorder.app_windows import FOLLOW_MARGIN, follow_region
from deskmimic.recorder.windows_x11 import list_windows
from tests.agent.test_runner import clean_input, fast, run_in_background  # noqa: F401 (fixture)
from tests.fixtures.screen import wait_on_screen, widget_rect
from tests.recorder.test_app_windows import MAGENTA, SCREEN, YELLOW, show_app


class ColourPolicy:
    """Clicks the centre of each colour in turn, as it finds it in the image it is shown
    (a real object reading real frames: what is not captured cannot be clicked)."""

    def __init__(self, colours: list[str]) -> None:
        self.colours = colours
        self.observations: list[dict[str, Any]] = []
        self.name = "colours"

    def reset(self) -> None:
        self.observations.clear()

    def act(self, observation: dict[str, Any]) -> AgentAction:
        self.observations.append(observation)
        i = len(self.observations) - 1
        if i >= len(self.colours):
            return AgentAction("done")
        c = self.colours[i]
        want = np.array([int(c[k:k + 2], 16) for k in (1, 3, 5)], dtype=np.int16)
        mask = np.abs(observation["image"][..., :3].astype(np.int16) - want).max(axis=2) <= 24
        ys, xs = np.nonzero(mask)
        if len(xs) < 200:  # not on screen: say so with no confidence, the runner stops
            return AgentAction("click", 1, 1, confidence=0.0)
        return AgentAction("click", int(np.median(xs)), int(np.median(ys)), confidence=0.9)


def test_replay_in_a_window_clicks_into_the_dialog_it_opens(qtbot, clean_input) -> None:  # noqa: F811
    title = "deskmimic follow replay"
    w = show_app(qtbot, title)
    main = widget_rect(w)
    policy = ColourPolicy([YELLOW, MAGENTA])  # "Open", then the dialog's OK, left of the window
    result = run_in_background(qtbot, ReplayRunner(policy, fast(window=title, follow=FOLLOW_MARGIN)))
    assert result.stop_reason == "done", result.message
    qtbot.waitUntil(lambda: w.ok_clicks == 1, timeout=3000)
    region = Rect.from_dict(result.actions[1]["region"])
    assert region == follow_region(main, SCREEN, margin=FOLLOW_MARGIN).even()
    ok = widget_rect(w.dialog.findChildren(type(w.open_button))[0])
    assert ok.right < main.left  # the click landed outside the window itself
    w.dialog.close()


def test_followed_region_slides_onto_the_screen_and_stops_when_the_window_leaves(qtbot) -> None:
    title = "deskmimic follow edge"
    w = show_app(qtbot, title, pos=(420, 300))
    main = widget_rect(w)
    region = follow_region(main, SCREEN, margin=FOLLOW_MARGIN)
    tracker = RegionTracker(region, title, main, SCREEN)
    w.move(main.left + 400, main.top + 150)  # the grown region would reach past the edge
    wait_on_screen(qtbot, w)
    moved = widget_rect(w)
    assert moved.right <= SCREEN.right and moved.bottom <= SCREEN.bottom
    now = tracker.update()
    assert (now.width, now.height) == (region.width, region.height)
    assert now.right == SCREEN.right and now.bottom == SCREEN.bottom
    assert now.left <= moved.left and now.top <= moved.top  # the window is still inside it
    w.move(SCREEN.right - 100, main.top)  # now the window itself is partly off the screen
    qtbot.waitUntil(lambda: widget_rect(w).left == SCREEN.right - 100, timeout=3000)
    with pytest.raises(WindowLost, match="moved partly off the screen"):
        tracker.update()


def test_an_episode_recorded_before_following_replays_in_the_window_alone() -> None:
    region = Rect(100, 100, 400, 300)
    old = RegionTracker.for_recording(region, {"id": 1, "title": "t"}, SCREEN)
    new = RegionTracker.for_recording(Rect(0, 0, 880, 780), {"title": "t", "rect": region.to_dict()},
                                      SCREEN)
    assert old._window0 == region and new._window0 == region
    assert RegionTracker.for_recording(region, None, SCREEN).window_title is None


def test_a_macro_of_a_followed_window_clicks_its_dialog_where_the_window_now_is(
        qtbot, clean_input, tmp_path: Path) -> None:  # noqa: F811
    from deskmimic.agent.macro import MacroConfig, MacroPlayer
    from deskmimic.core.config import RecordConfig
    from deskmimic.recorder.record import Recorder
    from tests.agent.test_runner import Background, xdotool
    from tests.fixtures.recording import wait_listening, wait_recorded

    title = "deskmimic follow macro"
    w = show_app(qtbot, title, pos=(420, 300))
    rec = Recorder(RecordConfig(out=tmp_path / "ep", window=title, follow=FOLLOW_MARGIN,
                                fps=15)).start()
    try:
        main = widget_rect(w)
        wait_listening(qtbot, rec, main.left + 10, main.top + 10)
        for widget in (w.open_button, None):  # "Open", then the dialog's OK, outside the window
            if widget is None:
                qtbot.waitUntil(lambda: w.dialog is not None and w.dialog.isVisible(), timeout=3000)
                wait_on_screen(qtbot, w.dialog)
                widget = w.dialog.findChildren(type(w.open_button))[0]
            r = widget_rect(widget)
            xdotool("mousemove", str(r.left + r.width // 2), str(r.top + r.height // 2))
            qtbot.wait(300)  # a person rests on the button before clicking
            xdotool("click", "1")
        qtbot.waitUntil(lambda: w.ok_clicks == 1, timeout=3000)
        wait_recorded(qtbot, rec, lambda evs: sum(e["type"] == "button_up" for e in evs) == 2,
                      "both clicks")
    finally:
        rec.stop()
    w.dialog.close()
    w.close()
    qtbot.waitUntil(lambda: all(x.title != title for x in list_windows()), timeout=5000)

    again = show_app(qtbot, title, pos=(300, 250))  # the app opened elsewhere this time
    result = Background(MacroPlayer(tmp_path / "ep", MacroConfig(max_gap_s=0.5)).run).wait(qtbot, 30_000)
    assert result.stop_reason == "finished", result.message
    qtbot.waitUntil(lambda: again.ok_clicks == 1, timeout=3000)
    again.dialog.close()
