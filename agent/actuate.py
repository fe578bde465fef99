"""Carrying out an agent action through the injector in short, guarded pieces.

The `Injector` moves along a whole path in one call; an agent that must stop within
100 ms of an abort cannot wait for that. `Actuator` therefore splits every motion
into segments of about ``segment_s`` (16 ms), types one character at a time and
sleeps with `Guards.sleep`; before each piece it checks the guards, and before each
pointer segment it checks that the pointer is still where it left it (the person
moving the mouse pauses the agent).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from deskmimic.agent.abort import tokens_for_text
from deskmimic.agent.guards import Guards
from deskmimic.agent.inject import Injector
from deskmimic.agent.keysyms import human_path, parse_chord
from deskmimic.agent.policy_protocol import AgentAction
from deskmimic.core.actions import HOVER_DWELL_S
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect

logger = logging.getLogger(__name__)

_CLICK_BUTTONS = {"click": ("left", 1), "double_click": ("left", 2),
                  "right_click": ("right", 1), "middle_click": ("middle", 1)}


@dataclass(frozen=True)
class MotionConfig:
    """How the agent moves and types.

    Attributes:
        move_duration_s: time for a pointer move to a target (human-like path).
        drag_duration_s: time for the pressed part of a drag.
        segment_s: longest time between two guard checks during a motion.
        type_interval_s: pause between typed characters.
        click_interval_s: pause between the clicks of a double click.
        drag_hold_s: pause after pressing and before releasing in a drag.
        scroll_interval_s: pause between wheel clicks.
        hover_dwell_s: how long a ``hover`` keeps the pointer still after arriving
            (`core.actions.HOVER_DWELL_S` gives the reason).
    """

    move_duration_s: float = 0.25
    drag_duration_s: float = 0.5
    segment_s: float = 0.016
    type_interval_s: float = 0.02
    click_interval_s: float = 0.05
    drag_hold_s: float = 0.08
    scroll_interval_s: float = 0.03
    hover_dwell_s: float = HOVER_DWELL_S

    def __post_init__(self) -> None:
        for name in ("move_duration_s", "drag_duration_s", "type_interval_s",
                     "click_interval_s", "drag_hold_s", "scroll_interval_s", "hover_dwell_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"motion {name} {getattr(self, name)}: must be >= 0")
        if not (0.001 <= self.segment_s <= 0.05):
            raise ConfigError(f"motion segment_s {self.segment_s}: must be in [0.001, 0.05] "
                              "(the abort must act within 100 ms)")


class Actuator:
    """Performs `AgentAction`s (captured-area pixels) on the screen, guarded.

    Raises `deskmimic.agent.guards.StopRequested` or `PausedInterrupt` from inside an
    action; the caller releases held input (``injector.release_all()``).
    """

    def __init__(self, injector: Injector, guards: Guards, motion: MotionConfig | None = None,
                 *, seed: int | None = None) -> None:
        self.inj = injector
        self.guards = guards
        self.motion = motion or MotionConfig()
        self._rng = random.Random(seed)
        self.last_input_at: float | None = None  # time.monotonic() of the last injected input

    def _stamp(self) -> None:
        self.last_input_at = time.monotonic()

    # ---- primitives ------------------------------------------------------------------
    def move_to(self, x: int, y: int, duration: float | None = None) -> None:
        """Move the pointer to screen (x, y) along a human-like path, checking the guards
        before every segment."""
        duration = self.motion.move_duration_s if duration is None else duration
        g = self.guards
        g.check()
        start = self.inj.position()
        g.note_pointer(start)
        g.check()
        seg = self.motion.segment_s
        n = max(1, int(duration / seg))
        points = human_path(start, (x, y), duration, self._rng, rate=1.0 / seg, max_points=n)
        t0 = time.monotonic()
        for i, p in enumerate(points, 1):
            if i > 1:
                g.note_pointer(self.inj.position())
            g.check()
            g.expect_pointer(*p)
            self.inj.move(*p)
            self._stamp()
            if i < len(points):
                g.sleep(t0 + duration * i / len(points) - time.monotonic())
        g.check()

    def _button(self, button: str, down: bool) -> None:
        self.guards.check()
        if down:
            self.inj.button_down(button)
        else:
            self.inj.button_up(button)
        self._stamp()

    # ---- actions ----------------------------------------------------------------------
    def perform(self, action: AgentAction, region: Rect) -> None:
        """Carry out ``action``, whose points are pixels of ``region``."""
        k, m = action.kind, self.motion
        if k == "done":
            return
        if k in _CLICK_BUTTONS:
            button, count = _CLICK_BUTTONS[k]
            self.move_to(*_screen(region, action.x, action.y))
            for i in range(count):
                if i:
                    self.guards.sleep(m.click_interval_s)
                self._button(button, True)
                self._button(button, False)
        elif k == "drag":
            self.move_to(*_screen(region, action.x, action.y))
            self._button("left", True)
            self.guards.sleep(m.drag_hold_s)
            self.move_to(*_screen(region, action.x2, action.y2), max(m.drag_duration_s, 0.1))
            self.guards.sleep(m.drag_hold_s)
            self._button("left", False)
        elif k == "scroll":
            self.move_to(*_screen(region, action.x, action.y))
            steps = [(0, 1 if action.dy > 0 else -1)] * abs(action.dy)
            steps += [(1 if action.dx > 0 else -1, 0)] * abs(action.dx)
            for i, (dx, dy) in enumerate(steps):
                if i:
                    self.guards.sleep(m.scroll_interval_s)
                self.guards.check()
                self.inj.scroll(dy=dy, dx=dx)
                self._stamp()
        elif k == "hover":  # a move and a wait: the rest itself opens what it opens
            self.move_to(*_screen(region, action.x, action.y))
            self.guards.sleep(m.hover_dwell_s)
        elif k == "type":
            self.type_text(action.text or "")
        elif k == "hotkey":
            self.hotkey(action.keys)
        else:  # AgentAction validated the kind; a new kind must be taught here
            raise ConfigError(f"the agent cannot perform a {k!r} action yet")

    def type_text(self, text: str) -> None:
        """Type ``text`` one character at a time, checking the guards in between."""
        with self.guards.injecting_keys(tokens_for_text(text)):
            for i, char in enumerate(text):
                if i:
                    self.guards.sleep(self.motion.type_interval_s)
                self.guards.check()
                self.inj.press(char)
                self._stamp()

    def hotkey(self, keys: tuple[str, ...] | list[str] | str) -> None:
        """Press a chord (``("ctrl", "s")`` or ``"ctrl+s"``) and release it."""
        names = parse_chord(keys) if isinstance(keys, str) else list(keys)
        self.guards.check()
        with self.guards.injecting_keys(names):
            self.inj.hotkey(*names)
            self._stamp()


def _screen(region: Rect, x: int | None, y: int | None) -> tuple[int, int]:
    sx, sy = region.to_screen(int(x), int(y))
    return int(sx), int(sy)
