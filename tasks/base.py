"""The practice-task window base class, its step counter and the task registry.

A task is a small top-level Qt window: an instruction banner on top, the task's
controls below. Everything random about it (window position and size, labels,
distractors, order) comes from one ``random.Random`` seeded by the task name and
the seed, so the same seed always gives the same layout. The task judges its own
outcome and emits `TaskWindow.finished` once with the result dict.

All methods must be called on the GUI thread (experts running in a worker thread go
through `deskmimic.tasks.runner.GuiCaller`).
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any, ClassVar

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from deskmimic.core.errors import TaskError
from deskmimic.core.geometry import Rect
from deskmimic.core.rules import StepRules
from deskmimic.tasks.layout import global_rect, widget_box
from deskmimic.tasks.looks import DEFAULT_LOOK, Look, fit_window, grow_banner, window_font
from deskmimic.tasks.vocab import Vocab, is_heldout_seed

logger = logging.getLogger(__name__)

SCREEN = Rect(0, 0, 1280, 800)
"""The screen the layouts are drawn for (window positions are randomized inside it)."""

TOP_MARGIN = 36  # room for a window manager's title bar above the client area

_RULES = StepRules()  # the step reducer's thresholds, which the step counter mirrors

TASKS: dict[str, type[TaskWindow]] = {}
"""Registered Qt task classes by name, filled by `register`."""

OTHER_TASKS: dict[str, type] = {}
"""Tasks drawn by other toolkits (Tk: `deskmimic.tasks.tk_tasks`), by name. Kept out of
`TASKS`: what iterates `TASKS` builds Qt windows (the learning bench's default task list,
the Gymnasium ids, the Qt layout and looks tests); what takes a task by name (the CLI,
`make_task`, `run_task`, demos, eval, the experts bench) looks in `all_tasks`."""


def all_tasks() -> dict[str, type]:
    """Every task by name, Qt first; each class says its ``toolkit`` and ``max_steps``."""
    return {**TASKS, **OTHER_TASKS}

BANNER_STYLE = {
    "idle": "background:#eef3fb; color:#1d2939; border-bottom:1px solid #c9d6ea;",
    "success": "background:#e3f4e6; color:#14532d; border-bottom:1px solid #9fd4aa;",
    "failure": "background:#fbe7e6; color:#7a1f1a; border-bottom:1px solid #e6a7a2;",
}
BACKGROUNDS = ("#ffffff", "#fbfbf8", "#f7f9fc", "#fafaf5", "#f6f8f6")


def register(cls: type[TaskWindow]) -> type[TaskWindow]:
    """Class decorator adding a task class to `TASKS` under ``cls.name``."""
    if not cls.name or cls.name in TASKS:
        raise TaskError(f"task class {cls.__name__}: name {cls.name!r} is empty or taken")
    TASKS[cls.name] = cls
    return cls


class StepCounter(QObject):
    """Counts the user's interactions with one task the way the step reducer groups them.

    Same thresholds as the reducer (`deskmimic.core.rules.StepRules`, read from there): a
    mouse press is a step (the second press of a double click, within ``double_click_ms``
    and ``double_click_px``, is not); a run of printable keys (gaps within
    ``idle_gap_ms``) is one ``type`` step; any other key (Enter, Tab, a chord) is one
    step; a burst of wheel events (gaps within ``scroll_gap_ms``) is one ``scroll`` step.
    """

    DOUBLE_CLICK_S = _RULES.double_click_ms / 1000
    DOUBLE_CLICK_PX = _RULES.double_click_px
    SCROLL_GAP_S = _RULES.scroll_gap_ms / 1000
    TYPE_GAP_S = _RULES.idle_gap_ms / 1000

    def __init__(self, task: TaskWindow) -> None:
        super().__init__(task)
        self._task = task
        self.count = 0
        self._last_kind = ""
        self._last_time = 0.0
        self._last_press: tuple[float, int, int] = (-1e9, 0, 0)
        self._seen: set[tuple] = set()

    def start(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel):
            return False
        if not isinstance(obj, QWidget) or not self._task.owns(obj):
            return False
        # The application filter sees an event once per widget it propagates to.
        key = (int(kind.value), event.timestamp(), _event_detail(event))
        if key in self._seen:
            return False
        self._seen.add(key)
        now = time.monotonic()
        if kind == QEvent.Type.MouseButtonPress:
            pos = event.globalPosition().toPoint()
            t, x, y = self._last_press
            double = (now - t <= self.DOUBLE_CLICK_S and abs(pos.x() - x) <= self.DOUBLE_CLICK_PX
                      and abs(pos.y() - y) <= self.DOUBLE_CLICK_PX)
            self._last_press = (now, pos.x(), pos.y())
            if not double:
                self._add("pointer", now)
        elif kind == QEvent.Type.Wheel:
            if self._last_kind != "scroll" or now - self._last_time > self.SCROLL_GAP_S:
                self._add("scroll", now)
            self._last_kind, self._last_time = "scroll", now
        else:
            assert isinstance(event, QKeyEvent)
            if event.isAutoRepeat() or event.key() in _MODIFIER_KEYS:
                return False
            text = event.text()
            mods = event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                        | Qt.KeyboardModifier.AltModifier
                                        | Qt.KeyboardModifier.MetaModifier)
            if text and text.isprintable() and not mods:
                if self._last_kind != "type" or now - self._last_time > self.TYPE_GAP_S:
                    self._add("type", now)
                self._last_time = now
            else:
                self._add("key", now)
        return False

    def _add(self, kind: str, now: float) -> None:
        self.count += 1
        self._last_kind, self._last_time = kind, now


_MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                  Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock}


def _event_detail(event: QEvent) -> int:
    if isinstance(event, QKeyEvent):
        return int(event.key())
    button = getattr(event, "button", None)
    return int(button().value) if button is not None else 0


class TaskWindow(QWidget):
    """Base of every practice task.

    Subclasses set ``name``, ``description``, the size ranges, and implement `build`
    (create the controls in ``self.body`` and set ``self.instruction``), `boxes`
    (named widgets/rects) and optionally `extra_state` and `next_targets`.

    Signals:
        finished(dict): emitted once with `result()` when the task ends.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    width_range: ClassVar[tuple[int, int]] = (380, 560)
    height_range: ClassVar[tuple[int, int]] = (300, 440)
    banner_height: ClassVar[int] = 46
    # Decisions an agent gets per episode by default (eval, demo, the learning bench):
    # the expert's most steps, "done" and a spare or two.
    max_steps: ClassVar[int] = 10
    # The toolkit drawing it; other toolkits' tasks stand in for a TaskWindow
    # (`deskmimic.tasks.tk_tasks`).
    toolkit: ClassVar[str] = "qt"

    finished = Signal(dict)

    def __init__(self, seed: int, look: Look | None = None) -> None:
        super().__init__()
        # How it is drawn; `deskmimic.tasks.looks.apply_look` has set the application up.
        self.look = look or DEFAULT_LOOK
        if not isinstance(seed, int) or seed < 0:
            raise TaskError(f"task {self.name}: seed must be an integer >= 0, got {seed!r}")
        self.seed = seed
        self.rng = random.Random(f"{self.name}:{seed}")
        self.vocab = Vocab(self.rng, heldout=is_heldout_seed(seed))
        self.instruction = ""
        self._result: dict[str, Any] | None = None
        self._t_shown: float | None = None
        self.counter = StepCounter(self)

        w = self.rng.randint(*self.width_range)
        h = self.rng.randint(*self.height_range)
        x = self.rng.randint(SCREEN.left + 8, SCREEN.right - w - 8)
        y = self.rng.randint(SCREEN.top + TOP_MARGIN, SCREEN.bottom - h - 8)
        w, h, x, y = fit_window(self.look, (w, h, x, y), (SCREEN.width, SCREEN.height), TOP_MARGIN)
        self.setObjectName("task")
        self.setWindowTitle(f"deskmimic task: {self.name} (seed {seed})")
        self.setFixedSize(w, h)
        self.setFont(window_font(self.look, self.font()))
        self.move(x, y)
        background = self.look.surface(self.rng.choice(BACKGROUNDS))
        self.setStyleSheet(f"QWidget#task, QWidget#body {{ background:{background}; }}")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = QLabel(self)
        self.banner.setObjectName("instruction")
        self.banner.setWordWrap(True)
        self.banner.setFixedHeight(self.banner_height)
        font = window_font(self.look, self.banner.font(), 1.0)
        font.setBold(True)
        self.banner.setFont(font)
        layout.addWidget(self.banner)
        self.body = QWidget(self)
        self.body.setObjectName("body")
        layout.addWidget(self.body, 1)
        # Known before layout runs, so build() can place controls absolutely.
        self.body_size = QSize(w, h - self.banner_height)
        self.build()
        if not self.instruction:
            raise TaskError(f"task {self.name}: build() must set an instruction")
        self._set_banner(self.instruction, "idle")
        grow_banner(self, (SCREEN.width, SCREEN.height), TOP_MARGIN)
        # The window itself holds the focus at first, so no field starts with a cursor
        # in it: typing needs a click into the right field first, on every seed.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setFocus()

    # ---- to implement ------------------------------------------------------------------
    def build(self) -> None:
        """Create the controls inside ``self.body`` and set ``self.instruction``."""
        raise NotImplementedError

    def boxes(self) -> dict[str, QWidget | Rect | None]:
        """Named elements: widgets (boxed where visible) or ready screen `Rect`s."""
        return {}

    def extra_state(self) -> dict[str, Any]:
        """Task-specific part of `state` (what an expert needs to act)."""
        return {}

    def next_targets(self) -> list[str]:
        """Element names the next correct action is aimed at (for step-wise evaluation)."""
        return []

    # ---- public API --------------------------------------------------------------------
    def region(self) -> Rect:
        """The window's client area in screen pixels (what to record)."""
        return global_rect(self, self.rect())

    def element_boxes(self) -> dict[str, Rect]:
        """Every named, visible element as a `Rect` in screen pixels."""
        out: dict[str, Rect] = {"instruction": global_rect(self.banner, self.banner.rect())}
        for name, item in self.boxes().items():
            box = item if isinstance(item, Rect) or item is None else widget_box(item)
            if box is not None:
                out[name] = box
        return out

    def state(self) -> dict[str, Any]:
        """A plain snapshot for experts and evaluation (GUI thread only)."""
        return {
            "name": self.name,
            "seed": self.seed,
            "instruction": self.instruction,
            "done": self._result is not None,
            "result": dict(self._result) if self._result else None,
            "region": self.region(),
            "boxes": self.element_boxes(),
            "next": [] if self._result else self.next_targets(),
            **self.extra_state(),
        }

    def result(self) -> dict[str, Any] | None:
        """The result dict once finished (else ``None``): task, seed, success, reward,
        reason, steps, duration_s."""
        return dict(self._result) if self._result else None

    def is_done(self) -> bool:
        return self._result is not None

    def owns(self, widget: QWidget) -> bool:
        """Whether ``widget`` belongs to this task (its window, dialogs or popups)."""
        w: QWidget | None = widget
        while w is not None:
            if w is self:
                return True
            w = w.parentWidget()
        return False

    def abort(self, reason: str) -> None:
        """End the task as a failure from outside (timeout, window closed)."""
        self._finish(False, reason)

    # ---- for subclasses ----------------------------------------------------------------
    def area(self, margin: int = 16) -> QRect:
        """The body's inner rectangle (body coordinates) for absolute placement."""
        return QRect(margin, margin, self.body_size.width() - 2 * margin,
                     self.body_size.height() - 2 * margin)

    def succeed(self, reason: str = "solved") -> None:
        self._finish(True, reason)

    def fail(self, reason: str) -> None:
        self._finish(False, reason)

    def _finish(self, success: bool, reason: str) -> None:
        if self._result is not None:
            return
        self.counter.stop()
        duration = time.monotonic() - self._t_shown if self._t_shown is not None else 0.0
        self._result = {
            "task": self.name, "seed": self.seed, "success": bool(success),
            "reward": 1.0 if success else 0.0, "reason": reason,
            "steps": self.counter.count, "duration_s": round(duration, 3),
        }
        logger.info("task %s seed %d finished: %s", self.name, self.seed, self._result)
        self.body.setEnabled(False)
        mark = "\u2714 Done" if success else "\u2718 Failed"
        self._set_banner(f"{mark}: {reason}", "success" if success else "failure")
        self.on_finished()
        self.finished.emit(dict(self._result))

    def on_finished(self) -> None:
        """Hook: close popups or dialogs the task opened."""

    def _set_banner(self, text: str, mood: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(f"QLabel#instruction {{ {self.look.banner_css(mood, BANNER_STYLE)} padding:8px 12px; }}")

    # ---- Qt events ---------------------------------------------------------------------
    def showEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if self._t_shown is None:
            self._t_shown = time.monotonic()
            self.counter.start()
        super().showEvent(event)

    def closeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if self._result is None and self._t_shown is not None:
            self._finish(False, "window closed")
        self.counter.stop()
        super().closeEvent(event)
