"""Holding input for the password-field answer: `PasswordMasking` turns the capture
gate's automatic secret on while the keyboard focus is in a password field, as
`deskmimic.recorder.secret_fields.FocusWatcher` tells, so that the first key typed into
the field after the click (or Tab) that moved the focus there is masked too, although
the answer comes a few milliseconds after that key reached the recorder
(docs/episode-format.md, "Pause and secret text").
"""

from __future__ import annotations

import bisect
import logging
import statistics
import threading
from collections.abc import Callable

from deskmimic.core.keys import modifier_family
from deskmimic.recorder.clock import EpisodeClock
from deskmimic.recorder.privacy import CaptureGate
from deskmimic.recorder.secret_fields import SETTLE_S, FocusWatcher

logger = logging.getLogger(__name__)
_WARNED: set[str] = set()  # the advice already given in this process

# How long input after a possible focus move waits for the answer at most (a click that
# moves no focus gets none). Far above the answer times measured (docs/episode-format.md).
HOLD_S = 0.25
HOLD_NS = int(HOLD_S * 1e9)
# How long all input waits while the watcher watches, so that it leaves in time order:
# the listener's mouse and keyboard threads deliver on their own, so a key can come
# before the click that preceded it, and a loaded machine delivers late.
JITTER_NS = 50_000_000
# They also stamp on their own: a key pressed just after a click can bear an earlier time
# than the click. Masking a click starts begins this much before its time, and masking it
# ends ends this much after.
CLICK_MARGIN_NS = 30_000_000
# Keys that move the focus in every toolkit; chords with these modifiers may too.
FOCUS_KEYS = frozenset({"tab", "enter", "esc", "f6"})
CHORD_MODIFIERS = frozenset({"ctrl", "alt", "cmd"})
SETTLE_NS = int(SETTLE_S * 1e9)
POLL_NS = 1_000_000_000  # the release thread's longest sleep with nothing waiting


