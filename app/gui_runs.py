"""The Train and Replay pages. Training and the replay agent are being built in
deskmimic.models / deskmimic.agent; until their GUI lands these pages say what is
coming, show the matching command line, and list existing runs read-only.

Each page is its own class so it can be replaced without touching the window.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui_common import Banner, describe_error, heading, muted, run_task
from deskmimic.app.gui_state import RunRow, scan_runs
from deskmimic.core.paths import default_runs_dir


def _code(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.setStyleSheet("font-family: 'DejaVu Sans Mono', monospace; background: #f3f4f6; "
                      "border: 1px solid #e5e7eb; border-radius: 5px; padding: 8px 10px;")
    return lab


class RunsList(QWidget):
    """Read-only table of the runs folder."""

    def __init__(self, runs_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.caption = muted(wrap=False)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.caption, 1)
        top.addWidget(self.refresh_button)
        lay.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(["Run", "Modified", "Checkpoints", "Last step"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            self.tree.header().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.tree, 1)
        self.banner = Banner()
        lay.addWidget(self.banner)
        self.rows: list[RunRow] = []
        self.refresh()

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        run_task(scan_runs, self.runs_dir, on_done=self._fill, on_error=self._failed, name="runs")

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.banner.show_message(f"Could not list {self.runs_dir}: {describe_error(exc)}")

    def _fill(self, rows: list[RunRow]) -> None:
        self.refresh_button.setEnabled(True)
        self.rows = rows
        self.tree.clear()
        for r in rows:
            when = datetime.fromtimestamp(r.modified).strftime("%Y-%m-%d %H:%M")
            item = QTreeWidgetItem([r.name, when, str(r.checkpoints), r.last_step or "–"])
            item.setToolTip(0, str(r.path))
            self.tree.addTopLevelItem(item)
        self.caption.setText(f"{len(rows)} run{'s' if len(rows) != 1 else ''} in {self.runs_dir}" if rows
                             else f"No runs yet in {self.runs_dir}")


class _ComingPanel(QWidget):
    TITLE = ""
    INTRO = ""
    COMING: tuple[str, ...] = ()
    COMMAND = ""

    def __init__(self, runs_dir: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.setSpacing(12)
        lay.addWidget(heading(self.TITLE, 18))
        lay.addWidget(muted(self.INTRO))
        box = QGroupBox("Coming to this page")
        bl = QVBoxLayout(box)
        for line in self.COMING:
            lab = QLabel(f"•  {line}")
            lab.setWordWrap(True)
            bl.addWidget(lab)
        lay.addWidget(box)
        cli = QGroupBox("Available now")
        cl = QVBoxLayout(cli)
        cl.addWidget(muted("Until then, use the command line:"))
        cl.addWidget(_code(self.COMMAND))
        lay.addWidget(cli)
        runs = QGroupBox("Training runs")
        rl = QVBoxLayout(runs)
        self.runs = RunsList(runs_dir or default_runs_dir())
        rl.addWidget(self.runs)
        lay.addWidget(runs, 1)


class TrainPanel(_ComingPanel):
    TITLE = "Train a policy"
    INTRO = ("Training turns the recorded episodes into state–action steps and fits a CNN "
             "behavior-cloning policy on them. The training engine is being built in "
             "deskmimic.models; its controls will appear here.")
    COMING = ("Pick episodes (by task label, outcome) and see how many steps they give.",
              "Start, watch (loss, accuracy, samples/s) and cancel training without freezing the window.",
              "Resume a run from its last checkpoint; compare runs.")
    COMMAND = "deskmimic train --help\ndeskmimic episodes steps EPISODE"


class ReplayPanel(_ComingPanel):
    TITLE = "Replay"
    INTRO = ("Replay lets a trained policy carry the workflow out on the real desktop, with an abort "
             "hotkey, a failsafe corner and a dry run that only draws what it would do. The replay "
             "agent is being built in deskmimic.agent; its controls will appear here.")
    COMING = ("Choose a checkpoint and a task, then dry-run or run it with live decisions and confidence.",
              "Abort at any time (hotkey, failsafe corner, or moving the mouse to take over).",
              "Review the recorded replay episode on the Episodes page.")
    COMMAND = "deskmimic replay --help\ndeskmimic macro --help   (literal replay of one episode)"
