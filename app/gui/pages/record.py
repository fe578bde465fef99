"""The Record page: choose what to capture, label the episode, start and stop.

The recorder runs its own threads; ``Recorder.start``/``stop`` block briefly, so
they run on a worker (`Task`). A QTimer polls the live counters and the stop
hotkey. While recording, the main window is hidden if it overlaps the captured
area (so it is not recorded by accident) and comes back when the episode is
saved; a small always-on-top indicator shows the counters and a Stop button.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import (
    Banner,
    EmitterBridge,
    emit,
    format_duration,
    format_size,
    heading,
    hotkey_text,
    muted,
    run_task,
    short_path,
)
from deskmimic.app.gui.state import GuiSettings, RecordingSession
from deskmimic.app.gui.widgets.indicator import LiveStats, RecordingIndicator
from deskmimic.app.gui.widgets.regionpick import RegionPicker, virtual_desktop
from deskmimic.core.config import RecordConfig
from deskmimic.core.errors import ConfigError, DeskmimicError, describe_error
from deskmimic.core.geometry import Rect

logger = logging.getLogger(__name__)

POLL_MS = 250
# Time for the X server to repaint what the hidden main window covered before the
# first frame is grabbed.
HIDE_SETTLE_MS = 250


class RecordPanel(QWidget):
    """Emits ``saved(Path)`` after an episode is finalized, and ``open_requested(Path)``."""

    saved = Signal(object)
    open_requested = Signal(object)

    def __init__(self, settings: GuiSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.session = RecordingSession()
        self._bridge = EmitterBridge(self.session.changed, self)
        self._bridge.changed.connect(self._refresh)
        self._monitors: list[Rect] = []
        self._windows: list = []
        self._hidden_window: QWidget | None = None
        self._last_path: Path | None = None
        self.indicator = RecordingIndicator()
        self.indicator.stop_clicked.connect(self.stop)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._build()
        self._load_monitors()
        self.apply_settings(settings)
        self._refresh()

    # ---- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(24, 20, 24, 20)
        root.setSpacing(12)
        root.addWidget(heading("Record a demonstration", 18))
        root.addWidget(muted("Captures the screen (lossless, pointer drawn in) and every keyboard and "
                             "mouse event into a new episode. Do the task once, the way it should be done."))
        root.addWidget(self._build_target())
        root.addWidget(self._build_episode())
        root.addLayout(self._build_controls())
        self.live = LiveStats()
        root.addWidget(self.live)
        self.banner = Banner()
        root.addWidget(self.banner)
        last = QHBoxLayout()
        self.last_label = muted()
        self.open_button = QPushButton("Open in Episodes")
        self.open_button.clicked.connect(lambda: self._last_path and emit(self.open_requested, self._last_path))
        self.open_button.hide()
        last.addWidget(self.last_label, 1)
        last.addWidget(self.open_button)
        root.addLayout(last)
        root.addStretch(1)

    def _build_target(self) -> QGroupBox:
        """What to capture: a monitor, a region (typed or picked) or a window."""
        where = QGroupBox("What to capture")
        grid = QGridLayout(where)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        self.target_group = QButtonGroup(self)
        self.rb_monitor = QRadioButton("Screen")
        self.rb_region = QRadioButton("Region")
        self.rb_window = QRadioButton("Window")
        for i, rb in enumerate((self.rb_monitor, self.rb_region, self.rb_window)):
            self.target_group.addButton(rb, i)
        self.monitor_combo = QComboBox()
        self.region_edit = QLineEdit()
        self.region_edit.setPlaceholderText("WxH+X+Y, e.g. 800x600+100+50")
        self.pick_button = QPushButton("Select on screen…")
        self.pick_button.clicked.connect(self.pick_region)
        self.window_combo = QComboBox()
        self.window_combo.setMinimumContentsLength(30)
        self.window_combo.setPlaceholderText("pick a window (Refresh lists the open ones)")
        self.window_refresh = QPushButton("Refresh")
        self.window_refresh.clicked.connect(self.refresh_windows)
        grid.addWidget(self.rb_monitor, 0, 0)
        grid.addWidget(self.monitor_combo, 0, 1, 1, 2)
        grid.addWidget(self.rb_region, 1, 0)
        grid.addWidget(self.region_edit, 1, 1)
        grid.addWidget(self.pick_button, 1, 2)
        grid.addWidget(self.rb_window, 2, 0)
        grid.addWidget(self.window_combo, 2, 1)
        grid.addWidget(self.window_refresh, 2, 2)
        grid.setColumnStretch(1, 1)
        self.rb_monitor.setChecked(True)
        self.region_edit.textEdited.connect(lambda _t: self.rb_region.setChecked(True))
        self.window_combo.activated.connect(lambda _i: self.rb_window.setChecked(True))
        self.rb_window.toggled.connect(lambda on: on and not self._windows and self.refresh_windows())
        return where

    def _build_episode(self) -> QGroupBox:
        """The new episode's label, instruction and frame rate, and where it is saved."""
        ep = QGroupBox("Episode")
        form = QFormLayout(ep)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        self.task_edit = QLineEdit()
        self.task_edit.setPlaceholderText("short label, e.g. save_file")
        self.instruction_edit = QLineEdit()
        self.instruction_edit.setPlaceholderText("what the person is asked to do, e.g. Click Save")
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(1, 120)
        self.fps_spin.setDecimals(0)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setMaximumWidth(120)
        self.folder_label = muted(clip=True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Task label", self.task_edit)
        form.addRow("Instruction", self.instruction_edit)
        form.addRow("Frame rate", self.fps_spin)
        form.addRow("Saved to", self.folder_label)
        return ep

    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.start_button = QPushButton("●  Start recording")
        self.start_button.setObjectName("record")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop and save")
        self.stop_button.clicked.connect(self.stop)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        row.addSpacing(12)
        row.addWidget(self.status_label, 1)
        return row

    def apply_settings(self, settings: GuiSettings) -> None:
        self.settings = settings
        self.fps_spin.setValue(float(settings.fps))
        self.folder_label.setText(short_path(settings.episodes_dir))
        self._hint = (f"Stop with {hotkey_text(settings.stop_hotkey)} (not recorded as input) "
                      "or the Stop button of the recording indicator; pause with "
                      f"{hotkey_text(RecordConfig.pause_hotkey)}, type secrets between two "
                      f"{hotkey_text(RecordConfig.secret_hotkey)}.")
        self._refresh()

    # ---- capture targets ------------------------------------------------------------
    def _load_monitors(self) -> None:
        from deskmimic.recorder.capture import open_capture

        try:
            with open_capture(draw_cursor=False) as cap:
                self._monitors = cap.monitors()
        except DeskmimicError as exc:
            self.banner.show_message(describe_error(exc))
            self._monitors = []
        self.monitor_combo.clear()
        for i, m in enumerate(self._monitors):
            if i == 0 and len(self._monitors) == 2:
                continue  # one monitor: "all" is the same picture
            name = "All monitors" if i == 0 else f"Monitor {i}"
            self.monitor_combo.addItem(f"{name} — {m.width}×{m.height} at {m.left}, {m.top}", i)

    def refresh_windows(self) -> None:
        from deskmimic.recorder.windows_x11 import list_windows

        self.window_refresh.setEnabled(False)
        run_task(list_windows, on_done=self._set_windows, on_error=self._windows_failed, name="windows")

    def _set_windows(self, wins: list) -> None:
        own = {w.windowTitle() for w in (self.window(), self.indicator)}
        self._windows = sorted((w for w in wins if w.title not in own), key=lambda w: w.title.lower())
        current = self.window_combo.currentData()
        self.window_combo.clear()
        for w in self._windows:
            r = w.rect
            self.window_combo.addItem(f"{w.title}  ({r.width}×{r.height})", w.title)
        if current is not None and (i := self.window_combo.findData(current)) >= 0:
            self.window_combo.setCurrentIndex(i)
        if not self._windows:
            self.window_combo.addItem("no titled windows found", None)
        self.window_refresh.setEnabled(True)

    def _windows_failed(self, exc: BaseException) -> None:
        self.window_refresh.setEnabled(True)
        self.banner.show_message(f"Could not list windows: {describe_error(exc)}")

    def pick_region(self) -> None:
        picker = RegionPicker()
        picker.picked.connect(self._region_picked)
        picker.show()
        picker.activateWindow()
        self._picker = picker

    def _region_picked(self, rect: Rect) -> None:
        self.region_edit.setText(f"{rect.width}x{rect.height}+{rect.left}+{rect.top}")
        self.rb_region.setChecked(True)

    def target(self) -> tuple[dict, Rect | None]:
        """RecordConfig fields for the chosen target and its screen rectangle (if known)."""
        choice = self.target_group.checkedId()
        if choice == 1:
            text = self.region_edit.text().strip()
            if not text:
                raise ConfigError("Region: type WxH+X+Y or use “Select on screen…”")
            rect = Rect.parse(text)
            return {"region": rect}, rect
        if choice == 2:
            title = self.window_combo.currentData()
            if not title:
                raise ConfigError("Window: pick a window from the list (Refresh lists the open ones)")
            rect = next((w.rect for w in self._windows if w.title == title), None)
            return {"window": title}, rect
        mon = self.monitor_combo.currentData()
        mon = 1 if mon is None else int(mon)
        rect = self._monitors[mon] if mon < len(self._monitors) else None
        return {"monitor": mon}, rect

    def build_config(self) -> tuple[RecordConfig, Rect | None]:
        fields, rect = self.target()
        cfg = RecordConfig(episodes_dir=Path(self.settings.episodes_dir).expanduser(),
                           fps=float(self.fps_spin.value()), task=self.task_edit.text().strip(),
                           instruction=self.instruction_edit.text().strip(),
                           stop_hotkey=self.settings.stop_hotkey, **fields)
        return cfg, rect

    # ---- start / stop ---------------------------------------------------------------
    def start(self) -> None:
        if self.session.active:
            return
        self.banner.hide()
        try:
            cfg, rect = self.build_config()
        except DeskmimicError as exc:
            self.banner.show_message(describe_error(exc))
            return
        self._set_busy("starting")
        self._hide_main_window(rect)
        self.indicator.place(virtual_desktop(), rect)
        self.indicator.update_stats({}, "starting")
        self.indicator.show()
        QTimer.singleShot(HIDE_SETTLE_MS, lambda: run_task(
            self.session.start, cfg, on_done=self._started, on_error=self._start_failed, name="record-start"))

    def _set_busy(self, phase: str) -> None:
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        self.status_label.setText("Starting…" if phase == "starting" else "Saving…")

    def _hide_main_window(self, rect: Rect | None) -> None:
        win = self.window()
        g = win.frameGeometry()
        mine = Rect(g.left(), g.top(), max(g.width(), 1), max(g.height(), 1))
        if rect is None or mine.intersect(rect) is not None:
            win.hide()
            self._hidden_window = win

    def _restore_main_window(self) -> None:
        if self._hidden_window is not None:
            self._hidden_window.show()
            self._hidden_window.raise_()
            self._hidden_window.activateWindow()
            self._hidden_window = None

    def _started(self, _result: object) -> None:
        self._poll.start()
        self._refresh()

    def _start_failed(self, exc: BaseException) -> None:
        self.indicator.hide()
        self._restore_main_window()
        self.banner.show_message(self.session.error or describe_error(exc))
        self._refresh()

    def _on_poll(self) -> None:
        if self.session.poll():  # stop hotkey, duration limit or a capture error
            self.stop()

    def stop(self) -> None:
        if self.session.phase != "recording":
            return
        self._poll.stop()
        self._set_busy("stopping")
        run_task(self.session.stop, on_done=self._stopped, on_error=self._stop_failed, name="record-stop")

    def _stopped(self, summary) -> None:
        self.indicator.hide()
        self._restore_main_window()
        if summary is None:
            return
        self._last_path = Path(summary.path)
        text = (f"Saved {summary.path.name}: {format_duration(summary.duration_s)}, {summary.frames} frames "
                f"({summary.fps_achieved:.1f} fps, {summary.dropped_frames} dropped), {summary.events} events, "
                f"{format_size(summary.bytes)}.")
        if self.session.error:  # a closed window is an ending, not a failure
            self.banner.show_message(f"{self.session.error}. {text}",
                                     "info" if summary.stop_reason == "window_closed" else "error")
        else:
            self.banner.show_message(text, "ok")
        self.last_label.setText(f"Last recording: {summary.path}")
        self.open_button.show()
        self._refresh()
        emit(self.saved, self._last_path)

    def _stop_failed(self, exc: BaseException) -> None:
        self.indicator.hide()
        self._restore_main_window()
        self.banner.show_message(self.session.error or describe_error(exc))
        self._refresh()

    # ---- view of the session --------------------------------------------------------
    def _refresh(self) -> None:
        s = self.session
        phase = s.phase
        recording = phase == "recording"
        self.start_button.setEnabled(phase == "idle")
        self.stop_button.setEnabled(recording)
        for w in (self.rb_monitor, self.rb_region, self.rb_window, self.monitor_combo, self.region_edit,
                  self.pick_button, self.window_combo, self.window_refresh, self.task_edit,
                  self.instruction_edit, self.fps_spin):
            w.setEnabled(phase == "idle")
        st = s.stats
        if recording or phase == "stopping":
            self.live.update_stats(st)
        status = {"idle": getattr(self, "_hint", ""), "starting": "Starting…",
                  "recording": _live_state(st) + getattr(self, "_hint", ""), "stopping": "Saving…"}[phase]
        self.status_label.setText(status)
        if self.indicator.isVisible():
            self.indicator.update_stats(st, phase)

    def shutdown(self) -> None:
        """Stop and finalize a running recording (window closing): blocks briefly."""
        self._poll.stop()
        if self.session.recorder is not None:
            try:
                self.session.stop()
            except Exception:
                logger.exception("finalizing the recording on exit")
        self.indicator.close()


def _live_state(stats: dict) -> str:
    """What the recording is doing now: the pause and secret hotkeys change it."""
    text = "❚❚ Paused: nothing is captured. " if stats.get("paused") else "● Recording. "
    return text + ("Secret typing on: keys are saved masked. " if stats.get("secret") else "")
