"""Where task widgets are on screen, and placing a task's boxes at random without overlap."""

from __future__ import annotations

import random

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget

from deskmimic.core.geometry import Rect
from deskmimic.tasks.draws import place_boxes


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


def place_rects(rng: random.Random, area: QRect, sizes: list[tuple[int, int]],
                gap: int = 12, tries: int = 400) -> list[QRect]:
    """`deskmimic.tasks.draws.place_boxes` in Qt's rects (one placement for every toolkit)."""
    box = (area.left(), area.top(), area.width(), area.height())
    return [QRect(*b) for b in place_boxes(rng, box, sizes, gap, tries)]
