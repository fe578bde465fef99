"""A practice task window drawn by another toolkit, seen from the Qt host.

Tk and GTK cannot share Qt's main loop, so each of their task windows lives in a child
process (`deskmimic.tasks.tk_host`, `deskmimic.tasks.gtk_host`) that reports its state as
JSON lines. `ChildTaskProxy` keeps the latest report and answers the `TaskWindow` calls
that the runner, the experts, the recorder's labels and evaluation make (``state``,
``region``, ``element_boxes``, ``result``, ``abort``, ``finished``), so every one of them
works on such a task unchanged. Experts read that report, read-only, and act through the
real injector as on Qt. A toolkit subclasses it once (`TkTaskProxy`, `GtkTaskProxy`),
saying how to start its child and how a seed's look is drawn.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Signal

from deskmimic.core.errors import TaskError
from deskmimic.core.geometry import Rect
from deskmimic.tasks.base import OTHER_TASKS, TASKS
from deskmimic.tasks.looks import Look

logger = logging.getLogger(__name__)

ABORT_WAIT_S = 3.0
CLOSE_WAIT_S = 3.0


def _rect(box: list[int]) -> Rect:
    return Rect(int(box[0]), int(box[1]), max(1, int(box[2])), max(1, int(box[3])))


class ChildTaskProxy(QObject):
    """One task window in a child process, with `TaskWindow`'s interface.

    Thread-safe: the child's reports arrive on a reader thread and are read under a lock,
    so experts may call `state` from their worker thread.

    Subclasses set ``toolkit``, ``default_look`` and ``host_module`` (the child, run as
    ``python -m``) or override `child_command`, and `look_for`.

    Signals:
        finished(dict): emitted once with the result when the child reports it.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    max_steps: ClassVar[int] = 10
    toolkit: ClassVar[str] = ""
    host_module: ClassVar[str] = ""
    default_look: ClassVar[Look] = Look()

    finished = Signal(dict)

    def __init__(self, seed: int, look: Look | None = None) -> None:
        super().__init__()
        if not isinstance(seed, int) or seed < 0:
            raise TaskError(f"task {self.name}: seed must be an integer >= 0, got {seed!r}")
        self.seed = seed
        self.look = look or self.default_look
        self.instruction = ""
        self._state: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._local_result: dict[str, Any] | None = None
        self._emitted = False

    @classmethod
    def look_for(cls, seed: int, looks: str) -> Look:
        """The look of this task at ``seed`` in looks mode ``looks``."""
        raise NotImplementedError

    @classmethod
    def create(cls, seed: int, looks: str = "default") -> ChildTaskProxy:
        """The task at ``seed`` in the look looks mode ``looks`` gives it (not shown yet)."""
        return cls(seed, cls.look_for(seed, looks))

    # ---- the child ---------------------------------------------------------------------
    def child_command(self, spec: dict[str, Any]) -> list[str]:
        """The child's command line for task ``spec`` (task, seed, look)."""
        return [sys.executable, "-m", self.host_module, json.dumps(spec)]

    def show(self) -> None:
        """Start the child process; `is_shown` turns true once its window is mapped."""
        if self._proc is not None:
            return
        spec = {"task": self.name, "seed": self.seed, "look": self.look.to_dict()}
        self._proc = subprocess.Popen(self.child_command(spec), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"{self.toolkit}-{self.name}-{self.seed}")
        self._reader.start()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                logger.debug("%s child: %s", self.toolkit, line.rstrip())
                continue
            if msg.get("event") != "state":
                continue
            state = msg["state"]
            with self._lock:
                self._state = state
                self.instruction = state["instruction"]
                emit = state["done"] and not self._emitted
                self._emitted = self._emitted or emit
            if emit:
                self.finished.emit(dict(state["result"]))

    def _send(self, cmd: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None or proc.stdin is None:
            return
        try:
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the child is gone; its last report stands

    def is_shown(self) -> bool:
        """Whether the child's window is on screen (it has reported once)."""
        with self._lock:
            return self._state is not None and bool(self._state.get("shown"))

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Close the window (a running task ends as 'window closed') and reap the child."""
        proc = self._proc
        if proc is None:
            return
        self._send({"cmd": "close"})
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(CLOSE_WAIT_S)
        if self._reader is not None:
            self._reader.join(CLOSE_WAIT_S)
        if proc.stdout is not None:
            proc.stdout.close()

    # ---- TaskWindow's interface ----------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The latest report, boxes and region as `Rect`s in screen pixels."""
        with self._lock:
            raw = dict(self._state or {})
        if not raw:
            raise TaskError(f"task {self.name}: the {self.toolkit} window has not reported yet")
        raw["boxes"] = {k: _rect(v) for k, v in raw["boxes"].items()}
        raw["region"] = _rect(raw["region"])
        if self._local_result is not None and not raw["done"]:
            raw["done"], raw["result"], raw["next"] = True, dict(self._local_result), []
        return raw

    def region(self) -> Rect:
        return self.state()["region"]

    def element_boxes(self) -> dict[str, Rect]:
        return self.state()["boxes"]

    def next_targets(self) -> list[str]:
        return list(self.state()["next"])

    def result(self) -> dict[str, Any] | None:
        with self._lock:
            result = self._state.get("result") if self._state else None
        result = result or self._local_result
        return dict(result) if result else None

    def is_done(self) -> bool:
        return self.result() is not None

    def abort(self, reason: str) -> None:
        """End the task as a failure from outside; waits for the child's verdict."""
        if self.is_done():
            return
        self._send({"cmd": "abort", "reason": reason})
        deadline = time.monotonic() + ABORT_WAIT_S
        while not self.is_done() and time.monotonic() < deadline and self.alive():
            time.sleep(0.02)
        if not self.is_done():
            # The child died or hangs: the host still owes a verdict.
            self._local_result = {"task": self.name, "seed": self.seed, "success": False,
                                  "reward": 0.0, "reason": reason, "steps": 0, "duration_s": 0.0}
            if not self._emitted:
                self._emitted = True
                self.finished.emit(dict(self._local_result))


def register_child(cls: type[ChildTaskProxy]) -> type[ChildTaskProxy]:
    """Add a child-process task to `deskmimic.tasks.base.OTHER_TASKS` under ``cls.name``."""
    if not cls.name or cls.name in TASKS or cls.name in OTHER_TASKS:
        raise TaskError(f"task class {cls.__name__}: name {cls.name!r} is empty or taken")
    OTHER_TASKS[cls.name] = cls
    return cls


__all__ = ["ABORT_WAIT_S", "CLOSE_WAIT_S", "ChildTaskProxy", "register_child"]
