"""Replay off the UI thread: a QThread that loads the policy and runs ``ReplayRunner``,
re-emitting its progress (with the dry run's annotated screenshot already decoded), and
the small always-on-top bar shown while the agent works on the live desktop."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QRect, Qt, QThread, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QPushButton

from deskmimic.app.gui.common import emit, hotkey_text
from deskmimic.app.gui.widgets.floatbar import BUTTON_QSS, FloatingBar
from deskmimic.core.errors import DeskmimicError

logger = logging.getLogger(__name__)


class ReplayWorker(QThread):
    """Loads ``policy_path`` (run/checkpoint folder or action script) and runs one replay.

    ``event(dict)``: the runner's progress events; a dry-run step carries ``image``
    (QImage of the annotated screenshot). ``ended(dict)``: once, with ``result``
    (ReplayResult) or ``error``.
    """

    event = Signal(object)
    ended = Signal(object)

    _live: set[ReplayWorker] = set()

    def __init__(self, policy_path: Path, cfg) -> None:
        super().__init__()
        self.policy_path = Path(policy_path)
        self.cfg = cfg
        self.runner = None
        self._abort = threading.Event()
        self._lock = threading.Lock()
        self.setObjectName("deskmimic-replay")
        ReplayWorker._live.add(self)
        self.finished.connect(self._forget)

    def abort(self, reason: str = "gui_abort", message: str = "aborted from the window") -> None:
        """Stop the agent now (thread-safe; before it started, it never starts)."""
        self._abort.set()
        with self._lock:
            runner = self.runner
        if runner is not None:
            runner.stop(reason, message)

    def run(self) -> None:
        try:
            from deskmimic.agent.runner import ReplayRunner
            from deskmimic.app.cli.replay import load_any_policy

            policy = load_any_policy(self.policy_path)
            with self._lock:
                if self._abort.is_set():
                    emit(self.ended, {"event": "aborted"})
                    return
                self.runner = ReplayRunner(policy, self.cfg, on_event=self._relay)
            result = self.runner.run()
            emit(self.ended, {"event": "done", "result": result})
        except BaseException as exc:  # shown in the window; never kills the app
            if not isinstance(exc, DeskmimicError):
                logger.error("replay failed", exc_info=exc)
            emit(self.ended, {"event": "failed", "error": exc})

    def _relay(self, ev: dict) -> None:
        """Runs on the runner's threads: decode the screenshot here, not on the UI thread."""
        ev = dict(ev)
        name = ev.get("annotated")
        out = self.runner.out if self.runner is not None else None
        if name and out is not None:
            img = QImage(str(Path(out) / "annotated" / name))
            if not img.isNull():
                ev["image"] = img
        emit(self.event, ev)

    def _forget(self) -> None:
        ReplayWorker._live.discard(self)
        self.deleteLater()

    @classmethod
    def abort_all(cls, timeout_ms: int = 10_000) -> None:
        for w in list(cls._live):
            w.abort("window_closed", "the deskmimic window was closed")
            w.wait(timeout_ms)


class AgentBar(FloatingBar):
    """Frameless, always on top, at the bottom of the screen: what the agent does and how
    to stop it, while the main window is out of the way."""

    abort_clicked = Signal()

    def __init__(self) -> None:
        super().__init__("deskmimic agent", "2px solid #f59e0b",
                         "QLabel#mode { color: #fbbf24; font-weight: 700; }"
                         "QLabel#abort { color: #fde68a; font-weight: 600; }" + BUTTON_QSS)
        self.mode = QLabel("● AGENT")
        self.mode.setObjectName("mode")
        self.label = QLabel("starting…")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.abort_label = QLabel()
        self.abort_label.setObjectName("abort")
        self.button = QPushButton("Abort")
        self.button.clicked.connect(lambda: emit(self.abort_clicked))
        for w in (self.mode, self.label, self.abort_label, self.button):
            self.row.addWidget(w)

    def show_for(self, hotkey: str, dry_run: bool, screen: QRect) -> None:
        self.mode.setText("● DRY RUN" if dry_run else "● AGENT")
        self.abort_label.setText(f"Abort: {hotkey_text(hotkey)}")
        self.label.setText("starting…")
        self.adjustSize()
        self.move(screen.center().x() - self.width() // 2, screen.bottom() - self.height() - 12)
        self.show()
        self.raise_()

    def set_text(self, text: str) -> None:
        self.label.setText(text)
        self.adjustSize()
