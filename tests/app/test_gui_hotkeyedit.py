"""The hotkey fields on Settings: pressing the keys (real X input) sets the chord, stored
in pynput's syntax; conversions both ways; a key without a modifier is refused."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from deskmimic.app.gui.common import Task
from deskmimic.app.gui.pages.settings import SettingsPanel
from deskmimic.app.gui.state import GuiSettings
from deskmimic.app.gui.widgets.hotkeyedit import HotkeyEdit, from_pynput, to_pynput
from deskmimic.recorder.hotkey import parse_hotkey
from tests.app.conftest import spin, xdotool


@pytest.mark.parametrize("text", [
    "<ctrl>+<alt>+<shift>+s", "<ctrl>+<alt>+q", "<ctrl>+<f5>", "<alt>+<page_up>",
    "<ctrl>+<shift>+<esc>", "<cmd>+<space>", "<ctrl>+1", "<ctrl>+<alt>+<delete>", "<ctrl>+/",
])
def test_pynput_syntax_round_trips(text):
    seq = from_pynput(text)
    assert not seq.isEmpty(), text
    back = to_pynput(seq[0])
    assert back == text and parse_hotkey(back) == parse_hotkey(text)


def test_text_that_is_no_chord_is_kept_for_validation_to_name(qtbot):
    w = HotkeyEdit("<ctrl>+<alt>+<shift>+s")
    qtbot.addWidget(w)
    w.setText("ctrl")
    assert w.text() == "ctrl" and w.shown() == ""
    w.setText("<Ctrl>+<Alt>+Q")
    assert w.text() == "<ctrl>+<alt>+q" and w.shown() == "Ctrl+Alt+Q"
    w.setText("")
    assert w.text() == ""


def _press_into(qtbot, field: HotkeyEdit, chord: str) -> None:
    c = field.edit.mapToGlobal(field.edit.rect().center())
    xdotool("mousemove", str(c.x()), str(c.y()))
    xdotool("click", "1")
    qtbot.waitUntil(field.edit.hasFocus, timeout=3000)
    xdotool("key", chord)
    spin(150)


def test_pressing_the_keys_sets_and_saves_the_hotkeys(qtbot, tmp_home):
    panel = SettingsPanel(GuiSettings(episodes_dir=str(tmp_home / "eps")))
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    assert panel.hotkey_edit.text() == GuiSettings().stop_hotkey, "the saved chord is shown"
    _press_into(qtbot, panel.hotkey_edit, "ctrl+alt+shift+k")
    qtbot.waitUntil(lambda: panel.hotkey_edit.text() == "<ctrl>+<alt>+<shift>+k", timeout=3000)
    assert panel.hotkey_edit.shown() == "Ctrl+Alt+Shift+K"
    _press_into(qtbot, panel.abort_edit, "ctrl+shift+F5")
    qtbot.waitUntil(lambda: panel.abort_edit.text() == "<ctrl>+<shift>+<f5>", timeout=3000)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.banner.kind == "ok", timeout=5000)
    saved = GuiSettings.load()
    assert (saved.stop_hotkey, saved.abort_hotkey) == ("<ctrl>+<alt>+<shift>+k", "<ctrl>+<shift>+<f5>")
    # a key alone: ordinary typing would trigger it, so saving is refused
    _press_into(qtbot, panel.hotkey_edit, "x")
    qtbot.waitUntil(lambda: panel.hotkey_edit.text() == "x", timeout=3000)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert panel.banner.kind == "error" and "'x'" in panel.banner.text(), panel.banner.text()
    assert GuiSettings.load().stop_hotkey == "<ctrl>+<alt>+<shift>+k"
    qtbot.mouseClick(panel.hotkey_edit.clear_button, Qt.MouseButton.LeftButton)
    assert panel.edited().stop_hotkey == GuiSettings().stop_hotkey, "empty: the default"
    Task.wait_all()
