"""Waiting until the screen stops changing, and comparing screens.

Frames grabbed right after an action are often stale (an animation, a repaint that
has not happened yet), so the agent decides only on a *settled* screen: consecutive
grabs that `deskmimic.core.rules.SettleRules` calls the same screen. Training picks
each step's state frame with the same test (`deskmimic.models.data.steps`), so the
agent decides on the kind of frame it learned from. The same downscaled comparison
tells the macro replay whether the live screen matches a recorded frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect
from deskmimic.core.rules import SettleRules, gray_small, screen_change
from deskmimic.recorder.capture import CaptureBackend

logger = logging.getLogger(__name__)

_RULES = SettleRules()


@dataclass(frozen=True)
class SettleConfig:
    """How the agent decides that the screen has settled.

    Attributes:
        threshold: mean absolute difference (0..255 gray levels) between two
            downscaled grabs up to which they count as equal (`SettleRules.threshold`).
        local: ... and the largest mean difference over any tile of them
            (`SettleRules.local`). Text typed into a field changes a few characters'
            worth of pixels, far below the whole mean's threshold but far above a
            tile's, so by the mean alone a field still filling looked settled and the
            policy decided on "cookie " while "cookie cabin" was being typed
            (docs/steps.md). An unchanged screen reads 0 (Xvfb, a still pointer).
        quiet: number of consecutive equal comparisons that mean "settled".
        interval_s: time between grabs.
        timeout_s: give up waiting after this long and use the last grab.
    """

    threshold: float = _RULES.threshold
    local: float = _RULES.local
    quiet: int = 2
    interval_s: float = 0.05
    timeout_s: float = 3.0

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ConfigError(f"settle threshold {self.threshold}: must be >= 0")
        if self.local < 0:
            raise ConfigError(f"settle local threshold {self.local}: must be >= 0")
        if self.quiet < 1:
            raise ConfigError(f"settle quiet {self.quiet}: must be >= 1")
        if not (0 < self.interval_s <= 1):
            raise ConfigError(f"settle interval_s {self.interval_s}: must be in (0, 1]")
        if self.timeout_s < 0:
            raise ConfigError(f"settle timeout_s {self.timeout_s}: must be >= 0")

    @property
    def rules(self) -> SettleRules:
        """The shared same-screen test with this config's thresholds."""
        return SettleRules(threshold=self.threshold, local=self.local)


@dataclass
class Settled:
    """The outcome of `wait_until_settled`."""

    image: np.ndarray  # (H, W, 3) uint8 RGB, the last grab
    settled: bool  # False: the deadline passed first
    waited_s: float
    diff: float  # the last comparison's mean abs difference
    grabs: int


def bgra_to_rgb(img: np.ndarray) -> np.ndarray:
    """(H, W, 4) BGRA from a capture backend -> contiguous (H, W, 3) RGB."""
    return np.ascontiguousarray(img[:, :, 2::-1])


def small_gray(rgb: np.ndarray, width: int = _RULES.width) -> np.ndarray:
    """A float32 grayscale copy about ``width`` px wide (`deskmimic.core.rules.gray_small`)."""
    return gray_small(rgb, width)


def frame_diff(a: np.ndarray, b: np.ndarray, width: int = _RULES.width) -> float:
    """Mean absolute gray-level difference (0..255) of two RGB images, compared downscaled.

    Images of different sizes are compared at the first one's size.
    """
    ga = small_gray(a, width)
    gb = small_gray(b, width)
    if ga.shape != gb.shape:
        gb = cv2.resize(gb, (ga.shape[1], ga.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.mean(np.abs(ga - gb)))


def grab_rgb(capture: CaptureBackend, region: Rect) -> np.ndarray:
    """One RGB grab of ``region`` (screen pixels)."""
    return bgra_to_rgb(capture.grab(region))


def wait_until_settled(capture: CaptureBackend, region: Rect, cfg: SettleConfig | None = None,
                       stop: threading.Event | None = None,
                       on_calm: Callable[[np.ndarray], object] | None = None) -> Settled:
    """Grab ``region`` until ``cfg.quiet`` consecutive grabs are equal or the deadline passes.

    Args:
        capture: an open capture backend (`deskmimic.recorder.capture.open_capture`).
        region: the area to watch, screen pixels.
        cfg: thresholds and timing.
        stop: when set (an abort), returns at once with the last grab, unsettled.
        on_calm: called with a grab equal to the one before it while more equal ones are
            awaited: most likely the settled screen, so the policy reads it ahead
            (`BCPolicy.prefetch`; an earlier grab, right after an action, is often stale
            and reading it only delays the read that counts); must return at once.
    """
    cfg = cfg or SettleConfig()
    rules = cfg.rules
    t0 = time.monotonic()
    deadline = t0 + cfg.timeout_s
    image = grab_rgb(capture, region)
    prev = small_gray(image)
    grabs, calm, diff, local = 1, 0, float("inf"), float("inf")
    while True:
        if stop is not None and stop.is_set():
            break
        now = time.monotonic()
        if now >= deadline:
            break
        wait = min(cfg.interval_s, deadline - now)
        if stop is not None:
            if stop.wait(wait):
                break
        else:
            time.sleep(wait)
        image = grab_rgb(capture, region)
        cur = small_gray(image)
        grabs += 1
        diff, local = screen_change(cur, prev, rules.tile)
        prev = cur
        calm = calm + 1 if rules.same((diff, local)) else 0
        if calm >= cfg.quiet:
            return Settled(image, True, time.monotonic() - t0, diff, grabs)
        if calm and on_calm is not None:
            on_calm(image)
    waited = time.monotonic() - t0
    if not (stop is not None and stop.is_set()):
        logger.info("screen did not settle within %.1f s (last diff %.2f, largest tile %.1f)",
                    waited, diff, local)
    return Settled(image, False, waited, diff, grabs)
