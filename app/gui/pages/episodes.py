"""The Episodes page: a searchable list of the episodes folder, the viewer, and edits
(task label, instruction, outcome, delete with confirmation, trimmed copy)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import (
    Banner,
    Task,
    emit,
    format_created,
    heading,
    muted,
    run_task,
)
from deskmimic.app.gui.state import EpisodeRow
from deskmimic.app.gui.widgets.demofacts import Listing, scan_listing
from deskmimic.app.gui.widgets.episodelist import EpisodeList, seconds_text
from deskmimic.app.gui.widgets.viewer import EpisodeViewer
from deskmimic.core.errors import describe_error
from deskmimic.recorder import episode_edit

logger = logging.getLogger(__name__)

# The combo carries its own caption ("Outcome: …"): no separate label, more room for the viewer.
OUTCOMES = (("Outcome: not marked", None), ("Outcome: success", True), ("Outcome: failure", False))


class EpisodesPanel(QWidget):
    """Lists ``episodes_dir``; selecting a row opens it in the viewer."""

    changed = Signal()

    def __init__(self, episodes_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.episodes_dir = Path(episodes_dir)
        self.current: EpisodeRow | None = None
        self._select_after_refresh: Path | None = None
        self.confirm_box: QMessageBox | None = None
        self._build()

    # ---- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 12)
        root.setSpacing(10)
        self.banner = Banner()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self._build_list())
        split.addWidget(self._build_details())
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 6)
        split.setSizes([510, 610])
        root.addWidget(self.banner)
        root.addWidget(split, 1)
        self._set_editable(False)

    def _build_list(self) -> EpisodeList:
        lst = self.episode_list = EpisodeList()
        lst.current_changed.connect(self._on_current)
        lst.refresh_button.clicked.connect(self.refresh)
        # The list's parts under the names the window, the screenshots and the tests use.
        self.search, self.model, self.proxy, self.table = lst.search, lst.model, lst.proxy, lst.table
        self.count_label, self.refresh_button = lst.count_label, lst.refresh_button
        self.folder_label = lst.folder_label
        return lst

    def _build_details(self) -> QWidget:
        """The open episode: its title, the edits, and the viewer."""
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(8, 0, 0, 0)
        rl.setSpacing(8)
        self.title = heading("No episode selected", 16)
        self.subtitle = muted()
        rl.addWidget(self.title)
        rl.addWidget(self.subtitle)
        rl.addLayout(self._build_edits())
        self.viewer = EpisodeViewer()
        self.viewer.trim_requested.connect(self.trim)
        rl.addWidget(self.viewer, 1)
        return right

    def _build_edits(self) -> QVBoxLayout:
        """Label and instruction, each saved by Enter or its button; outcome; delete."""
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("task label")
        self.label_edit.setToolTip("Task label (Enter or “Save label” saves it)")
        self.label_edit.setMinimumWidth(60)
        self.label_edit.returnPressed.connect(self.save_label)
        self.label_save = QPushButton("Save label")
        self.label_save.clicked.connect(self.save_label)
        self.instruction_edit = QLineEdit()
        self.instruction_edit.setPlaceholderText("instruction: what the person was asked to do")
        self.instruction_edit.setToolTip("Instruction (Enter or “Save instruction” saves it)")
        self.instruction_edit.returnPressed.connect(self.save_instruction)
        self.instruction_save = QPushButton("Save instruction")
        self.instruction_save.clicked.connect(self.save_instruction)
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
        # The instruction has a row of its own: it is longer than a label.
        edits = QVBoxLayout()
        edits.setSpacing(6)
        first, second = QHBoxLayout(), QHBoxLayout()
        first.setSpacing(8)
        second.setSpacing(8)
        first.addWidget(self.label_edit, 1)
        first.addWidget(self.label_save)
        first.addWidget(self.outcome_combo)
        first.addWidget(self.delete_button)
        second.addWidget(self.instruction_edit, 1)
        second.addWidget(self.instruction_save)
        edits.addLayout(first)
        edits.addLayout(second)
        return edits

    def _set_editable(self, on: bool) -> None:
        for w in (self.label_edit, self.label_save, self.instruction_edit, self.instruction_save,
                  self.outcome_combo):
            w.setEnabled(on)
        self.delete_button.setEnabled(self.current is not None)

    # ---- the list -------------------------------------------------------------------
    def set_folder(self, folder: Path) -> None:
        self.episodes_dir = Path(folder)
        self.viewer.open(None)
        self.current = None
        self.refresh()

    @property
    def rows(self) -> dict[str, EpisodeRow]:
        """The listed episodes by path (as text)."""
        return self.episode_list.rows

    def refresh(self, select: Path | None = None) -> None:
        """Rescan the folder on a worker; ``select`` is selected afterwards if present."""
        self._select_after_refresh = Path(select) if select else (self.current.path if self.current else None)
        self.refresh_button.setEnabled(False)
        self.episode_list.set_folder(self.episodes_dir)
        run_task(scan_listing, self.episodes_dir, on_done=self._fill, on_error=self._scan_failed,
                 name="scan")

    def _scan_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.banner.show_message(f"Could not list {self.episodes_dir}: {describe_error(exc)}")

    def _fill(self, listing: Listing) -> None:
        self.refresh_button.setEnabled(True)
        before = set(self.rows)
        self.episode_list.set_rows(listing.rows, listing.facts, listing.duplicates)
        if set(self.rows) != before:  # added or removed outside the app: Train lists them too
            emit(self.changed)
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

    def select_path(self, path: Path) -> bool:
        return self.episode_list.select_path(path)

    def _on_current(self, row: EpisodeRow | None) -> None:
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
            self.instruction_edit.clear()
            self._set_editable(False)
            return
        ok = row.status != "unreadable"
        facts = self.episode_list.facts.get(str(row.path))
        seconds = facts.recorded_s if facts is not None else row.duration_s
        dup = self.episode_list.duplicates.get(str(row.path), "")
        self.title.setText(row.task or "(no label)" if ok else f"{row.id} (unreadable)")
        self.subtitle.setText(" · ".join(x for x in (
            row.instruction and f"“{row.instruction}”", row.id,
            facts and facts.seed is not None and f"seed {facts.seed}",
            format_created(row.created) if row.created else "",
            f"{seconds_text(seconds)} recorded, {row.frames} frames, {row.events} events" if ok else "",
            row.status, dup and f"possible duplicate: {dup}") if x))
        self.label_edit.setText(row.task)
        self.instruction_edit.setText(row.instruction)
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

    def save_instruction(self) -> None:
        self._edit(episode_edit.set_instruction, self.instruction_edit.text(),
                   what="save the instruction")

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
        self.refresh()  # tells the other pages once the list has changed

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
            self.refresh(select=path)  # tells the other pages once the copy is listed

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
