"""Hotkey detection (stop, pause, secret) that keeps the hotkeys' own key presses out of
the recording.

Key events that could still be the start of a hotkey are held back; when a chord
completes they are replaced by one ``marker`` event, otherwise they are released in
their original order with their original times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from deskmimic.core.errors import ConfigError

# Which names are modifiers, and their families, is every layer's table: the step reducer
# and the agent read the same one.
from deskmimic.core.keys import MODIFIER_ALIASES


def key_token(name: str | None) -> str | None:
    """Canonical token of a pynput key name: modifier family, lower-case char, or name."""
    if not name:
        return None
    if name in MODIFIER_ALIASES:
        return MODIFIER_ALIASES[name]
    return name.lower() if len(name) == 1 else name


def parse_hotkey(text: str, flag: str = "--stop-hotkey") -> frozenset[str]:
    """Parse pynput's hotkey syntax (``<ctrl>+<alt>+<shift>+s``) into canonical tokens;
    errors name ``flag``, the option the text came from."""
    tokens = []
    for part in text.split("+"):
        part = part.strip()
        if part.startswith("<") and part.endswith(">") and len(part) > 2:
            part = part[1:-1]
        elif len(part) != 1:
            raise ConfigError(f"{flag} {text!r}: {part!r} is neither <name> nor one character")
        tok = key_token(part)
        if tok is None:
            raise ConfigError(f"{flag} {text!r}: empty key")
        tokens.append(tok)
    if len(tokens) < 2:
        raise ConfigError(f"{flag} {text!r}: use a chord of at least two keys")
    return frozenset(tokens)


def check_distinct(hotkeys: dict[str, str | None]) -> dict[str, frozenset[str]]:
    """Parse each flag's hotkey (``None``: that hotkey is off) and refuse two equal chords:
    one chord cannot both stop and pause a recording."""
    parsed: dict[str, frozenset[str]] = {}
    for flag, text in hotkeys.items():
        if text is None:
            continue
        chord = parse_hotkey(text, flag)
        for other, known in parsed.items():
            if known == chord:
                raise ConfigError(f"{flag} {text!r}: the same chord as {other}; choose another")
        parsed[flag] = chord
    return parsed


@dataclass(frozen=True)
class Chord:
    """One more hotkey for `HotkeyFilter`: its keys, its marker and what it does."""

    keys: frozenset[str]
    marker: Callable[[int], dict]
    on_fire: Callable[[], None] = lambda: None


class HotkeyFilter:
    """Sits between the listener and the event sink. Not thread-safe: call under a lock.

    Args:
        hotkey: canonical tokens from `parse_hotkey`.
        emit: receives every event that belongs in the recording.
        on_hotkey: called once the chord completes (after its marker was emitted).
        marker: builds the marker event from the time the chord completed.
        more: further chords (pause, secret), each with its own marker and action.
    """

    def __init__(self, hotkey: frozenset[str], emit: Callable[[dict], None],
                 on_hotkey: Callable[[], None], marker: Callable[[int], dict],
                 more: Iterable[Chord] = ()):
        self.hotkey = hotkey
        self._emit = emit
        self._chords = [Chord(hotkey, marker, on_hotkey), *more]
        self._keys = frozenset().union(*(c.keys for c in self._chords))
        self._pending: list[dict] = []
        self._held: set[str] = set()
        self._swallow: set[str] = set()

    def feed(self, event: dict) -> None:
        kind = event["type"]
        if kind not in ("key_down", "key_up"):
            if self._pending:
                self._pending.append(event)  # keep order; decided with the keys
            else:
                self._emit(event)
            return
        tok = key_token(event.get("key"))
        if kind == "key_down":
            if tok in self._swallow:
                return  # auto-repeat of a hotkey key still held after the chord
            held = self._held | {tok}
            if tok in self._keys and any(held <= c.keys for c in self._chords):
                self._held = held
                self._pending.append(event)
                for chord in self._chords:
                    if held == chord.keys:
                        self._fire(chord, event["t"])
                        break
                return
            self._held = held
            self._flush()
            self._emit(event)
        else:
            self._held.discard(tok)
            if tok in self._swallow:
                self._swallow.discard(tok)
                return
            if self._pending:
                self._flush()
            self._emit(event)

    def _fire(self, chord: Chord, t: int) -> None:
        for ev in self._pending:
            if ev["type"] not in ("key_down", "key_up"):
                self._emit(ev)
        self._pending.clear()
        self._swallow = set(self._held)
        # The marker is built after the held-back pointer events went out: a pause
        # marker's builder starts the pause, which must not swallow what came before it.
        self._emit(chord.marker(t))
        chord.on_fire()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for ev in pending:
            self._emit(ev)

    def close(self) -> None:
        """Write out anything still held back (the recording ends mid-chord)."""
        self._flush()
