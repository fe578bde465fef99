"""The Episodes page's list: a searchable, sortable table of the episodes folder (task,
date, length, result, size), its count and its folder. Scanning the folder is the page's
job; this widget shows the rows it is given."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import (
    PATH_ROLE,
    emit,
    format_created,
    format_duration,
    format_size,
    heading,
    muted,
    short_path,
)
from deskmimic.app.gui.state import EpisodeRow

# "Result" holds the outcome of a complete episode, else its status (recording, recovered,
# unreadable): one column instead of two leaves the viewer room at the default size.
COLUMNS = ("Task", "Recorded", "Length", "Result", "Size")
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3


def outcome_text(success: bool | None) -> str:
    return {True: "✔ success", False: "✘ failure", None: ""}[success]


def result_text(r: EpisodeRow) -> str:
    if r.status == "complete":
        return outcome_text(r.success)
    return r.status + (f", {outcome_text(r.success)}" if r.success is not None else "")


def row_items(r: EpisodeRow) -> list[QStandardItem]:
    """One table row: display text, sort key and path per cell; search text and colours."""
    created = format_created(r.created) if r.created else ""
    short = format_created(r.created, short=True) if r.created else ""
    values = [
        (r.task or "(no label)", r.task.lower()),
        (short, r.created or r.id),
        (format_duration(r.duration_s) if r.status != "unreadable" else "", r.duration_s),
        (result_text(r), f"{ {True: 2, False: 0, None: 1}[r.success]}{r.status}"),
        (format_size(r.bytes) if r.bytes else "", r.bytes),
    ]
    items = []
    for text, key in values:
        it = QStandardItem(text)
        it.setData(key, SORT_ROLE)
        it.setData(str(r.path), PATH_ROLE)
        items.append(it)
    items[0].setData(" ".join((r.task, r.instruction, r.id, created, r.status,
                               outcome_text(r.success))), SEARCH_ROLE)
    tip = r.error or "\n".join(x for x in (r.instruction and f"Instruction: {r.instruction}",
                                           f"Id: {r.id}", f"{r.frames} frames, {r.events} events") if x)
    for it in items:
        it.setToolTip(tip)
    if not r.task:
        items[0].setForeground(QColor("#9ca3af"))
    if r.status == "unreadable":
        for it in items:
            it.setForeground(QColor("#b91c1c"))
    elif r.success is not None:
        items[3].setForeground(QColor("#15803d" if r.success else "#b91c1c"))
    elif r.status != "complete":
        items[3].setForeground(QColor("#b45309"))
    return items


class EpisodeList(QWidget):
    """Emits ``current_changed(EpisodeRow | None)`` when the user moves the current row
    (not while ``set_rows`` repopulates the table)."""

    current_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: dict[str, EpisodeRow] = {}
        self._filling = False
        self.setMinimumWidth(280)  # narrower, the task column is elided
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 8, 0)
        lay.setSpacing(8)
        lay.addWidget(heading("Episodes", 18))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search task, instruction, date, status…")
        self.search.setClearButtonEnabled(True)
        lay.addWidget(self.search)
        lay.addWidget(self._build_table(), 1)
        row = QHBoxLayout()
        self.count_label = muted(wrap=False)
        self.refresh_button = QPushButton("Refresh")
        row.addWidget(self.count_label, 1)
        row.addWidget(self.refresh_button)
        lay.addLayout(row)
        self.folder_label = muted(clip=True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.folder_label)

    def _build_table(self) -> QTableView:
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(SEARCH_ROLE)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(SORT_ROLE)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.search.textChanged.connect(lambda _t: self._count())
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        return self.table

    def set_folder(self, folder: Path) -> None:
        self.folder_label.setText(f"Folder: {short_path(folder)}")

    def set_rows(self, rows: list[EpisodeRow]) -> None:
        """Show ``rows`` (the current row is not kept: the caller selects again)."""
        self.rows = {str(r.path): r for r in rows}
        # Repopulating moves the current row through "none": not a user choice, so no
        # current_changed (the page keeps the open episode unless it is gone).
        self._filling = True
        try:
            self.table.setSortingEnabled(False)
            self.model.removeRows(0, self.model.rowCount())
            for r in rows:
                self.model.appendRow(row_items(r))
            self.table.setSortingEnabled(True)
        finally:
            self._filling = False
        self._count()

    def _count(self) -> None:
        """The count under the list: of the rows the search shows, when it hides some."""
        rows = list(self.rows.values())
        n, shown = len(rows), self.proxy.rowCount()
        bad = sum(r.status == "unreadable" for r in rows)
        text = (f"{n} episode{'s' if n != 1 else ''}" + (f", {bad} unreadable" if bad else "")
                if n else "No episodes yet: record one on the Record page")
        if n and shown != n:
            text = f"{shown} of {text} shown"
        self.count_label.setText(text)

    def select_path(self, path: Path) -> bool:
        """Make the episode at ``path`` the current row; False if it is not listed."""
        for row in range(self.proxy.rowCount()):
            idx = self.proxy.index(row, 0)
            if idx.data(PATH_ROLE) == str(path):
                self.table.setCurrentIndex(idx)
                self.table.scrollTo(idx)
                return True
        return False

    def _on_current(self, current, _previous) -> None:
        if self._filling:
            return
        path = current.data(PATH_ROLE) if current.isValid() else None
        emit(self.current_changed, self.rows.get(path) if path else None)
