"""The value under the pointer on a training plot: a dot on the nearest drawn point and a
label beside it (`chart.MetricPlot` feeds it the points it drew)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

HOVER_RADIUS_PX = 24.0

# What a hover finds: run, series, x, smoothed y, raw y.
Hit = tuple[str, str, float, float, float]


class HoverMark:
    """Shows the point of ``drawn`` nearest to a view position, if within
    ``HOVER_RADIUS_PX`` pixels; ``hit`` is what it shows (None: nothing)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.hit: Hit | None = None
        self.dot = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#111827"), pen=None)
        self.text_item = pg.TextItem(color="#111827", fill=pg.mkBrush(255, 255, 255, 230),
                                     border=pg.mkPen("#d1d5db"), anchor=(0, 1))
        for item in (self.dot, self.text_item):
            item.setZValue(50)
            item.hide()
            plot.addItem(item, ignoreBounds=True)

    def show_nearest(self, pos: QPointF,
                     drawn: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]],
                     describe: Callable[[Hit], str]) -> None:
        pw, ph = self.plot.getViewBox().viewPixelSize()
        best, best_d = None, HOVER_RADIUS_PX ** 2
        for (run, name), (x, y, raw) in drawn.items():
            if not len(x):
                continue
            d = ((x - pos.x()) / (pw or 1)) ** 2 + ((y - pos.y()) / (ph or 1)) ** 2
            i = int(d.argmin())
            if d[i] < best_d:
                best, best_d = (run, name, float(x[i]), float(y[i]), float(raw[i])), d[i]
        if best is None:
            self.hide()
            return
        self.hit = best
        self.dot.setData([best[2]], [best[3]])
        self.text_item.setText(describe(best))
        self.text_item.setPos(best[2], best[3])
        self.dot.show()
        self.text_item.show()

    def hide(self) -> None:
        self.hit = None
        self.dot.hide()
        self.text_item.hide()
