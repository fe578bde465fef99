"""Modifier and lock key names: the one home of which keys modify and what they are called.

Key names are pynput's (docs/episode-format.md): ``ctrl_l``, ``shift_r``, ``alt_gr``,
``cmd``, ``super_l``, ... The recorder's stop hotkey (`deskmimic.recorder.hotkey`), the
step reducer (`deskmimic.models.data.keys`), the agent's injector and abort hotkey
(`deskmimic.agent.keysyms`, `deskmimic.agent.guards`) all read these tables, so a key
that is a modifier to one of them is a modifier to all.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType

# What a key typed in secret carries instead of its key and character (the recorder
# masks it before it reaches the disk; training will not learn text made of it).
SECRET_MASK = "\u2022"

# Every modifier key name -> its canonical family: one name per family, so left and
# right keys (and pynput's cmd / X's super for the same key) make the same chord.
MODIFIER_ALIASES: MappingProxyType[str, str] = MappingProxyType({
    "ctrl": "ctrl", "ctrl_l": "ctrl", "ctrl_r": "ctrl",
    "shift": "shift", "shift_l": "shift", "shift_r": "shift",
    "alt": "alt", "alt_l": "alt", "alt_r": "alt", "alt_gr": "alt",
    "cmd": "cmd", "cmd_l": "cmd", "cmd_r": "cmd",
    "super": "cmd", "super_l": "cmd", "super_r": "cmd",
})
# The canonical families in chord order: modifiers first, in this order, then the main key.
MODIFIER_ORDER: tuple[str, ...] = ("ctrl", "alt", "shift", "cmd")
# Keys that toggle a state instead of acting; never part of a chord.
LOCK_KEYS: frozenset[str] = frozenset({"caps_lock", "num_lock", "scroll_lock"})


def is_modifier(name: str | None) -> bool:
    """Whether ``name`` is a ctrl / shift / alt / cmd (super) key, either side."""
    return name in MODIFIER_ALIASES


def is_lock(name: str | None) -> bool:
    """Whether ``name`` is caps / num / scroll lock."""
    return name in LOCK_KEYS


def modifier_family(name: str) -> str:
    """The canonical family of a modifier name (``ctrl_l`` -> ``ctrl``); other names as given."""
    return MODIFIER_ALIASES.get(name, name)


def order_modifiers(mods: Iterable[str]) -> tuple[str, ...]:
    """Canonical modifier families of ``mods``, deduplicated, in `MODIFIER_ORDER`."""
    present = {modifier_family(m) for m in mods}
    return tuple(m for m in MODIFIER_ORDER if m in present)


# Columns of an X core keyboard mapping row by shift level in group 1, as an XKB server
# lays them out: 0 plain, 1 shift, 4 AltGr (ISO_Level3_Shift), 5 AltGr+shift. Columns 2
# and 3 are group 2 (a second layout, 'us,de'), which repeat group 1 on a one-layout
# keymap; the core protocol's Mode_switch convention would read them as AltGr.
XKB_LEVEL_COLUMNS: tuple[int, int, int, int] = (0, 1, 4, 5)
# The keysym of the AltGr key on XKB layouts (ISO_Level3_Shift): it selects level 3. The
# recorder names it alt_gr (pynput knows only Mode_switch by that name).
ISO_LEVEL3_SHIFT = 0xFE03


def one_group(rows: Iterable[tuple[int, ...]]) -> bool:
    """Whether a core keyboard mapping is a one-layout keymap (group 2 repeats group 1).
    Only there are columns 4 and 5 group 1's levels 3 and 4 for certain: with two
    layouts they hold the levels 3 of whichever group has them."""
    return all(tuple(r[2:4]) == tuple(r[0:2]) for r in rows if len(r) >= 4)


def row_keysym(row: tuple[int, ...], group: int, level: int, single_group: bool) -> int:
    """The keysym a key with core mapping ``row`` types in XKB ``group`` (0-based, the
    state's bits 13-14) at ``level`` (0 plain, 1 shift, 2 AltGr, 3 AltGr+shift); 0 for
    none or unknown. The injector picks keys and the recorder reads them back with it."""
    def col(i: int) -> int:
        return row[i] if len(row) > i else 0

    if group >= 2 or (level >= 2 and not single_group):
        return 0  # a third layout, or AltGr on two: the core mapping cannot tell
    if level >= 2:
        return col(XKB_LEVEL_COLUMNS[level]) or col(XKB_LEVEL_COLUMNS[2])
    base = 2 if group == 1 and (col(2) or col(3)) else 0
    return col(base + level) or (col(base) if level == 1 else 0)


def keysym_char(keysym: int | None) -> str | None:
    """The printable character an X keysym types, or ``None`` (a function key, a dead key,
    a modifier). Unicode keysyms are 0x01000000 + the code point, Latin-1 ones the code
    point itself; the older named ones (EuroSign, Greek_OMEGA, Cyrillic_a, ...) come from
    pynput's table of X keysyms."""
    if not isinstance(keysym, int) or isinstance(keysym, bool):
        return None
    if 0x01000100 <= keysym <= 0x0110FFFF:
        char = chr(keysym - 0x01000000)
    elif 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        char = chr(keysym)
    else:
        char = _legacy_keysym_chars().get(keysym)
    return char if char is not None and char.isprintable() else None


def char_keysyms(char: str) -> tuple[int, ...]:
    """Every keysym that types ``char``: its Unicode or Latin-1 keysym first, then named
    ones (``€`` is both U+20AC and EuroSign, which is what layouts put on their keys)."""
    code = ord(char)
    first = code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x01000000 | code
    return (first, *_legacy_char_keysyms().get(char, ()))


@functools.cache
def _legacy_keysym_chars() -> dict[int, str]:
    # pynput's keysym table, loaded from its file: importing the pynput package would
    # open an X connection, and this module must work without a display.
    try:
        spec = importlib.util.find_spec("pynput")
    except (ImportError, ValueError):
        return {}
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "_util" / "xorg_keysyms.py"
    try:
        file_spec = importlib.util.spec_from_file_location("_deskmimic_xorg_keysyms", path)
        module = importlib.util.module_from_spec(file_spec)  # type: ignore[arg-type]
        file_spec.loader.exec_module(module)  # type: ignore[union-attr]
        symbols = module.SYMBOLS
    except (OSError, AttributeError, SyntaxError, ImportError):
        return {}
    out: dict[int, str] = {}
    for keysym, char in symbols.values():
        # Below 0xFE00: dead keys, keypad and function keys type no character of their own.
        if 0x100 <= keysym < 0xFE00 and isinstance(char, str) and len(char) == 1:
            out.setdefault(keysym, char)
    return out


@functools.cache
def _legacy_char_keysyms() -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for keysym, char in _legacy_keysym_chars().items():
        out.setdefault(char, []).append(keysym)
    return {char: tuple(syms) for char, syms in out.items()}
