"""List tasks: pick an entry from a list or a drop-down; scroll a long list to find one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QListWidget, QListWidgetItem

from deskmimic.core.geometry import Rect
from deskmimic.tasks import draws
from deskmimic.tasks.base import TaskWindow, register
from deskmimic.tasks.click import body_box
from deskmimic.tasks.draws import PLACEHOLDER
from deskmimic.tasks.layout import item_box
from deskmimic.tasks.verdicts import pick_verdict

__all__ = ["PLACEHOLDER", "PickListTask", "ScrollFindTask", "combo_boxes", "list_item_boxes"]


def list_item_boxes(view: QListWidget, prefix: str) -> dict[str, Rect]:
    """Screen boxes of a list's visible items, keyed ``prefix + text``."""
    out: dict[str, Rect] = {}
    for row in range(view.count()):
        item = view.item(row)
        box = item_box(view.viewport(), view.visualItemRect(item))
        if box is not None:
            out[prefix + item.text()] = box
    return out


def fully_visible(view: QListWidget) -> list[str]:
    """Texts of the items shown whole in the list's viewport."""
    area = view.viewport().rect()
    return [view.item(r).text() for r in range(view.count())
            if area.contains(view.visualItemRect(view.item(r)))]


def combo_boxes(combo: QComboBox, prefix: str) -> dict[str, Rect]:
    """Screen boxes of an open combo box's entries (empty while it is closed)."""
    view = combo.view()
    if not view.isVisible():
        return {}
    out: dict[str, Rect] = {}
    for row in range(combo.count()):
        box = item_box(view.viewport(), view.visualRect(combo.model().index(row, 0)))
        if box is not None:
            out[prefix + combo.itemText(row)] = box
    return out


@register
class PickListTask(TaskWindow):
    """Pick the named entry from a short list, or from a drop-down (combo box)."""

    name = "pick_list"
    max_steps = 6
    description = "pick an entry from a list or a drop-down"
    height_range = draws.HEIGHT_RANGES["pick_list"]

    def build(self) -> None:
        self.list: QListWidget | None = None
        self.combo: QComboBox | None = None
        d = draws.pick_list(self.rng, self.vocab, body_box(self), self._make_list)
        self.mode, self.entries, self.target = d.mode, d.entries, d.target
        caption = QLabel(d.caption, self.body)
        caption.adjustSize()
        x, y, w, h = d.box
        if self.list is not None:
            for entry in self.entries:
                item = QListWidgetItem(entry)
                item.setSizeHint(QSize(0, d.row_h))
                self.list.addItem(item)
            self.list.setGeometry(QRect(x, y, w, h))
            self.list.itemClicked.connect(lambda item: self._picked(item.text()))
            self.instruction = f"Select {self.target} in the list"
        else:
            self.combo = QComboBox(self.body)
            self.combo.addItem(PLACEHOLDER)
            self.combo.addItems(self.entries)
            self.combo.setMaxVisibleItems(len(self.entries) + 1)
            self.combo.setGeometry(QRect(x, y, w, h))
            self.combo.activated.connect(self._activated)
            self.instruction = f"Choose {self.target} from the drop-down"
        caption.move(x, y - caption.height() - 4)

    def _make_list(self, row_h: int, n: int) -> int:
        """The (empty) list, and how tall it is with ``n`` rows of ``row_h`` px."""
        self.list = QListWidget(self.body)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no 'current item' frame
        return row_h * n + 2 * self.list.frameWidth() + 2

    def _activated(self, index: int) -> None:
        if index > 0:
            self._picked(self.combo.itemText(index))

    def _picked(self, entry: str) -> None:
        ok, reason = pick_verdict(entry, self.target)
        (self.succeed if ok else self.fail)(reason)

    def on_finished(self) -> None:
        if self.combo is not None:
            self.combo.hidePopup()

    def boxes(self) -> dict[str, Any]:
        if self.list is not None:
            return {"list": self.list, **list_item_boxes(self.list, "entry:")}
        assert self.combo is not None
        return {"combo": self.combo, **combo_boxes(self.combo, "entry:")}

    def next_targets(self) -> list[str]:
        if self.combo is not None and not self.combo.view().isVisible():
            return ["combo"]
        return [f"entry:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        popup = self.combo is not None and self.combo.view().isVisible()
        return {"mode": self.mode, "target": self.target, "entries": list(self.entries),
                "popup_open": popup}


@register
class ScrollFindTask(TaskWindow):
    """Scroll a long alphabetical list of people to the named one and click it."""

    name = "scroll_find"
    # Up to 14 bursts of 6 rows down a 90-name list, the click and "done".
    max_steps = 20
    description = "scroll a long list to find and click an entry"
    height_range = (360, 500)

    def build(self) -> None:
        n = self.rng.randint(40, 90)
        self.entries = self.vocab.people(n)
        area = self.area()
        # Never shorter than a line of the look's font (16 pt needs ~25 px; the default ~17).
        row_h = max(self.rng.randint(22, 28), QFontMetrics(self.body.font()).height() + 3)
        rows = self.rng.randint(6, max(6, min(12, (area.height() - 10) // row_h)))
        w = self.rng.randint(200, min(320, area.width()))
        h = rows * row_h + 4
        self.list = QListWidget(self.body)
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no 'current item' frame
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for entry in self.entries:
            item = QListWidgetItem(entry)
            item.setSizeHint(QSize(0, row_h))
            self.list.addItem(item)
        x = area.left() + self.rng.randint(0, area.width() - w)
        y = area.top() + self.rng.randint(0, max(0, area.height() - h))
        self.list.setGeometry(QRect(x, y, w, h))
        # The target is never on the first screen: finding it takes scrolling.
        self.target = self.entries[self.rng.randint(rows + 2, n - 1)]
        self.list.itemClicked.connect(lambda item: self._picked(item.text()))
        self.instruction = f"Scroll to {self.target} and click it"

    def _picked(self, entry: str) -> None:
        if entry == self.target:
            self.succeed(f"clicked {entry}")
        else:
            self.fail(f"clicked {entry} instead of {self.target}")

    def boxes(self) -> dict[str, Any]:
        return {"list": self.list.viewport(), **list_item_boxes(self.list, "entry:")}

    def next_targets(self) -> list[str]:
        if self.target in fully_visible(self.list):
            return [f"entry:{self.target}"]
        return ["list"]

    def extra_state(self) -> dict[str, Any]:
        shown = fully_visible(self.list)
        return {"target": self.target, "entries": list(self.entries),
                "target_index": self.entries.index(self.target), "visible": shown,
                "first_visible": self.entries.index(shown[0]) if shown else 0,
                "last_visible": self.entries.index(shown[-1]) if shown else 0}
