"""Drag a rectangle on the screen to choose the captured region.

The picker shows a frozen screenshot of the whole virtual desktop, dimmed, in a
full-screen frameless window and lets the user drag a rectangle on it. A
screenshot (instead of a translucent window) works without a compositor, which
plain X11 desktops and Xvfb lack. Esc or a right click cancels.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from deskmimic.app.gui.common import emit
from deskmimic.core.geometry import Rect


def virtual_desktop() -> QRect:
    rect = QRect()
    for screen in QGuiApplication.screens():
        rect = rect.united(screen.geometry())
    return rect


class RegionPicker(QWidget):
    """Emits ``picked(Rect)`` in screen pixels, or ``cancelled()``."""

    picked = Signal(object)
    cancelled = Signal()

    MIN_SIZE = 16

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.X11BypassWindowManagerHint)
        self.setWindowTitle("deskmimic: drag the region to record")
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._desk = virtual_desktop()
        self._shot = self._grab()
        self._origin: QPoint | None = None
        self._rect = QRect()
        self.setGeometry(self._desk)

    def _grab(self) -> QPixmap:
        shot = QPixmap(self._desk.size())
        shot.fill(QColor("#333"))
        p = QPainter(shot)
        for screen in QGuiApplication.screens():
            g = screen.geometry()
            p.drawPixmap(g.topLeft() - self._desk.topLeft(), screen.grabWindow(0))
        p.end()
        return shot

    def selection(self) -> Rect | None:
        r = self._rect.normalized()
        if r.width() < self.MIN_SIZE or r.height() < self.MIN_SIZE:
            return None
        return Rect(r.left() + self._desk.left(), r.top() + self._desk.top(), r.width(), r.height())

    # ---- events ---------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.drawPixmap(0, 0, self._shot)
        p.fillRect(self.rect(), QColor(0, 0, 0, 110))
        r = self._rect.normalized()
        if not r.isNull():
            p.drawPixmap(r, self._shot, r)
            p.setPen(QPen(QColor("#ef4444"), 2))
            p.drawRect(r.adjusted(0, 0, -1, -1))
            label = f"{r.width()} × {r.height()}  at {r.left() + self._desk.left()}, {r.top() + self._desk.top()}"
            self._label(p, QPoint(r.left(), max(r.top() - 8, 24)), label)
        else:
            self._label(p, QPoint(24, 40), "Drag the area to record · Esc cancels")
        p.end()

    def _label(self, p: QPainter, at: QPoint, text: str) -> None:
        fm = p.fontMetrics()
        box = fm.boundingRect(text).adjusted(-8, -5, 8, 5)
        box.moveBottomLeft(at)
        p.fillRect(box, QColor(17, 24, 39, 220))
        p.setPen(QColor("white"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.RightButton:
            self._cancel()
            return
        self._origin = e.position().toPoint()
        self._rect = QRect(self._origin, self._origin)
        self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._origin is not None:
            self._rect = QRect(self._origin, e.position().toPoint())
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if self._origin is None or e.button() != Qt.MouseButton.LeftButton:
            return
        self._rect = QRect(self._origin, e.position().toPoint())
        self._origin = None
        sel = self.selection()
        if sel is None:  # a click, not a drag: let the user try again
            self._rect = QRect()
            self.update()
            return
        emit(self.picked, sel)
        self.close()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Escape:
            self._cancel()

    def _cancel(self) -> None:
        emit(self.cancelled)
        self.close()
