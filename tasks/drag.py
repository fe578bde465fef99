"""Drag task: drag the named tile onto the named drop zone."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics, QMouseEvent
from PySide6.QtWidgets import QLabel, QWidget

from deskmimic.tasks.base import TaskWindow, register
from deskmimic.tasks.click import PASTELS
from deskmimic.tasks.layout import place_rects

ZONE_STYLE = ("QLabel {{ background:{bg}; color:#3e4c59; border:2px dashed {border};"
              " border-radius:8px; }}")
TILE_STYLE = ("QLabel {{ background:{bg}; color:#1d2939; border:1px solid #7b8794;"
              " border-radius:6px; font-weight:bold; }}")


class Tile(QLabel):
    """A label the user can drag with the left button; reports the drop to the task."""

    def __init__(self, text: str, color: str, task: DragItemTask, parent: QWidget) -> None:
        super().__init__(text, parent)
        self.task = task
        self.home = QPoint()
        self._grab: QPoint | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(TILE_STYLE.format(bg=color))
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton:
            self._grab = event.position().toPoint()
            self.raise_()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            self.task.drag_started(self)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._grab is not None:
            self.move(self.mapToParent(event.position().toPoint() - self._grab))
            self.task.drag_moved(event.globalPosition().toPoint())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._grab is not None and event.button() == Qt.MouseButton.LeftButton:
            self._grab = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            self.task.dropped(self, event.globalPosition().toPoint())


@register
class DragItemTask(TaskWindow):
    """Drag one of 1-3 tiles onto one of 2-4 labelled zones; a wrong drop fails."""

    name = "drag_item"
    max_steps = 4
    description = "drag an item onto a target ('Drag Plum onto Basket')"
    width_range = (420, 620)
    height_range = (340, 480)

    def build(self) -> None:
        n_items, n_zones = self.rng.randint(1, 3), self.rng.randint(2, 4)
        words = self.vocab.sample("labels", n_items + n_zones)
        self.items, self.zones_names = words[:n_items], words[n_items:]
        self.item, self.target = self.items[0], self.zones_names[0]
        self.rng.shuffle(self.items)
        self.rng.shuffle(self.zones_names)
        metrics = QFontMetrics(self.body.font())
        sizes = []
        for word in self.items:
            sizes.append((max(metrics.horizontalAdvance(word) + 30, self.rng.randint(80, 120)),
                          self.rng.randint(34, 46)))
        for word in self.zones_names:
            sizes.append((max(metrics.horizontalAdvance(word) + 30, self.rng.randint(110, 160)),
                          self.rng.randint(76, 110)))
        rects = place_rects(self.rng, self.area(), sizes, gap=18)
        self.zones: dict[str, QLabel] = {}
        self._zone_colors: dict[str, str] = {}
        for word, rect in zip(self.zones_names, rects[n_items:], strict=True):
            zone = QLabel(word, self.body)
            zone.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
            zone.setMargin(6)
            zone.setGeometry(rect)
            self._zone_colors[word] = self.rng.choice(("#f5f7fa", "#f0f4f8", "#fdf8ef", "#f3f0f9"))
            self.zones[word] = zone
        self._highlight(None)
        colors = self.rng.sample(PASTELS, n_items)
        self.tiles: dict[str, Tile] = {}
        for word, rect, color in zip(self.items, rects[:n_items], colors, strict=True):
            tile = Tile(word, color, self, self.body)
            tile.setGeometry(rect)
            tile.home = rect.topLeft()
            self.tiles[word] = tile
        self.dragging: str | None = None
        self.instruction = f"Drag {self.item} onto {self.target}"

    # ---- drag events from the tiles -----------------------------------------------------
    def drag_started(self, tile: Tile) -> None:
        self.dragging = tile.text()

    def drag_moved(self, pos: QPoint) -> None:
        self._highlight(self._zone_at(pos))

    def dropped(self, tile: Tile, pos: QPoint) -> None:
        self.dragging = None
        zone = self._zone_at(pos)
        self._highlight(None)
        word = tile.text()
        if zone is None:
            tile.move(tile.home)  # dropped on nothing: it goes back, no harm done
        elif word != self.item:
            self.fail(f"dragged {word} instead of {self.item}")
        elif zone != self.target:
            self.fail(f"dropped {word} onto {zone} instead of {self.target}")
        else:
            self.succeed(f"dropped {word} onto {zone}")

    def _zone_at(self, pos: QPoint) -> str | None:
        for word, zone in self.zones.items():
            if zone.rect().contains(zone.mapFromGlobal(pos)):
                return word
        return None

    def _highlight(self, active: str | None) -> None:
        for word, zone in self.zones.items():
            border = "#2f80ed" if word == active else "#9aa5b1"
            zone.setStyleSheet(ZONE_STYLE.format(bg=self._zone_colors[word], border=border))

    # ---- state ---------------------------------------------------------------------------
    def boxes(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"item:{w}": t for w, t in self.tiles.items()}
        out.update({f"target:{w}": z for w, z in self.zones.items()})
        return out

    def next_targets(self) -> list[str]:
        return [f"item:{self.item}", f"target:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        return {"item": self.item, "target": self.target, "items": list(self.items),
                "targets": list(self.zones_names), "dragging": self.dragging}
