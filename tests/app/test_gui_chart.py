"""The Train page's line chart: data handling, ticks, and that it paints."""

from __future__ import annotations

import math

from PySide6.QtGui import QImage

from deskmimic.app.gui.widgets.chart import LineChart, nice_ticks


def test_nice_ticks_cover_the_range_with_round_steps():
    assert nice_ticks(0, 1, 4) == [0.0, 0.5, 1.0]
    t = nice_ticks(3.2, 17.9, 5)
    steps = {round(b - a, 9) for a, b in zip(t, t[1:], strict=False)}
    assert len(steps) == 1
    step = steps.pop()
    assert step in (1, 2, 5, 10)
    assert t[0] <= 3.2 < t[0] + step and t[-1] <= 17.9 < t[-1] + step
    assert nice_ticks(float("nan"), 1) == []


def test_points_are_kept_per_series_and_non_finite_ones_skipped(qtbot):
    chart = LineChart("Loss", "step")
    qtbot.addWidget(chart)
    chart.append("train", 1, 2.5)
    chart.append("train", 2, math.inf)
    chart.append("validation", 2, 3.0)
    assert [p for p in chart.series["train"].points] == [(1.0, 2.5)]
    assert chart.point_count() == 2
    chart.resize(400, 240)
    img = QImage(chart.size(), QImage.Format.Format_RGB32)
    chart.render(img)  # paints axes, lines and legend without error
    blue = sum(1 for x in range(0, 400, 2) for y in range(0, 240, 2)
               if img.pixelColor(x, y).blue() > 200 and img.pixelColor(x, y).red() < 80)
    assert blue > 0, "the train series colour appears (legend and marker)"
    chart.clear()
    assert chart.point_count() == 0
