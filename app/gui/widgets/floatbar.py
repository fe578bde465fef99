"""A frameless, always-on-top dark bar: the base of the recording indicator and the
agent bar, which must stay visible over whatever the person or the agent works on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QWidget

BUTTON_QSS = ("QPushButton { background: #dc2626; color: white; border: none; border-radius: 5px;"
              " padding: 4px 12px; font-weight: 600; }")


class FloatingBar(QWidget):
    """Shown without taking the focus; lays its widgets out in a row inside a rounded frame.

    Args:
        title: the window title (window lists, tests).
        border: the frame's border, e.g. ``"1px solid #374151"``.
        qss: style rules for the widgets inside.
    """

    def __init__(self, title: str, border: str, qss: str) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.Tool)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        # Without a compositor the corners outside the rounded frame show the window's own
        # background: make it the frame's colour rather than a light square.
        self.setStyleSheet(f"{type(self).__name__} {{ background: #111827; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        frame = QFrame(self)
        frame.setObjectName("bar")
        frame.setStyleSheet(
            f"QFrame#bar {{ background: #111827; border: {border}; border-radius: 8px; }}"
            "QLabel { color: #e5e7eb; font-size: 10pt; }" + qss)
        self.row = QHBoxLayout(frame)
        self.row.setContentsMargins(12, 6, 6, 6)
        self.row.setSpacing(12)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)
