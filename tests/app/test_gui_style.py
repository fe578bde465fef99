"""The window's style sheet ships in deskmimic.assets, Qt parses it, and it agrees with
the colours the Python code paints with."""

from __future__ import annotations

import pytest
from PySide6.QtCore import qInstallMessageHandler
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from deskmimic import assets
from deskmimic.app.gui.common import ACCENT, MUTED, style_sheet


def test_the_style_sheet_is_a_packaged_asset():
    path = assets.path("style.qss")
    assert path.is_file() and path.parent.name == "assets"
    assert style_sheet() == path.read_text(encoding="utf-8")
    # Style sheets have no variables: the shared colours are written out in the file.
    assert ACCENT in style_sheet() and MUTED in style_sheet()


def test_a_missing_asset_is_named():
    with pytest.raises(FileNotFoundError, match="no-such.png"):
        assets.path("no-such.png")


def test_qt_parses_the_style_sheet(qtbot):
    # Qt reports a broken sheet only as a warning ("Could not parse stylesheet of object…").
    warnings: list[str] = []
    previous = qInstallMessageHandler(lambda _mode, _ctx, msg: warnings.append(msg))
    try:
        w = QWidget()
        qtbot.addWidget(w)
        lay = QVBoxLayout(w)
        button = QPushButton("Start")
        button.setObjectName("big")
        lay.addWidget(button)
        lay.addWidget(QLabel("text"))
        w.setStyleSheet(style_sheet())
        w.show()
        qtbot.waitExposed(w)
        w.ensurePolished()
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in warnings if "stylesheet" in m.lower()]


def test_messages_in_the_window_name_its_labels_not_command_line_options(qtbot):
    from deskmimic.app.gui.common import Banner

    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_message("--window 'Notes': no visible window has that title; --policy runs/x: "
                        "no such run (--max-steps 0, --names kept)")
    text = banner.text()
    assert "Window 'Notes'" in text and "Policy runs/x" in text and "Max steps 0" in text
    assert "--window" not in text and "--policy" not in text
    assert "--names" in text, "only whole options are renamed"
