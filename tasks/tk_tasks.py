"""Tk practice tasks, seen from the Qt host: a stand-in for `TaskWindow` per Tk window.

Tk and Qt cannot share a main loop, so each Tk task window lives in a child process
(`deskmimic.tasks.tk_host`) that reports its state as JSON lines. `TkTaskProxy` keeps the
latest report and answers the `TaskWindow` calls that the runner, the experts, the
recorder's labels and evaluation make (``state``, ``region``, ``element_boxes``,
``result``, ``abort``, ``finished``), so every one of them works on a Tk task unchanged.
Experts read that report, read-only, and act through the real injector as on Qt.
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import threading
import time
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Signal

from deskmimic.core.errors import TaskError
from deskmimic.core.geometry import Rect
from deskmimic.tasks.base import OTHER_TASKS, TASKS
from deskmimic.tasks.looks import HELDOUT, TRAIN, Look, check_mode

logger = logging.getLogger(__name__)

TOOLKIT = "tk"
DEFAULT_TK_LOOK = Look(style="tk", family="DejaVu Sans", point_size=10.5, scale=1.0,
                       palette="light", mode="default")
ABORT_WAIT_S = 3.0
CLOSE_WAIT_S = 3.0


def tk_look_for(task: str, seed: int, mode: str = "default") -> Look:
    """The look of Tk task ``task`` at ``seed``: font family and size and the palette come
    from the Qt split (`looks.TRAIN`/`looks.HELDOUT`: families and sizes disjoint, dark
    only held out). Tk has one widget style here and no scale of its own (scale 1)."""
    if check_mode(mode) == "default":
        return DEFAULT_TK_LOOK
    choices = TRAIN if mode == "varied" else HELDOUT
    rng = random.Random(f"look:{mode}:{task}:{seed}")  # never the layout's stream
    return Look(style="tk", family=rng.choice(choices.families),
                point_size=rng.choice(choices.sizes), scale=1.0,
                palette=rng.choice(choices.palettes), mode=mode)


def _rect(box: list[int]) -> Rect:
    return Rect(int(box[0]), int(box[1]), max(1, int(box[2])), max(1, int(box[3])))


class TkTaskProxy(QObject):
    """One Tk task window in a child process, with `TaskWindow`'s interface.

    Thread-safe: the child's reports arrive on a reader thread and are read under a lock,
    so experts may call `state` from their worker thread.

    Signals:
        finished(dict): emitted once with the result when the child reports it.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    max_steps: ClassVar[int] = 10
    toolkit: ClassVar[str] = TOOLKIT

    finished = Signal(dict)

    def __init__(self, seed: int, look: Look | None = None) -> None:
        super().__init__()
        if not isinstance(seed, int) or seed < 0:
            raise TaskError(f"task {self.name}: seed must be an integer >= 0, got {seed!r}")
        self.seed = seed
        self.look = look or DEFAULT_TK_LOOK
        self.instruction = ""
        self._state: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._local_result: dict[str, Any] | None = None
        self._emitted = False

    @classmethod
    def create(cls, seed: int, looks: str = "default") -> TkTaskProxy:
        """The task at ``seed`` in the look looks mode ``looks`` gives it (not shown yet)."""
        return cls(seed, tk_look_for(cls.name, seed, looks))

    # ---- the child ---------------------------------------------------------------------
    def show(self) -> None:
        """Start the child process; `is_shown` turns true once its window is mapped."""
        if self._proc is not None:
            return
        spec = {"task": self.name, "seed": self.seed, "look": self.look.to_dict()}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "deskmimic.tasks.tk_host", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, name=f"tk-{self.name}-{self.seed}",
                                        daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                logger.debug("tk child: %s", line.rstrip())
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
            raise TaskError(f"task {self.name}: the Tk window has not reported yet")
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


def register_tk(cls: type[TkTaskProxy]) -> type[TkTaskProxy]:
    """Add a Tk task to `deskmimic.tasks.base.OTHER_TASKS` under ``cls.name``."""
    if not cls.name or cls.name in TASKS or cls.name in OTHER_TASKS:
        raise TaskError(f"task class {cls.__name__}: name {cls.name!r} is empty or taken")
    OTHER_TASKS[cls.name] = cls
    return cls


# In the Qt tasks' order (simplest first), as `tasks list` shows them.
@register_tk
class TkClickButtonTask(TkTaskProxy):
    name = "tk_click_button"
    max_steps = 3
    description = "Tk: click the named button among distractors ('Click Save')"


@register_tk
class TkClickSequenceTask(TkTaskProxy):
    name = "tk_click_sequence"
    max_steps = 8
    description = "Tk: click buttons in a given order ('Click Red, then Blue, then Green')"


@register_tk
class TkCheckboxesTask(TkTaskProxy):
    name = "tk_checkboxes"
    max_steps = 10
    description = "Tk: tick exactly the named checkboxes and press Submit"


@register_tk
class TkTypeFieldTask(TkTaskProxy):
    name = "tk_type_field"
    max_steps = 6
    description = "Tk: type a given text into the named field and press Submit or Enter"


@register_tk
class TkPickListTask(TkTaskProxy):
    name = "tk_pick_list"
    max_steps = 6
    description = "Tk: pick an entry from a list or a drop-down"


# Same state fields as their Qt counterparts: the Qt experts solve them as they are.
EXPERT_OF = {"tk_click_button": "click_button", "tk_click_sequence": "click_sequence",
             "tk_checkboxes": "checkboxes", "tk_type_field": "type_field",
             "tk_pick_list": "pick_list"}

__all__ = ["DEFAULT_TK_LOOK", "EXPERT_OF", "TOOLKIT", "TkTaskProxy", "tk_look_for"]
