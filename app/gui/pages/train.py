"""The Train page: pick episodes, edit the main settings, start/stop a training run on a
worker thread, watch live loss and validation plots with progress and time left, and
browse earlier runs with their metrics (selecting one shows its curves)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import Banner, emit, heading, muted, run_task
from deskmimic.app.gui.widgets.pick import EpisodePicker
from deskmimic.app.gui.widgets.plots import RunCurves, TrainingPlots
from deskmimic.app.gui.widgets.runs import RunsTable, stopped_text
from deskmimic.app.gui.workers.trainwork import TrainProgress, TrainWorker
from deskmimic.core.errors import ConfigError, DeskmimicError, describe_error
from deskmimic.models.runs import CHECKPOINTS_DIR, RunInfo, next_run_name, read_metrics

logger = logging.getLogger(__name__)

# (height, width): multiples of 32, as the network needs; 160x256 is the tested default.
INPUT_SIZES = ((64, 96), (96, 160), (128, 192), (160, 256), (192, 320), (224, 352))
DEFAULT_INPUT = (160, 256)


def read_curves(runs: list[RunInfo]) -> list[RunCurves]:
    """The records of each run to plot (worker thread: reads their metrics files)."""
    return [RunCurves(r.name, read_metrics(r.path), stopped_text(r)) for r in runs]


def eta_text(seconds: float) -> str:
    """'about 40 s left', 'about 3 min left', 'about 1 h 20 min left'."""
    s = int(round(seconds))
    if s < 60:
        return f"about {max(s, 1)} s left"
    m = round(s / 60)
    return f"about {m} min left" if m < 60 else f"about {m // 60} h {m % 60:02d} min left"


class TrainPanel(QWidget):
    """Emits ``run_finished(Path)`` when a run ends with checkpoints, and
    ``replay_requested(RunInfo)`` from the runs table."""

    run_finished = Signal(object)
    replay_requested = Signal(object)

    def __init__(self, episodes_dir: Path, runs_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self.worker: TrainWorker | None = None
        self.progress: TrainProgress | None = None
        self.cfg = None
        self._curves_wanted = 0
        self._build(Path(episodes_dir))
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._show_progress)
        self._set_running(False)

    # ---- layout ---------------------------------------------------------------------
    def _build(self, episodes_dir: Path) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(24, 16, 24, 12)
        root.setSpacing(10)
        root.addWidget(heading("Train a policy", 18))
        root.addWidget(muted("Turns the chosen episodes into state–action steps and fits a CNN "
                             "behavior-cloning policy on them. Checkpoints are saved after every epoch."))
        top = QHBoxLayout()
        top.setSpacing(12)
        eps = QGroupBox("Episodes")
        el = QVBoxLayout(eps)
        self.picker = EpisodePicker(episodes_dir)
        el.addWidget(self.picker)
        top.addWidget(eps, 3)
        top.addWidget(self._build_settings(), 2)
        root.addLayout(top, 5)
        root.addLayout(self._build_controls())
        self.banner = Banner()
        root.addWidget(self.banner)
        self.plots = TrainingPlots()
        self.loss_chart, self.val_chart = self.plots.loss_chart, self.plots.val_chart
        self.plots.set_placeholder("Start a run (or select runs below) to see their curves")
        root.addWidget(self.plots, 6)
        root.addWidget(self._build_runs(), 0)

    def _build_settings(self) -> QGroupBox:
        """Run name and the main training settings (the rest keep TrainConfig's defaults)."""
        sets = QGroupBox("Settings")
        form = QFormLayout(sets)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(7)
        self.name_edit = QLineEdit(next_run_name(self.runs_dir))
        self.epochs_spin = QSpinBox()
        # 0 = sized from the data (`models/training/schedule.py`), as `deskmimic train`
        # does without --epochs: a fixed 30 epochs were 90 steps on 20 demonstrations.
        self.epochs_spin.setRange(0, 1000)
        self.epochs_spin.setValue(0)
        self.epochs_spin.setSpecialValueText("auto (from the data)")
        self.epochs_spin.setToolTip("Passes over the data; auto sizes the number of optimizer "
                                    "steps from the number of training samples")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 512)
        self.batch_spin.setValue(32)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(4)
        self.lr_spin.setRange(0.0001, 0.5)
        self.lr_spin.setSingleStep(0.0005)
        self.lr_spin.setValue(0.002)
        self.size_combo = QComboBox()
        for h, w in INPUT_SIZES:
            self.size_combo.addItem(f"{w} × {h} px" + ("  (default)" if (h, w) == DEFAULT_INPUT else ""))
        self.size_combo.setCurrentIndex(INPUT_SIZES.index(DEFAULT_INPUT))
        self.augment_check = QCheckBox("shift, brightness, contrast")
        self.augment_check.setChecked(True)
        self.augment_check.setToolTip("Random translation and photometric changes: without them "
                                      "the network memorises the recorded screens")
        self.mixed_check = QCheckBox("allow different sizes")
        self.mixed_check.setToolTip("Train on episodes whose captured areas differ in size (each "
                                    "is resized to the input size; aspect ratios may differ)")
        self.typed_check = QCheckBox("keep in the checkpoint")
        self.typed_check.setToolTip("Store the text typed in the demonstrations (verbatim, "
                                    "passwords too) so the policy can type it again; off: it "
                                    "types only what it copies from the instruction")
        for w in (self.epochs_spin, self.batch_spin, self.lr_spin):
            w.setMaximumWidth(140)
        form.addRow("Run name", self.name_edit)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Input size", self.size_combo)
        form.addRow("Augmentation", self.augment_check)
        form.addRow("Screen sizes", self.mixed_check)
        form.addRow("Typed text", self.typed_check)
        return sets

    def _build_controls(self) -> QHBoxLayout:
        """Start, Stop, the progress bar and the status line."""
        ctl = QHBoxLayout()
        self.start_button = QPushButton("▶  Start training")
        self.start_button.setObjectName("big")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.clicked.connect(self.stop)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.status_label = QLabel("Ready")
        self.status_label.setMinimumWidth(330)
        ctl.addWidget(self.start_button)
        ctl.addWidget(self.stop_button)
        ctl.addSpacing(8)
        ctl.addWidget(self.bar, 1)
        ctl.addWidget(self.status_label)
        return ctl

    def _build_runs(self) -> QGroupBox:
        runs = QGroupBox("Runs")
        rl = QVBoxLayout(runs)
        self.runs = RunsTable(self.runs_dir)
        self.runs.tree.setMaximumHeight(104)  # ~4 rows: the page's room goes to episodes and plots
        self.runs.chosen.connect(self._runs_chosen)
        self.runs.replay_requested.connect(lambda r: emit(self.replay_requested, r))
        rl.addWidget(self.runs)
        return runs

    # ---- episodes folder and runs ------------------------------------------------------
    def set_episodes_folder(self, folder: Path) -> None:
        self.picker.set_folder(Path(folder))

    def refresh(self) -> None:
        self.picker.refresh()
        self.runs.refresh()

    def _runs_chosen(self, runs: list[RunInfo]) -> None:
        """Plot the selected runs' curves (beside a live run's, which stay)."""
        self._curves_wanted += 1
        token = self._curves_wanted
        live = self.cfg.name if self.running and self.cfg is not None else None
        runs = [r for r in runs if r.name != live]
        run_task(read_curves, runs, name="curves",
                 on_done=lambda c: token == self._curves_wanted and self.plots.show_runs(c),
                 on_error=lambda e: self.banner.show_message(
                     f"Could not read the runs' metrics: {describe_error(e)}"))

    # ---- a run ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def make_config(self):
        """The TrainConfig of the form (raises ConfigError with a readable message)."""
        from deskmimic.models.training.config import TrainConfig

        episodes = self.picker.checked_paths()
        if not episodes:
            raise ConfigError("Pick at least one episode to train on (tick it in the list).")
        name = self.name_edit.text().strip()
        if name and (self.runs_dir / name).exists():
            raise ConfigError(f"Run name {name!r}: {self.runs_dir / name} already exists; "
                              "choose another name")
        if not self.mixed_check.isChecked() and len(sizes := self.picker.checked_sizes()) > 1:
            listed = ", ".join(f"{w}×{h} ({n})" for (w, h), n in sizes.items())
            raise ConfigError(f"The chosen episodes differ in size ({listed}): tick “allow different "
                              "sizes” to train on them together (each frame is scaled to the "
                              "network's input), or choose episodes of one size.")
        h, w = INPUT_SIZES[self.size_combo.currentIndex()]
        return TrainConfig(episodes=tuple(episodes), name=name, runs_dir=self.runs_dir,
                           epochs=self.epochs_spin.value() or None, batch_size=self.batch_spin.value(),
                           lr=float(self.lr_spin.value()), input_height=h, input_width=w,
                           augment=self.augment_check.isChecked(),
                           allow_mixed_sizes=self.mixed_check.isChecked(),
                           keep_typed_text=self.typed_check.isChecked(), log_every=1)

    def start(self) -> None:
        if self.running:
            return
        try:
            cfg = self.make_config()
        except DeskmimicError as exc:
            self.banner.show_message(describe_error(exc))
            return
        self.banner.hide()
        self.cfg = cfg
        self.progress = TrainProgress(cfg.epochs)
        self._curves_wanted += 1  # a pending read of other runs' curves no longer applies
        self.plots.begin_live(cfg.name)
        self.plots.set_placeholder("Loading the episodes…")
        self.worker = TrainWorker(cfg)
        self.worker.event.connect(self._on_event)
        self.worker.ended.connect(self._on_ended)
        self._set_running(True)
        self.worker.start()
        self._clock.start()
        self._show_progress()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.request_stop()
            self.stop_button.setEnabled(False)
            self.status_label.setText("Stopping after the current step…")

    def _on_event(self, ev: dict) -> None:
        if self.progress is None:
            return
        self.progress.update(ev)
        kind = ev.get("event")
        if kind == "start":
            self.plots.set_placeholder("Waiting for the first step…")
            self.plots.start_clock()
            self.runs.refresh(select=self.cfg.name)
        elif kind == "step":
            self.plots.add_step(ev)
        elif kind == "epoch":
            self.plots.add_epoch(ev)
            self.runs.refresh()  # keeps the selection: runs being compared stay
        self._show_progress()

    def _on_ended(self, end: dict) -> None:
        self._clock.stop()
        self.worker = None
        cfg, self.cfg = self.cfg, None
        self._set_running(False)
        kind = end["event"]
        run_dir = Path(end["run_dir"])
        if kind == "failed":
            text = str(end["error"]).replace(
                "pass --allow-mixed-sizes", "tick “allow different sizes” in the settings")
            self.banner.show_message(f"Training {cfg.name} failed: {text}")
            self.status_label.setText("Failed")
            self.plots.end_live("failed")
        elif kind == "stopped":
            self.banner.show_message(f"Stopped {cfg.name} at step {end['step']}; the checkpoints "
                                     "written so far are kept.", "info")
            self.status_label.setText(f"Stopped at step {end['step']}")
            self.plots.end_live(f"stopped at step {end['step']}")
        else:
            self.bar.setValue(1000)
            self.banner.show_message(f"Trained {cfg.name}: {end['step']} steps. Its checkpoints "
                                     f"are in {run_dir / 'checkpoints'}.", "ok")
            self.status_label.setText("Done")
            self.plots.end_live()
        self.plots.set_placeholder("No data")
        self.name_edit.setText(next_run_name(self.runs_dir))
        self.runs.refresh()
        if (run_dir / CHECKPOINTS_DIR).is_dir():
            emit(self.run_finished, run_dir)

    def _show_progress(self) -> None:
        p = self.progress
        if p is None or self.worker is None:
            return
        if p.phase == "loading":
            self.bar.setRange(0, 0)  # busy: reading and caching the episodes
            self.status_label.setText("Loading and caching the episodes…")
            return
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * p.fraction()))
        left = p.seconds_left()
        self.status_label.setText(
            f"Epoch {min(p.epoch + 1, p.epochs)} of {p.epochs} · step {p.step} of {p.total_steps}"
            + (f" · {eta_text(left)}" if left is not None else ""))

    def _set_running(self, on: bool) -> None:
        self.start_button.setEnabled(not on)
        self.stop_button.setEnabled(on)
        for w in (self.name_edit, self.epochs_spin, self.batch_spin, self.lr_spin, self.typed_check,
                  self.size_combo, self.augment_check, self.mixed_check, self.picker):
            w.setEnabled(not on)
        if not on:
            self.bar.setRange(0, 1000)

    def shutdown(self) -> None:
        """Stop a running training (the window is closing) and wait for its worker."""
        if self.worker is not None:
            self.worker.request_stop()
        TrainWorker.stop_all(15_000)
