"""The Train page's plots: loss beside the validation metrics, with a smoothing slider and
the x-axis choice (steps or wall time) shared by both, fed by a live run's events or by
runs' ``metrics.jsonl`` records (several runs overlaid for comparison)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from deskmimic.app.gui.widgets.chart import X_MODES, MetricPlot

VAL_SERIES = (("score", "score"), ("kind_acc", "action kind"), ("click_in_target", "click on target"))
LOSS_SERIES = ("train", "validation")
# TensorBoard's default smoothing weight, so curves look as they do there.
DEFAULT_SMOOTHING = 0.6


# A series' points: optimizer steps, seconds since the run started (None: unknown), values.
SeriesData = tuple[list[float], list[float | None], list[float]]


@dataclass(frozen=True)
class RunCurves:
    """A finished (or interrupted) run to plot: its per-epoch records and, when it ended
    before its planned epochs, why (shown at its last point). ``series`` (chart, name) ->
    points is worked out on construction: the page builds these on a worker thread."""

    name: str
    records: list[dict]
    stopped: str = ""
    series: dict[tuple[str, str], SeriesData] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        t0 = record_start_time(self.records)
        for rec in self.records:
            step, t = rec.get("step", 0), rec.get("time")
            if not _finite(step):
                continue
            wall = t - t0 if _finite(t) and t0 is not None else None
            points = [("loss", "train", (rec.get("train") or {}).get("loss"))]
            val = rec.get("val") or {}
            points.append(("loss", "validation", val.get("loss")))
            points += [("val", label, val.get(key)) for key, label in VAL_SERIES]
            for chart, name, value in points:
                if _finite(value):
                    steps, walls, values = self.series.setdefault((chart, name), ([], [], []))
                    steps.append(float(step))
                    walls.append(wall)
                    values.append(float(value))


def _finite(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def record_start_time(records: list[dict]) -> float | None:
    """When the run started: its first epoch's end time less that epoch's duration."""
    for rec in records:
        t = rec.get("time")
        if isinstance(t, int | float):
            secs = (rec.get("train") or {}).get("seconds", 0.0)
            return float(t) - (float(secs) if isinstance(secs, int | float) else 0.0)
    return None


class TrainingPlots(QWidget):
    """``loss_chart`` (train loss per step, validation loss per epoch) and ``val_chart``
    (validation metrics per epoch), both over optimizer steps or wall time."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.live: str | None = None
        # The last live run keeps its per-step curve while it stays selected (its
        # metrics file has one train loss per epoch only).
        self.detailed: str | None = None
        self._live_t0 = 0.0
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(4)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.smooth_slider.setMaximumWidth(180)
        self.smooth_slider.setToolTip("Exponential moving average, as TensorBoard's smoothing; "
                                      "the raw curve stays faint behind")
        self.smooth_label = QLabel()
        self.smooth_label.setMinimumWidth(34)
        self.x_combo = QComboBox()
        self.x_combo.addItem("Step", "step")
        self.x_combo.addItem("Wall time", "wall")
        self.x_combo.setToolTip("Optimizer steps, or time since each run started")
        self.hint = QLabel("Select several runs below to compare them")
        self.hint.setStyleSheet("color: #6b7280;")
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smooth_slider)
        bar.addWidget(self.smooth_label)
        bar.addSpacing(12)
        bar.addWidget(QLabel("X axis"))
        bar.addWidget(self.x_combo)
        bar.addStretch(1)
        bar.addWidget(self.hint)
        root.addLayout(bar)
        charts = QHBoxLayout()
        charts.setSpacing(12)
        self.loss_chart = MetricPlot("Loss", LOSS_SERIES, markers=("validation",))
        self.val_chart = MetricPlot("Validation", tuple(label for _k, label in VAL_SERIES),
                                    markers=tuple(label for _k, label in VAL_SERIES),
                                    y_range=(0.0, 1.0))
        for chart in self.charts:
            chart.setMinimumHeight(150)
            charts.addWidget(chart, 1)
        root.addLayout(charts, 1)
        self.smooth_slider.valueChanged.connect(self._smoothing_changed)
        self.x_combo.currentIndexChanged.connect(
            lambda _i: self.set_x_mode(self.x_combo.currentData()))
        self._smoothing_changed(self.smooth_slider.value())

    @property
    def charts(self) -> tuple[MetricPlot, MetricPlot]:
        return self.loss_chart, self.val_chart

    def set_placeholder(self, text: str) -> None:
        for chart in self.charts:
            chart.placeholder = text

    def set_smoothing(self, weight: float) -> None:
        self.smooth_slider.setValue(round(weight * 100))

    def set_x_mode(self, mode: str) -> None:
        if mode not in X_MODES:
            raise ValueError(f"x axis {mode!r}: choose one of {', '.join(X_MODES)}")
        self.x_combo.setCurrentIndex(X_MODES.index(mode))
        for chart in self.charts:
            chart.set_x_mode(mode)

    def _smoothing_changed(self, value: int) -> None:
        self.smooth_label.setText(f"{value / 100:.2f}")
        for chart in self.charts:
            chart.set_smoothing(value / 100)

    # ---- a live run -------------------------------------------------------------------
    def begin_live(self, run: str) -> None:
        """A run starts: clear the plots; its points arrive with `add_step`/`add_epoch`."""
        self.live = self.detailed = run
        self._live_t0 = time.time()
        for chart in self.charts:
            chart.clear()
            chart.add_run(run, declare=True)

    def start_clock(self) -> None:
        """The live run's training starts (its episodes are loaded): wall time counts
        from here, as a saved run's does from its first epoch's start."""
        self._live_t0 = time.time()

    def end_live(self, stopped: str = "") -> None:
        """The live run ended; ``stopped`` (non-empty) marks it as ended early."""
        if self.live is not None and stopped:
            for chart in self.charts:
                chart.mark_stopped(self.live, stopped)
        self.live = None

    def add_step(self, ev: dict) -> None:
        if self.live is not None:
            self.loss_chart.append("train", ev["step"], ev["loss"], run=self.live,
                                   wall=time.time() - self._live_t0)

    def add_epoch(self, ev: dict) -> None:
        if self.live is not None:
            self._add_val(self.live, ev["step"], ev.get("metrics") or {},
                          time.time() - self._live_t0)

    def _add_val(self, run: str, step: float, metrics: dict, wall: float | None) -> None:
        if isinstance(metrics.get("loss"), int | float):
            self.loss_chart.append("validation", step, metrics["loss"], run=run, wall=wall)
        for key, label in VAL_SERIES:
            if isinstance(metrics.get(key), int | float):
                self.val_chart.append(label, step, metrics[key], run=run, wall=wall)

    # ---- saved runs -------------------------------------------------------------------
    def show_runs(self, runs: list[RunCurves]) -> None:
        """Plot these runs (beside the live one, which stays) from their records."""
        names = {r.name for r in runs}
        if self.detailed not in names and self.detailed != self.live:
            self.detailed = None
        keep = {self.live, self.detailed} - {None}
        # Runs that stay keep their items (rebuilding costs UI time); their data is replaced.
        for chart in self.charts:
            for r in list(chart.runs):
                if r not in keep and r not in names:
                    chart.remove_run(r)
        charts = {"loss": self.loss_chart, "val": self.val_chart}
        for run in runs:
            if run.name in keep:
                continue
            for (chart, name), points in run.series.items():
                charts[chart].set_series(run.name, name, *points)
            for chart in self.charts:
                chart.add_run(run.name)
                chart.mark_stopped(run.name, run.stopped)
