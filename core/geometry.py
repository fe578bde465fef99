"""Screen geometry in X11 virtual-desktop pixels.

`Rect` is the captured area; episode coordinates are relative to its top-left
corner ("captured-area pixels") and `Rect.to_screen` maps them back.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass

from deskmimic.core.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle: left/top in virtual-desktop pixels, width/height > 0."""

    left: int
    top: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ConfigError(f"rectangle must have a positive size, got {self.width}x{self.height}")

    def __str__(self) -> str:
        """X geometry, the form ``--region`` takes: WxH+X+Y."""
        return f"{self.width}x{self.height}{self.left:+d}{self.top:+d}"

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def contains(self, x: float, y: float) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        """Screen pixels -> captured-area pixels."""
        return x - self.left, y - self.top

    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        """Captured-area pixels -> screen pixels."""
        return x + self.left, y + self.top

    def intersect(self, other: Rect) -> Rect | None:
        left, top = max(self.left, other.left), max(self.top, other.top)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        if right <= left or bottom <= top:
            return None
        return Rect(left, top, right - left, bottom - top)

    def even(self) -> Rect:
        """The same rectangle shrunk to even width/height (H.264 wants even sizes)."""
        return Rect(self.left, self.top, self.width - self.width % 2, self.height - self.height % 2)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Rect:
        return cls(int(data["left"]), int(data["top"]), int(data["width"]), int(data["height"]))

    @classmethod
    def parse(cls, text: str) -> Rect:
        """Parse ``WxH+X+Y`` (X geometry) or ``X,Y,W,H``."""
        m = re.fullmatch(r"\s*(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s*", text)
        if m:
            w, h, x, y = (int(v) for v in m.groups())
            return cls(x, y, w, h)
        m = re.fullmatch(r"\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*(\d+)\s*", text)
        if m:
            x, y, w, h = (int(v) for v in m.groups())
            return cls(x, y, w, h)
        raise ConfigError(f"--region {text!r}: expected WxH+X+Y (e.g. 800x600+100+50) or X,Y,W,H")


def fit_to_screen(region: Rect, screen: Rect, what: str, exact: bool) -> Rect:
    """``region`` as it can be captured: inside ``screen``, even-sized (H.264).

    Args:
        what: the argument it came from (``--region 800x600+0+0``), for messages.
        exact: the user typed the rectangle: one reaching outside the screen is refused
            (capturing a smaller area than asked, silently, would record the wrong thing);
            otherwise (a window, a monitor) it is clipped, with a warning.
    Raises:
        ConfigError: no part of it (at least 2x2 pixels) is on the screen, or ``exact`` and
            it reaches outside; the message names the screen and the part that fits.
    """
    clipped = region.intersect(screen)
    if clipped is None or clipped.width < 2 or clipped.height < 2:
        raise ConfigError(f"{what}: lies outside the screen {screen}")
    if clipped != region:
        if exact:
            raise ConfigError(f"{what}: reaches outside the screen {screen}; the part on the "
                              f"screen is {clipped}: pass that, or a smaller region")
        logger.warning("%s: partly off the screen %s; capturing the part on it, %s", what, screen, clipped)
    return clipped.even()
