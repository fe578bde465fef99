"""A recording fake input backend (``DESKMIMIC_BACKEND=fake``).

For unit tests of the `Injector` facade's bookkeeping on machines without a display.
It injects nothing: real input is tested against real windows with the XTEST backend.
"""

from __future__ import annotations

import logging

from deskmimic.agent.inject_backend import InjectBackend
from deskmimic.agent.keysyms import SPECIAL_KEYSYMS
from deskmimic.core.errors import InputError

logger = logging.getLogger(__name__)

# A US layout: (plain, shifted) characters per key, then the special keys.
_US_PAIRS = ["`~", "1!", "2@", "3#", "4$", "5%", "6^", "7&", "8*", "9(", "0)", "-_", "=+",
             "[{", "]}", "\\|", ";:", "'\"", ",<", ".>", "/?"]
_US_PAIRS += [c + c.upper() for c in "abcdefghijklmnopqrstuvwxyz"]
SPARE_KEYCODES = tuple(range(240, 244))


def _us_keymap() -> dict[int, tuple[int, bool]]:
    keymap: dict[int, tuple[int, bool]] = {}
    code = 10
    for plain, shifted in _US_PAIRS:
        keymap[ord(plain)] = (code, False)
        keymap[ord(shifted)] = (code, True)
        code += 1
    for keysym in sorted(set(SPECIAL_KEYSYMS.values())):
        if keysym not in keymap:
            keymap[keysym] = (code, False)
            code += 1
    return keymap


class FakeBackend(InjectBackend):
    """Records every call in ``calls`` and tracks what is down, on a fake 1280x800 screen.

    ``calls`` holds tuples: ('move', x, y), ('button', name, down), ('scroll', direction),
    ('key', keycode, down), ('remap', keycode, keysym), ('sync',).
    """

    name = "fake"

    def __init__(self, width: int = 1280, height: int = 800) -> None:
        self.width, self.height = width, height
        self.calls: list[tuple] = []
        self.keymap = _us_keymap()
        self.keysym_of = {code: sym for sym, (code, shift) in self.keymap.items() if not shift}
        self.x, self.y = width // 2, height // 2
        self.keys_down: set[int] = set()
        self.buttons_down: set[str] = set()
        self.caps_lock = False
        self.closed = False
        self._spare = list(SPARE_KEYCODES)

    def move_to(self, x: int, y: int) -> None:
        self.x = min(max(int(x), 0), self.width - 1)  # servers clamp to the screen, too
        self.y = min(max(int(y), 0), self.height - 1)
        self.calls.append(("move", self.x, self.y))

    def button(self, name: str, down: bool) -> None:
        self.calls.append(("button", name, down))
        (self.buttons_down.add if down else self.buttons_down.discard)(name)

    def scroll_click(self, direction: str) -> None:
        self.calls.append(("scroll", direction))

    def keycode_for(self, keysym: int) -> tuple[int, bool]:
        if keysym in self.keymap:
            return self.keymap[keysym]
        if not self._spare:
            raise InputError(f"fake backend: no spare keycode left for keysym {keysym:#x}")
        code = self._spare.pop(0)
        self.keymap[keysym] = (code, False)
        self.keysym_of[code] = keysym
        self.calls.append(("remap", code, keysym))
        return code, False

    def key(self, keycode: int, down: bool) -> None:
        self.calls.append(("key", keycode, down))
        (self.keys_down.add if down else self.keys_down.discard)(keycode)

    def pointer_position(self) -> tuple[int, int]:
        return self.x, self.y

    def caps_lock_on(self) -> bool:
        return self.caps_lock

    def sync(self) -> None:
        self.calls.append(("sync",))

    def close(self) -> None:
        self.closed = True

    def key_events(self) -> list[tuple[int, bool]]:
        """Only the ('key', keycode, down) calls, as (keysym, down) pairs."""
        return [(self.keysym_of.get(c[1], c[1]), c[2]) for c in self.calls if c[0] == "key"]
