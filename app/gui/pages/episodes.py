"""The Episodes page: a searchable list of the episodes folder, the viewer, and edits
(task label, outcome, delete with confirmation, trimmed copy)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import (
    Banner,
    Task,
    describe_error,
    emit,
    format_created,
    format_duration,
    format_size,
    heading,
    muted,
    run_task,
    short_path,
)
from deskmimic.app.gui.state import EpisodeRow, scan_episodes
from deskmimic.app.gui.widgets.viewer import EpisodeViewer
from deskmimic.recorder import episode_edit

logger = logging.getLogger(__name__)

# "Result" holds the outcome of a complete episode, else its status (recording, recovered,
# unreadable): one column instead of two leaves the viewer room at the default size.
COLUMNS = ("Task", "Recorded", "Length", "Result", "Size")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3
# The combo carries its own caption ("Outcome: …"): no separate label, more room for the viewer.
OUTCOMES = (("Outcome: not marked", None), ("Outcome: success", True), ("Outcome: failure", False))


def _outcome_text(success: bool | None) -> str:
    return {True: "✔ success", False: "✘ failure", None: ""}[success]


def _result_text(r: EpisodeRow) -> str:
    if r.status == "complete":
        return _outcome_text(r.success)
    return r.status + (f", {_outcome_text(r.success)}" if r.success is not None else "")


class EpisodesPanel(QWidget):
    """Lists ``episodes_dir``; selecting a row opens it in the viewer."""

    changed = Signal()

    def __init__(self, episodes_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.episodes_dir = Path(episodes_dir)
        self.rows: dict[str, EpisodeRow] = {}
        self.current: EpisodeRow | None = None
        self._select_after_refresh: Path | None = None
        self.confirm_box: QMessageBox | None = None
        self._filling = False
        self._build()

    # ---- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 12)
        root.setSpacing(10)
        self.banner = Banner()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)

        left = QWidget()
        left.setMinimumWidth(400)  # narrower, the task column is elided
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 8, 0)
        ll.setSpacing(8)
        ll.addWidget(heading("Episodes", 18))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search task, instruction, date, status…")
        self.search.setClearButtonEnabled(True)
        ll.addWidget(self.search)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(SEARCH_ROLE)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(SORT_ROLE)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
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
        ll.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.count_label = muted(wrap=False)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.count_label, 1)
        row.addWidget(self.refresh_button)
        ll.addLayout(row)
        self.folder_label = muted()
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        ll.addWidget(self.folder_label)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(8, 0, 0, 0)
        rl.setSpacing(8)
        self.title = heading("No episode selected", 16)
        self.subtitle = muted()
        rl.addWidget(self.title)
        rl.addWidget(self.subtitle)
        edit = QHBoxLayout()
        edit.setSpacing(8)
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("task label")
        self.label_edit.setToolTip("Task label (Enter or “Save label” saves it)")
        self.label_edit.setMinimumWidth(90)
        self.label_edit.returnPressed.connect(self.save_label)
        self.label_save = QPushButton("Save label")
        self.label_save.clicked.connect(self.save_label)
        self.outcome_combo = QComboBox()
        # Items carry no Python bools as data: PySide6 mis-counts references to
        # True/False that travel through QVariant (fatal at interpreter exit).
        for text, _value in OUTCOMES:
            self.outcome_combo.addItem(text)
        self.outcome_combo.setToolTip("Mark the demonstration as a success or a failure")
        self.outcome_combo.activated.connect(self._outcome_chosen)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("danger")
        self.delete_button.clicked.connect(self.confirm_delete)
        edit.addWidget(self.label_edit, 1)
        edit.addWidget(self.label_save)
        edit.addWidget(self.outcome_combo)
        edit.addWidget(self.delete_button)
        rl.addLayout(edit)
        self.viewer = EpisodeViewer()
        self.viewer.trim_requested.connect(self.trim)
        rl.addWidget(self.viewer, 1)

        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 6)
        split.setSizes([510, 610])
        root.addWidget(self.banner)
        root.addWidget(split, 1)
        self._set_editable(False)

    def _set_editable(self, on: bool) -> None:
        for w in (self.label_edit, self.label_save, self.outcome_combo):
            w.setEnabled(on)
        self.delete_button.setEnabled(self.current is not None)

    # ---- the list -------------------------------------------------------------------
    def set_folder(self, folder: Path) -> None:
        self.episodes_dir = Path(folder)
        self.viewer.open(None)
        self.current = None
        self.refresh()

    def refresh(self, select: Path | None = None) -> None:
        """Rescan the folder on a worker; ``select`` is selected afterwards if present."""
        self._select_after_refresh = Path(select) if select else (self.current.path if self.current else None)
        self.refresh_button.setEnabled(False)
        self.folder_label.setText(f"Folder: {short_path(self.episodes_dir)}")
        run_task(scan_episodes, self.episodes_dir, on_done=self._fill, on_error=self._scan_failed, name="scan")

    def _scan_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.banner.show_message(f"Could not list {self.episodes_dir}: {describe_error(exc)}")

    def _fill(self, rows: list[EpisodeRow]) -> None:
        self.refresh_button.setEnabled(True)
        self.rows = {str(r.path): r for r in rows}
        # Repopulating moves the current row through "none": not a user choice, so the
        # viewer keeps the open episode unless it is gone from the new list.
        self._filling = True
        try:
            self.table.setSortingEnabled(False)
            self.model.removeRows(0, self.model.rowCount())
            for r in rows:
                self.model.appendRow(self._items(r))
            self.table.setSortingEnabled(True)
        finally:
            self._filling = False
        n = len(rows)
        bad = sum(r.status == "unreadable" for r in rows)
        self.count_label.setText(f"{n} episode{'s' if n != 1 else ''}" + (f", {bad} unreadable" if bad else "")
                                 if n else "No episodes yet: record one on the Record page")
        target = self._select_after_refresh
        self._select_after_refresh = None
        if target is not None and self.select_path(target):
            return
        if self.current is not None and self.select_path(self.current.path):
            return
        if self.current is not None and str(self.current.path) not in self.rows:
            self.current = None
            self.viewer.open(None)
            self._show_details(None)

    def _items(self, r: EpisodeRow) -> list[QStandardItem]:
        created = format_created(r.created) if r.created else ""
        short = format_created(r.created, short=True) if r.created else ""
        values = [
            (r.task or "(no label)", r.task.lower()),
            (short, r.created or r.id),
            (format_duration(r.duration_s) if r.status != "unreadable" else "", r.duration_s),
            (_result_text(r), f"{ {True: 2, False: 0, None: 1}[r.success]}{r.status}"),
            (format_size(r.bytes) if r.bytes else "", r.bytes),
        ]
        items = []
        for text, key in values:
            it = QStandardItem(text)
            it.setData(key, SORT_ROLE)
            it.setData(str(r.path), PATH_ROLE)
            items.append(it)
        items[0].setData(" ".join((r.task, r.instruction, r.id, created, r.status,
                                   _outcome_text(r.success))), SEARCH_ROLE)
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

    def select_path(self, path: Path) -> bool:
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
        row = self.rows.get(path) if path else None
        if row is not None and self.current is not None and row.path == self.current.path:
            self._show_details(row)  # same episode (e.g. after an edit): keep the viewer
            return
        self.current = row
        self._show_details(row)
        if row is None:
            self.viewer.open(None)
        elif row.status == "unreadable":
            self.viewer.show_error(f"This episode cannot be read: {row.error}\n"
                                   "Fix or restore meta.json, run `deskmimic episodes recover`, "
                                   "or delete the episode.")
        else:
            self.viewer.open(row.path)

    def _show_details(self, row: EpisodeRow | None) -> None:
        self.current = row
        if row is None:
            self.title.setText("No episode selected")
            self.subtitle.setText("")
            self.label_edit.clear()
            self._set_editable(False)
            return
        ok = row.status != "unreadable"
        self.title.setText(row.task or "(no label)" if ok else f"{row.id} (unreadable)")
        self.subtitle.setText(" · ".join(x for x in (
            row.instruction and f"“{row.instruction}”", row.id,
            format_created(row.created) if row.created else "",
            f"{format_duration(row.duration_s)}, {row.frames} frames, {row.events} events" if ok else "",
            row.status) if x))
        self.label_edit.setText(row.task)
        i = [v for _, v in OUTCOMES].index(row.success)
        self.outcome_combo.setCurrentIndex(i)
        self._set_editable(ok and row.status != "recording")

    # ---- edits (meta.json written atomically, on a worker) --------------------------------
    def _edit(self, fn, *args, what: str) -> None:
        if self.current is None:
            return
        path = self.current.path
        run_task(fn, path, *args, on_done=lambda _m: self._edited(path, what),
                 on_error=lambda e: self.banner.show_message(f"Could not {what}: {describe_error(e)}"),
                 name="edit")

    def _edited(self, path: Path, what: str) -> None:
        self.banner.hide()
        self.refresh(select=path)
        emit(self.changed)

    def save_label(self) -> None:
        self._edit(episode_edit.set_task_label, self.label_edit.text(), what="save the label")

    def _outcome_chosen(self, index: int) -> None:
        self._edit(episode_edit.set_success, OUTCOMES[index][1], what="set the outcome")

    def confirm_delete(self) -> None:
        """Ask first (a non-blocking, window-modal box); delete only on “Delete”."""
        if self.current is None:
            return
        row = self.current
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete episode",
                          f"Delete the episode “{row.task or row.id}”?", parent=self)
        box.setInformativeText(f"This removes the folder {row.path} with its video and events. "
                               "It cannot be undone.")
        self.delete_yes = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.finished.connect(lambda _r, b=box, p=row.path: self._delete_answered(b, p))
        self.confirm_box = box
        box.open()

    def _delete_answered(self, box: QMessageBox, path: Path) -> None:
        self.confirm_box = None
        confirmed = box.clickedButton() is self.delete_yes
        box.deleteLater()
        if not confirmed:
            return
        if self.current is not None and self.current.path == path:
            self.viewer.open(None)  # release the video files before they go
        run_task(episode_edit.delete_episode, path, on_done=lambda _r: self._deleted(path),
                 on_error=lambda e: self.banner.show_message(f"Could not delete: {describe_error(e)}"),
                 name="delete")

    def _deleted(self, path: Path) -> None:
        self.banner.show_message(f"Deleted {path.name}.", "info")
        self.current = None
        self._show_details(None)
        self.refresh()
        emit(self.changed)

    def trim(self, start_ns: int, end_ns: int) -> None:
        """Write a trimmed copy on a worker with a progress dialog; the original stays."""
        if self.current is None:
            return
        src = self.current.path
        dlg = QProgressDialog("Writing the trimmed copy…", "Cancel", 0, 100, self)
        dlg.setWindowTitle("Trim episode")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(300)
        cancel = threading.Event()
        dlg.canceled.connect(cancel.set)

        def work():
            return episode_edit.trim_episode(src, start_ns, end_ns, progress=task.report, cancel=cancel)

        def done(path: Path) -> None:
            dlg.reset()
            self.banner.show_message(f"Saved the trimmed copy as {path.name}; the original is unchanged.",
                                     "ok")
            self.refresh(select=path)
            emit(self.changed)

        def failed(exc: BaseException) -> None:
            dlg.reset()
            self.banner.show_message(f"Could not trim: {describe_error(exc)}")

        # Built before it starts, so `work` can report progress through it.
        task = Task(work, name="trim")
        task.done.connect(done)
        task.failed.connect(failed)
        task.progress.connect(lambda d, t: dlg.setValue(int(100 * d / max(t, 1))))
        task.start()
        self.trim_dialog = dlg

    def shutdown(self) -> None:
        self.viewer.shutdown()
