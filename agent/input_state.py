"""What the X server thinks is held down, and releasing what a dead process left held.

SIGKILL cannot be caught, and a button left down in the X server silently eats the
next click, so the replay agent calls `release_stuck_input` before and after every
run. Only input pressed through XTEST can be released this way; a key a person is
physically holding stays down (and is logged).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from deskmimic.core.errors import InputError

logger = logging.getLogger(__name__)

# Core-protocol pointer mask bits (Button1Mask..Button5Mask) -> button names.
_BUTTON_MASKS = ((1 << 8, "left", 1), (1 << 9, "middle", 2), (1 << 10, "right", 3),
                 (1 << 11, "button4", 4), (1 << 12, "button5", 5))


@contextlib.contextmanager
def _display(display: Any) -> Iterator[Any]:
    """Yield a Display: the one given, or a fresh connection to a name (or $DISPLAY)."""
    if display is not None and not isinstance(display, str):
        yield display
        return
    from deskmimic.agent.inject_xtest import open_display

    d = open_display(display)
    try:
        yield d
    finally:
        d.close()


def query_held(display: Any = None) -> tuple[list[str], list[int]]:
    """Buttons and keycodes the X server currently has down.

    Args:
        display: an Xlib Display, a display name, or ``None`` for ``$DISPLAY``.

    Returns:
        ``(buttons, keycodes)``: button names from XQueryPointer's mask ('left',
        'middle', 'right', 'button4', 'button5') and keycodes from XQueryKeymap.
    """
    with _display(display) as d:
        mask = d.screen().root.query_pointer().mask
        keymap = d.query_keymap()
    buttons = [name for bit, name, _ in _BUTTON_MASKS if mask & bit]
    keycodes = [8 * i + bit for i, byte in enumerate(keymap) for bit in range(8)
                if byte >> bit & 1]
    return buttons, keycodes


def release_stuck_input(display: Any = None, *,
                        keep_keycodes: Iterable[int] = ()) -> dict[str, list]:
    """Release every button and key the X server has down, through XTEST.

    Args:
        display: an Xlib Display, a display name, or ``None`` for ``$DISPLAY``.
        keep_keycodes: keycodes to leave alone (e.g. the hotkey that started a run).

    Returns:
        ``{"buttons": [names released], "keycodes": [keycodes released]}``.
    """
    from Xlib import X
    from Xlib.ext import xtest

    keep = set(keep_keycodes)
    with _display(display) as d:
        if not d.query_extension("XTEST"):
            raise InputError("the X display has no XTEST extension: stuck input cannot be released")
        buttons, keycodes = query_held(d)
        keycodes = [k for k in keycodes if k not in keep]
        numbers = {name: number for _, name, number in _BUTTON_MASKS}
        for code in keycodes:
            xtest.fake_input(d, X.KeyRelease, code)
        for name in buttons:
            xtest.fake_input(d, X.ButtonRelease, numbers[name])
        d.sync()
        if buttons or keycodes:
            logger.warning("released stuck input: buttons %s, keycodes %s", buttons, keycodes)
            still_buttons, still_keys = query_held(d)
            still_keys = [k for k in still_keys if k not in keep]
            if still_buttons or still_keys:
                logger.warning("still held after release (a person holding them?): "
                               "buttons %s, keycodes %s", still_buttons, still_keys)
    return {"buttons": buttons, "keycodes": keycodes}
