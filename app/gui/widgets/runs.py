"""The table of training runs with their metrics (Train page), read on a worker."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import Banner, emit, muted, run_task, short_path
from deskmimic.core.errors import describe_error
from deskmimic.models.runs import RunInfo, scan_run_infos

COLUMNS = ("Run", "Trained", "Epochs", "Episodes", "Best score", "Click on target", "Val loss",
           "Checkpoints")


def _pct(v: object) -> str:
    return f"{100 * float(v):.0f}%" if isinstance(v, int | float) else "–"


def stopped_text(r: RunInfo) -> str:
    """'stopped at epoch 3 of 30' for a run that ended before its planned epochs, else ''."""
    if r.epochs and r.epochs_done < r.epochs and not r.error:
        return f"stopped at epoch {r.epochs_done} of {r.epochs}"
    return ""


class RunsTable(QWidget):
    """The runs folder, newest first. ``selected(RunInfo | None)`` follows the current row;
    ``chosen(list[RunInfo])`` the selected rows (Ctrl/Shift-click picks several, to
    compare); ``replay_requested(RunInfo)`` asks for the Replay page with that run."""

    selected = Signal(object)
    chosen = Signal(object)
    replay_requested = Signal(object)

    def __init__(self, runs_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self.rows: list[RunInfo] = []
        self._want: list[str] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        hh = self.tree.header()
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemSelectionChanged.connect(lambda: emit(self.chosen, self.chosen_runs()))
        self.tree.itemDoubleClicked.connect(lambda *_: self._replay())
        lay.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.caption = muted(clip=True)
        self.replay_button = QPushButton("Replay this run…")
        self.replay_button.setEnabled(False)
        self.replay_button.clicked.connect(self._replay)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda: self.refresh())
        row.addWidget(self.caption, 1)
        row.addWidget(self.replay_button)
        row.addWidget(self.refresh_button)
        lay.addLayout(row)
        self.banner = Banner()
        lay.addWidget(self.banner)

    def refresh(self, select: str | None = None) -> None:
        """Rescan on a worker; ``select`` (a run name) is selected afterwards, else the
        selection is kept."""
        cur = self.current()
        self._want = [select] if select else (
            ([cur.name] if cur is not None else []) + [r.name for r in self.chosen_runs()])
        self.refresh_button.setEnabled(False)
        run_task(scan_run_infos, self.runs_dir, on_done=self._fill, on_error=self._failed,
                 name="runs")

    def current(self) -> RunInfo | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        i = item.data(0, Qt.ItemDataRole.UserRole)
        return self.rows[i] if isinstance(i, int) and i < len(self.rows) else None

    def chosen_runs(self) -> list[RunInfo]:
        """The selected runs, in table order."""
        rows = sorted(i for it in self.tree.selectedItems()
                      if isinstance(i := it.data(0, Qt.ItemDataRole.UserRole), int) and i < len(self.rows))
        return [self.rows[i] for i in rows]

    def choose(self, names: list[str]) -> None:
        """Select the runs named (the first one there becomes the current row); one
        ``chosen`` signal follows."""
        index = {r.name: i for i, r in enumerate(self.rows)}
        items = [self.tree.topLevelItem(index[n]) for n in dict.fromkeys(names) if n in index]
        self.tree.blockSignals(True)
        try:
            self.tree.clearSelection()
            if items:
                self.tree.setCurrentItem(items[0])
            for it in items:
                it.setSelected(True)
        finally:
            self.tree.blockSignals(False)
        self._on_current(None, None)
        emit(self.chosen, self.chosen_runs())

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.banner.show_message(f"Could not list {self.runs_dir}: {describe_error(exc)}")

    def _fill(self, rows: list[RunInfo]) -> None:
        self.refresh_button.setEnabled(True)
        want, self._want = self._want, []
        self.tree.blockSignals(True)
        try:
            self.rows = rows
            self.tree.clear()
            for i, r in enumerate(rows):
                self.tree.addTopLevelItem(self._item(i, r))
        finally:
            self.tree.blockSignals(False)
        n = len(rows)
        where = short_path(self.runs_dir)
        self.caption.setText(f"{n} run{'s' if n != 1 else ''} in {where}" if n
                             else f"No runs yet in {where}")
        self.choose(want)

    def _item(self, i: int, r: RunInfo) -> QTreeWidgetItem:
        when = datetime.fromtimestamp(r.modified).strftime("%b %d %H:%M")
        b = r.best
        epochs = f"{r.epochs_done}/{r.epochs}" if r.epochs else str(r.epochs_done)
        loss = f"{b['loss']:.3f}" if isinstance(b.get("loss"), int | float) else "–"
        item = QTreeWidgetItem([r.name, when, epochs, str(r.episodes or "–"), _pct(b.get("score")),
                                _pct(b.get("click_in_target")), loss, str(len(r.checkpoints))])
        item.setData(0, Qt.ItemDataRole.UserRole, i)
        for c in range(2, len(COLUMNS)):
            item.setTextAlignment(c, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tip = r.error or "\n".join(x for x in (
            r.warning, stopped_text(r), str(r.path), f"input {r.input_size}" if r.input_size else "",
            f"best epoch {b.get('epoch')}, step {b.get('step')}" if b else "",
            f"best → {r.links.get('best')}, last → {r.links.get('last')}" if r.links else "") if x)
        for c in range(len(COLUMNS)):
            item.setToolTip(c, tip)
        if r.error or r.warning:  # red: not readable; amber: read, but something is damaged
            for c in range(len(COLUMNS)):
                item.setForeground(c, QColor("#b91c1c" if r.error else "#b45309"))
        return item

    def _on_current(self, _cur, _prev) -> None:
        run = self.current()
        self.replay_button.setEnabled(run is not None and run.has_checkpoint)
        emit(self.selected, run)

    def _replay(self) -> None:
        run = self.current()
        if run is not None and run.has_checkpoint:
            emit(self.replay_requested, run)
