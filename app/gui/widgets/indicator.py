"""The recording's live counters (elapsed time, fps, dropped frames, events): the small
always-on-top window shown while recording, with a Stop button, and the Record page's
"Live" box."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QWidget

from deskmimic.app.gui.common import format_duration, heading, muted, plural
from deskmimic.app.gui.widgets.floatbar import BUTTON_QSS, FloatingBar
from deskmimic.core.geometry import Rect


class RecordingIndicator(FloatingBar):
    """Frameless, stays on top, placed outside the captured area when there is room."""

    stop_clicked = Signal()

    MARGIN = 12

    def __init__(self) -> None:
        super().__init__("deskmimic recording", "1px solid #374151",
                         "QLabel#dot { color: #ef4444; font-weight: 700; }" + BUTTON_QSS
                         + "QPushButton:hover { background: #b91c1c; }")
        self.dot = QLabel("● REC")
        self.dot.setObjectName("dot")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop and save the recording (or press the stop hotkey)")
        self.stop_button.clicked.connect(self.stop_clicked)
        for w in (self.dot, self.label, self.stop_button):
            self.row.addWidget(w)
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


class LiveStats(QGroupBox):
    """The Record page's "Live" box: the same counters, large, one column each."""

    TITLES = (("elapsed", "Elapsed"), ("fps", "Frame rate"), ("dropped", "Dropped frames"),
              ("events", "Input events"))

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Live", parent)
        grid = QGridLayout(self)
        self.labels: dict[str, QLabel] = {}
        for col, (key, title) in enumerate(self.TITLES):
            value = heading("–", 16)
            grid.addWidget(muted(title, wrap=False), 0, col)
            grid.addWidget(value, 1, col)
            self.labels[key] = value

    def update_stats(self, stats: dict) -> None:
        self.labels["elapsed"].setText(format_duration(stats.get("elapsed_s", 0.0)))
        self.labels["fps"].setText(f"{stats.get('fps', 0.0):.1f}")
        self.labels["dropped"].setText(str(stats.get("dropped_frames", 0)))
        self.labels["events"].setText(str(stats.get("events", 0)))
