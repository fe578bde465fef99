"""Where task widgets are on screen, and placing a task's boxes at random without overlap."""

from __future__ import annotations

import random

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget

from deskmimic.core.geometry import Rect


def widget_box(widget: QWidget) -> Rect | None:
    """The visible part of ``widget`` in screen pixels, or ``None`` when hidden."""
    if not widget.isVisible():
        return None
    visible = widget.visibleRegion().boundingRect()
    if visible.isEmpty():
        return None
    return global_rect(widget, visible)


def item_box(viewport: QWidget, rect: QRect) -> Rect | None:
    """A rect in ``viewport`` coordinates (a list item), clipped to the viewport, on screen."""
    if not viewport.isVisible():
        return None
    clipped = rect.intersected(viewport.rect())
    if clipped.isEmpty():
        return None
    return global_rect(viewport, clipped)


def global_rect(widget: QWidget, rect: QRect) -> Rect:
    # Qt works in device-independent pixels; screen pixels differ when scaled.
    dpr = widget.devicePixelRatioF()
    top_left = widget.mapToGlobal(rect.topLeft())
    return Rect(round(top_left.x() * dpr), round(top_left.y() * dpr),
                max(1, round(rect.width() * dpr)), max(1, round(rect.height() * dpr)))


# The least height `_rows` shrinks a box to: a 9 pt label with a little room.
MIN_BOX = 28


def place_rects(rng: random.Random, area: QRect, sizes: list[tuple[int, int]],
                gap: int = 12, tries: int = 400) -> list[QRect]:
    """Random non-overlapping positions for boxes of ``sizes`` inside ``area``.

    Falls back to a tidy grid when random placement does not fit (crowded seeds).
    """
    placed: list[QRect] = []
    for w, h in sizes:
        for _ in range(tries):
            x = rng.randint(area.left(), max(area.left(), area.left() + area.width() - w))
            y = rng.randint(area.top(), max(area.top(), area.top() + area.height() - h))
            r = QRect(x, y, w, h)
            if all(not r.adjusted(-gap, -gap, gap, gap).intersects(p) for p in placed):
                placed.append(r)
                break
        else:
            return _grid(area, sizes, gap)
    return placed


def _grid(area: QRect, sizes: list[tuple[int, int]], gap: int) -> list[QRect]:
    """Cells of the largest box's size, row by row; where those run past the bottom of
    ``area``, `_rows`."""
    cw = max(w for w, _ in sizes) + gap
    ch = max(h for _, h in sizes) + gap
    cols = max(1, area.width() // cw)
    out = []
    for i, (w, h) in enumerate(sizes):
        r, c = divmod(i, cols)
        out.append(QRect(area.left() + c * cw, area.top() + r * ch, w, h))
    if all(area.contains(r) for r in out):
        return out
    return _rows(area, sizes, gap)


def _rows(area: QRect, sizes: list[tuple[int, int]], gap: int) -> list[QRect]:
    """Rows left to right, each as tall as its tallest box, inside ``area``: when the rows
    would run past its bottom, every box is made shorter (never under `MIN_BOX` px) and the
    gaps narrower until they fit. The grid of `_grid` ran past the window on drag_item
    seeds, cutting 17 drop zones and tiles off (with their labels) on 90 seeds."""
    out: list[QRect] = []
    for scale in (1.0, 0.85, 0.7, 0.6, 0.5, 0.4):
        g = max(4, round(gap * min(1.0, scale + 0.2)))
        out, x, y, row_h = [], area.left(), area.top(), 0
        for w, h in sizes:
            w, h = min(w, area.width()), max(MIN_BOX, round(h * scale))
            if x > area.left() and x + w > area.left() + area.width():
                x, y, row_h = area.left(), y + row_h + g, 0
            out.append(QRect(x, y, w, h))
            x, row_h = x + w + g, max(row_h, h)
        if y + row_h <= area.top() + area.height():
            break
    return out
