"""Key names, produced characters and modifiers for reducing pynput key events.

Key events follow docs/episode-format.md: ``key`` is pynput's name (a special
key's name such as ``enter`` or ``shift_r``, or the character itself), ``code``
the X keysym, ``char`` the character produced (``None`` for special keys) and,
from recorders that know it, ``keycode`` the physical X keycode.
"""

from __future__ import annotations

from dataclasses import dataclass

# Which keys are modifiers, and their canonical names, are shared with the recorder and
# the agent: core/keys.py.
from deskmimic.core.keys import is_modifier, keysym_char, modifier_family, order_modifiers

RULES_VERSION = 2  # bump whenever a key event reads differently (char, chord, pairing): dataset caches are keyed on it
# Special keys that still produce text.
TEXT_SPECIAL_KEYS: dict[str, str] = {"space": " "}

# US layout shifted symbol -> unshifted key. Only a last resort for pairing a
# key_up with its key_down when neither keycode nor keysym matches ('!' vs '1').
_US_SHIFTED = dict(zip('~!@#$%^&*()_+{}|:"<>?', "`1234567890-=[]\\;',./", strict=True))


def produced_char(event: dict, caps_lock: bool) -> str | None:
    """The printable character a key_down types, or ``None`` for a non-text key.

    pynput on X11 applies shift (and AltGr) to ``char`` from the X event state but
    ignores Lock, so caps lock is applied here: it swaps the case of letters only
    (caps lock + shift gives lower case, as with X's default keymap).
    """
    key = event.get("key")
    if key in TEXT_SPECIAL_KEYS:
        return TEXT_SPECIAL_KEYS[key]
    char = event.get("char")
    if not (isinstance(char, str) and len(char) == 1):
        char = key if isinstance(key, str) and len(key) == 1 else None
    of_keysym = keysym_char(event.get("code"))
    if char is None and (key is None or (isinstance(key, str) and key.startswith("vk"))):
        # pynput names a keysym outside its table 'vk<keysym>' and gives no char: the
        # Unicode keysyms (0x01000000 + code point) the injector types through a
        # remapped keycode, and any character a layout has that pynput does not know.
        char = of_keysym
    elif char is not None and of_keysym is not None and char != of_keysym:
        # pynput upper-cases the character of any shifted keysym: 'µ' (shift+* on fr)
        # became Greek 'Μ'. Only its 'A' for keysym 'a' is right (X's rule for a key with
        # no shifted symbol, which layouts use for a-z alone); else the keysym says.
        char = char if of_keysym.isascii() and char == of_keysym.upper() else of_keysym
    if char is None or not char.isprintable():
        return None
    if caps_lock and char.isalpha() and len(char.swapcase()) == 1:  # 'ß' stays 'ß'
        char = char.swapcase()
    return char


def chord_key(event: dict) -> str | None:
    """The main key of a chord as a normalized name: ``s`` for ctrl+S, ``enter``, ``f5``.

    Letters are lower-cased (shift is listed as a modifier instead); a control
    character some backends report for ctrl+letter (``\\x13``) becomes the letter.
    Other symbols are kept as reported, because their unshifted key depends on
    the keyboard layout.
    """
    key = event.get("key")
    if not isinstance(key, str) or not key:
        return None
    if len(key) > 1:
        return modifier_family(key)
    char = event.get("char") if isinstance(event.get("char"), str) else key
    if len(char) != 1:
        char = key
    if ord(char) < 32:
        char = chr(ord(char) + 96)
    return char.lower()


def _unshifted(char: str) -> str:
    char = char.lower()
    return _US_SHIFTED.get(char, char)


def same_key(a: dict, b: dict) -> bool:
    """Whether two key events are the same physical key (a key_down and its key_up).

    Tried in order: the X keycode, the keysym ``code``, the name case-insensitively
    and, last, the US-layout shift pairs ('1' and '!'), because a shifted character's
    key_up may report the unshifted character and keysym.
    """
    for field in ("keycode", "code"):
        va, vb = a.get(field), b.get(field)
        if va is not None and vb is not None:
            if va == vb:
                return True
            if field == "keycode":
                return False  # physical keys differ: nothing else can make them equal
    ka, kb = a.get("key"), b.get("key")
    if not (isinstance(ka, str) and isinstance(kb, str)):
        return False
    if ka.casefold() == kb.casefold():
        return True
    if len(ka) == 1 and len(kb) == 1:
        return _unshifted(ka) == _unshifted(kb)
    return False


@dataclass(eq=False)
class HeldKey:
    """A key that is down: its key_down event, and whether a step's meaning used it."""

    event: dict
    modifier: bool
    used: bool


class KeyState:
    """Which keys are down and whether caps lock is on, followed through key events.

    Caps lock starts off: its state before the recording is unknown.
    """

    def __init__(self) -> None:
        self.held: list[HeldKey] = []
        self.caps_lock = False

    def find(self, event: dict) -> HeldKey | None:
        """The held key ``event`` belongs to (see `same_key`), latest first."""
        for h in reversed(self.held):
            if same_key(h.event, event):
                return h
        return None

    def press(self, event: dict) -> tuple[HeldKey, bool]:
        """Record a key_down; returns the held key and whether it is an auto-repeat."""
        held = self.find(event)
        if held is not None:
            return held, True
        key = event.get("key")
        held = HeldKey(event, modifier=is_modifier(key), used=not is_modifier(key))
        self.held.append(held)
        if key == "caps_lock":
            self.caps_lock = not self.caps_lock
        return held, False

    def release(self, event: dict) -> HeldKey | None:
        """Record a key_up; returns the key it released, or ``None`` if none was down."""
        held = self.find(event)
        if held is not None:
            self.held.remove(held)
        return held

    def modifiers(self, use: bool = False) -> tuple[str, ...]:
        """Normalized modifiers held now; ``use`` marks them as part of a step."""
        mods = [h for h in self.held if h.modifier]
        for h in mods if use else ():
            h.used = True
        return order_modifiers(h.event["key"] for h in mods)

    def chord_modifiers(self) -> set[str]:
        """Held modifiers that turn a character key into a chord. Shift does not (it
        selects the character) and neither does AltGr (it types characters such as '@')."""
        return {modifier_family(h.event["key"]) for h in self.held
                if h.modifier and h.event["key"] != "alt_gr"} - {"shift"}

    def take_unused_modifiers(self, extra: HeldKey) -> tuple[str, ...]:
        """Modifiers no step used (plus ``extra``, just released), now marked used."""
        lone = [h for h in self.held if h.modifier and not h.used] + [extra]
        for h in lone:
            h.used = True
        return order_modifiers(h.event["key"] for h in lone)
