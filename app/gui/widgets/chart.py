"""A small line chart drawn with QPainter: the Train page's live loss and validation plots.

Why not Qt Charts or pyqtgraph: the project depends on PySide6-Essentials, which has no
QtCharts module (it is in the ~200 MB Addons wheel), and a plot of a few hundred points
needs no new dependency. Drawing is cheap (one pass over the points per paint).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed")


@dataclass
class Series:
    """One named line; ``points`` are (x, y) in data units, x increasing."""

    name: str
    color: str
    points: list[tuple[float, float]] = field(default_factory=list)
    markers: bool = False


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 x 10^k) from the last one at or below ``lo``
    to the last one at or below ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, v = [], first
    while v <= hi + step * 1e-6:
        ticks.append(round(v, 12))
        v += step
    return ticks


def _label(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v / 1000:g}k"
    if a >= 1:
        return f"{v:g}"
    return f"{v:.3g}"


class LineChart(QWidget):
    """Lines over a shared x axis, with a title, axes, grid and a legend.

    ``y_range`` fixes the y axis (e.g. (0, 1) for accuracies); otherwise it follows the data.
    """

    def __init__(self, title: str, x_label: str = "", y_range: tuple[float, float] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.x_label = x_label
        self.y_range = y_range
        self.placeholder = "No data yet"
        self.series: dict[str, Series] = {}
        self.setMinimumSize(260, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(420, 240)

    # ---- data -------------------------------------------------------------------------
    def add_series(self, name: str, color: str | None = None, markers: bool = False) -> Series:
        s = Series(name, color or PALETTE[len(self.series) % len(PALETTE)], markers=markers)
        self.series[name] = s
        self.update()
        return s

    def append(self, name: str, x: float, y: float) -> None:
        """Add a point to ``name`` (created on first use); non-finite values are skipped."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        s = self.series.get(name) or self.add_series(name)
        s.points.append((float(x), float(y)))
        self.update()

    def clear(self) -> None:
        for s in self.series.values():
            s.points.clear()
        self.update()

    def point_count(self) -> int:
        return sum(len(s.points) for s in self.series.values())

    # ---- drawing ------------------------------------------------------------------------
    def _bounds(self) -> tuple[float, float, float, float] | None:
        pts = [p for s in self.series.values() for p in s.points]
        if not pts:
            return None
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        x0, x1 = min(xs), max(xs)
        if x1 - x0 < 1e-9:
            x0, x1 = x0 - 0.5, x1 + 0.5
        if self.y_range is not None:
            y0, y1 = self.y_range
        else:
            y0, y1 = min(ys), max(ys)
            pad = (y1 - y0) * 0.08 or max(abs(y1) * 0.1, 0.1)
            y0, y1 = (0.0 if y0 >= 0 and y0 - pad < 0 else y0 - pad), y1 + pad
        return x0, x1, y0, y1

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(QPen(QColor("#e5e7eb"), 1))
        p.setBrush(QColor("white"))
        p.drawRoundedRect(r, 8, 8)
        font = QFont(self.font())
        font.setPointSizeF(9)
        p.setFont(font)
        fm = p.fontMetrics()
        bold = QFont(font)
        bold.setBold(True)
        bold.setPointSizeF(10)
        p.setFont(bold)
        p.setPen(QColor("#111827"))
        p.drawText(QRectF(14, 8, r.width() - 28, 20), Qt.AlignmentFlag.AlignLeft
                   | Qt.AlignmentFlag.AlignVCenter, self.title)
        p.setFont(font)
        self._legend(p, r, fm)
        b = self._bounds()
        plot = QRectF(52, 36, r.width() - 52 - 16, r.height() - 36 - (40 if self.x_label else 28))
        if b is None or plot.width() < 20 or plot.height() < 20:
            p.setPen(QColor("#9ca3af"))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, self.placeholder)
            p.end()
            return
        x0, x1, y0, y1 = b
        yt = [t for t in nice_ticks(y0, y1, 4) if y0 - 1e-9 <= t <= y1 + 1e-9]
        xt = [t for t in nice_ticks(x0, x1, 5) if x0 - 1e-9 <= t <= x1 + 1e-9]

        def to_px(x: float, y: float) -> QPointF:
            return QPointF(plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                           plot.bottom() - (y - y0) / ((y1 - y0) or 1) * plot.height())

        p.setPen(QPen(QColor("#f3f4f6"), 1))
        for t in yt:
            y = to_px(x0, t).y()
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(QPen(QColor("#d1d5db"), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.bottomLeft(), plot.topLeft())
        p.setPen(QColor("#6b7280"))
        for t in yt:
            y = to_px(x0, t).y()
            p.drawText(QRectF(0, y - 8, plot.left() - 6, 16),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _label(t))
        for t in xt:
            x = to_px(t, y0).x()
            p.drawText(QRectF(x - 30, plot.bottom() + 3, 60, 16), Qt.AlignmentFlag.AlignHCenter
                       | Qt.AlignmentFlag.AlignTop, _label(t))
        if self.x_label:
            p.drawText(QRectF(plot.left(), plot.bottom() + 18, plot.width(), 16),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self.x_label)
        p.setClipRect(plot.adjusted(-4, -4, 4, 4))
        for s in self.series.values():
            if not s.points:
                continue
            color = QColor(s.color)
            path = QPainterPath(to_px(*s.points[0]))
            for pt in s.points[1:]:
                path.lineTo(to_px(*pt))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(color, 2))
            p.drawPath(path)
            if s.markers or len(s.points) == 1:
                p.setBrush(color)
                p.setPen(QPen(QColor("white"), 1.5))
                for pt in s.points:
                    p.drawEllipse(to_px(*pt), 4, 4)
        p.end()

    def _legend(self, p: QPainter, r: QRectF, fm) -> None:
        x = r.width() - 14
        for s in reversed(list(self.series.values())):
            w = fm.horizontalAdvance(s.name)
            x -= w
            p.setPen(QColor("#374151"))
            p.drawText(QRectF(x, 8, w + 2, 20), Qt.AlignmentFlag.AlignVCenter, s.name)
            x -= 16
            p.setPen(QPen(QColor(s.color), 3))
            p.drawLine(QPointF(x, 18), QPointF(x + 11, 18))
            x -= 14
