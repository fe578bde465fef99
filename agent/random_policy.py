"""The random baseline: random actions at random points of the observed image.

Run through the same `ReplayRunner` and guards as a trained policy (``deskmimic eval
--baseline random``); it is the floor any learned policy must beat.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from deskmimic.agent.policy_protocol import AgentAction
from deskmimic.core.errors import ConfigError

# Random kinds and how often each is drawn: mostly pointer actions, as a person
# poking at an unknown window would; 'done' ends the episode (a failure unless solved).
RANDOM_KINDS: dict[str, float] = {"click": 0.40, "double_click": 0.05, "right_click": 0.05,
                                  "drag": 0.10, "scroll": 0.10, "type": 0.12, "hotkey": 0.08,
                                  "done": 0.10}
# Only chords that stay inside the task (nothing that closes windows or switches them).
RANDOM_HOTKEYS: tuple[tuple[str, ...], ...] = (("enter",), ("tab",), ("backspace",),
                                               ("space",), ("esc",), ("ctrl", "a"))


class RandomPolicy:
    """Random actions in the observed image: the floor any learned policy must beat.

    Args:
        seed: seeds the draws (the same seed gives the same actions on the same screen).
        words: vocabulary for ``type`` actions (one or two words are typed).
        kinds: kind -> weight; default `RANDOM_KINDS`.
    """

    def __init__(self, seed: int = 0, words: Sequence[str] = (),
                 kinds: dict[str, float] | None = None) -> None:
        self.seed = seed
        self.words = tuple(words) or ("hello", "world", "save", "name")
        self.kinds = dict(kinds or RANDOM_KINDS)
        bad = [k for k in self.kinds if k not in RANDOM_KINDS]
        if bad or not self.kinds or min(self.kinds.values()) < 0 or sum(self.kinds.values()) <= 0:
            raise ConfigError(f"random kinds {self.kinds}: use non-negative weights of "
                              f"{', '.join(RANDOM_KINDS)}")
        self.rng = random.Random(seed)
        self.name = "random"

    def reset(self) -> None:
        self.rng = random.Random(self.seed)

    def act(self, observation: dict[str, Any]) -> AgentAction:
        image = observation["image"]
        h, w = image.shape[:2]
        rng = self.rng
        kind = rng.choices(list(self.kinds), weights=list(self.kinds.values()))[0]
        x, y = rng.randrange(w), rng.randrange(h)
        if kind == "drag":
            return AgentAction("drag", x, y, rng.randrange(w), rng.randrange(h))
        if kind == "scroll":
            return AgentAction("scroll", x, y, dy=rng.choice((-3, -2, -1, 1, 2, 3)))
        if kind == "type":
            return AgentAction("type", text=" ".join(rng.sample(self.words, rng.choice((1, 2)))))
        if kind == "hotkey":
            return AgentAction("hotkey", keys=rng.choice(RANDOM_HOTKEYS))
        if kind == "done":
            return AgentAction("done")
        return AgentAction(kind, x, y)


__all__ = ["RANDOM_KINDS", "RANDOM_HOTKEYS", "RandomPolicy"]
