"""Real input through XTEST into real Qt windows on the pytest-xvfb display.

The injection runs on a worker thread while the Qt event loop runs (qtbot.waitUntil),
as it does when the replay agent drives a live desktop.
"""

from __future__ import annotations

import os
import signal
import string
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskmimic.agent.inject import Injector, open_injector
from deskmimic.agent.input_state import query_held, release_stuck_input
from deskmimic.core.errors import DisplayError
from tests.fixtures.screen import wait_on_screen

SHIFT_L = 0xFFE1




def run_injection(qtbot, fn: Callable[[], None], timeout_ms: int = 15_000) -> None:
    """Run ``fn`` on a worker thread while the Qt event loop keeps processing events."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised on the test thread
            errors.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=timeout_ms)
    if errors:
        raise errors[0]


def show(qtbot, widget: QWidget, x: int = 200, y: int = 150, w: int = 480, h: int = 320) -> QWidget:
    widget.setGeometry(x, y, w, h)
    qtbot.addWidget(widget)
    with qtbot.waitExposed(widget):
        widget.show()
    return widget


def center(widget: QWidget) -> tuple[int, int]:
    p = widget.mapToGlobal(widget.rect().center())
    return p.x(), p.y()


class Pad(QWidget):
    """Records mouse and wheel events with their local positions."""

    def __init__(self) -> None:
        super().__init__()
        self.setMouseTracking(True)
        self.events: list[tuple] = []

    def _pos(self, e) -> tuple[int, int]:
        p = e.position().toPoint()
        return p.x(), p.y()

    def mousePressEvent(self, e) -> None:  # noqa: N802 - Qt override
        self.events.append(("press", e.button(), self._pos(e)))

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802
        self.events.append(("release", e.button(), self._pos(e)))

    def mouseDoubleClickEvent(self, e) -> None:  # noqa: N802
        self.events.append(("double", e.button(), self._pos(e)))

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        self.events.append(("move", e.buttons(), self._pos(e)))

    def wheelEvent(self, e) -> None:  # noqa: N802
        d = e.angleDelta()
        self.events.append(("wheel", d.x(), d.y()))

    def kinds(self, *names: str) -> list[tuple]:
        return [e for e in self.events if e[0] in names]


def test_type_text_with_shifted_characters(qtbot, inj: Injector) -> None:
    line = show(qtbot, QLineEdit())
    text = "Hello, World! @#{}~_+?"
    run_injection(qtbot, lambda: (inj.click(*center(line)), inj.type_text(text, interval=0.01)))
    qtbot.waitUntil(lambda: line.text() == text, timeout=5000)
    assert inj.held() == {"keys": [], "buttons": []}


def test_type_every_printable_ascii_and_tab_newline(qtbot, inj: Injector) -> None:
    ascii_text = "".join(chr(c) for c in range(0x20, 0x7F))
    line = show(qtbot, QLineEdit())
    run_injection(qtbot, lambda: (inj.move(*center(line)), inj.type_text(ascii_text, interval=0)))
    qtbot.waitUntil(lambda: line.text() == ascii_text, timeout=5000)
    assert set(string.punctuation) <= set(line.text())

    editor = show(qtbot, QPlainTextEdit(), y=520, h=200)
    run_injection(qtbot, lambda: (inj.click(*center(editor)), inj.type_text("a\tB\nc d")))
    qtbot.waitUntil(lambda: editor.toPlainText() == "a\tB\nc d", timeout=5000)


def test_type_characters_missing_from_the_keymap(qtbot, inj: Injector) -> None:
    from deskmimic.agent.inject_xtest import XTestBackend

    backend = inj.backend
    assert isinstance(backend, XTestBackend)
    keymap_before = backend._mapping(refresh=True)
    line = show(qtbot, QLineEdit())
    run_injection(qtbot, lambda: (inj.click(*center(line)), inj.type_text("café €5 ñ")))
    qtbot.waitUntil(lambda: line.text() == "café €5 ñ", timeout=5000)
    inj.close()  # gives the borrowed spare keycodes back
    assert _keyboard_mapping() == keymap_before


def _keyboard_mapping() -> list[tuple[int, ...]]:
    from deskmimic.agent.inject_xtest import XTestBackend

    probe = XTestBackend()
    try:
        return probe._mapping(refresh=True)
    finally:
        probe.close()


def test_ctrl_a_then_typing_replaces_text(qtbot, inj: Injector) -> None:
    line = show(qtbot, QLineEdit())
    line.setText("old text here")
    run_injection(qtbot, lambda: (inj.click(*center(line)), inj.hotkey("ctrl+a"),
                                  inj.type_text("New")))
    qtbot.waitUntil(lambda: line.text() == "New", timeout=5000)


def test_chord_fires_a_shortcut(qtbot, inj: Injector) -> None:
    widget = show(qtbot, QLineEdit())
    fired: list[int] = []
    shortcut = QShortcut(QKeySequence("Ctrl+Shift+T"), widget)
    shortcut.activated.connect(lambda: fired.append(1))
    run_injection(qtbot, lambda: (inj.click(*center(widget)), inj.hotkey("ctrl+shift+t")))
    qtbot.waitUntil(lambda: fired == [1], timeout=5000)
    assert widget.text() == ""  # the 't' went to the shortcut, not into the field


def test_click_lands_on_button_at_its_screen_position(qtbot, inj: Injector) -> None:
    window = QWidget()
    layout = QVBoxLayout(window)
    buttons = [QPushButton(f"Button {i}") for i in range(3)]
    for b in buttons:
        layout.addWidget(b)
    show(qtbot, window, x=350, y=260, w=300, h=200)
    clicks: list[int] = []
    for i, b in enumerate(buttons):
        b.clicked.connect(lambda _=False, i=i: clicks.append(i))
    target = center(buttons[1])
    run_injection(qtbot, lambda: inj.click(*target, duration=0.15))
    qtbot.waitUntil(lambda: clicks == [1], timeout=5000)
    assert inj.position() == target


def test_double_and_right_click(qtbot, inj: Injector) -> None:
    pad = show(qtbot, Pad())
    x, y = center(pad)
    run_injection(qtbot, lambda: inj.click(x, y, count=2))
    qtbot.waitUntil(lambda: len(pad.kinds("release")) == 2, timeout=5000)
    assert [e[1] for e in pad.kinds("double")] == [Qt.MouseButton.LeftButton]
    local = pad.mapFromGlobal(QPoint(x, y))
    assert pad.kinds("press")[0] == ("press", Qt.MouseButton.LeftButton, (local.x(), local.y()))

    pad.events.clear()
    # A duration, past the double-click time: the right click must be a fresh click.
    qtbot.wait(QApplication.doubleClickInterval() + 200)
    run_injection(qtbot, lambda: inj.click(x + 30, y - 20, button="right"))
    qtbot.waitUntil(lambda: len(pad.kinds("release")) == 1, timeout=5000)
    assert pad.kinds("press", "release") == [
        ("press", Qt.MouseButton.RightButton, (local.x() + 30, local.y() - 20)),
        ("release", Qt.MouseButton.RightButton, (local.x() + 30, local.y() - 20)),
    ]
    assert pad.kinds("double") == []


def test_drag_arrives_as_press_moves_release_at_exact_points(qtbot, inj: Injector) -> None:
    pad = show(qtbot, Pad(), x=100, y=100, w=700, h=500)
    origin = pad.mapToGlobal(QPoint(0, 0))
    start, end = (40, 60), (610, 420)
    run_injection(qtbot, lambda: inj.drag(origin.x() + start[0], origin.y() + start[1],
                                          origin.x() + end[0], origin.y() + end[1], duration=0.3))
    qtbot.waitUntil(lambda: bool(pad.kinds("release")), timeout=5000)
    events = pad.kinds("press", "move", "release")
    presses = [i for i, e in enumerate(events) if e[0] == "press"]
    assert len(presses) == 1
    events = events[presses[0]:]
    assert events[0] == ("press", Qt.MouseButton.LeftButton, start)
    assert events[-1] == ("release", Qt.MouseButton.LeftButton, end)
    moves = events[1:-1]
    assert len(moves) >= 5 and all(e[0] == "move" for e in moves)
    assert all(e[1] & Qt.MouseButton.LeftButton for e in moves)  # button held while moving
    assert moves[-1][2] == end
    xs = [e[2][0] for e in moves]
    assert xs == sorted(xs)  # a monotone path, no jitter back and forth


def test_scroll_arrives_as_wheel_events_with_the_right_sign(qtbot, inj: Injector) -> None:
    pad = show(qtbot, Pad())
    x, y = center(pad)
    run_injection(qtbot, lambda: inj.scroll(dy=2, x=x, y=y))
    qtbot.waitUntil(lambda: len(pad.kinds("wheel")) == 2, timeout=5000)
    assert all(e[2] > 0 and e[1] == 0 for e in pad.kinds("wheel"))  # up = positive
    pad.events.clear()
    run_injection(qtbot, lambda: inj.scroll(dy=-3))
    qtbot.waitUntil(lambda: len(pad.kinds("wheel")) == 3, timeout=5000)
    assert all(e[2] < 0 for e in pad.kinds("wheel"))
    pad.events.clear()
    run_injection(qtbot, lambda: inj.scroll(dx=1))
    qtbot.waitUntil(lambda: len(pad.kinds("wheel")) == 1, timeout=5000)
    dx = pad.kinds("wheel")[0][1]
    assert dx < 0  # Qt reports scrolling right as a negative horizontal angle


def test_move_follows_an_interpolated_path(qtbot, inj: Injector) -> None:
    pad = show(qtbot, Pad(), x=100, y=100, w=700, h=500)
    origin = pad.mapToGlobal(QPoint(0, 0))
    run_injection(qtbot, lambda: (inj.move(origin.x() + 20, origin.y() + 20),
                                  inj.move(origin.x() + 650, origin.y() + 450, duration=0.25)))
    qtbot.waitUntil(lambda: pad.kinds("move") and pad.kinds("move")[-1][2] == (650, 450),
                    timeout=5000)
    assert len(pad.kinds("move")) >= 6


def test_click_and_type_under_a_window_manager(qtbot, inj: Injector, window_manager) -> None:
    window = QWidget()
    layout = QVBoxLayout(window)
    line, button = QLineEdit(), QPushButton("Save")
    layout.addWidget(line)
    layout.addWidget(button)
    show(qtbot, window, x=300, y=200, w=320, h=120)
    # openbox reparents and places the window; wait until Qt knows where it ended up:
    # the screen shows the window where Qt believes it is.
    qtbot.waitUntil(lambda: window.isActiveWindow() or window.windowHandle().isExposed())
    wait_on_screen(qtbot, window)
    clicks: list[int] = []
    button.clicked.connect(lambda: clicks.append(1))
    run_injection(qtbot, lambda: (inj.click(*center(line), duration=0.1),
                                  inj.type_text("Ana {admin}"), inj.press("tab"),
                                  inj.click(*center(button), duration=0.1)))
    qtbot.waitUntil(lambda: line.text() == "Ana {admin}" and clicks == [1], timeout=5000)


def test_bad_display_name_raises_display_error() -> None:
    with pytest.raises(DisplayError, match="':987'"):
        open_injector("xtest", display=":987")


# A process that holds shift and the left button, then waits. Modes:
#   chain   - SIGTERM had a handler before the injector's; it reports what the X server
#             still holds while the process is alive (so the injector must have released)
#   int     - reports on KeyboardInterrupt, then re-raises
#   default - plain SIGTERM death
#   fork    - no signal handling; a forked child keeps the X connection open, as a
#             fork-started worker does, so SIGKILL of the parent leaves the input held
_HOLDER = """
import json, os, signal, sys, time
from deskmimic.agent.inject import open_injector
from deskmimic.agent.input_state import query_held
mode = sys.argv[1]
# Started in the background by a non-interactive shell (`nohup ... &`), Python inherits
# SIGINT ignored and has no KeyboardInterrupt; this is about chaining to Python's own.
signal.signal(signal.SIGINT, signal.default_int_handler)
def report(*_):
    print("held", json.dumps(query_held()), flush=True)
    sys.exit(0)
