"""Key names, X keysyms, chords and human-like pointer paths: the vocabulary of injection.

Key names are pynput's names as in docs/episode-format.md ('a', 'A', '!', 'enter',
'ctrl', 'shift', 'f5', ...); keys are identified across backends by X keysyms, which
the episode format also records.
"""

from __future__ import annotations

import math
import random

from deskmimic.core.errors import InputError
from deskmimic.core.keys import MODIFIER_ALIASES

SHIFT_KEYSYMS = frozenset({0xFFE1, 0xFFE2})  # Shift_L, Shift_R

# pynput's special key names -> X keysyms (X11 constants, stable across servers).
_F1 = 0xFFBE
SPECIAL_KEYSYMS: dict[str, int] = {
    "alt": 0xFFE9, "alt_l": 0xFFE9, "alt_r": 0xFFEA, "alt_gr": 0xFF7E,
    "backspace": 0xFF08, "caps_lock": 0xFFE5, "cmd": 0xFFEB, "cmd_l": 0xFFEB,
    "cmd_r": 0xFFEC, "super_l": 0xFFEB, "super_r": 0xFFEC, "ctrl": 0xFFE3, "ctrl_l": 0xFFE3, "ctrl_r": 0xFFE4,
    "delete": 0xFFFF, "down": 0xFF54, "end": 0xFF57, "enter": 0xFF0D, "esc": 0xFF1B,
    "home": 0xFF50, "left": 0xFF51, "page_down": 0xFF56, "page_up": 0xFF55,
    "right": 0xFF53, "shift": 0xFFE1, "shift_l": 0xFFE1, "shift_r": 0xFFE2,
    "space": 0x20, "tab": 0xFF09, "up": 0xFF52, "insert": 0xFF63, "menu": 0xFF67,
    "num_lock": 0xFF7F, "pause": 0xFF13, "print_screen": 0xFF61, "scroll_lock": 0xFF14,
    "media_play_pause": 0x1008FF14, "media_volume_mute": 0x1008FF12,
    "media_volume_down": 0x1008FF11, "media_volume_up": 0x1008FF13,
    "media_previous": 0x1008FF16, "media_next": 0x1008FF17,
    **{f"f{i}": _F1 + i - 1 for i in range(1, 21)},
}
# Other spellings people write in a chord ('control+s', 'win+e'); input only.
_ALIASES = {"control": "ctrl", "return": "enter", "escape": "esc", "super": "cmd",
            "win": "cmd", "del": "delete", "pgup": "page_up", "pgdn": "page_down"}
# Which names are modifiers is every layer's table (core/keys.py): a chord the reducer
# learned with super_l must press super_l first here too.
MODIFIERS = frozenset(MODIFIER_ALIASES)
_CHAR_KEYSYMS = {"\n": 0xFF0D, "\r": 0xFF0D, "\t": 0xFF09, "\b": 0xFF08, "\x1b": 0xFF1B}


def char_to_keysym(char: str) -> int:
    """X keysym of one character: Latin-1 maps 1:1, the rest of Unicode to 0x01000000 + code."""
    if char in _CHAR_KEYSYMS:
        return _CHAR_KEYSYMS[char]
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    if code < 0x20 or code == 0x7F:
        raise InputError(f"cannot type control character {char!r}: use press() with a key name")
    return 0x01000000 | code


def _canonical(name: str) -> str:
    lowered = name.strip("<>").lower() if len(name) > 1 else name
    return _ALIASES.get(lowered, lowered)


def key_to_keysym(name: str) -> int:
    """Keysym for a pynput key name, a single character, or an X keysym name ('KP_Enter')."""
    if not isinstance(name, str) or not name:
        raise InputError(f"key name must be a non-empty string, got {name!r}")
    if len(name) == 1:
        return char_to_keysym(name)
    lowered = _canonical(name)
    if lowered in SPECIAL_KEYSYMS:
        return SPECIAL_KEYSYMS[lowered]
    import Xlib.XK  # only the keysym tables; needs no display

    keysym = Xlib.XK.string_to_keysym(name.strip("<>"))
    if keysym:
        return keysym
    raise InputError(
        f"unknown key name {name!r}: use a pynput name ('enter', 'ctrl', 'f5', 'page_up', ...), "
        "a single character, or an X keysym name ('KP_Enter')"
    )


def parse_chord(chord: str) -> list[str]:
    """Split 'ctrl+shift+t' (or '<ctrl>+<shift>+t', 'ctrl++') into key names."""
    if chord.endswith("++"):
        return [*parse_chord(chord[:-2]), "+"] if len(chord) > 2 else ["+"]
    if chord == "+":
        return ["+"]
    parts = [p.strip() for p in chord.split("+")]
    if any(not p for p in parts):
        raise InputError(f"malformed hotkey {chord!r}: write keys joined by '+', e.g. 'ctrl+s'")
    return parts


def human_path(
    start: tuple[int, int], end: tuple[int, int], duration: float,
    rng: random.Random | None = None, rate: float = 60.0, max_points: int = 30,
) -> list[tuple[int, int]]:
    """Points of a human-like pointer path from ``start`` to ``end`` (``start`` excluded).

    Ease-in/ease-out timing along a slightly bowed arc, as a hand moves; at most
    ``max_points`` points (about ``rate`` per second of ``duration``), ending exactly at
    ``end``. Duration <= 0 or a zero-length move gives just ``[end]``.
    """
    (x0, y0), (x1, y1) = start, end
    dist = math.hypot(x1 - x0, y1 - y0)
    n = min(max_points, int(duration * rate))
    if n <= 1 or dist < 2:
        return [(x1, y1)]
    rng = rng or random.Random()
    bow = max(-40.0, min(40.0, rng.uniform(-0.08, 0.08) * dist))  # perpendicular offset, px
    nx, ny = -(y1 - y0) / dist, (x1 - x0) / dist
    points: list[tuple[int, int]] = []
    for i in range(1, n + 1):
        t = i / n
        s = 0.5 - 0.5 * math.cos(math.pi * t)  # ease in/out
        off = bow * math.sin(math.pi * s)
        p = (round(x0 + (x1 - x0) * s + nx * off), round(y0 + (y1 - y0) * s + ny * off))
        if not points or points[-1] != p:
            points.append(p)
    points[-1] = (x1, y1)
    return points
