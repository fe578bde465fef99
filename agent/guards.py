"""The replay agent's safety guards: abort hotkey, failsafe corner, and pausing when the
person takes over.

A watcher thread polls the pointer at ``poll_hz`` (100 Hz by default) and a pynput
keyboard listener sees every key press. Either one can:

* **abort** — the abort hotkey (default ctrl+alt+shift+q) or the pointer in the
  failsafe corner (within ``failsafe_px`` of the screen's top-left): final; the
  runner stops, releases everything and reports why. Callbacks registered with
  `Guards.on_abort` run at once on the detecting thread (the runner releases held
  input there), so input stops within one poll period.
* **pause** — the pointer is not where the agent last put it, or a key went down
  that the agent did not inject: the person is taking over. The agent releases
  everything and waits. It resumes after the person has been idle (no pointer
  motion, no key) for ``resume_idle_s`` seconds, or when `Guards.resume` is called
  (a GUI button); with ``resume_idle_s=None`` only `resume` does.

The runner checks `Guards.check` between and inside actions (every pointer segment,
every typed character) and sleeps with `Guards.sleep`, which wakes on abort/pause.
The abort chord's parsing and the SIGTERM/SIGINT handlers are `deskmimic.agent.abort`;
the checks that refuse an action before it runs are `deskmimic.agent.refusals`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from deskmimic.agent.abort import DEFAULT_ABORT_HOTKEY, parse_abort_hotkey
from deskmimic.core.errors import ConfigError, DeskmimicError
from deskmimic.recorder.hotkey import key_token

logger = logging.getLogger(__name__)

_KEY_GRACE_S = 0.5  # the listener may see the agent's own keys this late on a busy machine


class StopRequested(DeskmimicError):
    """The run must end now (abort hotkey, failsafe corner, signal). ``reason`` is a code."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class PausedInterrupt(DeskmimicError):
    """The person took over in the middle of an action; the action was abandoned."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"paused: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class GuardConfig:
    """Settings of the safety guards.

    Attributes:
        abort_hotkey: chord that aborts, pynput syntax (``<ctrl>+<alt>+<shift>+q``) or
            plain (``ctrl+alt+shift+q``); needs a modifier and at least two keys.
        failsafe_px: the pointer within this many pixels of the screen's top-left
            corner aborts; 0 disables the corner.
        poll_hz: pointer polling rate of the watcher thread (>= 50).
        pause_on_user_input: pause when the person moves the pointer or types.
        user_move_px: how far (px) the pointer may be from where the agent put it.
        resume_idle_s: resume after the person was idle this long (s); ``None``: only
            an explicit `Guards.resume` resumes.
        listen_keys: listen to the keyboard (abort hotkey, typing); off only in tests
            of the pointer guards.
    """

    abort_hotkey: str = DEFAULT_ABORT_HOTKEY
    failsafe_px: int = 4
    poll_hz: float = 100.0
    pause_on_user_input: bool = True
    user_move_px: int = 4
    resume_idle_s: float | None = 2.0
    listen_keys: bool = True

    def __post_init__(self) -> None:
        parse_abort_hotkey(self.abort_hotkey)
        if self.failsafe_px < 0:
            raise ConfigError(f"--failsafe-px {self.failsafe_px}: must be >= 0 (0 disables)")
        if not (50 <= self.poll_hz <= 1000):
            raise ConfigError(f"guard poll_hz {self.poll_hz}: must be in [50, 1000]")
        if self.user_move_px < 1:
            raise ConfigError(f"guard user_move_px {self.user_move_px}: must be >= 1")
        if self.resume_idle_s is not None and self.resume_idle_s <= 0:
            raise ConfigError(f"--resume-idle {self.resume_idle_s}: must be > 0 (or none)")


class Guards:
    """Watches the person and the abort controls while the agent drives the desktop.

    Thread-safe. ``start()`` begins watching, ``stop()`` ends it (idempotent).
    """

    def __init__(self, cfg: GuardConfig | None = None, *, display: str | None = None) -> None:
        self.cfg = cfg or GuardConfig()
        self._hotkey = parse_abort_hotkey(self.cfg.abort_hotkey)
        self._display_name = display
        self._lock = threading.RLock()
        self._abort = threading.Event()
        self._paused = threading.Event()
        self._interrupt = threading.Event()  # set on abort or pause: wakes every guarded wait
        self._stop_watch = threading.Event()
        self.abort_reason: str | None = None
        self.abort_message = ""
        self.abort_at: float | None = None  # time.monotonic() when the abort was detected
        self.pause_reason: str | None = None
        self.pauses: list[dict] = []
        self._abort_callbacks: list[Callable[[str], None]] = []
        self._listeners: list[Callable[[str, str], None]] = []
        self._expected: deque[tuple[int, int]] = deque(maxlen=3)
        self._last_pos: tuple[int, int] | None = None
        self._last_activity = time.monotonic()
        self._held: set[str] = set()
        self._agent_keys: set[str] = set()
        self._agent_keys_until = 0.0
        self.watch_user = self.cfg.pause_on_user_input
        self.signal_received: int | None = None
        self._thread: threading.Thread | None = None
        self._keyboard = None
        self._xd = None

    # ---- life cycle ---------------------------------------------------------------
    def start(self) -> Guards:
        """Open a pointer connection, start the watcher thread and the key listener."""
        from deskmimic.agent.inject_xtest import open_display

        self._xd = open_display(self._display_name)
        pos = self._query_pointer()
        with self._lock:
            self._expected.clear()
            self._expected.append(pos)
            self._last_pos = pos
        self._check_corner(pos)
        if self.cfg.listen_keys:
            self._start_keyboard()
        self._thread = threading.Thread(target=self._watch, name="deskmimic-guards", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching and listening; idempotent."""
        self._stop_watch.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._stop_keyboard()
        if self._xd is not None:
            with contextlib.suppress(Exception):
                self._xd.close()
            self._xd = None

    def __enter__(self) -> Guards:
        return self.start()

    def __exit__(self, *exc: object) -> bool:
        self.stop()
        return False

    # ---- state --------------------------------------------------------------------
    @property
    def aborted(self) -> bool:
        return self._abort.is_set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def interrupt_event(self) -> threading.Event:
        """Set while aborted or paused; for waits that must wake at once."""
        return self._interrupt

    def on_abort(self, fn: Callable[[str], None]) -> None:
        """Call ``fn(reason)`` once, on the detecting thread, when an abort happens."""
        self._abort_callbacks.append(fn)

    def subscribe(self, fn: Callable[[str, str], None]) -> None:
        """Call ``fn(state, reason)`` on 'abort', 'pause' and 'resume' (any thread)."""
        self._listeners.append(fn)

    def _notify(self, state: str, reason: str) -> None:
        for fn in list(self._listeners):
            try:
                fn(state, reason)
            except Exception:
                logger.exception("guard listener failed on %s", state)

    def abort(self, reason: str, message: str = "") -> None:
        """Abort the run (final). The first reason wins."""
        with self._lock:
            if self._abort.is_set():
                return
            self.abort_reason, self.abort_message = reason, message or reason
            self.abort_at = time.monotonic()
            self._abort.set()
            self._interrupt.set()
        logger.warning("abort: %s", self.abort_message)
        for fn in list(self._abort_callbacks):
            try:
                fn(reason)
            except Exception:
                logger.exception("abort callback failed")
        self._notify("abort", reason)

    def pause(self, reason: str) -> None:
        """Pause (the person took over); no-op when already paused or aborted."""
        with self._lock:
            if self._paused.is_set() or self._abort.is_set():
                return
            self.pause_reason = reason
            self._last_activity = time.monotonic()
            self.pauses.append({"reason": reason, "paused_at": time.monotonic(),
                                "resumed_at": None, "resumed_by": None})
            self._paused.set()
            self._interrupt.set()
        logger.warning("paused: %s", reason)
        self._notify("pause", reason)

    def resume(self, how: str = "resume_call") -> bool:
        """Resume after a pause. The agent continues from wherever the pointer is now."""
        with self._lock:
            if not self._paused.is_set() or self._abort.is_set():
                return False
            pos = self._last_pos
            self._expected.clear()
            if pos is not None:
                self._expected.append(pos)
            self._agent_keys_until = 0.0
            self.pauses[-1].update(resumed_at=time.monotonic(), resumed_by=how)
            self.pause_reason = None
            self._paused.clear()
            self._interrupt.clear()
        logger.warning("resumed (%s)", how)
        self._notify("resume", how)
        return True

    def check(self) -> None:
        """Raise `StopRequested` when aborted, `PausedInterrupt` when paused."""
        if self._abort.is_set():
            raise StopRequested(self.abort_reason or "abort", self.abort_message)
        if self._paused.is_set():
            raise PausedInterrupt(self.pause_reason or "paused")

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once on abort or pause (then raising as `check` does)."""
        if seconds > 0:
            self._interrupt.wait(seconds)
        self.check()

    def wait_resumed(self, timeout: float | None = None) -> bool:
        """Block while paused. True once running again; False on abort or timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._paused.is_set() and not self._abort.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return not self._abort.is_set()

    # ---- what the agent is doing ----------------------------------------------------
    def expect_pointer(self, x: int, y: int) -> None:
        """The agent is about to put the pointer at screen (x, y)."""
        with self._lock:
            self._expected.append((int(x), int(y)))

    def pointer_is_ours(self, pos: tuple[int, int]) -> bool:
        """Whether ``pos`` is (near) where the agent last put the pointer."""
        tol = self.cfg.user_move_px
        with self._lock:
            if not self._expected:
                return True
            return any(abs(pos[0] - x) <= tol and abs(pos[1] - y) <= tol for x, y in self._expected)

    def note_pointer(self, pos: tuple[int, int]) -> None:
        """The agent saw the pointer at ``pos`` just before moving it: pause if not ours."""
        self._check_corner(pos)
        if self.watch_user and not self.pointer_is_ours(pos):
            self.pause("user_moved_pointer")

    @contextlib.contextmanager
    def injecting_keys(self, tokens: Iterable[str]) -> Iterator[None]:
        """Mark the key presses the agent is about to inject as its own (not the person's)."""
        with self._lock:
            self._agent_keys |= {key_token(t) or t for t in tokens}
            self._agent_keys_until = float("inf")
        try:
            yield
        finally:
            with self._lock:
                self._agent_keys_until = time.monotonic() + _KEY_GRACE_S

    # ---- detection ------------------------------------------------------------------
    def _query_pointer(self) -> tuple[int, int]:
        p = self._xd.screen().root.query_pointer()
        return int(p.root_x), int(p.root_y)

    def _check_corner(self, pos: tuple[int, int]) -> None:
        n = self.cfg.failsafe_px
        if n > 0 and pos[0] <= n and pos[1] <= n:
            self.abort("failsafe_corner", f"the pointer is in the failsafe corner at {pos}: stopped")

    def _watch(self) -> None:
        period = 1.0 / self.cfg.poll_hz
        while not self._stop_watch.wait(period):
            try:
                pos = self._query_pointer()
            except Exception as exc:  # the X server went away: stop driving it
                self.abort("display_lost", f"lost the X display while watching the pointer: {exc}")
                return
            now = time.monotonic()
            with self._lock:
                moved = pos != self._last_pos
                self._last_pos = pos
                if moved:
                    self._last_activity = now
                idle = now - self._last_activity
            self._check_corner(pos)
            if self._abort.is_set():
                continue
            if self._paused.is_set():
                wait = self.cfg.resume_idle_s
                if wait is not None and idle >= wait:
                    self.resume("idle")
            elif self.watch_user and not self.pointer_is_ours(pos):
                self.pause("user_moved_pointer")

    # ---- keyboard ---------------------------------------------------------------------
    def _start_keyboard(self) -> None:
        from deskmimic.recorder.environment import require_x_display

        require_x_display()
        try:
            from pynput import keyboard
        except Exception as exc:  # pynput raises ImportError subclasses with X details
            raise StopRequested("no_keyboard", f"cannot listen for the abort hotkey: {exc}") from exc
        self._keyboard = keyboard.Listener(on_press=self._on_press, on_release=self._on_release)
        self._keyboard.start()
        self._keyboard.wait()

    def _stop_keyboard(self) -> None:
        listener, self._keyboard = self._keyboard, None
        if listener is None:
            return
        listener.stop()
        # pynput only notices the stop at the next key event: end its RECORD context
        # from a connection of our own so the thread exits now.
        context = getattr(listener, "_context", None)
        if context is not None and listener.is_alive():
            try:
                from deskmimic.agent.inject_xtest import open_display

                d = open_display(self._display_name)
                # pynput may free the context first: the BadContext answering ours is the
                # expected end of that race, which python-xlib would print to stderr.
                d.set_error_handler(lambda err, *_: logger.debug("context gone: %s", err))
                try:
                    d.record_disable_context(context)
                    d.sync()
                finally:
                    d.close()
            except Exception as exc:
                logger.debug("could not end the key listener's RECORD context: %s", exc)
        listener.join(timeout=1.0)

    def _token(self, key) -> str | None:
        from deskmimic.recorder.listener import key_fields

        return key_token(key_fields(key)["key"])

    def _on_press(self, key, *_) -> None:
        tok = self._token(key)
        now = time.monotonic()
        with self._lock:
            self._last_activity = now
            if tok:
                self._held.add(tok)
            chord = self._hotkey <= self._held
            agents = tok in self._agent_keys and now <= self._agent_keys_until
            unknown_while_typing = (now <= self._agent_keys_until and tok is not None
                                    and (tok.startswith("vk") or tok == "unknown"))
        if chord:
            self.abort("abort_hotkey", f"abort hotkey {self.cfg.abort_hotkey} pressed")
        elif self.watch_user and not (agents or unknown_while_typing):
            self.pause("user_typed")

    def _on_release(self, key, *_) -> None:
        tok = self._token(key)
        with self._lock:
            self._last_activity = time.monotonic()
            self._held.discard(tok)
            if not self._held and time.monotonic() > self._agent_keys_until:
                self._agent_keys = set()
