"""Settling: the agent decides only once the screen has stopped changing, typed text too."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLineEdit

from deskmimic.agent.settle import SettleConfig, wait_until_settled
from deskmimic.core.geometry import Rect
from deskmimic.recorder.capture import open_capture
from tests.agent.test_runner import Background
from tests.fixtures.screen import wait_on_screen, widget_rect

TEXT = "cookie cabin"


def _field(qtbot) -> tuple[QLineEdit, Rect]:
    w = QLineEdit()
    qtbot.addWidget(w)
    w.setFixedSize(536, 60)  # a task window's width: one character is a speck of it
    w.move(200, 150)
    with qtbot.waitExposed(w):
        w.show()
    wait_on_screen(qtbot, w)  # settling watches the screen: the field must be drawn first
    return w, widget_rect(w)


def _type_slowly(w: QLineEdit, interval_ms: int) -> QTimer:
    # Characters showing one by one, as when the machine is busy and the GUI thread works
    # through the agent's key events late.
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(
        lambda: w.setText(TEXT[: len(w.text()) + 1]) if len(w.text()) < len(TEXT) else timer.stop()
    )
    timer.start()
    return timer


def test_text_still_being_typed_is_not_settled(qtbot) -> None:
    w, region = _field(qtbot)
    w.setFocus()
    # Six calm comparisons (300 ms): the GUI thread that shows the characters may stall
    # for a while in a long test run, and a pause longer than the window ends it.
    cfg = SettleConfig(quiet=6, interval_s=0.05, timeout_s=5.0)
    with open_capture(draw_cursor=False) as capture:
        timer = _type_slowly(w, 60)
        t0 = time.monotonic()
        settled = Background(lambda: wait_until_settled(capture, region, cfg)).wait(qtbot)
        waited = time.monotonic() - t0
        timer.stop()
        assert settled.settled
        assert w.text() == TEXT
        # It waited for the last character (12 x 60 ms); the whole-image mean alone
        # calls the screen settled after the first calm window, mid-word.
        assert waited >= 0.7, waited
        loose = SettleConfig(quiet=6, interval_s=0.05, timeout_s=5.0, local=1e9)
        w.clear()
        timer = _type_slowly(w, 60)
        early = Background(lambda: wait_until_settled(capture, region, loose)).wait(qtbot)
        timer.stop()
        assert early.settled and w.text() != TEXT


def test_the_policy_is_offered_the_calm_grabs_to_read_ahead(qtbot) -> None:
    w, region = _field(qtbot)
    w.setFocus()
    cfg = SettleConfig(quiet=3, interval_s=0.05, timeout_s=5.0)
    offered = []
    with open_capture(draw_cursor=False) as capture:
        timer = _type_slowly(w, 60)
        settled = Background(lambda: wait_until_settled(
            capture, region, cfg, on_calm=lambda img: offered.append(img.copy()))).wait(qtbot)
        timer.stop()
    assert settled.settled and w.text() == TEXT
    # Only grabs that equal the one before (the typing shows in none of them) and never
    # the settled grab itself: it comes back to the caller.
    assert offered and len(offered) < settled.grabs
    assert (offered[-1] == settled.image).all()
