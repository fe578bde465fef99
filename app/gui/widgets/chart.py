"""Training curves drawn with pyqtgraph: the Train page's loss and validation plots.

What people bring from TensorBoard / W&B: the value under the pointer (nearest point,
raw and smoothed), smoothing by the same debiased exponential moving average TensorBoard
uses (the raw curve stays, faint, behind the smoothed one), an x axis of optimizer steps
or of wall time since the run started, several runs overlaid (one colour per run, one
line style per series), and a run that ended before its planned epochs marked with a
cross and "stopped" at its last point.

Curves are redrawn on a short timer rather than on every point: a live run sends one
point per optimizer step, and recomputing the smoothing per point would cost the UI
thread time in proportion to the run's length.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from deskmimic.app.gui.widgets.charthover import Hit, HoverMark
from deskmimic.app.gui.widgets.curves import Series, ema, wall_label

PALETTE = ("#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777")
STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
          Qt.PenStyle.DashDotLine)
STOPPED_COLOR = "#b91c1c"
X_MODES = ("step", "wall")
_REDRAW_MS = 80
_NEW_PER_PASS = 1
_MAX_DOTS = 60
# A pen style drawn in text, for the legend line.
_GLYPHS = {Qt.PenStyle.SolidLine: "━━━", Qt.PenStyle.DashLine: "━ ━", Qt.PenStyle.DotLine: "· · ·",
           Qt.PenStyle.DashDotLine: "━ · ━"}


class _WallAxis(pg.AxisItem):
    """Bottom axis that writes seconds as clock time in wall mode."""

    wall = False

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        if not self.wall:
            return super().tickStrings(values, scale, spacing)
        return [wall_label(v) for v in values]


class MetricPlot(QWidget):
    """Named series per run over a shared x axis.

    ``names`` fixes the series order (it picks the line style when several runs are shown
    and the colour when one is); ``markers`` names the series drawn with dots (one point
    per epoch). ``series`` maps a name to the first run's series.
    """

    def __init__(self, title: str, names: tuple[str, ...], markers: tuple[str, ...] = (),
                 y_range: tuple[float, float] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.title, self.names, self.markers = title, tuple(names), set(markers)
        self.runs: list[str] = []
        self.data: dict[tuple[str, str], Series] = {}
        self.stopped: dict[str, str] = {}
        self.declared: set[str] = set()
        self.smoothing = 0.0
        self.x_mode = "step"
        self._items: dict[tuple[str, str], tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._drawn: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._marks: dict[tuple[str, str], tuple[pg.ScatterPlotItem, pg.TextItem]] = {}
        self._styled: dict[tuple[str, str], tuple] = {}
        self._shown: dict[tuple[str, str], tuple] = {}
        self._raw_shown: dict[tuple[str, str], tuple] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.axis = _WallAxis("bottom")
        self.widget = pg.PlotWidget(background="w", axisItems={"bottom": self.axis})
        self.plot = self.widget.getPlotItem()
        self.plot.setTitle(f"<b>{title}</b>", color="#111827", size="10pt")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMenuEnabled(False)
        if y_range is not None:
            self.plot.setYRange(*y_range, padding=0.02)
            self.plot.enableAutoRange(axis="y", enable=False)
        self.hover = HoverMark(self.plot)
        self.widget.scene().sigMouseMoved.connect(self._mouse_moved)
        lay.addWidget(self.widget, 1)
        # The legend is a line of text under the plot, not pyqtgraph's box over it: with
        # several runs that box covered the curves of a short plot (and each of its labels
        # cost milliseconds to lay out).
        # One line, cut rather than wrapped: a taller legend would take the page's height.
        self.legend_label = QLabel()
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.legend_label.setStyleSheet("color: #374151; font-size: 9pt;")
        lay.addWidget(self.legend_label)
        self._legend: list[tuple[str, Qt.PenStyle, str]] = []
        self.placeholder_label = QLabel("No data yet", self.widget)
        self.placeholder_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder_label.setStyleSheet("color: #9ca3af; background: transparent;")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self.setMinimumSize(260, 150)
        self._set_x_label()

    # ---- data -----------------------------------------------------------------------
    @property
    def placeholder(self) -> str:
        return self.placeholder_label.text()

    @placeholder.setter
    def placeholder(self, text: str) -> None:
        self.placeholder_label.setText(text)

    @property
    def series(self) -> dict[str, Series]:
        first = self.runs[0] if self.runs else ""
        return {n: self.data.get((first, n)) or Series(first, n) for n in self.names}

    def append(self, name: str, step: float, value: float, *, run: str = "",
               wall: float | None = None) -> None:
        """Add a point (non-finite values are skipped); ``run`` defaults to the first run."""
        if not (math.isfinite(step) and math.isfinite(value)):
            return
        run = run or (self.runs[0] if self.runs else "")
        if run not in self.runs:
            self.runs.append(run)
        s = self.data.setdefault((run, name), Series(run, name))
        s.steps.append(float(step))
        s.walls.append(None if wall is None or not math.isfinite(wall) else float(wall))
        s.values.append(float(value))
        self._schedule()

    def set_series(self, run: str, name: str, steps: list[float], walls: list[float | None],
                   values: list[float]) -> None:
        """Replace a series' points at once (lists of equal length, finite values)."""
        if run not in self.runs:
            self.runs.append(run)
        self.data[(run, name)] = Series(run, name, list(steps), list(walls), list(values))
        self._schedule()

    def add_run(self, run: str, declare: bool = False) -> None:
        """Show ``run`` (its series appear with their first points); ``declare`` makes
        every series' items at once, a pass at a time, before any point arrives: a live
        run does this while its episodes load, so its first epoch costs no item-building."""
        if run not in self.runs:
            self.runs.append(run)
        if declare:
            self.declared.add(run)
        self._schedule()

    def remove_run(self, run: str) -> None:
        self.runs = [r for r in self.runs if r != run]
        self.data = {k: s for k, s in self.data.items() if k[0] != run}
        self.stopped.pop(run, None)
        self.declared.discard(run)
        for cache in (self._styled, self._shown, self._raw_shown):
            for key in [k for k in cache if k[0] == run]:
                del cache[key]
        self._schedule()

    def _schedule(self) -> None:
        # Not restarted by each point: a stream of steps still redraws every interval.
        if not self._timer.isActive():
            self._timer.start()

    def clear(self) -> None:
        self.runs, self.data, self.stopped, self.declared = [], {}, {}, set()
        self.redraw()

    def point_count(self) -> int:
        return sum(len(s.values) for s in self.data.values())

    def mark_stopped(self, run: str, why: str = "stopped") -> None:
        """Mark ``run``'s curves as ended early (a cross at each series' last point);
        ``why`` '' removes the mark."""
        if self.stopped.get(run, "") == why:
            return
        if why:
            self.stopped[run] = why
        else:
            self.stopped.pop(run, None)
        self._styled = {k: v for k, v in self._styled.items() if k[0] != run}
        self._schedule()

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = min(max(float(weight), 0.0), 0.999)
        self._schedule()

    def set_x_mode(self, mode: str) -> None:
        if mode not in X_MODES:
            raise ValueError(f"x axis {mode!r}: choose one of {', '.join(X_MODES)}")
        self.x_mode = mode
        self._set_x_label()
        self._schedule()
        self.plot.enableAutoRange(axis="x", enable=True)

    def _set_x_label(self) -> None:
        self.axis.wall = self.x_mode == "wall"
        self.plot.setLabel("bottom", "wall time (since the run started)" if self.axis.wall
                           else "step", color="#6b7280")
        self.axis.picture = None
        self.axis.update()

    # ---- drawing --------------------------------------------------------------------
    def curve(self, run: str, name: str) -> tuple[list[float], list[float]]:
        """What is drawn for a series: x in the current mode and the smoothed values."""
        s = self.data.get((run, name))
        if s is None:
            return [], []
        x, y = s.xy(self.x_mode)
        return x, ema(y, self.smoothing)

    def _pen_for(self, run_i: int, name_i: int) -> tuple[str, Qt.PenStyle]:
        if len(self.runs) > 1:
            return PALETTE[run_i % len(PALETTE)], STYLES[name_i % len(STYLES)]
        return PALETTE[name_i % len(PALETTE)], Qt.PenStyle.SolidLine

    def pending(self) -> bool:
        """Whether a redraw is still due (items are built a few per pass)."""
        return self._timer.isActive()

    def redraw(self) -> None:
        """Bring the curves, legend and stopped marks up to date with the data.

        Only what changed is touched: a series' items are made when it first has data
        (at most ``_NEW_PER_PASS`` per pass, the rest on the next: building a pyqtgraph
        item costs milliseconds of UI time) and its data is set again only when its
        points, the smoothing or the x axis changed.
        """
        self._timer.stop()
        keys = [(r, n) for r in self.runs for n in self.names
                if (r, n) in self.data or r in self.declared]
        for key in [k for k in self._items if k not in keys]:
            self._drop(key)
        new = [k for k in keys if k not in self._items]
        for key in new[:_NEW_PER_PASS]:
            self._make(key)
        if len(new) > _NEW_PER_PASS:
            self._timer.start()
        view = (self.smoothing, self.x_mode, len(self.runs) > 1)
        for key, (raw, smooth) in self._items.items():
            self._style(key, raw, smooth)
            s = self.data.get(key) or Series(*key)
            if self._shown.get(key) != (len(s.values), *view):
                self._set_data(key, raw, smooth)
                self._shown[key] = (len(s.values), *view)
        self.placeholder_label.setVisible(self.point_count() == 0)
        self._update_legend()

    def _update_legend(self) -> None:
        """The legend line: with one run, each series that has points with its line; with
        several, each run's colour, then each series' line style (not every pair)."""
        shown = [k for k in self._items if (s := self.data.get(k)) is not None and s.values]
        if len(self.runs) <= 1:
            entries = [self._styled[k] for k in shown if k in self._styled]
        else:
            runs = list(dict.fromkeys(r for r, _n in shown))
            names = [n for n in self.names if any(k[1] == n for k in shown)]
            entries = [(self._pen_for(self.runs.index(r), 0)[0], Qt.PenStyle.SolidLine,
                        r + (" (stopped)" if r in self.stopped else "")) for r in runs]
            entries += [("#6b7280", self._pen_for(0, self.names.index(n))[1], n) for n in names]
        if entries == self._legend:
            return
        self._legend = entries
        self.legend_label.setText("&nbsp;&nbsp; ".join(
            f'<span style="color:{c}; font-weight:bold">{_GLYPHS.get(st, "━━")}</span>'
            f"&nbsp;{html.escape(label).replace(' ', '&nbsp;')}" for c, st, label in entries))
        self.legend_label.setToolTip("\n".join(label for _c, _s, label in entries))

    def _make(self, key: tuple[str, str]) -> None:
        raw = pg.PlotDataItem()
        raw.setOpacity(0.25)
        smooth = pg.PlotDataItem(symbolSize=6, symbolPen=pg.mkPen("w"))
        self.plot.addItem(raw)
        self.plot.addItem(smooth)
        self._items[key] = (raw, smooth)

    def _drop(self, key: tuple[str, str]) -> None:
        raw, smooth = self._items.pop(key)
        for item in (raw, smooth, *self._marks.pop(key, ())):
            self.plot.removeItem(item)
        for cache in (self._drawn, self._shown, self._raw_shown):
            cache.pop(key, None)
        if self.hover.hit is not None and self.hover.hit[:2] == key:
            self._hide_hover()

    def _style(self, key: tuple[str, str], raw: pg.PlotDataItem, smooth: pg.PlotDataItem) -> None:
        """Pens, legend label and stopped marks as the runs shown now want them."""
        run, name = key
        color, style = self._pen_for(self.runs.index(run), self.names.index(name))
        label = (name if len(self.runs) == 1 else f"{run} · {name}") \
            + (" (stopped)" if run in self.stopped else "")
        if self._styled.get(key) == (color, style, label):
            return
        self._styled[key] = (color, style, label)
        raw.setPen(pg.mkPen(color, width=1, style=style))
        smooth.setPen(pg.mkPen(color, width=2, style=style))
        smooth.setSymbolBrush(pg.mkBrush(color))
        marks = self._marks.pop(key, ())
        for m in marks:
            self.plot.removeItem(m)
        if run in self.stopped:
            cross = pg.ScatterPlotItem(symbol="x", size=14, brush=pg.mkBrush(STOPPED_COLOR),
                                       pen=pg.mkPen(STOPPED_COLOR))
            # The words once per run (at its first series), the cross on every curve.
            first = next(n for n in self.names if (run, n) in self._items)
            text = pg.TextItem(self.stopped[run] if name == first else "", color=STOPPED_COLOR,
                               anchor=(1, 1.2))
            for m in (cross, text):
                m.setZValue(20)
                self.plot.addItem(m)
            self._marks[key] = (cross, text)
        self._shown.pop(key, None)  # the marks need positions

    def _set_data(self, key: tuple[str, str], raw: pg.PlotDataItem,
                  smooth: pg.PlotDataItem) -> None:
        x, raw_y = (self.data.get(key) or Series(*key)).xy(self.x_mode)
        y = ema(raw_y, self.smoothing)
        raw_view = (len(raw_y), self.x_mode)
        if self._raw_shown.get(key) != raw_view:  # not redone for a new smoothing
            raw.setData(x, raw_y)
            self._raw_shown[key] = raw_view
        raw.setVisible(self.smoothing > 0)
        # Dots show sparse points (one per epoch); on a long curve they would hide it.
        dots = (key[1] in self.markers and len(x) <= _MAX_DOTS) or len(x) == 1
        if bool(smooth.opts["symbol"]) != dots:
            smooth.setSymbol("o" if dots else None)
        smooth.setData(x, y)
        self._drawn[key] = (np.asarray(x, float), np.asarray(y, float), np.asarray(raw_y, float))
        if key in self._marks:
            cross, text = self._marks[key]
            if x:
                cross.setData([x[-1]], [y[-1]])
                text.setPos(x[-1], y[-1])
                # Left of the point near the right edge, else right of it: never cut off.
                right = max((float(d[0][-1]) for d in self._drawn.values() if len(d[0])),
                            default=x[-1])
                left = min((float(d[0][0]) for d in self._drawn.values() if len(d[0])),
                           default=x[0])
                text.setAnchor((1, 1.2) if x[-1] - left > 0.6 * (right - left) else (0, 1.2))
            cross.setVisible(bool(x))
            text.setVisible(bool(x))

    def stopped_marks(self) -> list[tuple[str, float, float]]:
        """(text, x, y) of each stopped mark drawn."""
        return [(text.textItem.toPlainText(), text.pos().x(), text.pos().y())
                for _cross, text in self._marks.values() if text.isVisible() and text.textItem.toPlainText()]

    def crosses(self) -> list[tuple[float, float]]:
        """(x, y) of each stopped cross drawn."""
        return [(float(c.data["x"][0]), float(c.data["y"][0]))
                for c, _text in self._marks.values() if c.isVisible() and len(c.data)]

    def legend_labels(self) -> list[str]:
        return [label for _c, _s, label in self._legend]

    def pen_of(self, run: str, name: str) -> tuple[str, Qt.PenStyle]:
        """The colour and line style a series is drawn with."""
        pen = self._items[(run, name)][1].opts["pen"]
        return pen.color().name(), pen.style()

    # ---- hover ----------------------------------------------------------------------
    def _mouse_moved(self, scene_pos: QPointF) -> None:
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            self._hide_hover()
            return
        self.hover_at(vb.mapSceneToView(scene_pos))

    def hover_at(self, pos: QPointF) -> None:
        """Show the value of the drawn point nearest to ``pos`` (view coordinates), if it
        is within a few pixels."""
        self.hover.show_nearest(pos, self._drawn, self._describe)

    def hover_text(self) -> str:
        """The hover label's text ('' when nothing is hovered)."""
        return "" if self.hover.hit is None else self._describe(self.hover.hit)

    def _describe(self, hit: Hit) -> str:
        run, name, x, y, raw = hit
        where = f"at {wall_label(x)}" if self.x_mode == "wall" else f"step {x:g}"
        head = name if len(self.runs) == 1 else f"{run} · {name}"
        value = f"{y:.4g}" + (f" (raw {raw:.4g})" if self.smoothing > 0 else "")
        return f"{head}, {where}: {value}"

    def _hide_hover(self) -> None:
        self.hover.hide()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.placeholder_label.setGeometry(0, 0, self.widget.width(), self.widget.height())
