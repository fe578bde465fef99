"""Which screen rectangle the agent works in, and following it when its window moves.

Actions are in captured-area pixels; the agent maps them to the screen through the
current region. When the region belongs to a window (``--window TITLE`` or an
episode recorded from a window), the window is found again by title before every
step and the region shifted by however far the window moved, so a moved window is
still hit where it is now — and never the desktop where it used to be.

A window is followed as `deskmimic record --window --follow PX` records it: the region is
the window's rectangle grown by that margin (recorder/app_windows.py), so the dialogs and
menus the app opens around it are seen and can be clicked. Near the screen's edge the
region keeps its size and slides onto the screen; only the window itself leaving the
screen stops the agent.
"""

from __future__ import annotations

import logging

from deskmimic.core.errors import CaptureError, ConfigError
from deskmimic.core.geometry import Rect, fit_to_screen
from deskmimic.recorder.capture import CaptureBackend

logger = logging.getLogger(__name__)


class WindowLost(CaptureError):
    """The window the agent works in is no longer on screen."""


class RegionTracker:
    """The agent's current region, re-located from a window title when one is known.

    Args:
        region: the region at the start, screen pixels.
        window_title: title (or title substring) of the window the region belongs to.
        window_rect: that window's rectangle when ``region`` was taken (defaults to
            ``region`` itself: the region is the window).
    """

    def __init__(self, region: Rect, window_title: str | None = None,
                 window_rect: Rect | None = None, screen: Rect | None = None) -> None:
        self.initial = region
        self.screen = screen
        self.region = region
        self.window_title = window_title or None
        self._window0 = window_rect or region
        self.moves: list[dict] = []

    @classmethod
    def resolve(cls, capture: CaptureBackend, region: Rect | None = None,
                window: str | None = None, follow: int = 0) -> RegionTracker:
        """Start from ``--window`` (found now, followed), ``--region``, or the first monitor."""
        if region is not None and window is not None:
            raise ConfigError("--region and --window are exclusive: give one of them")
        screen = capture.monitors()[0]
        if window is not None:
            from deskmimic.recorder.app_windows import app_windows, follow_region
            from deskmimic.recorder.windows_x11 import find_window

            info = find_window(window)
            fit_to_screen(info.rect, screen, f"--window {window!r}", exact=False)  # on screen?
            shown = [w.rect for w in app_windows(info.window_id) if w.attached]
            rect = fit_to_screen(follow_region(info.rect, screen, shown, follow), screen,
                                 f"--window {window!r}", exact=False)
            return cls(rect, window, info.rect, screen)
        if region is not None:
            return cls(fit_to_screen(region, screen, f"--region {region}", exact=True), screen=screen)
        mons = capture.monitors()
        monitor = mons[1] if len(mons) > 1 else screen
        return cls(fit_to_screen(monitor, screen, "monitor 1", exact=False), screen=screen)

    @classmethod
    def for_recording(cls, region: Rect, window: dict | None, screen: Rect) -> RegionTracker:
        """The region an episode recorded (``window``: its meta ``geometry.window``),
        following the window when it had one. Older episodes recorded the window alone."""
        window = window or {}
        rect = Rect.from_dict(window["rect"]) if window.get("rect") else region
        return cls(region, window.get("title"), rect, screen)

    def update(self) -> Rect:
        """Re-locate the window (when there is one) and return the current region.

        Raises:
            WindowLost: no visible window has the title any more, or it left the screen.
        """
        if self.window_title is None:
            return self.region
        from deskmimic.recorder.app_windows import place_on_screen
        from deskmimic.recorder.windows_x11 import find_window

        try:
            info = find_window(self.window_title)
        except CaptureError as exc:
            raise WindowLost(f"the window {self.window_title!r} is gone: {exc}") from exc
        dx = info.rect.left - self._window0.left
        dy = info.rect.top - self._window0.top
        new = Rect(self.initial.left + dx, self.initial.top + dy,
                   self.initial.width, self.initial.height)
        if self.screen is not None and new.intersect(self.screen) != new:
            if info.rect.intersect(self.screen) != info.rect:
                raise WindowLost(f"the window {self.window_title!r} moved partly off the screen "
                                 f"(now at {info.rect}): move it back to let the agent continue")
            new = place_on_screen(new, self.screen)
        if new != self.region:
            logger.info("window %r moved: region %s -> %s", self.window_title, self.region, new)
            self.moves.append({"from": self.region.to_dict(), "to": new.to_dict()})
            self.region = new
        return self.region
