"""The step and settle thresholds: one home for what a step is and when a screen is settled.

`StepRules` are the thresholds the step reducer (`deskmimic.models.data.steps`) groups
input by; the practice tasks' step counter and scripted experts
(`deskmimic.tasks.base`, `deskmimic.tasks.expert_base`) read the same numbers, so the
counter counts what the reducer will see. `SettleRules` and `screen_change` are the one
definition of a *settled* screen, used by training (the state frame of a step) and by
replay (when the agent may decide), so the agent decides on the kind of frame it was
trained on. docs/steps.md gives the reasons and the measured figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from deskmimic.core.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class StepRules:
    """Thresholds of the reduction (docs/steps.md). Times in ms, distances in px."""

    double_click_ms: float = 400.0   # down-to-down time of the two clicks
    double_click_px: float = 5.0     # distance between the two down points
    drag_px: float = 6.0             # a press moving farther than this from its down point drags
    scroll_gap_ms: float = 300.0     # wheel events closer than this form one scroll
    scroll_px: float = 10.0          # ... if within this distance of the burst's first event
    idle_gap_ms: float = 1500.0      # a pause this long between key presses splits typing

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"step rule {f.name}={value!r}: must be a positive number")


@dataclass(frozen=True)
class HoverRules:
    """When a pointer rest is a ``hover`` step (docs/steps.md "Hover"). Times ms, lengths px.

    A *rest* is the pointer staying within ``rest_px`` of where it arrived for at least
    ``rest_ms``, with nothing but moves meanwhile, and then moving on. It is a step only
    when the next pointer action acts farther than ``near_px`` from it (closer, it was a
    pause before acting there) and from where the pointer step before it acted (what is
    acted on again was there already), and what that action acts on changed during the
    rest: more than ``area_px`` pixels of the ``2 * box_px + 1`` by ``2 * box_rows_px + 1``
    box around its point differ by more than ``level`` gray levels between the screen
    before the pointer neared the rest and the last frame before it moved on.

    The change is measured at the *next* target, not at the pointer: there a submenu and
    the highlight of the item that opened it touch and read as one changed region, while
    the highlight of an ordinary button or menu row never reaches a target elsewhere and
    a sub-item that appeared during the rest changes its label's pixels. The drawn
    pointer is no change of the screen: in both frames a box from 8 px above and left of
    where the pointer was to ``cursor_px`` right of and below it is left out.
    """

    rest_ms: float = 200.0    # below the shortest submenu delay plus a glance at it
    rest_px: float = 6.0      # hand jitter while waiting (drag_px: the same scale)
    near_px: float = 32.0     # beyond the drawn pointer (about 12 x 19 px) and the box
    box_px: float = 12.0      # half width of the box: a word's worth of a label
    box_rows_px: float = 6.0  # half height: inside one menu row, the next row's highlight
                              # (it reaches half a row, 9 px, from the rested-on row's middle)
                              # stays out even when the target is the row below
    area_px: float = 40.0     # a few glyph strokes: above a caret (about 16), below an item
    level: float = 24.0       # well above antialiasing and compression noise
    cursor_px: float = 32.0   # the drawn pointer's extent right of and below its hotspot

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"hover rule {f.name}={value!r}: must be a positive number")


@dataclass(frozen=True)
class SettleRules:
    """When two consecutive frames show the same, settled screen.

    Both frames are compared as grayscale copies downscaled to about ``width`` px wide
    (`gray_small`); they are the same screen when the mean absolute difference (0..255
    gray levels) is at most ``threshold`` *and* the mean over every ``tile`` x ``tile``
    tile of the copies is at most ``local``. The tile test sees what the whole-image
    mean averages away: a character appearing in a text field changes a few hundredths
    of a level of the mean but tens of levels of its tile.

    ``max_back`` is for training only: how many frames the search for a step's state
    frame may walk back from the step's start (`steps_for_episode`).
    """

    threshold: float = 1.0
    local: float = 4.0
    tile: int = 4
    width: int = 160
    max_back: int = 5

    def __post_init__(self) -> None:
        if not self.threshold >= 0 or not self.local >= 0:
            raise ConfigError(f"settle threshold={self.threshold!r}, local={self.local!r}: "
                              "must be >= 0")
        if self.max_back < 0 or self.width < 1 or self.tile < 1:
            raise ConfigError(f"settle max_back={self.max_back}, width={self.width}, "
                              f"tile={self.tile}: max_back must be >= 0, width and tile >= 1")

    def same(self, change: tuple[float, float]) -> bool:
        """Whether a `screen_change` result ``(mean, largest tile)`` means the same screen."""
        mean, tile = change
        return mean <= self.threshold and tile <= self.local


def gray_small(rgb: np.ndarray, width: int = SettleRules.width) -> np.ndarray:
    """A float32 grayscale copy of an RGB image, area-averaged to about ``width`` px wide.

    The image is shrunk by a whole factor (``ceil(w / width)``, the ragged right and bottom
    edges dropped), so each small pixel is the mean of the same square of screen pixels
    whatever the image size, and a recorded frame and a live grab of the same area are
    reduced alike.
    """
    import cv2  # a hard dependency, imported here so that importing core stays light
    import numpy as np

    h, w = rgb.shape[:2]
    f = max(1, math.ceil(w / max(width, 1)))
    hh, ww = (h // f) * f, (w // f) * f
    if hh == 0 or ww == 0:
        hh, ww, f = h, w, 1
    rgb = np.ascontiguousarray(rgb[:hh, :ww, :3], dtype=np.float32)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if f == 1:
        return gray
    return cv2.resize(gray, (ww // f, hh // f), interpolation=cv2.INTER_AREA)


def screen_change(a: np.ndarray, b: np.ndarray, tile: int = SettleRules.tile) -> tuple[float, float]:
    """(whole-image, largest-tile) mean absolute difference of two `gray_small` copies.

    Copies of different shapes (a window that changed size) differ infinitely.
    """
    import numpy as np

    if a.shape != b.shape:
        return float("inf"), float("inf")
    d = np.abs(a.astype(np.float32) - b.astype(np.float32))
    h, w = d.shape
    th, tw = h // tile, w // tile
    if th == 0 or tw == 0:  # smaller than one tile: the whole copy is the tile
        return float(d.mean()), float(d.mean())
    tiles = d[: th * tile, : tw * tile].reshape(th, tile, tw, tile).mean(axis=(1, 3))
    return float(d.mean()), float(tiles.max())
