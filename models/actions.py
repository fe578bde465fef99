"""What a policy decides: the `Action`, its field rules, and Step -> Action.

Coordinates are captured-area pixels (the episode's frame pixels), the same frame
as `deskmimic.models.data.steps.Step`; the agent maps them to the screen with the
episode's region.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from deskmimic.core.actions import ACTION_KINDS, CLICK_KINDS, POINTER_KINDS
from deskmimic.core.errors import ConfigError
from deskmimic.core.keys import SECRET_MASK

logger = logging.getLogger(__name__)

# The kind vocabulary is every layer's (core/actions.py); re-exported because the
# models' callers (the nets, losses, metrics, the agent) know it by these names.
__all__ = ["ACTION_KINDS", "CLICK_KINDS", "POINTER_KINDS", "Action", "action_from_step",
           "check_action_fields", "chord_to_str", "kind_index"]


def check_action_fields(action: Any) -> None:
    """Raise `ConfigError` unless ``action``'s kind is known and it has the fields its kind
    needs (shared by `Action` and the agent's `AgentAction`)."""
    kind = action.kind
    if kind not in ACTION_KINDS:
        raise ConfigError(f"action kind {kind!r}: expected one of {', '.join(ACTION_KINDS)}")
    if kind in POINTER_KINDS and (action.x is None or action.y is None):
        raise ConfigError(f"a {kind} action needs x and y")
    if kind == "drag" and (action.x2 is None or action.y2 is None):
        raise ConfigError("a drag action needs x2 and y2 (the end point)")
    if kind == "type" and not action.text:
        raise ConfigError("a type action needs non-empty text")
    if kind == "hotkey" and not action.keys:
        raise ConfigError("a hotkey action needs keys")


@dataclass(frozen=True)
class Action:
    """One decision of a policy (or one demonstrated step as a training target).

    Attributes:
        kind: one of `ACTION_KINDS`.
        x, y: captured-area pixels of the click / drag start / scroll position.
        x2, y2: captured-area pixels of the drag end.
        text: for ``type``: the text to type.
        keys: for ``hotkey``: the chord, modifiers first, e.g. ``("ctrl", "s")``.
        dx, dy: for ``scroll``: wheel clicks (``dy`` > 0 = up).
        confidence: in [0, 1]; 1.0 for demonstrated steps.
    """

    kind: str
    x: int | None = None
    y: int | None = None
    x2: int | None = None
    y2: int | None = None
    text: str | None = None
    keys: tuple[str, ...] = ()
    dx: int = 0
    dy: int = 0
    confidence: float = 1.0

    def __post_init__(self) -> None:
        check_action_fields(self)

    @property
    def chord(self) -> str:
        """The hotkey as the injector's ``'+'``-separated string, e.g. ``'ctrl+s'``."""
        return chord_to_str(self.keys)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["keys"] = list(self.keys)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Action:
        data = dict(data)
        data["keys"] = tuple(data.get("keys") or ())
        return cls(**data)


def chord_to_str(keys: tuple[str, ...] | list[str]) -> str:
    """``("ctrl", "s")`` -> ``"ctrl+s"`` (the injector's hotkey syntax)."""
    return "+".join(keys)


def kind_index(kind: str, kinds: tuple[str, ...] = ACTION_KINDS) -> int:
    """Index of ``kind`` in the kind vocabulary; ConfigError naming the allowed kinds."""
    try:
        return kinds.index(kind)
    except ValueError:
        raise ConfigError(f"action kind {kind!r}: expected one of {', '.join(kinds)}") from None


def action_from_step(step: Any) -> Action | None:
    """Convert a `deskmimic.models.data.steps.Step` to its training target.

    Returns ``None`` for steps a policy cannot learn (``raw``: unrecognised input
    patterns) and for malformed steps (logged), so a dataset skips them visibly.
    """
    kind = step.kind
    if kind == "raw":
        return None
    try:
        if kind in CLICK_KINDS or kind in ("scroll", "hover"):
            return Action(
                kind, x=int(step.x), y=int(step.y), dx=int(step.dx or 0), dy=int(step.dy or 0)
            )
        if kind == "drag":
            return Action(kind, x=int(step.x), y=int(step.y), x2=int(step.x2), y2=int(step.y2))
        if kind == "type":
            if step.text and SECRET_MASK in step.text:
                # Typed in secret: the recording holds bullets, not the text, and a
                # policy that learnt them would type bullets.
                logger.warning("step %s: text typed in secret is not learned (skipped)",
                               getattr(step, "index", "?"))
                return None
            return Action(kind, text=step.text)
        if kind == "hotkey":
            return Action(kind, keys=tuple(step.keys))
        if kind == "done":
            return Action(kind)
    except (TypeError, ConfigError) as exc:
        logger.warning("skipping malformed %s step %s: %s", kind, getattr(step, "index", "?"), exc)
        return None
    logger.warning("skipping step %s of unknown kind %r", getattr(step, "index", "?"), kind)
    return None