if mode == "chain":
    signal.signal(signal.SIGTERM, report)
inj = open_injector("xtest", release_on_signals=mode != "fork")
inj.key_down("shift")
inj.button_down("left")
child = os.fork() if mode == "fork" else 0
if mode == "fork" and child == 0:
    time.sleep(60)  # not a sync: keeps the X connection alive until the test kills it
    os._exit(0)
print("holding", child, flush=True)
try:
    time.sleep(60)  # not a sync: holds the input until the test's signal ends it
except KeyboardInterrupt:
    print("held", json.dumps(query_held()), flush=True)
    raise
"""


def _start_holder(mode: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    assert line[:1] == ["holding"], proc.stderr.read()
    return proc, int(line[1])


def _finish(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()


def _shift_keycode() -> int:
    probe = open_injector("xtest")
    try:
        return probe.backend.keycode_for(SHIFT_L)[0]
    finally:
        probe.close()


@pytest.mark.parametrize(("mode", "sig", "returncode"), [
    ("chain", signal.SIGTERM, 0),
    ("int", signal.SIGINT, -signal.SIGINT),
])
def test_signal_handler_releases_before_the_process_ends(mode: str, sig: int,
                                                         returncode: int) -> None:
    release_stuck_input()
    proc, _ = _start_holder(mode)
    assert query_held() == (["left"], [_shift_keycode()])
    proc.send_signal(sig)
    out, err = _finish(proc)
    # measured inside the still-running process, after the injector's handler ran
    assert "held [[], []]" in out, err
    assert proc.returncode == returncode, err
    assert query_held() == ([], [])


def test_sigterm_with_default_handling_still_kills() -> None:
    release_stuck_input()
    proc, _ = _start_holder("default")
    assert query_held() == (["left"], [_shift_keycode()])
    proc.send_signal(signal.SIGTERM)
    _, err = _finish(proc)
    assert proc.returncode == -signal.SIGTERM, err
    assert query_held() == ([], [])


def test_release_stuck_input_after_sigkill(qtbot, inj: Injector) -> None:
    proc, child = _start_holder("fork")
    try:
        proc.kill()
        proc.wait(10)
        # A duration: a release that should not happen has no event to wait for; give the
        # X server time to drop the parent's input, were it going to.
        qtbot.wait(300)
        # The X server keeps XTEST input down while the connection lives on in the child.
        assert query_held() == (["left"], [_shift_keycode()])

        released = release_stuck_input()
        assert released == {"buttons": ["left"], "keycodes": [_shift_keycode()]}
        assert query_held() == ([], [])

        button = show(qtbot, QPushButton("after the crash"), w=200, h=60)
        clicks: list[int] = []
        button.clicked.connect(lambda: clicks.append(1))
        run_injection(qtbot, lambda: inj.click(*center(button)))
        qtbot.waitUntil(lambda: clicks == [1], timeout=5000)  # the next click is not eaten
    finally:
        os.kill(child, signal.SIGKILL)
        _finish(proc)
