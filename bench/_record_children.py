"""record_bench's child processes: the content window and the XTEST injector.

bench/record_bench.py re-runs itself as ``_content WIDTH HEIGHT`` (the window, in its own
process so its CPU is not counted against the recorder) and ``_inject MODE N ARG X Y``
(XTEST input); those entry points call `content_main` and `inject_main` here.
"""

from __future__ import annotations

import json
import random
import sys
import time

CONTENT_HZ = 4  # content window repaints per second
INDICATOR = (16, 16, 96, 96)  # x, y, w, h of the patch whose colour each press changes
PALETTE = [(200, 30, 30), (30, 160, 60), (40, 80, 220), (230, 160, 20), (150, 40, 170),
           (20, 170, 180)]
SETUP_XY = (10, 10)  # where the motion injector parks the pointer first (not counted)
WORDS = ("invoice total customer order ship date amount status pending paid open close save "
         "file edit view help report export name email phone address city note").split()


# ---- child process: content window -------------------------------------------------------
def content_main(width: int, height: int) -> None:
    """A full-screen window that looks like a busy form and changes CONTENT_HZ times a second."""
    from PySide6.QtCore import QRect, Qt, QTimer
    from PySide6.QtGui import QColor, QFont, QPainter
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication(["bench-content"])
    rng = random.Random(7)

    def line() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))

    class Content(QWidget):
        def __init__(self) -> None:
            super().__init__(None, Qt.WindowType.FramelessWindowHint)
            self.setGeometry(0, 0, width, height)
            self.setFont(QFont("DejaVu Sans", 10))
            self.presses = self.tick = 0
            self.lines = [line() for _ in range((height - 140) // 22)]
            self.ready = False

        def paintEvent(self, _ev) -> None:  # noqa: N802 - Qt API
            p = QPainter(self)
            p.fillRect(self.rect(), QColor(246, 246, 244))
            p.fillRect(QRect(0, 0, 180, height), QColor(228, 232, 238))
            p.fillRect(QRect(*INDICATOR), QColor(*PALETTE[self.presses % len(PALETTE)]))
            p.setPen(QColor(30, 30, 30))
            for i, text in enumerate(self.lines):
                p.drawText(200, 130 + 22 * i, f"{i + 1:3d}  {text}")
            x = 200 + (self.tick * 37) % max(1, width - 400)
            p.fillRect(QRect(x, 40, 160, 50), QColor(60, 120, 200))
            p.drawText(200, 110, f"tick {self.tick}   presses {self.presses}")
            bar = int((width - 220) * ((self.tick % 40) / 40))
            p.fillRect(QRect(200, height - 30, bar, 12), QColor(90, 170, 90))
            p.end()
            if not self.ready:
                self.ready = True
                QTimer.singleShot(300, lambda: print("ready", flush=True))

        def on_tick(self) -> None:
            self.tick += 1
            self.lines[rng.randrange(len(self.lines))] = line()
            self.update()

        def press(self) -> None:
            self.presses += 1
            self.update(QRect(*INDICATOR))

        def mousePressEvent(self, _ev) -> None:  # noqa: N802
            self.press()

        def keyPressEvent(self, ev) -> None:  # noqa: N802
            if not ev.isAutoRepeat():
                self.press()

    w = Content()
    w.show()
    w.activateWindow()  # keyboard focus without a window manager
    timer = QTimer()
    timer.timeout.connect(w.on_tick)
    timer.start(1000 // CONTENT_HZ)
    app.exec()


# ---- child process: XTEST injection --------------------------------------------------------
def move_path(i: int, width: int) -> tuple[int, int]:
    """Distinct screen pixels for injected motion i (a raster, so no two are equal)."""
    cols = max(50, min(500, width - 220))
    return 200 + (i % cols), 150 + 3 * (i // cols)


def inject_main(mode: str, n: int, arg: float, x: int, y: int) -> None:
    """moves: n motions at `arg` per second on an x-by-y screen; presses: n clicks/keys `arg`
    seconds apart at (x, y).

    Writes [[t_monotonic_ns, ...], ...] as JSON on stdout.
    """
    from Xlib import XK, X, display
    from Xlib.ext import xtest

    d = display.Display()
    out: list[list] = []
    if mode == "moves":
        xtest.fake_input(d, X.MotionNotify, x=SETUP_XY[0], y=SETUP_XY[1])  # away from the path
        d.sync()
        time.sleep(0.2)
        period = 1.0 / arg
        t_next = time.monotonic()
        for i in range(n):
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            px, py = move_path(i, x)
            t = time.monotonic_ns()
            xtest.fake_input(d, X.MotionNotify, x=px, y=py)
            d.sync()
            out.append([t, px, py])
            t_next += period
    else:
        space = d.keysym_to_keycode(XK.string_to_keysym("space"))
        xtest.fake_input(d, X.MotionNotify, x=x, y=y)
        d.sync()
        for i in range(n):
            time.sleep(arg)
            kind = "button" if i % 2 == 0 else "key"
            down, up, detail = ((X.ButtonPress, X.ButtonRelease, 1) if kind == "button"
                                else (X.KeyPress, X.KeyRelease, space))
            t = time.monotonic_ns()
            xtest.fake_input(d, down, detail)
            d.sync()
            time.sleep(0.04)
            xtest.fake_input(d, up, detail)
            d.sync()
            out.append([t, kind])
    d.close()
    sys.stdout.write(json.dumps(out))


__all__ = ["CONTENT_HZ", "INDICATOR", "PALETTE", "SETUP_XY", "content_main", "move_path",
           "inject_main"]
