"""Real input injection: the `Injector` facade over a small backend interface
(`deskmimic.agent.inject_backend.InjectBackend`).

The facade owns everything that is the same on every platform: key names, shift
handling for typed characters, chords, human-like pointer paths, and — most
important for a program that drives someone's desktop — bookkeeping of every key
and button it holds down, so that all of it is released on every exit path
(``close()``, ``with``, exceptions, SIGTERM/SIGINT via `install_signal_release`).

Coordinates are screen (virtual-desktop) pixels. Key names are pynput's names as in
docs/episode-format.md ('a', 'A', '!', 'enter', 'ctrl', 'shift', 'f5', ...); keys
are identified across backends by X keysyms, which the episode format also records.
"""

from __future__ import annotations

import logging
import math
import os
import random
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

from deskmimic.agent.inject_backend import InjectBackend, check_button, open_backend
from deskmimic.agent.keysyms import (
    MODIFIERS,
    SHIFT_KEYSYMS,
    _canonical,
    human_path,
    key_to_keysym,
    parse_chord,
)
from deskmimic.core.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

@dataclass
class _HeldKey:
    name: str
    keycode: int
    keysym: int
    auto_shift: int | None  # shift keycode pressed for this key, released with it


class Injector:
    """Inject real keyboard and mouse input, releasing everything it holds on exit.

    Use as a context manager (``with open_injector() as inj:``); ``__exit__`` releases
    held keys and buttons and never hides the original error. Thread-safe: another
    thread (an abort hotkey) may call `release_all` or `close` while one is typing; the
    typing thread then gets `InputError` at its next event.
    """

    def __init__(self, backend: InjectBackend, *, rng: random.Random | None = None) -> None:
        self.backend = backend
        self._rng = rng or random.Random()
        self._lock = threading.RLock()
        self._keys: dict[int, _HeldKey] = {}  # keycode -> held key, in press order
        self._buttons: list[str] = []
        self._closed = False
        self._prev_handlers: dict[int, object] = {}

    # ---- context and lifetime -------------------------------------------------------
    def __enter__(self) -> Injector:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        try:
            self.close()
        except Exception:
            if exc is None:
                raise
            logger.exception("releasing input after %s failed", exc_type.__name__)
        return False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Release everything held, restore signal handlers and keymap; idempotent."""
        with self._lock:
            if self._closed:
                return
            try:
                self.release_all()
            finally:
                self._closed = True
                self._restore_signal_handlers()
                self.backend.close()

    def _check_open(self) -> None:
        if self._closed:
            raise InputError("the injector is closed (released by close() or an abort)")

    # ---- pointer -----------------------------------------------------------------------
    def position(self) -> tuple[int, int]:
        """Current pointer position in screen pixels."""
        with self._lock:
            self._check_open()
            return self.backend.pointer_position()

    def move(self, x: int, y: int, duration: float = 0.0) -> None:
        """Move the pointer to (x, y); with ``duration`` > 0 (s) along a human-like path."""
        target = (_coord(x, "x"), _coord(y, "y"))
        if duration > 0:
            points = human_path(self.position(), target, duration, self._rng)
        else:
            points = [target]
        t0 = time.perf_counter()
        for i, (px, py) in enumerate(points, 1):
            with self._lock:
                self._check_open()
                self.backend.move_to(px, py)
                self.backend.sync()
            if duration > 0 and i < len(points):
                _sleep_until(t0 + duration * i / len(points))

    def button_down(self, button: str = "left") -> None:
        """Press and hold a mouse button at the current position."""
        check_button(button)
        with self._lock:
            self._check_open()
            if button in self._buttons:
                return
            self.backend.button(button, True)
            self._buttons.append(button)
            self.backend.sync()

    def button_up(self, button: str = "left") -> None:
        """Release a mouse button (also one this injector did not press)."""
        check_button(button)
        with self._lock:
            self._check_open()
            self.backend.button(button, False)
            if button in self._buttons:
                self._buttons.remove(button)
            self.backend.sync()

    def click(self, x: int | None = None, y: int | None = None, button: str = "left",
              count: int = 1, *, duration: float = 0.0, interval: float = 0.05) -> None:
        """Click ``count`` times at (x, y) (moving there first) or where the pointer is.

        ``interval`` (s) separates the clicks of a multi-click; keep it under the
        desktop's double-click time (400 ms by default in Qt/GTK).
        """
        if count < 1:
            raise ConfigError(f"click count must be >= 1, got {count}")
        if (x is None) != (y is None):
            raise ConfigError("click needs both x and y, or neither (click in place)")
        if x is not None and y is not None:
            self.move(x, y, duration)
        for i in range(count):
            if i:
                time.sleep(interval)
            self.button_down(button)
            self.button_up(button)

    def drag(self, x1: int, y1: int, x2: int, y2: int, duration: float = 0.4,
             button: str = "left", hold: float = 0.05) -> None:
        """Press at (x1, y1), move along a human-like path to (x2, y2), release there.

        ``hold`` (s) pauses after the press and before the release, which drag-and-drop
        code needs to notice the drag.
        """
        self.move(x1, y1)
        self.button_down(button)
        try:
            time.sleep(hold)
            self.move(x2, y2, max(duration, 0.05))  # a drag needs intermediate moves
            time.sleep(hold)
        finally:
            if not self._closed:
                self.button_up(button)

    def scroll(self, dy: int = 0, dx: int = 0, x: int | None = None, y: int | None = None,
               interval: float = 0.01) -> None:
        """Turn the wheel: ``dy`` > 0 up, < 0 down; ``dx`` > 0 right, < 0 left (clicks).

        Moves to (x, y) first when given.
        """
        if (x is None) != (y is None):
            raise ConfigError("scroll needs both x and y, or neither (scroll in place)")
        if x is not None and y is not None:
            self.move(x, y)
        steps = ["up" if dy > 0 else "down"] * abs(int(dy))
        steps += ["right" if dx > 0 else "left"] * abs(int(dx))
        for i, direction in enumerate(steps):
            if i:
                time.sleep(interval)
            with self._lock:
                self._check_open()
                self.backend.scroll_click(direction)
                self.backend.sync()

    # ---- keyboard ------------------------------------------------------------------------
    def key_down(self, key: str) -> None:
        """Press and hold a key by pynput name or character; 'A' and '!' also hold shift."""
        keysym = key_to_keysym(key)
        with self._lock:
            self._check_open()
            keycode, need_shift = self.backend.keycode_for(keysym)
            if keycode in self._keys:
                return
            if _is_letter(keysym) and self.backend.caps_lock_on():
                need_shift = not need_shift
            auto_shift = None
            if need_shift and not self._shift_held():
                auto_shift, _ = self.backend.keycode_for(0xFFE1)
                self.backend.key(auto_shift, True)
            try:
                self.backend.key(keycode, True)
            except BaseException:
                if auto_shift is not None:
                    self.backend.key(auto_shift, False)
                raise
            self._keys[keycode] = _HeldKey(key, keycode, keysym, auto_shift)
            self.backend.sync()

    def key_up(self, key: str) -> None:
        """Release a key (and the shift `key_down` added for it)."""
        keysym = key_to_keysym(key)
        with self._lock:
            self._check_open()
            keycode, _ = self.backend.keycode_for(keysym)
            held = self._keys.pop(keycode, None)
            self.backend.key(keycode, False)
            if held is not None and held.auto_shift is not None:
                self.backend.key(held.auto_shift, False)
            self.backend.sync()

    def press(self, key: str) -> None:
        """Press and release one key ('enter', 'tab', 'a', 'A', ...)."""
        self.key_down(key)
        self.key_up(key)

    def type_text(self, text: str, interval: float = 0.02) -> None:
        """Type ``text``: any printable ASCII, space, newline (Enter) and tab; characters
        without a key are typed through a temporarily remapped spare keycode.

        Assumes no modifier is held except the shift it adds itself. ``interval`` (s)
        separates characters.
        """
        for i, char in enumerate(text):
            if i and interval > 0:
                time.sleep(interval)
            self.press(char)

    def hotkey(self, *keys: str) -> None:
        """Press a chord and release it in reverse: ``hotkey('ctrl+shift+t')`` or
        ``hotkey('ctrl', 's')``. Modifiers are pressed first, in the order given."""
        names = parse_chord(keys[0]) if len(keys) == 1 and len(keys[0]) > 1 else list(keys)
        if not names:
            raise InputError("hotkey needs at least one key, e.g. hotkey('ctrl+s')")
        for name in names:
            key_to_keysym(name)  # fail on a bad name before pressing anything
        mods = [n for n in names if _canonical(n) in MODIFIERS]
        order = mods + [n for n in names if n not in mods]
        pressed: list[str] = []
        try:
            for name in order:
                self.key_down(name)
                pressed.append(name)
        finally:
            if not self._closed:
                for name in reversed(pressed):
                    self.key_up(name)

    # ---- held state ----------------------------------------------------------------------
    def held(self) -> dict[str, list[str]]:
        """What this injector holds down: ``{"keys": [...], "buttons": [...]}``."""
        with self._lock:
            return {"keys": [k.name for k in self._keys.values()], "buttons": list(self._buttons)}

    def release_all(self) -> dict[str, list[str]]:
        """Release every key (in reverse press order) and button held; returns what it was."""
        with self._lock:
            released = self.held()
            if self._closed:
                return released
            for code in self._release_order():
                self.backend.key(code, False)
            self._keys.clear()
            for name in reversed(self._buttons):
                self.backend.button(name, False)
            self._buttons.clear()
            self.backend.sync()
            if released["keys"] or released["buttons"]:
                logger.info("released held input: %s", released)
            return released

    def _release_order(self) -> list[int]:
        codes: list[int] = []
        for held in reversed(list(self._keys.values())):
            codes.append(held.keycode)
            if held.auto_shift is not None:
                codes.append(held.auto_shift)
        return codes

    def _shift_held(self) -> bool:
        return any(k.keysym in SHIFT_KEYSYMS or k.auto_shift is not None
                   for k in self._keys.values())

    # ---- signals -------------------------------------------------------------------------
    def install_signal_release(
        self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT),
    ) -> None:
        """On these signals, release held input, then act as the previous handler did
        (SIGINT raises KeyboardInterrupt; default SIGTERM still kills the process).

        Must be called from the main thread. `close()` restores the previous handlers.
        """
        if threading.current_thread() is not threading.main_thread():
            raise InputError("install_signal_release() must be called from the main thread")
        for sig in signals:
            if sig not in self._prev_handlers:
                self._prev_handlers[sig] = signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        # The interrupted code may be inside a backend call, so release through a fresh
        # connection and without taking the lock (it could deadlock on this thread).
        codes, buttons = self._release_order(), list(self._buttons)
        try:
            # Also with nothing held: the backend gives back keycodes it remapped.
            self.backend.emergency_release(codes, buttons)
            if codes or buttons:
                logger.warning("signal %d: released held input", signum)
            self._keys.clear()
            self._buttons.clear()
        except Exception:
            logger.exception("signal %d: releasing held input failed", signum)
        previous = self._prev_handlers.get(signum) or signal.SIG_DFL
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal would raise; handlers stay harmless once closed
        for sig, previous in self._prev_handlers.items():
            if previous is not None:  # None: installed outside Python, cannot be restored
                signal.signal(sig, previous)  # type: ignore[arg-type]
        self._prev_handlers.clear()


def open_injector(backend: str | None = None, *, display: str | None = None,
                  release_on_signals: bool = False, seed: int | None = None) -> Injector:
    """Open an `Injector` on the XTEST backend (or ``DESKMIMIC_BACKEND``: 'xtest', 'fake').

    Args:
        backend: backend name; defaults to ``$DESKMIMIC_BACKEND`` or 'xtest'.
        display: X display name; defaults to ``$DISPLAY``.
        release_on_signals: install SIGTERM/SIGINT handlers that release held input.
        seed: seed for the pointer paths' randomness (reproducible demonstrations).
    """
    name = (backend or os.environ.get("DESKMIMIC_BACKEND") or "xtest").lower()
    inj = Injector(open_backend(name, display), rng=random.Random(seed))
    if release_on_signals:
        inj.install_signal_release()
    return inj


def _coord(v: object, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"pointer {what} must be a finite number of screen pixels, got {v!r}")
    return round(v)


def _is_letter(keysym: int) -> bool:
    return 0x41 <= keysym <= 0x5A or 0x61 <= keysym <= 0x7A


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
