"""Modifier and lock key names: the one home of which keys modify and what they are called.

Key names are pynput's (docs/episode-format.md): ``ctrl_l``, ``shift_r``, ``alt_gr``,
``cmd``, ``super_l``, ... The recorder's stop hotkey (`deskmimic.recorder.hotkey`), the
step reducer (`deskmimic.models.data.keys`), the agent's injector and abort hotkey
(`deskmimic.agent.keysyms`, `deskmimic.agent.guards`) all read these tables, so a key
that is a modifier to one of them is a modifier to all.
"""

from __future__ import annotations

from collections.abc import Iterable
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
