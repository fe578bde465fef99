"""Refusals before acting: what stops a replay's action before it is carried out.

The runner asks `judge_action` about every decision: too little confidence, the policy
says done, a point outside the working region (confinement) or in the failsafe corner,
or a hotkey that is one of the person's controls (`reserved_chords`: the abort hotkey
and the recording's pause and secret-typing hotkeys).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from deskmimic.agent.keysyms import _canonical, parse_chord
from deskmimic.recorder.hotkey import key_token

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


def chord_tokens(keys: str | Iterable[str]) -> frozenset[str]:
    """Canonical key tokens of a chord as any layer spells it: ``'<ctrl>+<alt>+p'``,
    ``'ctrl+alt+p'`` or an action's keys (``('Control', 'alt_l', 'P')``)."""
    if isinstance(keys, str):
        names = parse_chord(keys)
    else:
        names = list(keys)
        if len(names) == 1 and len(names[0]) > 1:  # ("ctrl+s",): the injector splits it too
            names = parse_chord(names[0])
    # A letter is compared without its case: shift+P and p are the same key to a hotkey.
    return frozenset(key_token(_canonical(n).lower()) for n in names if n)


def reserved_chords(abort_hotkey: str | None, pause_hotkey: str | None = None,
                    secret_hotkey: str | None = None) -> dict[str, frozenset[str]]:
    """The chords the agent must never press, each keyed by what pressing it would do.

    They are the person's controls over the agent and its recording: pressed by the
    policy, the abort hotkey would end the run as if the person had, and the privacy
    hotkeys would hide the agent's own actions from review or mask what it types. A
    policy never learns them from demonstrations (the recorder writes them as markers),
    so a policy that predicts one is wrong. ``None`` leaves a chord out.
    """
    named = (("the abort hotkey", "would stop the replay as if you had pressed it", abort_hotkey),
             ("the recording's pause hotkey", "would stop recording what the agent does",
              pause_hotkey),
             ("the recording's secret-typing hotkey", "would turn masked typing on or off",
              secret_hotkey))
    return {f"{what} ({text}), which {does}": chord_tokens(text)
            for what, does, text in named if text}


def check_reserved_chord(keys: Iterable[str], reserved: Mapping[str, frozenset[str]]) -> str | None:
    """A message when pressing ``keys`` together would fire one of the ``reserved`` chords."""
    pressed = chord_tokens(keys)
    for what, chord in reserved.items():
        # A chord fires once all its keys are down, extra keys or not.
        if chord and chord <= pressed:
            return (f"refused: the hotkey {'+'.join(keys)} is {what}; the agent never presses "
                    "the abort, pause or secret-typing hotkeys, only the person watching does")
    return None


def judge_action(action: AgentAction, region: Rect, min_confidence: float,
                 failsafe_px: int, reserved: Mapping[str, frozenset[str]] | None = None,
                 ) -> tuple[str, str] | None:
    """A (status, message) that ends the run before ``action`` is carried out, or None.

    ``reserved``: chords a hotkey action must not press (`reserved_chords`).
    """
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
    if action.kind == "hotkey" and reserved:
        msg = check_reserved_chord(action.keys, reserved)
        if msg:
            return "refused", msg
    return None


__all__ = ["check_confidence", "check_confinement", "check_reserved_chord", "chord_tokens",
           "judge_action", "reserved_chords"]
