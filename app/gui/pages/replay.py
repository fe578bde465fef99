"""The Replay page: pick a trained run/checkpoint and a target (a practice task, or the
live desktop), dry-run it (the predicted action drawn on the screenshot the agent saw)
or run it with the abort hotkey in view, follow a live log of its decisions with their
confidence, and open the recorded replay in the viewer afterwards."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

# The agent's modules are imported here, by the UI thread at start-up: imported first by
# the replay worker, they would hold the import lock while a UI slot waits for it.
from deskmimic.agent.abort import DEFAULT_ABORT_HOTKEY
from deskmimic.agent.guards import GuardConfig
from deskmimic.agent.runner import ReplayConfig
from deskmimic.app.cli import replay as cli_replay  # noqa: F401 - load_any_policy, used by the worker
from deskmimic.app.gui.common import Banner, emit, gui_words, heading, hotkey_text, muted, plural
from deskmimic.app.gui.widgets.replayform import OptionsBox, TargetBox
from deskmimic.app.gui.widgets.replayview import (
    PolicyPicker,
    PreviewLabel,
    decision_item,
    replay_outcome,
    status_message,
)
from deskmimic.app.gui.workers.replaywork import AgentBar, ReplayWorker
from deskmimic.core.errors import DeskmimicError, describe_error
from deskmimic.models.runs import RunInfo
from deskmimic.recorder.episode_edit import set_success

logger = logging.getLogger(__name__)


class ReplayPanel(QWidget):
    """Emits ``episode_saved(Path)`` when a replay was recorded, and ``open_requested(Path)``
    to show it on the Episodes page."""

    open_requested = Signal(object)
    episode_saved = Signal(object)

    def __init__(self, runs_dir: Path, episodes_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self.episodes_dir = Path(episodes_dir)
        self.abort_hotkey = DEFAULT_ABORT_HOTKEY
        self.worker: ReplayWorker | None = None
        self._ending = False  # the agent stopped; the task's verdict is still to come
        self.task = None  # the practice task window of the current run
        self.task_result: dict | None = None
        self.dry_run = True
        self.last_episode: Path | None = None
        self.last_result = None
        self._hidden_window: QWidget | None = None
        self.bar = AgentBar()
        self.bar.abort_clicked.connect(self.abort)
        self._build()
        self._set_running(False)

    # ---- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(24, 16, 24, 12)
        root.setSpacing(10)
        root.addWidget(heading("Replay", 18))
        root.addWidget(muted("A trained policy carries the task out: it looks at the screen, decides, "
                             "and acts with real input. A dry run only shows what it would do."))
        root.addWidget(self._build_abort_frame())
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addLayout(self._build_setup(), 2)
        body.addLayout(self._build_output(), 3)
        root.addLayout(body, 1)
        self.banner = Banner()
        root.addWidget(self.banner)
        self.set_abort_hotkey(self.abort_hotkey)

    def _build_abort_frame(self) -> QFrame:
        """The abort hotkey, above everything (set by ``set_abort_hotkey``)."""
        self.abort_frame = QFrame()
        self.abort_frame.setObjectName("abortframe")
        self.abort_frame.setStyleSheet("QFrame#abortframe { background: #fffbeb; border: 2px solid "
                                       "#f59e0b; border-radius: 8px; } QLabel { color: #78350f; }")
        al = QHBoxLayout(self.abort_frame)
        al.setContentsMargins(14, 8, 14, 8)
        self.abort_label = QLabel()
        self.abort_label.setTextFormat(Qt.TextFormat.RichText)
        self.abort_label.setWordWrap(True)
        al.addWidget(self.abort_label, 1)
        return self.abort_frame

    def _build_setup(self) -> QVBoxLayout:
        """The left column: policy, target, options, the buttons and the status."""
        import deskmimic.tasks  # noqa: F401 - registers the practice tasks
        from deskmimic.tasks.base import TASKS

        left = QVBoxLayout()
        left.setSpacing(10)
        self.picker = PolicyPicker(self.runs_dir)
        self.picker.changed.connect(lambda: self._set_running(self.running))
        self.picker.changed.connect(lambda: self.target_box.prefer_task(self.picker.trained_tasks()))
        self.picker.failed.connect(self.banner_message)
        left.addWidget(self.picker)
        self.target_box = TargetBox(list(TASKS))
        left.addWidget(self.target_box)
        self.options_box = OptionsBox()
        left.addWidget(self.options_box)
        # The form's parts under the names the rest of the page, the tests and the
        # screenshots use.
        p, t, o = self.picker, self.target_box, self.options_box
        self.run_combo, self.ckpt_combo = p.run_combo, p.ckpt_combo
        self.browse_button, self.refresh_button = p.browse_button, p.refresh_button
        self.rb_task, self.rb_desktop, self.task_combo = t.rb_task, t.rb_desktop, t.task_combo
        self.seed_spin, self.window_edit = t.seed_spin, t.window_edit
        self.instruction_edit = t.instruction_edit
        self.steps_spin, self.conf_spin = o.steps_spin, o.conf_spin
        self.record_check, self.open_check = o.record_check, o.open_check
        left.addLayout(self._build_buttons())
        self.status_label = QLabel("Ready")
        self.status_label.setWordWrap(True)
        left.addWidget(self.status_label)
        self.open_button = QPushButton("Open the replay episode")
        self.open_button.clicked.connect(self._open_last)
        self.open_button.hide()
        left.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        left.addStretch(1)
        return left

    def _build_buttons(self) -> QHBoxLayout:
        btns = QHBoxLayout()
        self.dry_button = QPushButton("Dry run")
        self.dry_button.setObjectName("big")
        self.dry_button.setToolTip("Decide on the live screen and draw each action; inject nothing")
        self.dry_button.clicked.connect(lambda: self.start(dry_run=True))
        self.run_button = QPushButton("▶  Run")
        self.run_button.setObjectName("record")
        self.run_button.clicked.connect(lambda: self.start(dry_run=False))
        self.abort_button = QPushButton("Abort")
        self.abort_button.setObjectName("danger")
        self.abort_button.clicked.connect(self.abort)
        btns.addWidget(self.dry_button)
        btns.addWidget(self.run_button)
        btns.addWidget(self.abort_button)
        btns.addStretch(1)
        return btns

    def _build_output(self) -> QVBoxLayout:
        """The right column: what the agent saw (dry run) over the log of its decisions."""
        right = QVBoxLayout()
        right.setSpacing(8)
        self.preview = PreviewLabel()
        self.preview.set_image(None, "The screen as the agent saw it, with its next action drawn "
                                     "on it, appears here during a dry run.")
        right.addWidget(self.preview, 3)
        self.log = QTreeWidget()
        self.log.setRootIsDecorated(False)
        self.log.setAlternatingRowColors(True)
        self.log.setHeaderLabels(["Step", "Action", "Confidence", "Status"])
        hh = self.log.header()
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        right.addWidget(self.log, 2)
        return right

    def banner_message(self, text: str) -> None:
        self.banner.show_message(text)

    def set_abort_hotkey(self, hotkey: str) -> None:
        self.abort_hotkey = hotkey
        self.abort_label.setText(
            f"<b>Abort at any time: {hotkey_text(hotkey)}</b> &nbsp;or push the pointer into the "
            "screen's top-left corner. Moving the mouse or typing pauses the agent.")

    # ---- runs and checkpoints (the picker; these delegate for callers and tests) ----------
    def refresh(self, select: str | None = None) -> None:
        self.picker.refresh(select)

    def select_run(self, run: RunInfo) -> None:
        self.picker.refresh(select=run.name)

    def add_policy_path(self, path: Path) -> None:
        self.picker.add_policy_path(path)

    def policy_path(self) -> Path | None:
        return self.picker.policy_path()

    # ---- a replay -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None or self._ending

    def start(self, dry_run: bool) -> None:
        if self.running:
            return
        policy = self.policy_path()
        if policy is None:
            self.banner.show_message("Pick a trained run first (train one on the Train page).")
            return
        self.banner.hide()
        self.log.clear()
        self.task_result = self.last_result = self.last_episode = None
        self.open_button.hide()
        self.preview.set_image(None, "Waiting for the first decision…" if dry_run else
                               "Live run: the agent acts on the screen; its decisions are logged below.")
        try:
            if self.rb_task.isChecked():
                self._start_task(policy, dry_run)
            else:
                self._launch(policy, dry_run, region=None, window=self.window_edit.text().strip() or None,
                             instruction=self.instruction_edit.text().strip(), label="replay")
        except DeskmimicError as exc:
            self._close_task()
            self.banner.show_message(describe_error(exc))

    def _start_task(self, policy: Path, dry_run: bool) -> None:
        from deskmimic.tasks.runner import make_task

        name, seed = self.task_combo.currentText(), self.seed_spin.value()
        task = make_task(name, seed)
        self.task = task
        task.finished.connect(self._task_finished)
        task.show()
        task.raise_()
        self.target_box.set_task_instruction(task.instruction)
        self._set_running(True)
        self.status_label.setText(f"Showing {name} (seed {seed})…")
        # Let it map and paint before the agent's first look (no nested event loop).
        QTimer.singleShot(400, lambda: self._launch(policy, dry_run, region=task.region(), window=None,
                                                    instruction=task.instruction,
                                                    label=f"replay-{name}")
                          if self.task is task else None)

    def _launch(self, policy: Path, dry_run: bool, region, window: str | None, instruction: str,
                label: str) -> None:
        try:
            cfg = ReplayConfig(instruction=instruction, region=region, window=window,
                               max_steps=self.steps_spin.value(),
                               min_confidence=float(self.conf_spin.value()), dry_run=dry_run,
                               record=self.record_check.isChecked(), episodes_dir=self.episodes_dir,
                               task=label, guards=GuardConfig(abort_hotkey=self.abort_hotkey))
        except DeskmimicError as exc:
            self._close_task()
            self._set_running(False)
            self.banner.show_message(describe_error(exc))
            return
        self.dry_run = dry_run
        self.worker = ReplayWorker(policy, cfg)
        self.worker.event.connect(self._on_event)
        self.worker.ended.connect(self._on_ended)
        self._set_running(True)
        if self.task is None:  # the live desktop: step out of the agent's way
            win = self.window()
            self._hidden_window = win
            win.hide()
            self.bar.show_for(self.abort_hotkey, dry_run, QApplication.primaryScreen().geometry())
        self.status_label.setText(("Dry run" if dry_run else "Running") + ": loading the policy…")
        self.worker.start()

    def abort(self) -> None:
        if self.worker is not None:
            self.worker.abort()
            self.status_label.setText("Aborting…")

    def _task_finished(self, result: dict) -> None:
        self.task_result = result
        if self.worker is not None and not self.dry_run:
            # The task ended (solved or failed): nothing left to do for the agent.
            w = self.worker
            QTimer.singleShot(300, lambda: self._stop_after_task(w))

    def _stop_after_task(self, worker: ReplayWorker) -> None:
        # The agent may have ended on its own meanwhile: an abort then would only overwrite
        # the run's outcome in the status line with "Aborting".
        if self.worker is worker:
            worker.abort("task_finished", "the practice task ended")

    def _on_event(self, ev: dict) -> None:
        kind = ev.get("event")
        if kind == "step":
            item, desc, conf = decision_item(ev)
            self.log.addTopLevelItem(item)
            self.log.scrollToItem(item)
            if isinstance(ev.get("image"), QImage):
                self.preview.set_image(ev["image"])
            text = f"step {ev.get('step', 0) + 1}: {desc} (confidence {conf:.2f})"
            self.status_label.setText(("Dry run · " if self.dry_run else "Running · ") + text)
            self.bar.set_text(text)
        elif (msg := status_message(ev)) is not None:
            self.status_label.setText(msg)
            self.bar.set_text(msg)

    def _on_ended(self, end: dict) -> None:
        self.worker = None
        self.bar.hide()
        if self._hidden_window is not None:
            self._hidden_window.show()
            self._hidden_window = None
        task = self.task
        if end["event"] == "done" and not self.dry_run and task is not None and not task.is_done():
            # As evaluation does: the policy stopped before the task ended, so the task is
            # judged as it stands, once the last click has reached it.
            r = end["result"]
            self._ending = True
            QTimer.singleShot(150, lambda: (task.is_done() or task.abort(
                f"agent stopped ({r.stop_reason}): {r.message}"), self._show_end(end)))
            return
        self._show_end(end)

    def _show_end(self, end: dict) -> None:
        self._ending = False
        self._set_running(False)
        if end["event"] == "failed":
            self.status_label.setText("Failed")
            self.banner.show_message(f"The replay could not run: {describe_error(end['error'])}")
        elif end["event"] == "aborted":
            self.status_label.setText("Aborted before it started")
        else:
            r = end["result"]
            self.last_result = r
            outcome = ""
            if self.task_result is not None:
                ok = self.task_result.get("success")
                outcome = f" · task {'✔ solved' if ok else '✘ not solved'} ({self.task_result.get('reason')})"
            self.status_label.setText(f"Ended: {gui_words(r.message)} · {plural(r.steps, 'step')}"
                                      f" in {r.duration_s:.1f} s{outcome}")
            kind, verdict = replay_outcome(r.stop_reason, self.dry_run, self.task_result)
            self.banner.show_message(f"{'Dry run' if self.dry_run else 'Replay'} ended: "
                                     f"{gui_words(r.message)}{verdict}", kind)
            if self.preview.image is None:
                self.preview.set_image(None, f"Nothing to draw: {gui_words(r.message)}." if self.dry_run
                                       else "The run is over; its decisions are listed below.")
            if r.episode is not None:
                self.last_episode = Path(r.episode)
                self._store_outcome(self.last_episode)
                emit(self.episode_saved, self.last_episode)
                self.open_button.show()
                if self.open_check.isChecked():
                    QTimer.singleShot(600, self._open_last)
        task = self.task
        QTimer.singleShot(800, lambda: self._close_task(task))

    def _store_outcome(self, episode: Path) -> None:
        """A replay of a practice task keeps the task's verdict, as a demonstration does."""
        if self.task_result is None or self.dry_run:
            return
        try:
            set_success(episode, bool(self.task_result.get("success")))
        except (DeskmimicError, OSError) as exc:
            self.banner.show_message(f"The replay's outcome could not be saved: {describe_error(exc)}")

    def _open_last(self) -> None:
        if self.last_episode is not None:
            emit(self.open_requested, self.last_episode)

    def _close_task(self, task=None) -> None:
        """Close ``task`` (default: the current one) unless a newer run uses it."""
        task = task or self.task
        if task is None or (task is self.task and self.running):
            return
        if task is self.task:
            self.task = None
        try:
            task.close()
            task.deleteLater()
        except RuntimeError:  # already deleted (closed at shutdown)
            pass

    def _set_running(self, on: bool) -> None:
        has_policy = self.policy_path() is not None
        self.dry_button.setEnabled(not on and has_policy)
        self.run_button.setEnabled(not on and has_policy)
        self.abort_button.setEnabled(on)
        for w in (self.run_combo, self.ckpt_combo, self.browse_button, self.refresh_button,
                  self.rb_task, self.rb_desktop, self.task_combo, self.seed_spin, self.window_edit,
                  self.instruction_edit, self.steps_spin, self.conf_spin, self.record_check):
            w.setEnabled(not on)

    def shutdown(self) -> None:
        ReplayWorker.abort_all(15_000)
        self.bar.hide()
        self._close_task()
