"""The small always-on-top window shown while recording: elapsed time, fps, dropped
frames, events, and a Stop button."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from deskmimic.app.gui_common import format_duration, plural
from deskmimic.core.geometry import Rect


class RecordingIndicator(QWidget):
    """Frameless, stays on top, placed outside the captured area when there is room."""

    stop_clicked = Signal()

    MARGIN = 12

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.Tool)
        self.setWindowTitle("deskmimic recording")
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        # Without a compositor the corners outside the rounded frame show the window's own
        # background: make it the frame's colour rather than a light square.
        self.setStyleSheet("RecordingIndicator { background: #111827; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        frame = QFrame(self)
        frame.setObjectName("indicator")
        frame.setStyleSheet(
            "QFrame#indicator { background: #111827; border: 1px solid #374151; border-radius: 8px; }"
            "QLabel { color: #e5e7eb; font-size: 10pt; }"
            "QLabel#dot { color: #ef4444; font-weight: 700; }"
            "QPushButton { background: #dc2626; color: white; border: none; border-radius: 5px;"
            " padding: 4px 12px; font-weight: 600; }"
            "QPushButton:hover { background: #b91c1c; }")
        lay = QHBoxLayout(frame)
        lay.setContentsMargins(12, 6, 6, 6)
        lay.setSpacing(12)
        self.dot = QLabel("● REC")
        self.dot.setObjectName("dot")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop and save the recording (or press the stop hotkey)")
        self.stop_button.clicked.connect(self.stop_clicked)
        lay.addWidget(self.dot)
        lay.addWidget(self.label)
        lay.addWidget(self.stop_button)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)
        self.update_stats({})

    def update_stats(self, stats: dict, phase: str = "recording") -> None:
        if phase == "starting":
            self.label.setText("starting…")
        elif phase == "stopping":
            self.label.setText("saving…")
        else:
            self.label.setText(
                f"{format_duration(stats.get('elapsed_s', 0.0))}   {stats.get('fps', 0.0):4.1f} fps   "
                f"{stats.get('dropped_frames', 0)} dropped   {plural(stats.get('events', 0), 'event')}")
        self.stop_button.setEnabled(phase == "recording")
        self.adjustSize()

    def place(self, desktop: QRect, captured: Rect | None) -> None:
        """Put the window in a desktop corner that the captured area does not cover
        (top-right first); if every corner is covered it goes top-right and is recorded."""
        self.adjustSize()
        w, h, m = max(self.width(), 420), self.height(), self.MARGIN
        corners = [(desktop.right() - w - m, desktop.top() + m), (desktop.left() + m, desktop.top() + m),
                   (desktop.right() - w - m, desktop.bottom() - h - m),
                   (desktop.left() + m, desktop.bottom() - h - m)]
        for x, y in corners:
            if captured is None or Rect(x, y, w, h).intersect(captured) is None:
                self.move(x, y)
                self.outside_capture = True
                return
        self.move(*corners[0])
        self.outside_capture = False

    outside_capture = False
