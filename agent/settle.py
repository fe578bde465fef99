"""Waiting until the screen stops changing, and comparing screens.

Frames grabbed right after an action are often stale (an animation, a repaint that
has not happened yet), so the agent decides only on a *settled* screen: consecutive
grabs whose downscaled grayscale copies differ by less than a threshold. The same
downscaled comparison tells the macro replay whether the live screen matches a
recorded frame.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.capture import CaptureBackend

logger = logging.getLogger(__name__)

COMPARE_WIDTH = 160  # px; enough to see a button change colour, cheap to compare
TILE = 4  # px of the downscaled grabs; `SettleConfig.local`


@dataclass(frozen=True)
class SettleConfig:
    """How the agent decides that the screen has settled.

    Attributes:
        threshold: mean absolute difference (0..255 gray levels) between two
            downscaled grabs below which they count as equal.
        local: ... and the largest mean difference over any `TILE` x `TILE` tile of
            them. Text typed into a field changes a few characters' worth of pixels:
            0.04-0.12 of the whole mean, 30-60 on its tiles (frames of a replayed
            workflow), so by the mean alone a field still filling looked settled, and
            on a busy machine the policy decided on "cookie " while "cookie cabin" was
            being typed. An unchanged screen reads 0 (Xvfb, a still pointer).
        quiet: number of consecutive equal comparisons that mean "settled".
        interval_s: time between grabs.
        timeout_s: give up waiting after this long and use the last grab.
    """

    threshold: float = 1.0
    local: float = 4.0
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


def small_gray(rgb: np.ndarray, width: int = COMPARE_WIDTH) -> np.ndarray:
    """A float32 grayscale copy about ``width`` px wide (area-averaged), for comparisons."""
    h, w = rgb.shape[:2]
    scale = min(1.0, width / max(w, 1))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    gray = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY)
    return gray.astype(np.float32)


def frame_diff(a: np.ndarray, b: np.ndarray, width: int = COMPARE_WIDTH) -> float:
    """Mean absolute gray-level difference (0..255) of two RGB images, compared downscaled.

    Images of different sizes are compared at the first one's size.
    """
    ga = small_gray(a, width)
    gb = small_gray(b, width)
    if ga.shape != gb.shape:
        gb = cv2.resize(gb, (ga.shape[1], ga.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.mean(np.abs(ga - gb)))


def _diffs(cur: np.ndarray, prev: np.ndarray) -> tuple[float, float]:
    """(whole-image, largest-tile) mean absolute difference of two `small_gray` copies."""
    if cur.shape != prev.shape:
        return float("inf"), float("inf")
    d = cv2.absdiff(cur, prev)
    h, w = d.shape
    th, tw = max(1, h // TILE), max(1, w // TILE)
    tiles = cv2.resize(d[: th * TILE, : tw * TILE], (tw, th), interpolation=cv2.INTER_AREA)
    return float(d.mean()), float(tiles.max())


def grab_rgb(capture: CaptureBackend, region: Rect) -> np.ndarray:
    """One RGB grab of ``region`` (screen pixels)."""
    return bgra_to_rgb(capture.grab(region))


def wait_until_settled(capture: CaptureBackend, region: Rect, cfg: SettleConfig | None = None,
                       stop: threading.Event | None = None) -> Settled:
    """Grab ``region`` until ``cfg.quiet`` consecutive grabs are equal or the deadline passes.

    Args:
        capture: an open capture backend (`deskmimic.recorder.capture.open_capture`).
        region: the area to watch, screen pixels.
        cfg: thresholds and timing.
        stop: when set (an abort), returns at once with the last grab, unsettled.
    """
    cfg = cfg or SettleConfig()
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
        diff, local = _diffs(cur, prev)
        prev = cur
        calm = calm + 1 if diff < cfg.threshold and local < cfg.local else 0
        if calm >= cfg.quiet:
            return Settled(image, True, time.monotonic() - t0, diff, grabs)
    waited = time.monotonic() - t0
    if not (stop is not None and stop.is_set()):
        logger.info("screen did not settle within %.1f s (last diff %.2f, largest tile %.1f)",
                    waited, diff, local)
    return Settled(image, False, waited, diff, grabs)
