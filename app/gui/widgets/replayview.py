"""Pieces of the Replay page: the policy picker (run + checkpoint, or any folder or
action script), the preview of what the agent saw, and the decision log's rows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidgetItem,
    QWidget,
)

from deskmimic.agent.policy_protocol import AgentAction
from deskmimic.app.gui.common import emit, gui_words, hotkey_text, run_task
from deskmimic.core.errors import DeskmimicError, describe_error
from deskmimic.models.runs import LINKS, RunInfo, scan_run_infos

STATUS_COLORS = {"executed": "#15803d", "dry_run": "#1d4ed8", "done": "#15803d",
                 "low_confidence": "#b45309", "refused": "#b91c1c", "declined": "#b45309",
                 "interrupted": "#b45309", "aborted": "#b91c1c"}


def step_name(name: str) -> str:
    """'000120' -> '120' (checkpoint folders are zero-padded to sort)."""
    return str(int(name)) if name.isdigit() else name


class PreviewLabel(QLabel):
    """Shows a QImage scaled to fit, keeping its aspect ratio."""

    def __init__(self) -> None:
        super().__init__()
        self.image: QImage | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(280, 180)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #1f2937; color: #9ca3af; border-radius: 6px;")
        self.setWordWrap(True)

    def set_image(self, img: QImage | None, text: str = "") -> None:
        self.image = img
        if img is None:
            self.setPixmap(QPixmap())
            self.setText(text)
        self._rescale()

    def _rescale(self) -> None:
        if self.image is not None:
            size = self.size() - QSize(8, 8)
            self.setPixmap(QPixmap.fromImage(self.image).scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._rescale()


def decision_item(ev: dict) -> tuple[QTreeWidgetItem, str, float]:
    """A log row (step, action, confidence, status) for a runner ``step`` event, with the
    action's description and confidence."""
    a = ev.get("action") or {}
    try:
        desc = AgentAction(**{**a, "keys": tuple(a.get("keys") or ())}).describe()
        desc = desc.rsplit("  conf", 1)[0]
    except (DeskmimicError, TypeError):
        desc = str(a.get("kind"))
    conf = float(a.get("confidence", 0.0))
    status = ev.get("status", "")
    # "done" says it all; other stops (refused, low confidence…) need their reason.
    reason = ev.get("message") if status != "done" else ""
    item = QTreeWidgetItem([str(ev.get("step", 0) + 1), desc, f"{conf:.2f}",
                            status.replace("_", " ") + (f": {gui_words(reason)}" if reason else "")])
    item.setForeground(2, QColor("#15803d" if conf >= 0.7 else "#b45309" if conf >= 0.4 else "#b91c1c"))
    item.setForeground(3, QColor(STATUS_COLORS.get(status, "#374151")))
    item.setToolTip(3, gui_words(ev.get("message") or item.text(3)))
    return item, desc, conf


