"""What the replay agent needs from a policy and from the actions it returns.

The learned policy lives in `deskmimic.models.policy` (``Policy`` with ``reset()`` and
``act(observation) -> Action``). The agent only duck-types it, so it runs any object
with those two methods — the trained network, a scripted policy in a test, or a
person's remote control — and it never needs torch to import.

An observation is ``{"image": (H, W, 3) uint8 RGB of the captured area, cursor drawn
in, "instruction": str}``; actions come back in that image's pixels.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol, runtime_checkable

from deskmimic.core.actions import POINTER_KINDS
from deskmimic.core.errors import ConfigError

# The field rules are the models' own (that module needs no torch).
from deskmimic.models.actions import Action


@runtime_checkable
class ActionLike(Protocol):
    """The fields the agent reads from an action (``deskmimic.models.actions.Action``)."""

    kind: str
    x: int | None
    y: int | None
    x2: int | None
    y2: int | None
    text: str | None
    keys: tuple[str, ...]
    dx: int
    dy: int
    confidence: float


@runtime_checkable
class PolicyLike(Protocol):
    """The two calls the agent makes (``deskmimic.models.policy.Policy``). A policy may
    also have ``prefetch(observation)``, which must return at once: the agent offers it
    a grab that looks settled while it makes sure (`BCPolicy.prefetch` reads the screen ahead)."""

    def reset(self) -> None: ...

    def act(self, observation: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class AgentAction(Action):
    """A validated copy of a policy's action, as the agent executes and logs it: the
    models' `Action` (same fields and rules) whose confidence must also lie in [0, 1].

    Coordinates are captured-area pixels (the observation image's pixels).
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (0.0 <= self.confidence <= 1.0) or math.isnan(self.confidence):
            raise ConfigError(f"action confidence {self.confidence!r} must be in [0, 1]")

    def points(self) -> list[tuple[int, int]]:
        """The captured-area points this action touches (empty for keyboard actions)."""
        pts = []
        if self.x is not None and self.y is not None:
            pts.append((self.x, self.y))
        if self.kind == "drag" and self.x2 is not None and self.y2 is not None:
            pts.append((self.x2, self.y2))
        return pts

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "x": self.x, "y": self.y, "x2": self.x2, "y2": self.y2,
                "text": self.text, "keys": list(self.keys), "dx": self.dx, "dy": self.dy,
                "confidence": round(float(self.confidence), 4)}

    def describe(self) -> str:
        """One line for logs, progress output and screenshots."""
        k = self.kind
        if k == "drag":
            what = f"drag ({self.x}, {self.y}) -> ({self.x2}, {self.y2})"
        elif k == "scroll":
            what = f"scroll dy={self.dy} dx={self.dx} at ({self.x}, {self.y})"
        elif k in POINTER_KINDS:
            what = f"{k} at ({self.x}, {self.y})"
        elif k == "type":
            what = f"type {self.text!r}"
        elif k == "hotkey":
            what = "hotkey " + "+".join(self.keys)
        else:
            what = k
        return f"{what}  conf {self.confidence:.2f}"


def _opt_int(v: Any, name: str) -> int | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"action field {name}={v!r} is not a number") from None
    if not math.isfinite(f):
        raise ConfigError(f"action field {name}={v!r} is not finite")
    return round(f)


def to_agent_action(action: Any) -> AgentAction:
    """Read any action object with the `ActionLike` fields into a validated `AgentAction`.

    Raises:
        ConfigError: a field is missing, of the wrong type or inconsistent.
    """
    if isinstance(action, AgentAction):
        return action
    if action is None:
        raise ConfigError("the policy returned None instead of an action")
    try:
        kind = str(action.kind)
    except AttributeError:
        raise ConfigError(f"the policy returned {type(action).__name__}, which has no 'kind'") from None
    keys: Iterable[str] = getattr(action, "keys", ()) or ()
    conf = getattr(action, "confidence", 1.0)
    return AgentAction(
        kind=kind,
        x=_opt_int(getattr(action, "x", None), "x"), y=_opt_int(getattr(action, "y", None), "y"),
        x2=_opt_int(getattr(action, "x2", None), "x2"), y2=_opt_int(getattr(action, "y2", None), "y2"),
        text=getattr(action, "text", None), keys=tuple(str(k) for k in keys),
        dx=_opt_int(getattr(action, "dx", 0), "dx") or 0, dy=_opt_int(getattr(action, "dy", 0), "dy") or 0,
        confidence=float(1.0 if conf is None else conf),
    )


class ScriptedPolicy:
    """A policy that returns a fixed sequence of actions, then ``done``.

    Useful to drive the agent's machinery without a trained network (tests, demos of
    the safety layer). ``observations`` keeps what it was shown.
    """

    def __init__(self, actions: Iterable[Any]) -> None:
        self._actions = list(actions)
        self._i = 0
        self.observations: list[dict[str, Any]] = []
        self.name = "scripted"

    def reset(self) -> None:
        self._i = 0
        self.observations.clear()

    def act(self, observation: dict[str, Any]) -> Any:
        self.observations.append(observation)
        if self._i >= len(self._actions):
            return AgentAction("done")
        action = self._actions[self._i]
        self._i += 1
        return action


_FIELDS = frozenset(f.name for f in fields(AgentAction))


def load_action_script(path: Path | str) -> ScriptedPolicy:
    """A `ScriptedPolicy` from a file of actions: JSON Lines (one action object a line)
    or one JSON list. Fields as in `AgentAction`; blank lines and ``#`` comments skipped.

    Raises:
        ConfigError: the file is missing or a line is not a valid action (names the line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--policy {path}: cannot read the action script ({exc.strerror})") from exc
    if text.lstrip().startswith("["):
        try:
            items = list(enumerate(json.loads(text), start=1))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--policy {path}: not valid JSON ({exc})") from exc
    else:
        items = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    items.append((n, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"--policy {path}: line {n} is not JSON ({exc})") from exc
    actions = []
    for n, item in items:
        if not isinstance(item, dict):
            raise ConfigError(f"--policy {path}: item {n} is not an object with a 'kind'")
        unknown = set(item) - _FIELDS
        if unknown:
            raise ConfigError(f"--policy {path}: item {n} has unknown fields {sorted(unknown)}; "
                              f"known: {sorted(_FIELDS)}")
        try:
            actions.append(to_agent_action(SimpleNamespace(**item)))
        except ConfigError as exc:
            raise ConfigError(f"--policy {path}: item {n}: {exc}") from exc
    if not actions:
        raise ConfigError(f"--policy {path}: the action script is empty")
    policy = ScriptedPolicy(actions)
    policy.name = f"script:{path.name}"
    return policy
