"""The episode viewer: frame with overlay, timeline slider, play at 0.5x-4x, trim marks,
and the reduced steps as thumbnails that jump to their moment."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import (
    Banner,
    EmitterBridge,
    emit,
    format_duration,
    muted,
    run_task,
)
from deskmimic.app.gui.state import SPEEDS, Playback
from deskmimic.app.gui.widgets.frames import FrameLoader, FrameView, OpenedEpisode, to_qimage
from deskmimic.core.errors import DeskmimicError, describe_error

logger = logging.getLogger(__name__)

PLAY_TICK_MS = 15
THUMB_W = 150


def step_caption(step) -> str:
    kind = step.kind.replace("_", " ")
    if step.kind == "type" and step.text:
        detail = repr(step.text if len(step.text) <= 14 else step.text[:13] + "…")
    elif step.kind == "hotkey" and step.keys:
        detail = "+".join(step.keys)
    elif step.kind == "scroll":
        detail = f"{step.dy:+d}" if step.dy else f"dx {step.dx:+d}"
    elif step.kind == "drag" and step.x is not None:
        detail = f"{step.x},{step.y} → {step.x2},{step.y2}"
    elif step.x is not None:
        detail = f"{step.x}, {step.y}"
    else:
        detail = ""
    return f"{step.index + 1}. {kind}" + (f"\n{detail}" if detail else "")


def compute_steps(path: Path) -> list[tuple[object, int, QImage]]:
    """Steps of the episode with (step, frame to jump to, thumbnail). Runs on a worker."""
    from deskmimic.models.data.steps import steps_for_episode
    from deskmimic.recorder.episode import Episode

    out = []
    with Episode.open(path) as ep:
        steps = steps_for_episode(ep)
        for st in steps:
            index = st.frame_index if st.frame_index is not None else ep.frame_index_at(st.t_start)
            img = to_qimage(ep.frame(index))
            scale = THUMB_W / img.width()
            thumb = img.scaledToWidth(THUMB_W, Qt.TransformationMode.SmoothTransformation)
            if st.x is not None and st.y is not None:
                p = QPainter(thumb)
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                p.setPen(QPen(QColor("#ef4444"), 2))
                p.drawEllipse(int(st.x * scale) - 5, int(st.y * scale) - 5, 10, 10)
                p.end()
            out.append((st, index, thumb))
    return out


class EpisodeViewer(QWidget):
    """Shows one episode. ``trim_requested(start_ns, end_ns)`` asks the page to write a copy."""

    # Nanoseconds: Signal(int, int) would squeeze them into 32 bits (overflow past 2.147 s).
    trim_requested = Signal(object, object)
    error = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loader = FrameLoader()
        self.loader.opened.connect(self._on_opened)
        self.loader.frame_ready.connect(self._on_frame)
        self.loader.failed.connect(self._on_failed)
        self.playback = Playback()
        self._bridge = EmitterBridge(self.playback.changed, self)
        self._bridge.changed.connect(self._on_playback)
        self.data: OpenedEpisode | None = None
        self.path: Path | None = None
        self._gen = 0
        self.shown_index = -1
        self.steps: list = []
        self.trim_start: int | None = None
        self.trim_end: int | None = None
        self._last_tick = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._build()
        self._set_enabled(False)

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        self.banner = Banner()
        lay.addWidget(self.banner)
        self.view = FrameView()
        lay.addWidget(self.view, 1)

        tr = QHBoxLayout()
        style = self.style()
        self.play_button = QToolButton()
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setIconSize(QSize(20, 20))
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setShortcut(Qt.Key.Key_Space)
        self.play_button.clicked.connect(lambda: self.playback.set_playing(not self.playback.playing))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self.seek)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.time_label.setMinimumWidth(190)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.speed_combo = QComboBox()
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}×", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setToolTip("Playback speed")
        self.speed_combo.currentIndexChanged.connect(
            lambda i: self.playback.set_speed(self.speed_combo.itemData(i)))
        tr.addWidget(self.play_button)
        tr.addWidget(self.slider, 1)
        tr.addWidget(self.time_label)
        tr.addWidget(self.speed_combo)
        lay.addLayout(tr)

        trim = QHBoxLayout()
        self.mark_in = QPushButton("Set start")
        self.mark_in.setToolTip("Trim: keep from the current frame")
        self.mark_in.clicked.connect(lambda: self._mark("start"))
        self.mark_out = QPushButton("Set end")
        self.mark_out.setToolTip("Trim: keep up to the current frame")
        self.mark_out.clicked.connect(lambda: self._mark("end"))
        self.trim_label = muted("Trim: set a start and an end", wrap=False)
        # May be cut short on a narrow window rather than squeeze the buttons beside it.
        self.trim_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.trim_button = QPushButton("Save as copy…")
        self.trim_button.setToolTip("Save the part from start to end as a new episode; "
                                    "this one is left as it is")
        self.trim_button.clicked.connect(self._request_trim)
        trim.addWidget(self.mark_in)
        trim.addWidget(self.mark_out)
        trim.addWidget(self.trim_label, 1)
        trim.addWidget(self.trim_button)
        lay.addLayout(trim)

        self.steps_title = muted("", wrap=False)
        self.graph_button = QPushButton("Workflow graph…")
        self.graph_button.setToolTip("The steps as a Mermaid flowchart, to copy or save")
        self.graph_button.clicked.connect(self.show_workflow)
        self.graph_button.setEnabled(False)
        head = QHBoxLayout()
        head.addWidget(self.steps_title, 1)
        head.addWidget(self.graph_button)
        lay.addLayout(head)
        self.steps_list = QListWidget()
        self.steps_list.setObjectName("steps")
        self.steps_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.steps_list.setFlow(QListWidget.Flow.LeftToRight)
        self.steps_list.setWrapping(False)
        self.steps_list.setMovement(QListWidget.Movement.Static)
        self.steps_list.setIconSize(QSize(THUMB_W, int(THUMB_W * 0.62)))
        self.steps_list.setGridSize(QSize(THUMB_W + 16, int(THUMB_W * 0.62) + 48))
        self.steps_list.setFixedHeight(int(THUMB_W * 0.62) + 68)
        self.steps_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.steps_list.itemClicked.connect(self._step_clicked)
        lay.addWidget(self.steps_list)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.play_button, self.slider, self.speed_combo, self.mark_in, self.mark_out):
            w.setEnabled(on)
        self.trim_button.setEnabled(on and self.trim_start is not None and self.trim_end is not None)

    # ---- opening ----------------------------------------------------------------------
    def open(self, path: Path | None) -> None:
        """Show the episode at ``path`` (None clears the viewer)."""
        self.playback.set_playing(False)
        self.playback.load(())  # the timeline of the episode shown before goes too
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.path = Path(path) if path is not None else None
        self.data = None
        self.shown_index = -1
        self.trim_start = self.trim_end = None
        self.banner.hide()
        self.view.placeholder = "Loading…" if path is not None else "Select an episode to view it"
        self.view.set_frame(None)
        self.steps_list.clear()
        self.steps = []
        self.graph_button.setEnabled(False)
        self.steps_title.setText("")
        self._set_enabled(False)
        self._update_trim_label()
        self._gen = self.loader.open(self.path)

    def show_error(self, text: str) -> None:
        """Clear the viewer and show ``text`` in its banner."""
        self.open(None)
        self.view.placeholder = "Nothing to show"
        self.view.update()
        self.banner.show_message(text)

    def _on_opened(self, gen: int, data: OpenedEpisode) -> None:
        if gen != self._gen:
            return
        self.data = data
        self.playback.load(data.frame_times)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(self.playback.count - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._set_enabled(True)
        self._update_time()
        self.loader.request(0)
        self._load_steps(data.path, gen)

    def _on_failed(self, gen: int, message: str) -> None:
        if gen != self._gen:
            return
        if self.data is None or self.shown_index < 0:  # opened, but no frame could be drawn
            self.view.placeholder = "Nothing to show"
            self.view.update()
        self.banner.show_message(message)
        emit(self.error, message)

    def _on_frame(self, gen: int, index: int, image: QImage) -> None:
        if gen != self._gen or self.data is None:
            return
        t = int(self.data.frame_times[index])
        tl = self.data.timeline
        self.shown_index = index
        self.view.set_frame(image, tl.trail(t), tl.recent(t))

    # ---- steps ------------------------------------------------------------------------
    def _load_steps(self, path: Path, gen: int) -> None:
        self.steps_list.show()
        self.steps_title.setText("Steps: computing…")
        run_task(compute_steps, path, on_done=lambda r, g=gen: self._steps_ready(g, r),
                 on_error=lambda e, g=gen: self._steps_failed(g, e), name="steps")

    def _steps_ready(self, gen: int, result: list) -> None:
        if gen != self._gen:
            return
        self.steps_list.clear()
        self.steps = [step for step, _, _ in result]
        self.graph_button.setEnabled(bool(self.steps))
        for step, index, thumb in result:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(thumb)), step_caption(step))
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(f"{step.kind} at {step.t_start / 1e9:.2f} s — click to jump there")
            self.steps_list.addItem(item)
        self.steps_title.setText(f"Steps ({len(result)}) — click one to jump to the screen before it")

    def show_workflow(self) -> None:
        """Open the steps as a Mermaid workflow graph (non-modal dialog)."""
        from deskmimic.app.gui.widgets.workflow import WorkflowDialog, steps_to_mermaid
        from deskmimic.recorder.episode_format import read_meta

        if not self.steps or self.path is None:
            return
        try:
            meta = read_meta(self.path)
        except DeskmimicError as exc:
            self.banner.show_message(describe_error(exc))
            return
        extra = meta.get("extra") or {}
        boxes = extra.get("boxes") if isinstance(extra.get("boxes"), dict) else {}
        text = steps_to_mermaid(self.steps, str(meta.get("task") or ""),
                                str(meta.get("instruction") or ""), boxes)
        self.workflow_dialog = WorkflowDialog(text, str(meta.get("task") or self.path.name), self)
        self.workflow_dialog.show()

    def _steps_failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._gen:
            self.steps_title.setText(f"Steps could not be computed: {describe_error(exc)}")

    def _step_clicked(self, item: QListWidgetItem) -> None:
        self.playback.set_playing(False)
        self.seek(int(item.data(Qt.ItemDataRole.UserRole)))

    # ---- playback -----------------------------------------------------------------------
    def seek(self, index: int) -> None:
        self.playback.seek(index)
        self.loader.request(self.playback.index)

    def _on_playback(self) -> None:
        pb = self.playback
        if self.slider.value() != pb.index:
            self.slider.blockSignals(True)
            self.slider.setValue(pb.index)
            self.slider.blockSignals(False)
            self.loader.request(pb.index)
        icon = QStyle.StandardPixmap.SP_MediaPause if pb.playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        if pb.playing and not self._timer.isActive():
            self._last_tick = time.perf_counter()
            self._timer.start()
        elif not pb.playing:
            self._timer.stop()
        self._update_time()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.playback.tick(now - self._last_tick)
        self._last_tick = now

    def _update_time(self) -> None:
        pb = self.playback
        if not pb.count:
            self.time_label.setText("0:00.0 / 0:00.0")
            return
        t0 = int(pb.frame_times[0])
        total = (int(pb.frame_times[-1]) - t0) / 1e9
        self.time_label.setText(f"{format_duration((pb.t_ns - t0) / 1e9)} / {format_duration(total)}"
                                f"   frame {pb.index + 1}/{pb.count}")

    # ---- trim ---------------------------------------------------------------------------
    def _mark(self, which: str) -> None:
        if which == "start":
            self.trim_start = self.playback.index
        else:
            self.trim_end = self.playback.index
        self._update_trim_label()

    def _update_trim_label(self) -> None:
        pb = self.playback
        if self.trim_start is None and self.trim_end is None:
            self.trim_label.setText("Trim: set a start and an end")
        else:
            def fmt(i):
                return "–" if i is None else f"frame {i + 1} ({format_duration(pb.frame_times[i] / 1e9)})"
            self.trim_label.setText(f"Trim: keep {fmt(self.trim_start)} to {fmt(self.trim_end)}")
        ok = (self.trim_start is not None and self.trim_end is not None and self.trim_end > self.trim_start)
        self.trim_button.setEnabled(ok and self.data is not None)
        if self.trim_start is not None and self.trim_end is not None and not ok:
            self.trim_label.setText(self.trim_label.text() + " — the end must come after the start")
        self.trim_label.setToolTip(self.trim_label.text())  # the label may be cut short

    def _request_trim(self) -> None:
        ft = self.playback.frame_times
        if self.trim_start is None or self.trim_end is None or self.data is None:
            return
        emit(self.trim_requested, int(ft[self.trim_start]), int(ft[self.trim_end]))

    def shutdown(self) -> None:
        self._timer.stop()
        self.loader.shutdown()