class PasswordMasking:
    """Sits between the listener's hotkey filter and the capture gate, and turns the
    gate's automatic secret on while the focus is in a password field.

    While the watcher watches, input waits `JITTER_NS` and leaves in time order. A
    possible focus move (`_moves_focus`) opens a hold: input from its time on waits for
    the answer (`SETTLE_S` after the last one) or `HOLD_S`, then the answer's marker goes
    first and the held input is masked by it. An answer with no move seen (the
    application moved the focus, or the click is still on its way) opens one the same way.
    When in doubt it masks: masking starts at the earliest time the move can have
    happened (`CLICK_MARGIN_NS` before a click, `JITTER_NS` before an answer whose move
    is not seen yet), and ends at the latest (after the last move before the answer, or
    at the answer itself).

    Args:
        gate: the recording's capture gate (it masks; this only says when).
        clock: the episode clock: event times, and the markers'.
        emit: receives what the gate admits, in order (the event queue's ``put``).
        secret_hotkey: named in the line that says password fields are not detected.
    """

    def __init__(self, gate: CaptureGate, clock: EpisodeClock, emit: Callable[[dict], None],
                 secret_hotkey: str | None = None):
        self._gate, self._clock, self._emit = gate, clock, emit
        self._hotkey = secret_hotkey
        self._cond = threading.Condition()
        self._buf: list[dict] = []            # waiting input, in time order
        self._first: int | None = None        # a hold: input from here on waits for the answer
        self._last = 0                        # where an answer that ends masking takes effect
        self._deadline = self._until = 0      # when the hold ends at the latest / as it stands
        self._trigger_t: int | None = None    # the move's time (None: an answer came first)
        self._answer_t = 0
        self._pending: bool | None = None     # the answer the hold ends with
        self._last_t = 0                      # time of the last event written
        self._mods: set[str] = set()
        self._closed = False
        self._watcher = FocusWatcher(self._on_focus)
        self.focus_changes = 0
        self.password_answers = 0             # of which into a password field
        self.answer_ms: list[float] = []      # possible focus move -> its last answer
        self.delay_ms_max = 0.0               # longest an input event waited

    def start(self) -> None:
        """Start watching in the background; returns at once."""
        self._watcher.start()
        threading.Thread(target=self._release_loop, name="deskmimic-secret-hold", daemon=True).start()

    @property
    def watching(self) -> bool:
        return self._watcher.status == "watching"

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._watcher.wait_ready(timeout)

    def feed(self, event: dict) -> None:
        """One event from the listener (listener threads, serialized)."""
        with self._cond:
            if self._closed or not self.watching:
                self._flush()
                self._pass(event)
                return
            bisect.insort(self._buf, event, key=_time)
            move = self._moves_focus(event)
            if move:
                self._trigger(_time(event), click=move == "click")
            self._pump(self._clock.now())
            self._cond.notify_all()

    def stop(self) -> None:
        """Write what waits and stop watching (after the listener stopped)."""
        with self._cond:
            self._flush()
            self._closed = True
            self._cond.notify_all()
        self._watcher.stop()

    def meta(self) -> dict:
        """meta.json's ``password_fields``: whether they were detected, else why not."""
        out: dict = {"watched": self._watcher.status in ("watching", "stopped")}
        if not out["watched"]:
            out["reason"] = self._watcher.reason or "the accessibility bus did not answer in time"
            return {"password_fields": out}
        out.update(focus_changes=self.focus_changes, password_answers=self.password_answers,
                   answer_ms_median=_ms(statistics.median(self.answer_ms) if self.answer_ms else None),
                   answer_ms_max=_ms(max(self.answer_ms, default=None)),
                   input_delay_ms_max=_ms(self.delay_ms_max))
        return {"password_fields": out}

    # ---- internals (callers hold self._cond) --------------------------------------------
    def _moves_focus(self, event: dict) -> str | None:
        kind = event.get("type")
        if kind == "button_down":
            return "click"
        if kind not in ("key_down", "key_up"):
            return None
        family = modifier_family(str(event.get("key")))
        if family in CHORD_MODIFIERS:
            (self._mods.add if kind == "key_down" else self._mods.discard)(family)
            return None
        return "key" if kind == "key_down" and (family in FOCUS_KEYS or self._mods) else None

    def _trigger(self, t: int, click: bool) -> None:
        # A key that moves the focus was pressed before the move and comes from the same
        # thread as the keys after it; a click comes from the other one.
        start, end = (t - CLICK_MARGIN_NS, t + CLICK_MARGIN_NS) if click else (t + 1, t + 1)
        if self._first is not None and self._pending is not None:
            if self._trigger_t is None and t <= self._answer_t:
                self._trigger_t = t  # the answer that came first is this move's
                self._first = min(self._first, start)
                return
            self._end_hold()  # the earlier answer covers what came before this move
        self._first = start if self._first is None else min(self._first, start)
        self._last, self._trigger_t = end, t
        self._deadline = self._until = self._clock.now() + HOLD_NS

    def _pass(self, event: dict) -> None:
        if event.get("type") != "marker":
            self.delay_ms_max = max(self.delay_ms_max, (self._clock.now() - _time(event)) / 1e6)
        self._last_t = max(self._last_t, _time(event))
        admitted = self._gate.admit(event)
        if admitted is not None:
            self._emit(admitted)

    def _pump(self, now: int) -> None:
        if self._first is not None and now >= self._until:
            self._end_hold()
        while self._buf and _time(self._buf[0]) + JITTER_NS <= now and (
                self._first is None or _time(self._buf[0]) < self._first):
            self._pass(self._buf.pop(0))

    def _end_hold(self) -> None:
        """What came before the move, then the answer's marker; the rest is masked by it."""
        if self._pending is not None:
            at = self._first if self._pending else max(self._first, self._last)
            while self._buf and _time(self._buf[0]) < at:
                self._pass(self._buf.pop(0))
            self._last_t = max(at, self._last_t)
            marker = self._gate.set_auto(self._pending, self._last_t)
            if marker is not None:
                self._emit(marker)
            if self._trigger_t is not None:
                self.answer_ms.append((self._answer_t - self._trigger_t) / 1e6)
        self._first = self._pending = self._trigger_t = None

    def _flush(self) -> None:
        if self._first is not None:
            self._end_hold()
        for event in self._buf:
            self._pass(event)
        self._buf.clear()

    def _on_focus(self, is_password: bool) -> None:
        with self._cond:
            self.focus_changes += 1
            self.password_answers += int(is_password)
            if self._closed:
                return
            now = self._clock.now()
            if self._first is None:  # no move seen: it may still be on its way
                self._first, self._last = now - JITTER_NS, now
                self._deadline = now + HOLD_NS
            self._pending, self._answer_t = is_password, now
            self._until = min(self._deadline, now + SETTLE_NS)
            self._pump(now)
            self._cond.notify_all()

    def _release_loop(self) -> None:
        self._watcher.wait_ready()
        if not self.watching:
            how = (f"press the secret hotkey {self._hotkey} around passwords" if self._hotkey
                   else "turn on the secret hotkey (--secret-hotkey) to mask passwords")
            # Once per process (a GUI or a bench records many times); every recording's
            # meta.json says it anyway.
            if not self._closed and how not in _WARNED:
                _WARNED.add(how)
                logger.warning("password fields are not detected here: %s; %s", self._watcher.reason, how)
            return
        with self._cond:
            while not self._closed:
                now = self._clock.now()
                self._pump(now)
                wake = [self._until] if self._first is not None else []
                if self._buf and (self._first is None or _time(self._buf[0]) < self._first):
                    wake.append(_time(self._buf[0]) + JITTER_NS)
                self._cond.wait(max(min(wake, default=now + POLL_NS) - now, 0) / 1e9 + 1e-4)
            self._flush()


def _time(event: dict) -> int:
    return int(event.get("t", 0))


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
