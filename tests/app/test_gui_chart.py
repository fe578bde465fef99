"""The Train page's plots (pyqtgraph): the curves' data, smoothing, the wall-time axis,
runs overlaid, the stopped mark, and the value under the real pointer."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF, Qt

from deskmimic.app.gui.widgets.chart import STOPPED_COLOR, MetricPlot
from deskmimic.app.gui.widgets.curves import ema, wall_label
from deskmimic.app.gui.widgets.plots import RunCurves, TrainingPlots, record_start_time
from tests.app.conftest import spin, xdotool


def _records(n: int, t0: float = 1000.0, loss0: float = 2.0) -> list[dict]:
    """Per-epoch records as `metrics.jsonl` holds them: epoch e ends at t0 + 30 e s."""
    return [{"epoch": e, "step": 10 * e, "time": t0 + 30.0 * e,
             "train": {"loss": loss0 / e, "seconds": 30.0},
             "val": {"loss": loss0 / e + 0.1, "score": 0.2 * e, "kind_acc": 0.5,
                     "click_in_target": 0.1 * e}} for e in range(1, n + 1)]


def _settle(*charts: MetricPlot) -> None:
    """Finish the redraws due (they build a few items per pass on a timer)."""
    for chart in charts:
        chart.redraw()
        while chart.pending():
            chart.redraw()


def test_ema_is_tensorboards_debiased_smoothing():
    assert ema([3.0, 3.0, 3.0], 0.9) == pytest.approx([3.0, 3.0, 3.0]), "no pull towards 0"
    assert ema([0.0, 10.0], 0.5) == pytest.approx([0.0, 10 * 0.5 / 0.75])
    assert ema([1.0, 5.0], 0.0) == [1.0, 5.0]
    assert wall_label(75) == "1:15" and wall_label(3725) == "1:02:05"


def test_points_smoothing_and_the_raw_curve(qtbot):
    chart = MetricPlot("Loss", ("train", "validation"), markers=("validation",))
    qtbot.addWidget(chart)
    values = [4.0, 1.0, 3.0, 0.5, 2.0]
    for i, v in enumerate(values, 1):
        chart.append("train", i, v, run="run-1")
    chart.append("train", 6, math.nan, run="run-1")
    chart.append("validation", 5, 1.5, run="run-1")
    chart.set_smoothing(0.0)
    _settle(chart)
    assert chart.series["train"].points == [(float(i), v) for i, v in enumerate(values, 1)]
    assert chart.point_count() == 6
    raw, smooth = chart._items[("run-1", "train")]
    assert list(smooth.getData()[1]) == values and not raw.isVisible()
    assert chart.placeholder_label.isHidden()
    chart.set_smoothing(0.6)
    _settle(chart)
    raw, smooth = chart._items[("run-1", "train")]
    assert list(smooth.getData()[1]) == pytest.approx(ema(values, 0.6))
    assert list(raw.getData()[1]) == values and raw.isVisible(), "the raw curve stays behind"
    assert max(smooth.getData()[1]) - min(smooth.getData()[1]) < max(values) - min(values)
    chart.clear()
    assert chart.point_count() == 0 and not chart.placeholder_label.isHidden()


def test_wall_time_axis_counts_from_the_run_start(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    recs = _records(3)
    assert record_start_time(recs) == 1000.0
    plots.show_runs([RunCurves("a", recs)])
    plots.set_smoothing(0)
    plots.set_x_mode("wall")
    x, _y = plots.loss_chart.curve("a", "train")
    assert x == [30.0, 60.0, 90.0]
    assert plots.loss_chart.axis.tickStrings([60.0, 90.0], 1, 30) == ["1:00", "1:30"]
    assert "wall time" in plots.loss_chart.axis.labelText
    plots.set_x_mode("step")
    assert plots.loss_chart.curve("a", "train")[0] == [10.0, 20.0, 30.0]
    with pytest.raises(ValueError, match="x axis 'epoch'"):
        plots.set_x_mode("epoch")


def test_runs_overlaid_with_a_colour_each_and_the_stopped_one_marked(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.set_smoothing(0)
    plots.show_runs([RunCurves("a", _records(4)),
                     RunCurves("b", _records(2, loss0=3.0), "stopped at epoch 2 of 9")])
    lc = plots.loss_chart
    _settle(*plots.charts)
    assert lc.runs == ["a", "b"]
    assert lc.curve("b", "train")[1] == [3.0, 1.5]
    assert plots.val_chart.curve("a", "score")[1] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    (ca, sa), (cb, sb) = lc.pen_of("a", "train"), lc.pen_of("b", "train")
    assert ca != cb and sa == sb, "one colour per run"
    assert lc.pen_of("a", "validation")[0] == ca and lc.pen_of("a", "validation")[1] != sa
    assert lc.legend_labels() == ["a", "b (stopped)", "train", "validation"], "runs, then series"
    marks = lc.stopped_marks()
    assert ("stopped at epoch 2 of 9", 20.0, 1.5) in marks
    assert len(marks) == 1, "the words once per run"
    assert [(x, round(y, 6)) for x, y in sorted(lc.crosses())] == [(20.0, 1.5), (20.0, 1.6)]
    assert not any(m[0] for m in plots.val_chart.stopped_marks() if m[1] == 40.0)
    # choosing one run again leaves only it, with one colour per series
    plots.show_runs([RunCurves("a", _records(4))])
    _settle(*plots.charts)
    assert lc.runs == ["a"] and lc.stopped_marks() == []
    assert lc.legend_labels() == ["train", "validation"]
    assert lc.pen_of("a", "train")[0] != lc.pen_of("a", "validation")[0]
    assert STOPPED_COLOR not in {lc.pen_of("a", n)[0] for n in ("train", "validation")}


def test_hovering_with_the_real_pointer_shows_the_nearest_value(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 360)
    plots.move(40, 40)
    plots.show()
    qtbot.waitExposed(plots)
    plots.show_runs([RunCurves("a", _records(5))])
    plots.set_smoothing(0.5)
    _settle(*plots.charts)
    spin(100)
    chart = plots.loss_chart
    x, y = chart.curve("a", "train")
    vb = chart.plot.getViewBox()
    scene = vb.mapViewToScene(QPointF(x[2], y[2]))
    glob = chart.widget.mapToGlobal(chart.widget.mapFromScene(scene))
    xdotool("mousemove", str(glob.x() + 2), str(glob.y() + 1))
    qtbot.waitUntil(lambda: chart.hover_text() != "", timeout=3000)
    assert chart.hover_text() == f"train, step 30: {y[2]:.4g} (raw {2.0 / 3:.4g})"
    assert chart.hover.text_item.isVisible()
    corner = chart.widget.mapToGlobal(chart.widget.rect().topLeft())
    xdotool("mousemove", str(corner.x() + 3), str(corner.y() + 3))
    qtbot.waitUntil(lambda: chart.hover_text() == "", timeout=3000)
    assert plots.x_combo.currentData() == "step" and plots.smooth_label.text() == "0.50"
    plots.x_combo.setCurrentIndex(1)
    assert chart.x_mode == "wall" and plots.val_chart.x_mode == "wall"
    qtbot.keyClick(plots.smooth_slider, Qt.Key.Key_PageUp)
    assert chart.smoothing > 0.5 and plots.val_chart.smoothing == chart.smoothing
