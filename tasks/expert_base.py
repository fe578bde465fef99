"""What a scripted expert may do, and the worker thread that runs one.

Experts read the task's own state (never the screen) and act only through the
`deskmimic.agent.inject.Injector`, with a human-like pace: a short look before each
action, pointer moves of 0.1-0.3 s, clicks at a jittered point inside the target.
They run in a worker thread while the GUI thread keeps the Qt event loop going.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from deskmimic.core.errors import TaskError
from deskmimic.core.geometry import Rect
from deskmimic.core.rules import StepRules
from deskmimic.tasks.base import TaskWindow
from deskmimic.tasks.runner import GuiCaller

logger = logging.getLogger(__name__)

# Longer apart, or farther, than a double click as the step reducer and the task's step
# counter count it (`deskmimic.core.rules.StepRules`), with margin.
_RULES = StepRules()
DOUBLE_CLICK_S = _RULES.double_click_ms / 1000 + 0.05
DOUBLE_CLICK_PX = _RULES.double_click_px + 1

# Qt draws a menu or a drop-down opening over ~200 ms; a person reads its entries once
# they are drawn. An expert that moved on at once left the demonstration's state frame
# showing a half-open popup for the entry it then clicked (10 of 50 workflow menus).
POPUP_OPEN_S = 0.25

EXPERTS: dict[str, Callable[[Act], None]] = {}
"""Expert functions by task name, filled by `expert`."""


def expert(name: str) -> Callable[[Callable[[Act], None]], Callable[[Act], None]]:
    """Decorator registering an expert function for task ``name``."""

    def deco(fn: Callable[[Act], None]) -> Callable[[Act], None]:
        EXPERTS[name] = fn
        return fn

    return deco


class ExpertStopped(Exception):
    """The task ended or the host asked the expert to stop."""


class Act:
    """The expert's view of one task (through the GUI thread) and its hands (the injector).

    Args:
        task: the task window (only touched on the GUI thread, through ``caller``).
        injector: an open `Injector`.
        caller: a `GuiCaller` created on the GUI thread.
        rng: randomness for pauses and click points.
        speed: pace factor; 2.0 halves every pause and move.
        stop: set to make the next action raise `ExpertStopped`.
    """

    def __init__(self, task: TaskWindow, injector: Any, caller: GuiCaller, rng: random.Random,
                 speed: float = 1.0, stop: threading.Event | None = None) -> None:
        self.task = task
        self.inj = injector
        self.caller = caller
        self.rng = rng
        self.speed = max(0.1, float(speed))
        self.stop = stop or threading.Event()
        self.actions = 0
        # What each pointer action aimed at, in order: {"kind", "box"[, "end"]} with boxes
        # as screen [left, top, width, height]. Demonstrations keep it, so a policy's
        # point can be judged against the element each step meant (`bench/step_bench.py`).
        self.targets: list[dict[str, Any]] = []
        self._last_click: tuple[float, int, int] = (-1e9, 0, 0)

    def _aimed(self, kind: str, box: Rect, end: Rect | None = None) -> None:
        entry: dict[str, Any] = {"kind": kind, "box": [box.left, box.top, box.width, box.height]}
        if end is not None:
            entry["end"] = [end.left, end.top, end.width, end.height]
        self.targets.append(entry)

    # ---- reading -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """A fresh snapshot of the task's state."""
        self._check()
        return self.caller.call(self.task.state)

    def box(self, name: str, state: dict[str, Any] | None = None) -> Rect:
        """The screen box of element ``name``; raises `TaskError` when it is not visible."""
        boxes = (state or self.state())["boxes"]
        if name not in boxes:
            raise TaskError(f"expert: element {name!r} is not visible; have {sorted(boxes)}")
        return boxes[name]

    def wait(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 3.0,
             what: str = "the task to react") -> dict[str, Any]:
        """Poll the state until ``predicate(state)`` holds; returns that state."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TaskError(f"expert: waited {timeout} s for {what}")
            time.sleep(0.03)

    def wait_still(self, name: str, timeout: float = 3.0, gap: float = 0.1) -> dict[str, Any]:
        """Wait until element ``name`` is visible and keeps its box for ``gap`` seconds.

        A window manager may move a dialog after it is shown: a box read at once can be
        stale, and a click there misses.
        """
        deadline = time.monotonic() + timeout
        last = None
        while True:
            state = self.state()
            box = state["boxes"].get(name)
            if box is not None and box == last:
                return state
            if time.monotonic() > deadline:
                raise TaskError(f"expert: waited {timeout} s for {name} to stay in place")
            last = box
            time.sleep(gap)

    # ---- pacing --------------------------------------------------------------------------
    def pause(self, lo: float = 0.12, hi: float = 0.35, floor: float = 0.0) -> None:
        """A human pause: ``lo``..``hi`` seconds divided by speed, at least ``floor``."""
        self._check()
        time.sleep(max(floor, self.rng.uniform(lo, hi) / self.speed))

    def point_in(self, box: Rect) -> tuple[int, int]:
        """A point near the middle of ``box`` (jittered, never near its edge)."""
        mx, my = min(6, box.width // 4), min(5, box.height // 4)
        x = self.rng.gauss(box.left + box.width / 2, box.width / 8)
        y = self.rng.gauss(box.top + box.height / 2, box.height / 8)
        x = min(max(x, box.left + mx), box.right - 1 - mx)
        y = min(max(y, box.top + my), box.bottom - 1 - my)
        return round(x), round(y)

    def _move_duration(self, x: int, y: int) -> float:
        px, py = self.inj.position()
        dist = ((px - x) ** 2 + (py - y) ** 2) ** 0.5
        base = 0.1 + min(0.2, dist / 2500)  # 0.1 s near, 0.3 s across the screen
        return base * self.rng.uniform(0.85, 1.15) / self.speed

    # ---- acting --------------------------------------------------------------------------
    def move_to(self, box: Rect) -> tuple[int, int]:
        """Move the pointer into ``box`` along a human-like path; returns the point."""
        self._check()
        x, y = self.point_in(box)
        self.inj.move(x, y, duration=self._move_duration(x, y))
        return x, y

    def drop_below(self, name: str, state: dict[str, Any] | None = None) -> None:
        """Move the pointer straight down to just below element ``name`` (a menu's title).

        Into an open menu before going across to an entry: a curved path over the next
        title in the menu bar opens that menu instead (2 of 50 workflow demonstrations
        once the expert looked at the open menu for `POPUP_OPEN_S`).
        """
        box = self.box(name, state)
        x, _ = self.inj.position()
        self.inj.move(x, box.bottom + 6, duration=0.08 / self.speed)

    def click(self, target: str | Rect, state: dict[str, Any] | None = None) -> None:
        """Look, move to the element (name or box) and click it."""
        box = self.box(target, state) if isinstance(target, str) else target
        self.pause()
        x, y = self.move_to(box)
        time.sleep(self.rng.uniform(0.03, 0.08) / self.speed)
        # Two clicks on two elements must not read as one double click: a drop-down's
        # entry lies over the OK button beneath it, and clicking both within the double
        # click's time and distance made one step of the two (StepRules.double_click_*).
        t, px, py = self._last_click
        if abs(x - px) <= DOUBLE_CLICK_PX and abs(y - py) <= DOUBLE_CLICK_PX:
            time.sleep(max(0.0, t + DOUBLE_CLICK_S - time.monotonic()))
        self._check()
        self.inj.click()
        self._last_click = (time.monotonic(), x, y)
        self.actions += 1
        self._aimed("click", box)

    def type_text(self, text: str) -> None:
        """Type ``text`` at a typist's pace into whatever has the focus."""
        self.pause(0.1, 0.25)
        self._check()
        self.inj.type_text(text, interval=self.rng.uniform(0.02, 0.05) / self.speed)
        self.actions += 1

    def press(self, key: str) -> None:
        """Press one key ('enter', 'tab', ...)."""
        self.pause(0.1, 0.25)
        self._check()
        self.inj.press(key)
        self.actions += 1

    def drag(self, source: Rect, target: Rect) -> None:
        """Drag from a point in ``source`` to a point in ``target``."""
        self.pause()
        x1, y1 = self.move_to(source)
        x2, y2 = self.point_in(target)
        time.sleep(self.rng.uniform(0.05, 0.1) / self.speed)
        self._check()
        duration = (0.25 + min(0.25, ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 / 2000)) / self.speed
        self.inj.drag(x1, y1, x2, y2, duration=duration, hold=0.08 / self.speed)
        self.actions += 1
        self._aimed("drag", source, target)

    def scroll(self, box: Rect, dy: int) -> None:
        """Point into ``box`` (if not there already) and turn the wheel ``dy`` clicks."""
        self._check()
        px, py = self.inj.position()
        if not box.contains(px, py):
            self.pause()
            self.move_to(box)
        self._check()
        self.inj.scroll(dy=dy, interval=self.rng.uniform(0.03, 0.06) / self.speed)
        self.actions += 1
        self._aimed("scroll", box)

    def _check(self) -> None:
        if self.stop.is_set():
            raise ExpertStopped("stopped")


class ExpertRunner(threading.Thread):
    """Runs one task's expert in a worker thread.

    ``error`` holds the exception the expert raised (``None`` when it finished or was
    stopped). Create it on the GUI thread (it creates the `GuiCaller` there).
    """

    def __init__(self, task: TaskWindow, injector: Any = None, speed: float = 1.0,
                 seed: int | None = None) -> None:
        super().__init__(name=f"expert-{task.name}-{task.seed}", daemon=True)
        if task.name not in EXPERTS:
            raise TaskError(f"no expert for task {task.name!r}")
        self.task = task
        self.injector = injector
        self.speed = speed
        self.rng = random.Random(f"expert:{task.name}:{task.seed if seed is None else seed}")
        self.caller = GuiCaller()
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.actions = 0
        self.targets: list[dict[str, Any]] = []  # `Act.targets`, once the expert ended

    def stop(self) -> None:
        """Ask the expert to stop before its next action."""
        self.stop_event.set()

    def run(self) -> None:
        own = self.injector is None
        inj = self.injector
        try:
            if own:
                from deskmimic.agent.inject import open_injector

                inj = open_injector(seed=self.rng.randrange(2**31))
            act = Act(self.task, inj, self.caller, self.rng, self.speed, self.stop_event)
            try:
                EXPERTS[self.task.name](act)
                # The last input may still be in the GUI's queue: stay alive until the
                # task has reacted, so "runner ended" means "task ended or expert gave up".
                act.wait(lambda st: st["done"], timeout=2.0, what="the task to end")
            finally:
                self.actions = act.actions
                self.targets = act.targets
        except ExpertStopped:
            logger.debug("expert for %s stopped", self.task.name)
        except BaseException as exc:  # reported to the host through .error
            if not self.stop_event.is_set():
                logger.warning("expert for %s seed %d failed: %s", self.task.name,
                               self.task.seed, exc)
                self.error = exc
        finally:
            if inj is not None:
                try:
                    if own:
                        inj.close()
                    else:
                        inj.release_all()
                except Exception:
                    logger.exception("releasing the expert's input failed")


def start_expert(task: TaskWindow, injector: Any = None, speed: float = 1.0) -> ExpertRunner:
    """Start ``task``'s scripted expert in a worker thread (call on the GUI thread).

    The expert stops by itself when the task finishes. Keep the Qt event loop running
    until ``runner.is_alive()`` is false.
    """
    import deskmimic.tasks.experts  # noqa: F401 - registers the experts

    runner = ExpertRunner(task, injector=injector, speed=speed)
    task.finished.connect(lambda _result: runner.stop())
    runner.start()
    return runner
