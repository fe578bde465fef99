"""X11 input injection through the XTEST extension (python-xlib, imported lazily).

XTEST events are indistinguishable from a physical device for every client, unlike
XSendEvent (pynput's keyboard Controller), which most programs ignore. Characters
are found in the server's keyboard mapping of the active layout, on any of its four
levels (shift, AltGr, AltGr+shift); one that no key produces is typed by mapping it onto
a spare keycode, as xdotool does. The spare keycodes are given back on `close()` and on
a signal (`emergency_release`), and by the next injector on the display when this
process was killed (a root window property names them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from deskmimic.agent.inject_backend import InjectBackend
from deskmimic.core.errors import DisplayError, InputError
from deskmimic.core.keys import (
    ISO_LEVEL3_SHIFT,
    char_keysyms,
    keysym_char,
    one_group,
    row_keysym,
)

logger = logging.getLogger(__name__)

BUTTON_NUMBERS = {"left": 1, "middle": 2, "right": 3, "x1": 8, "x2": 9}
WHEEL_NUMBERS = {"up": 4, "down": 5, "left": 6, "right": 7}
_KEYMAP_MAX_AGE_S = 0.5  # re-read the keyboard mapping this often (layout switches)
# Set on a keycode from `keycode_for` whose keysym is on level 3 or 4 (AltGr): `key`
# presses the AltGr key with it. X keycodes stop at 255, so the bit is free.
LEVEL3_FLAG = 0x100
# A borrowed keycode is remapped to another keysym no sooner than this after its last use,
# and given back no sooner than this after the last key: clients (Qt, GTK, the recorder)
# translate a key with the mapping they read when they handle it, not when it was typed.
_RECYCLE_AGE_S = 0.3
_GIVE_BACK_DELAY_S = 0.2
# Root window property naming what a process borrowed: "<prefix><pid>".
_NOTE_PREFIX = "_DESKMIMIC_BORROWED_KEYS_"
_CARDINAL = 6  # the predefined atom CARDINAL (Xlib.Xatom.CARDINAL)


def open_display(name: str | None = None) -> Any:
    """Connect to X display ``name`` (default ``$DISPLAY``); `DisplayError` says why not."""
    name = name or os.environ.get("DISPLAY")
    if not name:
        if os.environ.get("WAYLAND_DISPLAY"):
            raise DisplayError(
                "this is a Wayland session without X: deskmimic injects input through X11 "
                "XTEST, which Wayland does not allow. Log in with an X11 (Xorg) session."
            )
        raise DisplayError(
            "no X display: DISPLAY is not set. Run inside an X11 session, or start a "
            "virtual one (Xvfb :99 -screen 0 1280x800x24 & export DISPLAY=:99)."
        )
    import Xlib.display
    import Xlib.error

    try:
        return Xlib.display.Display(name)
    except (Xlib.error.DisplayError, OSError) as exc:
        raise DisplayError(
            f"cannot connect to X display {name!r} ({exc}): check DISPLAY and that the X "
            "server is running and lets you connect (xhost / XAUTHORITY)"
        ) from exc


@contextlib.contextmanager
def _x_errors(what: str) -> Iterator[None]:
    import Xlib.error

    try:
        yield
    except (Xlib.error.XError, Xlib.error.ConnectionClosedError, OSError) as exc:
        raise InputError(f"X server refused {what}: {exc}") from exc


class XTestBackend(InjectBackend):
    """Injects through XTEST on one X display (``None`` = ``$DISPLAY``)."""

    name = "xtest"

    def __init__(self, display: str | None = None) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        self._X, self._xtest = X, xtest
        self._display_name = display
        self._d = open_display(display)
        if not self._d.query_extension("XTEST"):
            self._d.close()
            raise InputError(
                f"X display {self._d.get_display_name()!r} has no XTEST extension, so input "
                "cannot be injected; start the X server with XTEST enabled (Xorg/Xvfb have it)"
            )
        self._root = self._d.screen().root
        self._min_kc = self._d.display.info.min_keycode
        self._max_kc = self._d.display.info.max_keycode
        self._keymap: list[tuple[int, ...]] = []
        self._keymap_time = -1.0
        self._level3: int | None = None
        self._single_group = True
        self._borrowed: OrderedDict[int, int] = OrderedDict()  # keysym -> keycode, LRU order
        self._used_at: dict[int, float] = {}  # borrowed keycode -> when last pressed
        self._note_name = f"{_NOTE_PREFIX}{os.getpid()}"
        self._closed = False
        try:
            self._restore_leftovers()
        except InputError:
            self._d.close()
            raise

    # ---- pointer ---------------------------------------------------------------------
    def move_to(self, x: int, y: int) -> None:
        with _x_errors(f"moving the pointer to ({x}, {y})"):
            self._xtest.fake_input(self._d, self._X.MotionNotify, detail=0,
                                   root=self._root, x=int(x), y=int(y))

    def button(self, name: str, down: bool) -> None:
        kind = self._X.ButtonPress if down else self._X.ButtonRelease
        with _x_errors(f"the {name} button"):
            self._xtest.fake_input(self._d, kind, BUTTON_NUMBERS[name])

    def scroll_click(self, direction: str) -> None:
        number = WHEEL_NUMBERS[direction]
        with _x_errors(f"scrolling {direction}"):
            self._xtest.fake_input(self._d, self._X.ButtonPress, number)
            self._xtest.fake_input(self._d, self._X.ButtonRelease, number)

    def pointer_position(self) -> tuple[int, int]:
        with _x_errors("querying the pointer"):
            reply = self._root.query_pointer()
        return int(reply.root_x), int(reply.root_y)

    # ---- keyboard --------------------------------------------------------------------
    def key(self, keycode: int, down: bool) -> None:
        real = keycode & 0xFF
        level3 = self._level3_keycode() if keycode & LEVEL3_FLAG else None
        kind = self._X.KeyPress if down else self._X.KeyRelease
        with _x_errors(f"keycode {real}"):
            if level3 is not None and down:
                self._xtest.fake_input(self._d, kind, level3)
            self._xtest.fake_input(self._d, kind, real)
            if level3 is not None and not down:
                self._xtest.fake_input(self._d, kind, level3)
        if real in self._used_at:
            self._used_at[real] = time.monotonic()

    def caps_lock_on(self) -> bool:
        with _x_errors("querying Caps Lock"):
            return bool(self._root.query_pointer().mask & self._X.LockMask)

    def keycode_for(self, keysym: int) -> tuple[int, bool]:
        """Keycode and shift for ``keysym``; a level-3 (AltGr) key comes back with
        `LEVEL3_FLAG` set, which `key` presses together with the AltGr key.

        Caps Lock is allowed for here for letters beyond ASCII (the facade does a-z): on a
        letter key (its two cases on its two levels) it selects the other case, so shift is
        inverted; on another key ('é' over '2' on fr) it upper-cases the letter, so such a
        letter is typed on a borrowed letter key instead.
        """
        char = keysym_char(keysym)
        if (char is not None and not char.isascii() and char.lower() != char.upper()
                and self.caps_lock_on()):
            if len(char.swapcase()) != 1:
                # 'ß': with Caps Lock the layout's key types 'ẞ'; a key of its own types 'ß'.
                code = self._borrowed.get(keysym)
                return (code if code is not None
                        else self._borrow(keysym, (keysym, keysym))), False
            code, upper = (self._letter_key(self._mapping(), char)
                           or self._letter_key(self._mapping(refresh=True), char)
                           or self._borrow_char(keysym, char))
            return code, not upper
        found = self._lookup(self._mapping(), keysym)
        if found is None:
            found = self._lookup(self._mapping(refresh=True), keysym)
        if found is None:
            found = self._borrow_char(keysym, char)
        elif keysym in self._borrowed:
            self._borrowed.move_to_end(keysym)
        return found

    def _letter_key(self, mapping: list[tuple[int, ...]], char: str) -> tuple[int, bool] | None:
        """A key with both cases of letter ``char`` on its two levels, and whether ``char``
        is the upper case."""
        single = self._single_group
        group = 0 if single else self._group()
        lower, upper = (set(char_keysyms(c)) for c in (char.lower(), char.upper()))
        for i, row in enumerate(mapping):
            if (row_keysym(row, group, 0, single) in lower
                    and row_keysym(row, group, 1, single) in upper):
                return self._min_kc + i, char == char.upper()
        return None

    def _borrow_char(self, keysym: int, char: str | None) -> tuple[int, bool]:
        """Borrow a keycode for ``keysym``: a letter with both of its cases on the key's two
        levels, as on a real key, so that the server makes it a letter key (Caps Lock then
        selects the other case, which `keycode_for` allows for); anything else on both."""
        if char is None or char.lower() == char.upper() or len(char.swapcase()) != 1:
            return self._borrow(keysym, (keysym, keysym)), False
        lower, upper = (_case_keysym(c) for c in (char.lower(), char.upper()))
        return self._borrow(keysym, (lower, upper), also=(lower, upper)), char == char.upper()

    def _mapping(self, refresh: bool = False) -> list[tuple[int, ...]]:
        now = time.monotonic()
        if refresh or now - self._keymap_time > _KEYMAP_MAX_AGE_S:
            with _x_errors("reading the keyboard mapping"):
                rows = self._d.get_keyboard_mapping(self._min_kc, self._max_kc - self._min_kc + 1)
                mods = self._d.get_modifier_mapping()
            self._keymap = [tuple(row) for row in rows]
            self._keymap_time = now
            self._single_group = one_group(self._keymap)
            modifier_keys = {code for codes in mods for code in codes if code}
            # The key that selects level 3 (AltGr): ISO_Level3_Shift bound to a modifier.
            self._level3 = next((self._min_kc + i for i, row in enumerate(self._keymap)
                                 if row and row[0] == ISO_LEVEL3_SHIFT
                                 and self._min_kc + i in modifier_keys), None)
        return self._keymap

    def _level3_keycode(self) -> int | None:
        self._mapping()
        return self._level3

    def _lookup(self, mapping: list[tuple[int, ...]], keysym: int) -> tuple[int, bool] | None:
        # The active layout group, lowest level first; a level-3 key needs an AltGr key.
        levels = 4 if self._level3_keycode() is not None else 2
        single = self._single_group
        group = 0 if single else self._group()
        char = keysym_char(keysym)
        # Layouts carry many characters under older named keysyms (EuroSign for U+20AC).
        wanted = set(char_keysyms(char)) | {keysym} if char else {keysym}
        for level in range(levels):
            for i, row in enumerate(mapping):
                if row_keysym(row, group, level, single) in wanted:
                    code = self._min_kc + i
                    return (code | LEVEL3_FLAG if level >= 2 else code), level % 2 == 1
        if 0x41 <= keysym <= 0x5A and group == 0:  # X convention: 'a', NoSymbol types 'A'
            lower = keysym + 0x20
            for i, row in enumerate(mapping):
                if row and row[0] == lower and (len(row) < 2 or row[1] == 0):
                    return self._min_kc + i, True
        return None

    def _group(self) -> int:
        """The active layout group (0 = the first layout), from the core state's bits 13-14."""
        with _x_errors("querying the keyboard group"):
            return (self._root.query_pointer().mask >> 13) & 3

    def _borrow(self, keysym: int, row: tuple[int, int], also: tuple[int, ...] = ()) -> int:
        """Map ``row`` onto a spare keycode for ``keysym`` (and the keysyms ``also`` on it)."""
        mapping = self._mapping(refresh=True)
        in_use = set(self._borrowed.values())
        spare = [self._min_kc + i for i, r in enumerate(mapping)
                 if not any(r) and self._min_kc + i not in in_use and self._min_kc + i > 8]
        if spare:
            keycode = spare[-1]
        elif self._borrowed:  # recycle the least recently used borrowed keycode
            old_sym, keycode = self._borrowed.popitem(last=False)
            for sym in [s for s, code in self._borrowed.items() if code == keycode]:
                del self._borrowed[sym]  # the other case of a letter on the same key
            # A client translates a key with the mapping it reads when it handles the
            # key, so a keycode remapped too soon could turn its last key into the new one.
            wait = self._used_at.get(keycode, 0.0) + _RECYCLE_AGE_S - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            logger.debug("recycling keycode %d (was keysym %#x)", keycode, old_sym)
        else:
            raise InputError(
                f"cannot type keysym {keysym:#x} ({_keysym_label(keysym)!r}): no key produces it "
                "and the keyboard mapping has no spare keycode to remap; switch to a keyboard "
                "layout that has this character"
            )
        with _x_errors(f"remapping keycode {keycode}"):
            self._d.change_keyboard_mapping(keycode, [row])
            for sym in (*also, keysym):
                self._borrowed[sym] = keycode
            self._used_at[keycode] = time.monotonic()
            self._note_borrowed()
            self._d.sync()
        self._keymap_time = -1.0
        logger.debug("mapped keysyms %s onto spare keycode %d", [hex(k) for k in row], keycode)
        return keycode

    def _note_borrowed(self) -> None:
        """Write what is borrowed onto the root window, so that the next injector on this
        display gives it back if this process dies before `close` (SIGKILL)."""
        data = [v for pair in self._borrowed.items() for v in (pair[1], pair[0])]
        self._root.change_property(self._d.intern_atom(self._note_name), _CARDINAL,
                                   32, data)

    def _restore_leftovers(self) -> None:
        """Give back keycodes a dead injector process borrowed (see `_note_borrowed`)."""
        with _x_errors("reading the root window's properties"):
            atoms = self._root.list_properties()
            for atom in atoms:
                name = self._d.get_atom_name(atom)
                if not name.startswith(_NOTE_PREFIX) or _alive(name[len(_NOTE_PREFIX):]):
                    continue
                prop = self._root.get_full_property(atom, _CARDINAL)
                values = list(prop.value) if prop is not None else []
                ours: dict[int, set[int]] = {}
                for keycode, keysym in zip(values[::2], values[1::2], strict=False):
                    ours.setdefault(keycode, {0}).add(keysym)
                for keycode, keysyms in ours.items():
                    row = self._d.get_keyboard_mapping(keycode, 1)[0]
                    if any(row) and set(row) <= keysyms:  # nobody remapped it since
                        self._d.change_keyboard_mapping(keycode, [(0, 0)])
                        logger.warning("gave back keycode %d that a dead injector had "
                                       "remapped", keycode)
                self._root.delete_property(atom)
            self._d.sync()

    def _give_back(self, d: Any) -> None:
        """Unmap every borrowed keycode through connection ``d``."""
        borrowed = set(self._borrowed.values())
        self._borrowed.clear()
        for keycode in borrowed:
            d.change_keyboard_mapping(keycode, [(0, 0)])
        d.screen().root.delete_property(d.intern_atom(self._note_name))
        d.sync()
        self._keymap_time = -1.0

    # ---- lifetime --------------------------------------------------------------------
    def sync(self) -> None:
        with _x_errors("sync"):
            self._d.sync()

    def emergency_release(self, keycodes: Iterable[int], buttons: Iterable[str]) -> None:
        """Release through a fresh connection: the usual one may be mid-request. The
        borrowed keycodes are given back too, since the process may end right after."""
        d = open_display(self._display_name)
        try:
            for code in keycodes:
                self._xtest.fake_input(d, self._X.KeyRelease, code & 0xFF)
                if code & LEVEL3_FLAG and self._level3 is not None:
                    self._xtest.fake_input(d, self._X.KeyRelease, self._level3)
            for name in buttons:
                self._xtest.fake_input(d, self._X.ButtonRelease, BUTTON_NUMBERS[name])
            d.sync()
            if self._borrowed:
                time.sleep(_GIVE_BACK_DELAY_S)
                self._give_back(d)
        finally:
            d.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._borrowed:
                # Clients (and a recorder) translate a key with the mapping they read when
                # they handle it: let them handle the last borrowed key first.
                time.sleep(_GIVE_BACK_DELAY_S)
                with _x_errors("restoring the keyboard mapping"):
                    self._give_back(self._d)
        finally:
            self._d.close()


def _case_keysym(char: str) -> int:
    # The server makes a key a letter key only for keysyms whose case it knows: Latin-1
    # and the older named ones (Greek_omega) rather than their Unicode keysyms.
    syms = char_keysyms(char)
    return syms[1] if len(syms) > 1 and not 0xA0 <= syms[0] <= 0xFF else syms[0]


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except ValueError:
        return True  # not our name: leave it alone
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _keysym_label(keysym: int) -> str:
    code = keysym & 0xFFFFFF if keysym & 0x01000000 else keysym
    try:
        return chr(code)
    except ValueError:
        return hex(keysym)
