"""The state frame of a step: the settled frame before it started (docs/steps.md).

Kept apart from the reduction (`deskmimic.models.data.steps`), which is pure logic over
events; this side decodes frames.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from deskmimic.core.rules import SettleRules, gray_small, screen_change

_RGB_KEPT = 4


class StateFrames:
    """An episode's frames, decoded on demand and cached, and the state-frame search.

    ``ep`` needs ``frame_times`` (ns, ascending) and ``frame(i)`` (RGB);
    ``frame_times`` must not be empty.
    """

    def __init__(self, ep: Any, settle: SettleRules) -> None:
        self.ep = ep
        self.settle = settle
        self.times = np.asarray(ep.frame_times, dtype=np.int64)
        self._small: dict[int, np.ndarray] = {}
        self._rgb: dict[int, np.ndarray] = {}

    def rgb(self, i: int) -> np.ndarray:
        """Frame ``i`` as decoded. The last few are kept: a hover judgement compares two
        frames, its neighbour often the same ones, and whole frames are large."""
        if i not in self._rgb:
            if len(self._rgb) >= _RGB_KEPT:
                del self._rgb[next(iter(self._rgb))]
            self._rgb[i] = np.asarray(self.ep.frame(i))
        return self._rgb[i]

    def small(self, i: int) -> np.ndarray:
        if i not in self._small:
            img = self._rgb[i] if i in self._rgb else np.asarray(self.ep.frame(i))
            self._small[i] = gray_small(img, self.settle.width)
        return self._small[i]

    def last_before(self, t: int) -> int | None:
        """Index of the last frame captured at or before ``t`` (None: none was)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return i if i >= 0 else None

    def state_frame(self, t_start: int) -> int | None:
        """The last settled frame at or before ``t_start`` (`SettleRules.same`, walking
        back at most ``max_back`` frames from one grabbed mid-change)."""
        settle, small = self.settle, self.small
        i = self.last_before(t_start)
        if i is None:
            return None
        nxt = i + 1 if i + 1 < self.times.size else i
        for j in range(max(0, i - settle.max_back), nxt + 1):
            small(j)  # decode in forward order: one seek per step instead of one per frame
        for k in range(settle.max_back):
            if i == 0 or settle.same(screen_change(small(i), small(i - 1), settle.tile)):
                break
            # A change its successor keeps (a menu that has just opened) is finished, not
            # half painted: stepping back from it lost the popup a demonstration then
            # clicked in (docs/steps.md). The successor is grabbed as the pointer starts
            # to move, before it reaches the target, so only the whole-image mean is
            # asked: the moving pointer (drawn in) changes a tile, hardly the mean.
            if (k == 0 and nxt > i
                    and screen_change(small(nxt), small(i), settle.tile)[0] <= settle.threshold):
                break
            i -= 1
        return i

    def attach(self, steps: list[Any]) -> list[Any]:
        """``steps`` with ``frame_index`` set to each one's state frame."""
        return [replace(s, frame_index=self.state_frame(s.t_start)) for s in steps]
