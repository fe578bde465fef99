"""A Gymnasium environment over the practice tasks: real Qt windows, real X input.

```python
import gymnasium as gym
import deskmimic.tasks.env  # registers deskmimic/ClickButton-v0, deskmimic/TypeField-v0, ...

env = gym.make("deskmimic/ClickButton-v0")
obs, info = env.reset(seed=3)                 # seed = the task's layout seed
left, top, w, h = info["boxes"][info["next"][0]]
obs, reward, terminated, truncated, info = env.step(
    {"kind": "click", "point": (left + w / 2, top + h / 2)})
env.close()
```

The environment must run on the thread that owns the `QApplication` (the main
thread): it shows the task window there and keeps the Qt event loop spinning
whenever it waits, while the injector acts from a short-lived worker thread.
Coordinates are region-local pixels (the task window's client area), the same frame
as recorded episodes. See docs/env.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from deskmimic.core.actions import HOVER_DWELL_S
from deskmimic.core.errors import ConfigError, TaskError
from deskmimic.core.geometry import Rect
from deskmimic.tasks.base import TASKS, TaskWindow
from deskmimic.tasks.env_actions import (  # noqa: F401 (KINDS, SAFE_HOTKEYS: part of the env's API)
    KINDS,
    MAX_SCROLL,
    MAX_TEXT,
    PRINTABLE,
    SAFE_HOTKEYS,
    EnvAction,
    _ascii,
    parse_action,
)
from deskmimic.tasks.runner import close_task, ensure_app, make_task, show_task, spin, spin_until
from deskmimic.tasks.vocab import HELDOUT_SEED_START, is_heldout_seed

logger = logging.getLogger(__name__)

CANVAS_HEIGHT, CANVAS_WIDTH = 600, 720
"""Default observation canvas; every task window (at most 640x540) fits in it."""
_BUTTONS = {"click": ("left", 1), "double_click": ("left", 2), "right_click": ("right", 1),
            "middle_click": ("middle", 1)}
ACTION_TIMEOUT_S = 10.0  # the longest action (32 typed characters) takes well under 1 s
SETTLE_INTERVAL_S = 0.04
SETTLE_QUIET = 2  # consecutive calm comparisons that mean "settled"


def env_id(task: str) -> str:
    """Gymnasium id of a task: 'click_button' -> 'deskmimic/ClickButton-v0'."""
    return "deskmimic/" + "".join(part.capitalize() for part in task.split("_")) + "-v0"


def register_envs() -> list[str]:
    """Register one Gymnasium id per task in `TASKS` (idempotent); returns the ids."""
    import deskmimic.tasks  # noqa: F401 - fills TASKS with every task family

    ids = []
    for name in sorted(TASKS):
        eid = env_id(name)
        if eid not in gym.registry:
            gym.register(id=eid, entry_point="deskmimic.tasks.env:DeskTaskEnv",
                         kwargs={"task": name}, nondeterministic=False)
        ids.append(eid)
    return ids


class DeskTaskEnv(gym.Env):
    """One practice task as a Gymnasium environment.

    Args:
        task: task name (see `deskmimic.tasks.TASKS`).
        max_steps: steps before the episode is truncated (the task then ends as a failure).
        height, width: observation canvas size; the window image sits at its top-left,
            zero padded at the bottom/right (cropped, with a warning, if it does not fit).
        settle_timeout: seconds to wait for the screen to stop changing after an action.
        settle_pixels: a grab differing from the previous one in at most this many
            pixels counts as unchanged (a blinking text caret does not keep it busy).
        move_duration: seconds of the human-like pointer path before clicks and scrolls.
        render_mode: ``None`` or ``"rgb_array"`` (the last observation image).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, task: str = "click_button", *, max_steps: int = 20,
                 height: int = CANVAS_HEIGHT, width: int = CANVAS_WIDTH,
                 settle_timeout: float = 1.0, settle_pixels: int = 64,
                 move_duration: float = 0.08, render_mode: str | None = None) -> None:
        import deskmimic.tasks  # noqa: F401 - fills TASKS

        if task not in TASKS:
            raise TaskError(f"unknown task {task!r}: choose one of {', '.join(sorted(TASKS))}")
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ConfigError(f"max_steps={max_steps!r}: must be an integer >= 1")
        if height < 64 or width < 64:
            raise ConfigError(f"canvas {width}x{height}: height and width must be >= 64")
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode={render_mode!r}: use None or 'rgb_array'")
        self.task_name = task
        self.max_steps = max_steps
        self.height, self.width = int(height), int(width)
        self.settle_timeout = float(settle_timeout)
        self.settle_pixels = int(settle_pixels)
        self.move_duration = float(move_duration)
        self.render_mode = render_mode
        point = spaces.Box(low=np.zeros(2, np.float32),
                           high=np.array([self.width - 1, self.height - 1], np.float32),
                           shape=(2,), dtype=np.float32)
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (self.height, self.width, 3), np.uint8),
            "instruction": spaces.Text(max_length=256, charset=PRINTABLE),
        })
        self.action_space = spaces.Dict({
            "kind": spaces.Discrete(len(KINDS)),
            "point": point,
            "point2": point,
            "scroll": spaces.Box(-MAX_SCROLL, MAX_SCROLL, (1,), np.int64),
            "text": spaces.Text(max_length=MAX_TEXT, min_length=0, charset=PRINTABLE),
            "hotkey": spaces.Discrete(len(SAFE_HOTKEYS)),
        })
        self._task: TaskWindow | None = None
        self._inj: Any = None
        self._capture: Any = None
        self._image: np.ndarray | None = None
        self._steps = 0
        self._ended = False
        self._closed = False
        self.last_settle: dict[str, Any] = {}
        """How the last observation settled: settled (bool), waited_s, grabs."""

    # ---- Gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Open a fresh task window and return its settled observation and info.

        The layout seed is ``options["task_seed"]`` if given, else ``seed`` itself (so
        ``reset(seed=7)`` shows the same layout as ``deskmimic tasks run --seed 7``, and
        seeds >= 1,000,000 use the held-out vocabulary), else a draw from the env's RNG
        in the training range.
        """
        super().reset(seed=seed)
        self._check_usable()
        options = options or {}
        if options.get("task_seed") is not None:
            task_seed = int(options["task_seed"])
        elif seed is not None:
            task_seed = int(seed)
        else:
            task_seed = int(self.np_random.integers(0, HELDOUT_SEED_START))
        self._drop_task()
        self._open_io()
        self._release_input()
        task = make_task(self.task_name, task_seed)
        self._task, self._steps, self._ended = task, 0, False
        # Park the pointer on the banner's right end before and after showing, so no
        # control is hovered and the drawn cursor is the same for the same seed.
        geo = task.geometry()
        self._inj.move(geo.x() + geo.width() - 10, geo.y() + 10)
        show_task(task)
        region = task.region()
        self._inj.move(region.left + region.width - 10, region.top + 10)
        obs = self._observe(max(1.0, 2 * self.settle_timeout))
        return obs, self._info()

    def step(self, action: Mapping[str, Any]) -> tuple[dict[str, Any], float, bool, bool, dict]:
        """Perform ``action`` with real input, wait for the screen to settle, observe."""
        self._check_usable()
        task = self._task
        if task is None:
            raise TaskError("step() before reset(): call env.reset() first")
        if self._ended:
            raise TaskError("the episode has ended: call env.reset() before stepping again")
        region = task.region()
        act = self.parse_action(action, region.width, region.height)
        self._steps += 1
        if act.kind != "done" and not task.is_done():
            self._perform(act, region)
        obs = self._observe(self.settle_timeout)
        if act.kind == "done" and not task.is_done():
            task.abort("the agent said done before the task was finished")
        terminated = task.is_done()
        truncated = not terminated and self._steps >= self.max_steps
        if truncated:
            task.abort(f"step limit ({self.max_steps}) reached")
        self._ended = terminated or truncated
        info = self._info()
        info["action"] = act.to_dict()
        reward = float(info["result"]["reward"]) if terminated else 0.0
        return obs, reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        """The last observation image (``render_mode="rgb_array"``), else ``None``."""
        if self.render_mode != "rgb_array" or self._image is None:
            return None
        return self._image.copy()

    def close(self) -> None:
        """Close the window, release all held input and the injector; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._drop_task()
        finally:
            inj, self._inj = self._inj, None
            capture, self._capture = self._capture, None
            try:
                if inj is not None:
                    try:
                        inj.release_all()
                    finally:
                        inj.close()
                        _release_stuck()
            finally:
                if capture is not None:
                    capture.close()

    # ---- extras ----------------------------------------------------------------------------
    @property
    def task(self) -> TaskWindow | None:
        """The current task window (GUI thread only), ``None`` before reset."""
        return self._task

    @property
    def result(self) -> dict[str, Any] | None:
        """The current task's full result (with ``duration_s``) once it ended."""
        return self._task.result() if self._task is not None else None

    parse_action = staticmethod(parse_action)

    # ---- internals -------------------------------------------------------------------------
    def _check_usable(self) -> None:
        if self._closed:
            raise TaskError("the environment is closed: make a new one")
        from PySide6.QtCore import QThread
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is None and threading.current_thread() is not threading.main_thread():
            raise TaskError("DeskTaskEnv must be created and used on the main thread "
                            "(it owns the Qt windows)")
        app = ensure_app()
        if QThread.currentThread() != app.thread():
            raise TaskError("DeskTaskEnv must be used on the thread that owns the QApplication "
                            "(the Qt event loop runs there while it waits)")

    def _open_io(self) -> None:
        if self._inj is None:
            from deskmimic.agent.inject import open_injector

            self._inj = open_injector(seed=0)
            _release_stuck()  # a button left down by a dead process eats the next click
        if self._capture is None:
            from deskmimic.recorder.capture import open_capture

            self._capture = open_capture(draw_cursor=True)  # as in recorded episodes

    def _release_input(self) -> None:
        if self._inj is not None:
            self._inj.release_all()

    def _drop_task(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            close_task(task)

    def _perform(self, act: EnvAction, region: Rect) -> None:
        inj, move = self._inj, self.move_duration
        x, y = region.left + act.x, region.top + act.y

        def run() -> None:
            if act.kind in _BUTTONS:
                button, count = _BUTTONS[act.kind]
                inj.click(x, y, button=button, count=count, duration=move)
            elif act.kind == "drag":
                # Drag-and-drop code needs the pauses around the press and release.
                inj.drag(x, y, region.left + act.x2, region.top + act.y2, duration=0.3, hold=0.08)
            elif act.kind == "scroll":
                inj.move(x, y, move)
                inj.scroll(dy=act.dy, interval=0.03)
            elif act.kind == "hover":
                inj.move(x, y, move)
                time.sleep(HOVER_DWELL_S)
            elif act.kind == "type":
                inj.type_text(act.text, interval=0.01)
            elif act.kind == "hotkey":
                inj.hotkey(act.hotkey)

        self._in_worker(run)

    def _in_worker(self, fn: Callable[[], None]) -> None:
        # The injector sleeps between events; doing that here would freeze the Qt loop
        # that has to deliver those events to the task, so a worker acts meanwhile.
        errors: list[BaseException] = []

        def target() -> None:
            try:
                fn()
            except BaseException as exc:  # re-raised on the GUI thread below
                errors.append(exc)

        worker = threading.Thread(target=target, name="deskmimic-env-act", daemon=True)
        worker.start()
        done = spin_until(lambda: not worker.is_alive(), ACTION_TIMEOUT_S, poll=0.005)
        if not done or errors:
            self._inj.release_all()
        if not done:
            raise TaskError(f"an action took longer than {ACTION_TIMEOUT_S:g} s; input released")
        if errors:
            raise errors[0]

    def _grab(self) -> tuple[np.ndarray, tuple[int, int]]:
        """RGB of the window's on-screen part and its offset inside the region."""
        region = self._task.region()
        screen = self._capture.monitors()[0]
        visible = region.intersect(screen)
        if visible is None:
            raise TaskError(f"task window {region} is entirely off the screen {screen}")
        bgra = self._capture.grab(visible)
        rgb = np.ascontiguousarray(bgra[:, :, 2::-1])
        return rgb, (visible.left - region.left, visible.top - region.top)

    def _observe(self, timeout: float) -> dict[str, Any]:
        """Wait until successive grabs agree (spinning Qt), then build the observation."""
        t0 = time.monotonic()
        spin(0.02)  # let Qt handle the input just sent before the first grab
        prev, offset = self._grab()
        grabs, calm, settled = 1, 0, False
        while time.monotonic() - t0 < timeout:
            spin(SETTLE_INTERVAL_S)
            cur, cur_offset = self._grab()
            grabs += 1
            same_shape = cur.shape == prev.shape and cur_offset == offset
            changed = int(np.count_nonzero(np.any(cur != prev, axis=2))) if same_shape else -1
            calm = calm + 1 if 0 <= changed <= self.settle_pixels else 0
            prev, offset = cur, cur_offset
            if calm >= SETTLE_QUIET:
                settled = True
                break
        self.last_settle = {"settled": settled, "waited_s": round(time.monotonic() - t0, 3),
                            "grabs": grabs}
        if not settled:
            logger.info("task %s: screen did not settle within %.1f s", self.task_name, timeout)
        canvas = np.zeros((self.height, self.width, 3), np.uint8)
        ox, oy = offset
        h = max(0, min(prev.shape[0], self.height - oy))
        w = max(0, min(prev.shape[1], self.width - ox))
        if (h, w) != prev.shape[:2]:
            logger.warning("task window %dx%d does not fit the %dx%d canvas: cropped",
                           prev.shape[1], prev.shape[0], self.width, self.height)
        canvas[oy:oy + h, ox:ox + w] = prev[:h, :w]
        self._image = canvas
        return {"image": canvas.copy(), "instruction": _ascii(self._task.instruction)}

    def _info(self) -> dict[str, Any]:
        task = self._task
        region = task.region()
        boxes = {name: (b.left - region.left, b.top - region.top, b.width, b.height)
                 for name, b in task.element_boxes().items()}
        info: dict[str, Any] = {
            "task": task.name, "seed": task.seed, "heldout": is_heldout_seed(task.seed),
            "instruction": task.instruction,
            "region": (region.left, region.top, region.width, region.height),
            "size": (region.width, region.height), "boxes": boxes,
            "next": [] if task.is_done() else list(task.next_targets()), "step": self._steps,
        }
        result = task.result()
        if result is not None:
            # info must be a function of seed and actions (Gymnasium's determinism
            # check), so the wall-clock duration stays out; `env.result` has it.
            result.pop("duration_s", None)
            info["result"] = result
            info["is_success"] = bool(result["success"])
        return info


def _release_stuck() -> None:
    from deskmimic.agent.input_state import release_stuck_input

    try:
        release_stuck_input()
    except Exception as exc:  # the display may be gone at shutdown; nothing left to free
        logger.warning("could not check for stuck input: %s", exc)


register_envs()
