"""X11 input injection through the XTEST extension (python-xlib, imported lazily).

XTEST events are indistinguishable from a physical device for every client, unlike
XSendEvent (pynput's keyboard Controller), which most programs ignore. Characters
are found in the server's keyboard mapping; one that no key produces is typed by
mapping it onto a spare keycode, as xdotool does, and the spare keycodes are given
back on `close()`.
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

logger = logging.getLogger(__name__)

BUTTON_NUMBERS = {"left": 1, "middle": 2, "right": 3, "x1": 8, "x2": 9}
WHEEL_NUMBERS = {"up": 4, "down": 5, "left": 6, "right": 7}
_KEYMAP_MAX_AGE_S = 0.5  # re-read the keyboard mapping this often (layout switches)


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
        self._borrowed: OrderedDict[int, int] = OrderedDict()  # keysym -> keycode, LRU order
        self._closed = False

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
        kind = self._X.KeyPress if down else self._X.KeyRelease
        with _x_errors(f"keycode {keycode}"):
            self._xtest.fake_input(self._d, kind, keycode)

    def caps_lock_on(self) -> bool:
        with _x_errors("querying Caps Lock"):
            return bool(self._root.query_pointer().mask & self._X.LockMask)

    def keycode_for(self, keysym: int) -> tuple[int, bool]:
        found = self._lookup(self._mapping(), keysym)
        if found is None:
            found = self._lookup(self._mapping(refresh=True), keysym)
        if found is not None:
            if keysym in self._borrowed:
                self._borrowed.move_to_end(keysym)
            return found
        return self._borrow(keysym), False

    def _mapping(self, refresh: bool = False) -> list[tuple[int, ...]]:
        now = time.monotonic()
        if refresh or now - self._keymap_time > _KEYMAP_MAX_AGE_S:
            with _x_errors("reading the keyboard mapping"):
                rows = self._d.get_keyboard_mapping(self._min_kc, self._max_kc - self._min_kc + 1)
            self._keymap = [tuple(row) for row in rows]
            self._keymap_time = now
        return self._keymap

    def _lookup(self, mapping: list[tuple[int, ...]], keysym: int) -> tuple[int, bool] | None:
        # Group 1 only: column 0 is the plain level, column 1 the shifted one.
        for column in (0, 1):
            for i, row in enumerate(mapping):
                if len(row) > column and row[column] == keysym:
                    return self._min_kc + i, column == 1
        if 0x41 <= keysym <= 0x5A:  # X convention: a row 'a', NoSymbol types 'A' with shift
            lower = keysym + 0x20
            for i, row in enumerate(mapping):
                if row and row[0] == lower and (len(row) < 2 or row[1] == 0):
                    return self._min_kc + i, True
        return None

    def _borrow(self, keysym: int) -> int:
        mapping = self._mapping(refresh=True)
        in_use = set(self._borrowed.values())
        spare = [self._min_kc + i for i, row in enumerate(mapping)
                 if not any(row) and self._min_kc + i not in in_use and self._min_kc + i > 8]
        if spare:
            keycode = spare[-1]
        elif self._borrowed:  # recycle the least recently used borrowed keycode
            old_sym, keycode = self._borrowed.popitem(last=False)
            logger.debug("recycling keycode %d (was keysym %#x)", keycode, old_sym)
        else:
            raise InputError(
                f"cannot type keysym {keysym:#x} ({_keysym_label(keysym)!r}): no key produces it "
                "and the keyboard mapping has no spare keycode to remap; switch to a keyboard "
                "layout that has this character"
            )
        with _x_errors(f"remapping keycode {keycode}"):
            self._d.change_keyboard_mapping(keycode, [(keysym, keysym)])
            self._d.sync()
        self._borrowed[keysym] = keycode
        self._keymap_time = -1.0
        logger.debug("mapped keysym %#x onto spare keycode %d", keysym, keycode)
        return keycode

    # ---- lifetime --------------------------------------------------------------------
    def sync(self) -> None:
        with _x_errors("sync"):
            self._d.sync()

    def emergency_release(self, keycodes: Iterable[int], buttons: Iterable[str]) -> None:
        """Release through a fresh connection: the usual one may be mid-request."""
        d = open_display(self._display_name)
        try:
            for code in keycodes:
                self._xtest.fake_input(d, self._X.KeyRelease, code)
            for name in buttons:
                self._xtest.fake_input(d, self._X.ButtonRelease, BUTTON_NUMBERS[name])
            d.sync()
        finally:
            d.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._borrowed:
                # Let clients translate the last borrowed key before its keysym vanishes.
                time.sleep(0.05)
                with _x_errors("restoring the keyboard mapping"):
                    for keycode in self._borrowed.values():
                        self._d.change_keyboard_mapping(keycode, [(0, 0)])
                    self._d.sync()
                self._borrowed.clear()
        finally:
            self._d.close()


def _keysym_label(keysym: int) -> str:
    code = keysym & 0xFFFFFF if keysym & 0x01000000 else keysym
    try:
        return chr(code)
    except ValueError:
        return hex(keysym)
