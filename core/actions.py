"""The action-kind vocabulary: the one home of what kinds of action exist.

The step reducer (`deskmimic.models.data.steps`), the policy's `Action`
(`deskmimic.models.actions`), the agent and the practice environment
(`deskmimic.tasks.env_actions`) all import these names from here, so a kind added
here reaches every layer at once and kind indices agree everywhere.
"""

from __future__ import annotations

from types import MappingProxyType

# The order is part of the checkpoint format (kind logits are indexed by it) and of the
# Gymnasium env's ``kind`` Discrete space; checkpoints store the tuple they were trained
# with, so appending is safe, reordering is not.
ACTION_KINDS: tuple[str, ...] = (
    "click",
    "double_click",
    "right_click",
    "middle_click",
    "drag",
    "scroll",
    "type",
    "hotkey",
    "done",
    # Appended (issue 22): a pointer rest that opened something (a submenu) the next
    # action needs; performed as a move and a wait (docs/steps.md "Hover").
    "hover",
)

# Kinds that act at a point (x, y); drag also has an end point (x2, y2).
POINTER_KINDS: frozenset[str] = frozenset(
    {"click", "double_click", "right_click", "middle_click", "drag", "scroll", "hover"}
)
# How long a performed ``hover`` keeps the pointer still after arriving (s): longer than
# the submenu delay of common toolkits (Qt, GTK: about 0.2 s), so what the rest opens has
# opened before the performer waits for the screen to settle. The agent's MotionConfig
# and the practice env both read it.
HOVER_DWELL_S = 0.5

# Pointer kinds that press and release a button in place.
CLICK_KINDS: frozenset[str] = frozenset({"click", "double_click", "right_click", "middle_click"})

# A single press-release of a button in place, by button name (pynput's names); a second
# left click close in time and place turns a ``click`` into a ``double_click``.
BUTTON_CLICK_KINDS: MappingProxyType[str, str] = MappingProxyType(
    {"left": "click", "right": "right_click", "middle": "middle_click"}
)

# What reduction may produce besides the actions: input that fits no rule. A policy
# never outputs it (training skips such steps), so it is not an action kind.
RAW_KIND = "raw"
STEP_KINDS: tuple[str, ...] = (*ACTION_KINDS, RAW_KIND)
