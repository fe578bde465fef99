"""A checkable list of the episodes folder, to choose what a training run learns from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import (
    PATH_ROLE,
    emit,
    format_created,
    format_duration,
    muted,
    run_task,
)
from deskmimic.app.gui.state import EpisodeRow, scan_episodes
from deskmimic.core.errors import describe_error


def usable(row: EpisodeRow) -> bool:
    """Finished and readable: a recording in progress or a broken one cannot train."""
    return row.status in ("complete", "recovered")


def checked_by_default(row: EpisodeRow) -> bool:
    """Demonstrations not marked as failures; replays of the agent are left out."""
    return usable(row) and row.success is not False and not row.task.startswith("replay")


class EpisodePicker(QWidget):
    """Episodes with a check box each, a filter, All/None, and a count. ``changed()``."""

    changed = Signal()

    def __init__(self, folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.rows: list[EpisodeRow] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        top = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by task or instruction…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.all_button = QPushButton("All")
        self.none_button = QPushButton("None")
        self.all_button.setToolTip("Tick every usable episode shown")
        self.none_button.setToolTip("Untick every episode shown")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("List the folder again (episodes added or removed outside the app)")
        self.all_button.clicked.connect(lambda: self._set_all(True))
        self.none_button.clicked.connect(lambda: self._set_all(False))
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.all_button)
        top.addWidget(self.none_button)
        top.addWidget(self.refresh_button)
        lay.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setHeaderLabels(["Task", "Instruction", "Recorded", "Length", "Result"])
        hh = self.tree.header()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tree.itemChanged.connect(lambda *_: self._count())
        lay.addWidget(self.tree, 1)
        self.count_label = muted(clip=True)
        lay.addWidget(self.count_label)
        self._filling = False

    def set_folder(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.refresh()

    def refresh(self) -> None:
        run_task(scan_episodes, self.folder, on_done=self._fill, on_error=self._failed, name="pick")

    def _failed(self, exc: BaseException) -> None:
        self.count_label.setText(f"Could not list {self.folder}: {describe_error(exc)}")

    def _fill(self, rows: list[EpisodeRow]) -> None:
        before = {str(p): on for p, on in self._states().items()}
        self._filling = True
        try:
            self.rows = rows
            self.tree.clear()
            for r in rows:
                self.tree.addTopLevelItem(self._item(r, before.get(str(r.path))))
        finally:
            self._filling = False
        self._apply_filter(self.filter_edit.text())
        self._count()

    def _item(self, r: EpisodeRow, was: bool | None) -> QTreeWidgetItem:
        result = {True: "✔ success", False: "✘ failure", None: ""}[r.success]
        it = QTreeWidgetItem([r.task or "(no label)", r.instruction,
                              format_created(r.created, short=True) if r.created else "",
                              format_duration(r.duration_s) if usable(r) else "", result])
        it.setData(0, PATH_ROLE, str(r.path))
        tip = r.error or f"{r.id}\n{r.frames} frames, {r.events} events"
        for c in range(5):
            it.setToolTip(c, tip)
        if usable(r):
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = checked_by_default(r) if was is None else was
            it.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            if r.success is not None:
                it.setForeground(4, QColor("#15803d" if r.success else "#b91c1c"))
        else:
            # (QTreeWidgetItem is user-checkable by default: take that away too)
            it.setFlags(it.flags() & ~(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable))
            it.setText(4, r.status)
            for c in range(5):  # as on the Episodes page: a row that cannot be used is red
                it.setForeground(c, QColor("#b91c1c"))
        return it

    def _states(self) -> dict[Path, bool]:
        out = {}
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                out[Path(it.data(0, PATH_ROLE))] = it.checkState(0) == Qt.CheckState.Checked
        return out

    def checked_paths(self) -> list[Path]:
        return [p for p, on in self._states().items() if on]

    def checked_sizes(self) -> dict[tuple[int, int], int]:
        """How many ticked episodes have each captured-area size (width, height)."""
        by_path = {str(r.path): r.size for r in self.rows}
        sizes: dict[tuple[int, int], int] = {}
        for p in self.checked_paths():
            if (size := by_path.get(str(p))) is not None:
                sizes[size] = sizes.get(size, 0) + 1
        return sizes

    def set_checked(self, paths: list[Path]) -> None:
        want = {str(p) for p in paths}
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                on = it.data(0, PATH_ROLE) in want
                it.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _set_all(self, on: bool) -> None:
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if not it.isHidden() and it.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                it.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _apply_filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            hay = f"{it.text(0)} {it.text(1)} {it.text(2)}".lower()
            it.setHidden(not all(w in hay for w in words))

    def _count(self) -> None:
        if self._filling:
            return
        states = self._states()
        chosen = [p for p, on in states.items() if on]
        tasks = {r.task for r in self.rows if r.path in set(chosen)}
        if not self.rows:
            self.count_label.setText(f"No episodes in {self.folder}: record some first")
        else:
            self.count_label.setText(
                f"{len(chosen)} of {len(states)} episodes chosen"
                + (f" · {len(tasks)} task{'s' if len(tasks) != 1 else ''}" if chosen else ""))
        emit(self.changed)
