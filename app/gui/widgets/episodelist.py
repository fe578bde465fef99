"""The Episodes page's list: a searchable, sortable table of the episodes folder (task,
seed, instruction, date, recorded seconds, result, size) with possible duplicates flagged
(`demofacts`), its count and its folder. Scanning the folder is the page's job; this
widget shows the rows it is given."""

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
from deskmimic.app.gui.widgets.demofacts import DemoFacts

# "Result" holds the outcome of a complete episode, else its status (recording, recovered,
# unreadable): one column instead of two leaves the viewer room at the default size.
COLUMNS = ("Task", "Seed", "Instruction", "Recorded", "Length", "Result", "Size")
TASK, SEED, INSTRUCTION, RECORDED, LENGTH, RESULT, SIZE = range(len(COLUMNS))
DUPLICATE_MARK = "⧉ "
TASK_WIDTH = 130
DUPLICATE_COLOR = "#b45309"
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3


def outcome_text(success: bool | None) -> str:
    return {True: "✔ success", False: "✘ failure", None: ""}[success]


def result_text(r: EpisodeRow) -> str:
    if r.status == "complete":
        return outcome_text(r.success)
    return r.status + (f", {outcome_text(r.success)}" if r.success is not None else "")


def seconds_text(seconds: float) -> str:
    """Recorded time in seconds ('1.6 s', '42 s'); minutes only past ten of them."""
    if seconds >= 600:
        return format_duration(seconds)
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def row_items(r: EpisodeRow, facts: DemoFacts | None = None,
              duplicate: str = "") -> list[QStandardItem]:
    """One table row: display text, sort key and path per cell; search text and colours.
    ``duplicate`` says why the episode looks like a duplicate ('' when it does not)."""
    created = format_created(r.created) if r.created else ""
    short = format_created(r.created, short=True) if r.created else ""
    seed = facts.seed if facts is not None else None
    seconds = facts.recorded_s if facts is not None else r.duration_s
    values = [
        ((DUPLICATE_MARK if duplicate else "") + (r.task or "(no label)"), r.task.lower()),
        ("" if seed is None else str(seed), -1 if seed is None else seed),
        (r.instruction, r.instruction.lower()),
        (short, r.created or r.id),
        (seconds_text(seconds) if r.status != "unreadable" else "", seconds),
        (result_text(r), f"{ {True: 2, False: 0, None: 1}[r.success]}{r.status}"),
        (format_size(r.bytes) if r.bytes else "", r.bytes),
    ]
    items = []
    for text, key in values:
        it = QStandardItem(text)
        it.setData(key, SORT_ROLE)
        it.setData(str(r.path), PATH_ROLE)
        items.append(it)
    items[TASK].setData(" ".join((r.task, r.instruction, r.id, created, r.status,
                               outcome_text(r.success), "" if seed is None else f"seed {seed}",
                               "duplicate" if duplicate else "")), SEARCH_ROLE)
    tip = r.error or "\n".join(x for x in (
        duplicate and f"Possible duplicate: {duplicate}",
        r.instruction and f"Instruction: {r.instruction}", f"Id: {r.id}",
        f"{r.frames} frames, {r.events} events") if x)
    for it in items:
        it.setToolTip(tip)
    for c in (SEED, LENGTH, SIZE):
        items[c].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if not r.task:
        items[TASK].setForeground(QColor("#9ca3af"))
    if duplicate:
        items[TASK].setForeground(QColor(DUPLICATE_COLOR))
    if r.status == "unreadable":
        for it in items:
            it.setForeground(QColor("#b91c1c"))
    elif r.success is not None:
        items[RESULT].setForeground(QColor("#15803d" if r.success else "#b91c1c"))
    elif r.status != "complete":
        items[RESULT].setForeground(QColor("#b45309"))
    return items


class EpisodeList(QWidget):
    """Emits ``current_changed(EpisodeRow | None)`` when the user moves the current row
    (not while ``set_rows`` repopulates the table)."""

    current_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: dict[str, EpisodeRow] = {}
        self.facts: dict[str, DemoFacts] = {}
        self.duplicates: dict[str, str] = {}
        self._filling = False
        self.setMinimumWidth(280)  # narrower, the task column is elided
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 8, 0)
        lay.setSpacing(8)
        lay.addWidget(heading("Episodes", 18))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search task, instruction, seed, date, status, duplicate…")
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
        self.table.sortByColumn(RECORDED, Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        # Seven columns do not fit a narrow list: it scrolls sideways rather than eliding
        # every label to one letter.
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.table.horizontalHeader()
        for c in range(len(COLUMNS)):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        # The label keeps a readable width (the user can drag it); the instruction takes
        # what is left, down to the header's minimum, and elides.
        hh.setSectionResizeMode(TASK, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(TASK, TASK_WIDTH)
        hh.setSectionResizeMode(INSTRUCTION, QHeaderView.ResizeMode.Stretch)
        hh.setMinimumSectionSize(60)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        return self.table

    def set_folder(self, folder: Path) -> None:
        self.folder_label.setText(f"Folder: {short_path(folder)}")

    def set_rows(self, rows: list[EpisodeRow], facts: dict[str, DemoFacts] | None = None,
                 duplicates: dict[str, str] | None = None) -> None:
        """Show ``rows`` with their facts and duplicate flags, by path as text (the current
        row is not kept: the caller selects again)."""
        self.rows = {str(r.path): r for r in rows}
        self.facts, self.duplicates = dict(facts or {}), dict(duplicates or {})
        # Repopulating moves the current row through "none": not a user choice, so no
        # current_changed (the page keeps the open episode unless it is gone).
        self._filling = True
        try:
            self.table.setSortingEnabled(False)
            self.model.removeRows(0, self.model.rowCount())
            for r in rows:
                key = str(r.path)
                self.model.appendRow(row_items(r, self.facts.get(key), self.duplicates.get(key, "")))
            self.table.setSortingEnabled(True)
        finally:
            self._filling = False
        self._count()

    def _count(self) -> None:
        """The count under the list: of the rows the search shows, when it hides some."""
        rows = list(self.rows.values())
        n, shown = len(rows), self.proxy.rowCount()
        bad = sum(r.status == "unreadable" for r in rows)
        dup = len(self.duplicates)
        text = (f"{n} episode{'s' if n != 1 else ''}" + (f", {bad} unreadable" if bad else "")
                + (f", {dup} possible duplicate{'s' if dup != 1 else ''}" if dup else "")
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
