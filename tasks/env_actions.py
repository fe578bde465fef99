"""The practice environment's actions: kind order, safe hotkeys, parsing and clipping.

Kept apart from the environment so the agent-free parts (what an action may be, how a
malformed one is named) can be read and tested without a display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from deskmimic.core.actions import ACTION_KINDS, POINTER_KINDS
from deskmimic.core.errors import ConfigError

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
"""Printable ASCII (space to '~'): the charset of instructions and typed text."""
SAFE_HOTKEYS: tuple[str, ...] = ("enter", "tab", "esc", "backspace", "space", "ctrl+a", "up", "down")
"""The chords the env may press: nothing that closes windows or leaves the task."""
MAX_SCROLL = 5
MAX_TEXT = 32

KINDS: tuple[str, ...] = ACTION_KINDS
"""Action kinds in the order of the ``kind`` Discrete space: the models' order
(core/actions.py), so a kind index means the same to the env and to a checkpoint."""


@dataclass(frozen=True)
class EnvAction:
    """One parsed action; points are region-local pixels clipped into the window."""

    kind: str
    x: int = 0
    y: int = 0
    x2: int = 0
    y2: int = 0
    dy: int = 0
    text: str = ""
    hotkey: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The fields this kind uses, as performed (points clipped)."""
        used = {"point": self.kind in POINTER_KINDS, "point2": self.kind == "drag",
                "scroll": self.kind == "scroll", "text": self.kind == "type",
                "hotkey": self.kind == "hotkey"}
        values = {"point": (self.x, self.y), "point2": (self.x2, self.y2), "scroll": self.dy,
                  "text": self.text, "hotkey": self.hotkey}
        return {"kind": self.kind, **{k: v for k, v in values.items() if used[k]}}


def parse_action(action: Mapping[str, Any], width: int, height: int) -> EnvAction:
    """Validate an action dict and clip its points into a ``width`` x ``height`` window.

    ``kind`` may be an index into `KINDS` or a kind name; ``hotkey`` an index into
    `SAFE_HOTKEYS` or one of its names. Keys a kind does not use may be left out.

    Raises:
        ConfigError: a malformed or unsafe action (naming the field).
    """
    if not isinstance(action, Mapping) or "kind" not in action:
        raise ConfigError(f"action {action!r}: expected a dict with at least 'kind'")
    kind = _pick(action["kind"], KINDS, "kind")
    fields: dict[str, Any] = {"kind": kind}
    if kind in POINTER_KINDS:
        fields["x"], fields["y"] = _point(action.get("point"), "point", width, height)
    if kind == "drag":
        fields["x2"], fields["y2"] = _point(action.get("point2"), "point2", width, height)
    if kind == "scroll":
        raw = _numbers(action.get("scroll", 0))
        if raw.size != 1 or not math.isfinite(raw[0]):
            raise ConfigError(f"action scroll={action.get('scroll')!r}: one finite number")
        fields["dy"] = int(max(-MAX_SCROLL, min(MAX_SCROLL, round(float(raw[0])))))
    if kind == "type":
        text = action.get("text", "")
        if not isinstance(text, str) or len(text) > MAX_TEXT or any(c not in PRINTABLE for c in text):
            raise ConfigError(f"action text={text!r}: printable ASCII, at most {MAX_TEXT} chars")
        fields["text"] = text
    if kind == "hotkey":
        fields["hotkey"] = _pick(action.get("hotkey"), SAFE_HOTKEYS, "hotkey")
    return EnvAction(**fields)


def _pick(value: Any, names: tuple[str, ...], field: str) -> str:
    if isinstance(value, str):
        if value in names:
            return value
    elif value is not None and not isinstance(value, bool):
        try:
            index = int(np.asarray(value).reshape(-1)[0]) if np.ndim(value) else int(value)
        except (TypeError, ValueError, IndexError):
            index = -1
        if 0 <= index < len(names):
            return names[index]
    raise ConfigError(f"action {field}={value!r}: expected an index < {len(names)} or one of "
                      f"{', '.join(names)}")


def _point(value: Any, field: str, width: int, height: int) -> tuple[int, int]:
    arr = _numbers(value)
    if arr.size != 2 or not np.all(np.isfinite(arr)):
        raise ConfigError(f"action {field}={value!r}: expected two finite region-local pixels (x, y)")
    # Never act outside the task window: clip into its client area.
    x = int(min(max(round(float(arr[0])), 0), width - 1))
    y = int(min(max(round(float(arr[1])), 0), height - 1))
    return x, y


def _numbers(value: Any) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return np.empty(0)


def _ascii(text: str) -> str:
    return "".join(c if c in PRINTABLE else "?" for c in text)[:256] or "?"
