"""Recording from the window: real capture, real X input, a valid episode at the end,
and a UI thread that never freezes while it records."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from deskmimic.app.gui.common import Task
from deskmimic.app.gui.main import MainWindow
from deskmimic.app.gui.state import GuiSettings
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from tests.app.conftest import xdotool


@pytest.fixture
def window(qtbot, tmp_home: Path) -> MainWindow:
    eps = tmp_home / "data" / "episodes"
    win = MainWindow(GuiSettings(episodes_dir=str(eps), fps=10))
    qtbot.addWidget(win)
    win.move(0, 0)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.record.session.phase == "recording":
        win.record.stop()
    qtbot.waitUntil(lambda: not win.record.session.active, timeout=20000)
    win.record.shutdown()
    win.episodes.shutdown()
    Task.wait_all()


def _start(qtbot, win: MainWindow, region: str) -> None:
    panel = win.record
    panel.rb_region.setChecked(True)
    panel.region_edit.setText(region)
    panel.task_edit.setText("gui_test")
    panel.instruction_edit.setText("Move around")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.session.phase == "recording", timeout=15000)


def test_record_start_stop_from_the_window_makes_a_valid_episode(qtbot, window, watchdog):
    panel = window.record
    watchdog.start()
    _start(qtbot, window, "320x240+100+100")
    # The window overlapped the captured area: it is out of the way, the indicator is up.
    assert not window.isVisible()
    assert panel.indicator.isVisible() and panel.indicator.outside_capture
    for x, y in ((150, 150), (200, 180), (260, 220)):
        xdotool("mousemove", str(x), str(y))
        qtbot.wait(80)  # pacing, not synchronization: a person's moves come apart in time
    xdotool("click", "1")
    qtbot.waitUntil(lambda: panel.session.stats.get("events", 0) >= 4, timeout=5000)
    assert "events" in panel.indicator.label.text()
    qtbot.mouseClick(panel.indicator.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.session.phase == "idle" and panel.session.summary is not None,
                    timeout=20000)
    gap = watchdog.stop()
    print("while recording:", watchdog.report())
    summary = panel.session.summary
    assert check_episode(summary.path) == []
    # The session is idle once the worker finalized the episode; the window comes back in
    # the UI-thread callback that follows (queued), so wait for it.
    qtbot.waitUntil(lambda: window.isVisible() and not panel.indicator.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: panel.banner.kind == "ok", timeout=5000)
    assert summary.path.name in panel.banner.text()
    with Episode.open(summary.path) as ep:
        assert ep.task == "gui_test" and ep.instruction == "Move around"
        assert ep.region.to_dict() == {"left": 100, "top": 100, "width": 320, "height": 240}
        kinds = [e["type"] for e in ep.read_events()]
    assert kinds.count("button_down") == 1 and "move" in kinds
    assert gap < 100, f"the UI thread blocked while recording: {watchdog.report()}"
    # the new episode shows up on the Episodes page
    qtbot.waitUntil(lambda: str(summary.path) in window.episodes.rows, timeout=5000)


def test_stop_hotkey_ends_the_recording(qtbot, window):
    panel = window.record
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.frameGeometry().right() < 1000, timeout=5000)
    _start(qtbot, window, "200x150+1000+620")
    assert window.isVisible(), "the window does not overlap the region: it stays"
    # The listener says it is ready just before X starts recording for it: the hotkey
    # goes in only once input is seen.
    for x in range(1010, 1200, 10):
        xdotool("mousemove", str(x), "700")
        if panel.session.stats.get("events", 0) > 0:
            break
        qtbot.wait(50)  # polling step
    qtbot.waitUntil(lambda: panel.session.stats.get("events", 0) > 0, timeout=5000)
    xdotool("key", "--clearmodifiers", "ctrl+alt+shift+s")
    qtbot.waitUntil(lambda: panel.session.phase == "idle" and panel.session.summary is not None,
                    timeout=20000)
    summary = panel.session.summary
    assert summary.stop_reason == "stop_hotkey"
    assert check_episode(summary.path) == []
    with Episode.open(summary.path) as ep:
        events = ep.read_events()
    assert [e["name"] for e in events if e["type"] == "marker"] == ["start", "stop_hotkey"]
    assert not [e for e in events if e["type"].startswith("key")], "hotkey keys are not recorded"


def test_bad_targets_show_a_message_and_the_window_stays_usable(qtbot, window):
    panel = window.record
    panel.rb_region.setChecked(True)
    panel.region_edit.setText("not a rectangle")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "WxH+X+Y" in panel.banner.text()
    panel.region_edit.setText("100x100+5000+5000")  # valid syntax, off the screen
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "outside the screen" in panel.banner.text(), timeout=15000)
    assert panel.session.phase == "idle" and panel.start_button.isEnabled()
    assert window.isVisible() and not panel.indicator.isVisible()
    panel.rb_window.setChecked(True)  # lists windows on a worker
    qtbot.waitUntil(lambda: panel.window_refresh.isEnabled() and panel.window_combo.count() > 0,
                    timeout=10000)
