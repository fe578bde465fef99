"""Refusals before acting: what stops a replay's action before it is carried out.

The runner asks `judge_action` about every decision: too little confidence, the policy
says done, a point outside the working region (confinement) or in the failsafe corner.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskmimic.agent.policy_protocol import AgentAction
    from deskmimic.core.geometry import Rect


def check_confidence(confidence: float, minimum: float) -> str | None:
    """A message when ``confidence`` is below ``minimum``, else None."""
    if confidence < minimum:
        return (f"the policy is not sure what to do (confidence {confidence:.2f} < "
                f"--min-confidence {minimum:.2f}): stopped, please take over or record more "
                "demonstrations of this situation")
    return None


def check_confinement(points: Iterable[tuple[int, int]], width: int, height: int,
                      what: str = "action") -> str | None:
    """A message when a captured-area point lies outside the ``width`` x ``height`` area."""
    for x, y in points:
        if not (0 <= x < width and 0 <= y < height):
            return (f"refused: the {what} at ({x}, {y}) lies outside the recorded "
                    f"{width}x{height} area (confinement)")
    return None


def judge_action(action: AgentAction, region: Rect, min_confidence: float,
                 failsafe_px: int) -> tuple[str, str] | None:
    """A (status, message) that ends the run before ``action`` is carried out, or None."""
    msg = check_confidence(action.confidence, min_confidence)
    if msg:
        return "low_confidence", msg
    if action.kind == "done":
        return "done", "the policy says the task is done"
    msg = check_confinement(action.points(), region.width, region.height, action.kind)
    if msg:
        return "refused", msg
    n = failsafe_px
    for x, y in action.points():
        sx, sy = region.to_screen(x, y)
        if n and sx <= n + 2 and sy <= n + 2:
            return "refused", (f"refused: the {action.kind} at screen ({sx:g}, {sy:g}) is in "
                               "the failsafe corner, which would abort the agent")
    return None


__all__ = ["check_confidence", "check_confinement", "judge_action"]