class PolicyPicker(QGroupBox):
    """Run and checkpoint combos over the runs folder. ``changed()`` when the chosen
    checkpoint changes; ``failed(str)`` when the folder cannot be listed."""

    changed = Signal()
    failed = Signal(str)

    def __init__(self, runs_dir: Path, parent: QWidget | None = None):
        super().__init__("Policy", parent)
        self.runs_dir = Path(runs_dir)
        self.runs: list[RunInfo] = []
        self._want_run: str | None = None
        pg = QGridLayout(self)
        self.run_combo = QComboBox()
        self.run_combo.setMinimumContentsLength(18)
        self.run_combo.currentIndexChanged.connect(self._fill_checkpoints)
        self.ckpt_combo = QComboBox()
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("A checkpoint folder, run folder or action script (.jsonl)")
        self.browse_button.clicked.connect(self._browse)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda: self.refresh())
        pg.addWidget(QLabel("Run"), 0, 0)
        pg.addWidget(self.run_combo, 0, 1)
        pg.addWidget(self.refresh_button, 0, 2)
        pg.addWidget(QLabel("Checkpoint"), 1, 0)
        pg.addWidget(self.ckpt_combo, 1, 1)
        pg.addWidget(self.browse_button, 1, 2)
        pg.setColumnStretch(1, 1)

    def refresh(self, select: str | None = None) -> None:
        self._want_run = select or self.run_combo.currentText() or None
        run_task(scan_run_infos, self.runs_dir, on_done=self._fill_runs,
                 on_error=lambda e: emit(self.failed,
                                         f"Could not list {self.runs_dir}: {describe_error(e)}"),
                 name="runs")

    def _fill_runs(self, rows: list[RunInfo]) -> None:
        custom = [self.run_combo.itemData(i) for i in range(self.run_combo.count())
                  if isinstance(self.run_combo.itemData(i), str)]
        self.runs = [r for r in rows if r.has_checkpoint]
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for i, r in enumerate(self.runs):
            score = r.best.get("score")
            self.run_combo.addItem(r.name + (f"   (score {100 * score:.0f}%)" if score is not None else ""), i)
        for path in custom:
            self.run_combo.addItem(Path(path).name, path)
        if not self.run_combo.count():
            self.run_combo.addItem("No trained runs yet: train one first", None)
        want = self._want_run
        idx = next((i for i in range(self.run_combo.count())
                    if self.run_combo.itemText(i).split("   ")[0] == (want or "").split("   ")[0]), 0)
        self.run_combo.setCurrentIndex(idx)
        self.run_combo.blockSignals(False)
        self._fill_checkpoints()

    def _fill_checkpoints(self) -> None:
        self.ckpt_combo.clear()
        data = self.run_combo.currentData()
        if isinstance(data, int) and data < len(self.runs):
            r = self.runs[data]
            for link in LINKS:
                if link in r.links:
                    self.ckpt_combo.addItem(f"{link} (step {step_name(r.links[link])})",
                                            str(r.checkpoint_path(link)))
            for step in reversed(r.checkpoints):
                self.ckpt_combo.addItem(f"step {step_name(step)}", str(r.checkpoint_path(step)))
        elif isinstance(data, str):
            self.ckpt_combo.addItem(data, data)
        emit(self.changed)

    def trained_tasks(self) -> tuple[str, ...]:
        """The task labels the chosen run was trained on (empty for a browsed path)."""
        data = self.run_combo.currentData()
        return self.runs[data].tasks if isinstance(data, int) and data < len(self.runs) else ()

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Checkpoint or run folder", str(self.runs_dir))
        if path:
            self.add_policy_path(Path(path))

    def add_policy_path(self, path: Path) -> None:
        """Use a checkpoint/run folder or an action script that is not in the runs list."""
        self.run_combo.addItem(Path(path).name, str(path))
        self.run_combo.setCurrentIndex(self.run_combo.count() - 1)

    def policy_path(self) -> Path | None:
        data = self.ckpt_combo.currentData()
        return Path(data) if data else None


def replay_outcome(stop_reason: str, dry_run: bool, task_result: dict | None) -> tuple[str, str]:
    """The end banner's kind and the words after the policy's own reason: the practice
    task's verdict when there is one, and never a green light the screen did not earn
    (the policy saying "done" proves nothing)."""
    if stop_reason == "error":
        return "error", ""
    if dry_run:
        return ("ok" if stop_reason in ("done", "max_steps") else "info"), ""
    if task_result is not None:
        ok = bool(task_result.get("success"))
        why = task_result.get("reason")
        return ("ok" if ok else "error"), (f" · the task is {'solved' if ok else 'NOT solved'}"
                                           + (f" ({gui_words(str(why))})" if why else ""))
    if stop_reason == "done":
        return "info", " · the policy stopped; not verified"
    return "info", ""


def status_message(ev: dict) -> str | None:
    """The status line for a runner event other than a step (pause, resume, abort,
    recording paused/resumed); ``None`` for events that change nothing there."""
    kind = ev.get("event")
    if kind in ("pause", "resume", "abort"):
        reason = str(ev.get("reason", "")).replace("_", " ")
        return {"pause": f"Paused: {reason}. You have control; it resumes when you are idle.",
                "resume": f"Resumed ({reason})", "abort": f"Aborting: {reason}"}[kind]
    if kind in ("recording_paused", "recording_resumed"):
        hotkey = hotkey_text(str(ev.get("hotkey") or "the pause hotkey"))
        return (f"Recording paused ({hotkey}): nothing is recorded, so the agent waits. "
                "Press it again to resume." if kind == "recording_paused"
                else f"Recording resumed (after {float(ev.get('waited_s') or 0):.1f} s)")
    return None
