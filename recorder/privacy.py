"""What of the live input and video may reach the episode: nothing while recording is
paused, and key events without their key while the secret toggle is on or the keyboard
focus is in a password field (`deskmimic.recorder.secret_hold` says when).

The gate sits between the input listener (after the hotkey filter, so the hotkeys still
read real keys) and the event queue, and the encoder asks it about every frame: what it
refuses is never written, not removed afterwards (docs/episode-format.md, "Pause and
secret text").
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from deskmimic.core.keys import SECRET_MASK, modifier_family
from deskmimic.recorder.hotkey import key_token

# What a masked key event carries instead of its key and character: one printable
# character, so the step reducer reads masked typing as typed text of the same length
# (a `type` step of bullets) instead of hotkeys of an unknown key.
MASK = SECRET_MASK
# Modifiers that type nothing stay in the clear, so a chord pressed while secret still
# reads as a chord; shift is masked, since it tells which characters were upper case.
CLEAR_MODIFIERS = frozenset({"ctrl", "alt", "cmd"})
# Keys that leave or submit a password field are no part of the password: masked only by
# the hotkey, so that a login still reads as a password of its own length, then Enter.
FIELD_KEYS = frozenset({"tab", "enter", "esc"})
# The `source` of the secret markers the password-field watcher writes; a marker without
# one is the hotkey's (the only source before the watcher existed).
HOTKEY_SOURCE = "hotkey"
PASSWORD_SOURCE = "password_field"


class CaptureGate:
    """Pause spans and secret masking for one recording. Thread-safe.

    The listener thread toggles it (through the hotkeys' marker builders) and feeds it
    events; the capture and encoder threads ask it whether a frame time is paused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[list[int | None]] = []  # [start_ns, end_ns or None while open]
        self._secret = False               # the hotkey's toggle
        self._auto = False                 # the focus is in a password field
        self._masked: set[object] = set()  # keys whose key_down was masked, until their key_up
        self._clear: set[object] = set()   # keys whose key_down was written in the clear
        self.masked_keys = 0               # key_down events masked so far

    # ---- pause ----------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        with self._lock:
            return bool(self._spans) and self._spans[-1][1] is None

    def covers(self, t: int) -> bool:
        """Whether episode time ``t`` falls inside a pause (from its marker to the resume)."""
        with self._lock:
            return any(s <= t and (e is None or t < e) for s, e in self._spans)

    def toggle_pause(self, t: int) -> dict:
        """Pause or resume at ``t``; returns the marker event that says which."""
        with self._lock:
            if self._spans and self._spans[-1][1] is None:
                self._spans[-1][1] = max(t, self._spans[-1][0])
                return {"t": t, "type": "marker", "name": "resume"}
            self._spans.append([t, None])
            return {"t": t, "type": "marker", "name": "pause"}

    # ---- secret ---------------------------------------------------------------------
    @property
    def secret(self) -> bool:
        with self._lock:
            return self._secret

    @property
    def masking(self) -> bool:
        """Whether key presses are masked now, by the hotkey or by a password field."""
        with self._lock:
            return self._secret or self._auto

    def set_auto(self, on: bool, t: int) -> dict | None:
        """Mask (or stop masking) because the focus entered (left) a password field.

        Returns its marker (``secret_on``/``secret_off`` with ``source: password_field``),
        or ``None`` when nothing changed. Independent of the hotkey: keys are masked while
        either is on.
        """
        with self._lock:
            if on == self._auto:
                return None
            self._auto = on
            return {"t": t, "type": "marker", "name": "secret_on" if on else "secret_off",
                    "source": PASSWORD_SOURCE}

    def toggle_secret(self, t: int) -> dict:
        """Turn secret masking on or off at ``t``; returns its marker event."""
        with self._lock:
            self._secret = not self._secret
            return {"t": t, "type": "marker", "name": "secret_on" if self._secret else "secret_off"}

    def admit(self, event: dict) -> dict | None:
        """``event`` as it may be written (masked if secret), or ``None`` if paused.

        Markers always pass: they say where pauses and secrets begin and end.
        """
        kind = event.get("type")
        if kind == "marker":
            return event
        if self.covers(int(event.get("t", 0))):
            if kind == "key_up":
                with self._lock:
                    # Its press is over even though the release is not written: a later
                    # press of the same key is a new key, not an auto-repeat of this one.
                    self._forget(event)
            return None
        if kind not in ("key_down", "key_up"):
            return event
        with self._lock:
            return self._key(event)

    def _forget(self, event: dict) -> None:
        ident = _ident(event)
        self._masked.discard(ident)
        self._clear.discard(ident)

    def _key(self, event: dict) -> dict:
        ident = _ident(event)
        if event["type"] == "key_down":
            family = modifier_family(str(event.get("key")))
            if family not in CLEAR_MODIFIERS and (self._secret or (self._auto and family not in FIELD_KEYS)):
                repeat = ident in self._masked
                if not repeat:
                    self.masked_keys += 1  # auto-repeats are one key
                self._masked.add(ident)
                # The masked event no longer says which key it was, so only this flag
                # lets `privacy_from_events` count presses as the gate did.
                return _masked(event, repeat=repeat)
            self._clear.add(ident)
            return event
        if ident in self._masked:
            self._masked.discard(ident)
            return _masked(event)
        if ident in self._clear:
            self._clear.discard(ident)
            return event
        # A release whose press was not seen: hide it if it could be part of a secret.
        return _masked(event) if self._secret or self._auto else event

    # ---- summary --------------------------------------------------------------------
    def close(self, t_end: int) -> None:
        """End an open pause at the end of the recording."""
        with self._lock:
            if self._spans and self._spans[-1][1] is None:
                self._spans[-1][1] = max(t_end, self._spans[-1][0])

    def meta(self) -> dict:
        """The meta.json fields: the paused spans (ns) and how many keys were masked."""
        with self._lock:
            return {"paused": [{"start_ns": s, "end_ns": e} for s, e in self._spans],
                    "masked_keys": self.masked_keys}


def _ident(event: dict) -> object:
    # A key is one physical key from its down to its up: the X keycode (a shifted
    # character's up may report another keysym), else the key's name.
    return event.get("keycode") or key_token(event.get("key"))


def _masked(event: dict, repeat: bool = False) -> dict:
    """The event's time, kind and pointer position; its key, keysym, keycode and character
    replaced, so nothing of which key it was reaches the disk."""
    out = {k: v for k, v in event.items() if k not in ("key", "code", "keycode", "char")}
    out.update(key=MASK, code=None, keycode=None, char=MASK, secret=True)
    if repeat:
        out["repeat"] = True
    return out


def privacy_from_events(events: Iterable[dict], t_end: int) -> tuple[dict, list[str]]:
    """The meta.json fields `CaptureGate.meta` writes at a clean stop, rebuilt from what
    the gate let reach events.jsonl: its markers and its masked key presses.

    A killed recorder never writes them (docs/episode-format.md, "Crash recovery").
    Markers are read as the gate toggles: a ``resume`` with no open pause and a second
    ``pause`` inside one change nothing; secret markers switch their ``source`` (the
    hotkey when absent, or ``password_field``), and the secret is on while any is.

    Args:
        events: the episode's events in recorded order.
        t_end: episode time (ns) at which a pause still open at the end is closed: a
            clean stop closes it at the stop, a recovery at the last frame or event.

    Returns:
        ``({"paused": [...], "masked_keys": n}, still_on)``; ``still_on`` names what was
        on when the events end (``"pause"``, ``"secret"``), so the caller can say so.
    """
    spans: list[list[int | None]] = []
    secret: set[str] = set()
    masked = 0
    for ev in events:
        kind = ev.get("type")
        if kind == "marker":
            name, t = ev.get("name"), int(ev["t"])
            is_open = bool(spans) and spans[-1][1] is None
            if name == "pause" and not is_open:
                spans.append([t, None])
            elif name == "resume" and is_open:
                spans[-1][1] = max(t, spans[-1][0])
            elif name in ("secret_on", "secret_off"):
                source = str(ev.get("source") or HOTKEY_SOURCE)
                if name == "secret_on":
                    secret.add(source)
                else:
                    secret.discard(source)
        elif kind == "key_down" and ev.get("secret") is True and not ev.get("repeat"):
            masked += 1
    still_on = []
    if spans and spans[-1][1] is None:
        spans[-1][1] = max(int(t_end), spans[-1][0])
        still_on.append("pause")
    if secret:
        still_on.append("secret")
    return ({"paused": [{"start_ns": s, "end_ns": e} for s, e in spans], "masked_keys": masked},
            still_on)
