"""Capture with python-mss (XCB + MIT-SHM on X11), cursor composited by mss via XFixes."""

from __future__ import annotations

import logging
import threading

import numpy as np

from deskmimic.core.errors import CaptureError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.capture import CaptureBackend
from deskmimic.recorder.environment import require_x_display

logger = logging.getLogger(__name__)


class MssCapture(CaptureBackend):
    def __init__(self, draw_cursor: bool = True):
        require_x_display()
        import mss

        self._mss = mss
        try:
            self._sct = mss.MSS(with_cursor=draw_cursor)
        except Exception as exc:  # mss raises ScreenShotError and ctypes errors alike
            raise CaptureError(f"cannot open the screen for capture: {exc}") from exc
        self.draw_cursor = draw_cursor
        self._lock = threading.Lock()
        self._closed = False
        self.performance_status = list(getattr(self._sct, "performance_status", []) or [])

    def grab(self, region: Rect) -> np.ndarray:
        mon = {"left": region.left, "top": region.top, "width": region.width, "height": region.height}
        with self._lock:
            if self._closed:
                raise CaptureError("capture backend is closed")
            try:
                shot = self._sct.grab(mon)
            except Exception as exc:
                shot = self._without_cursor(mon, region, exc)
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)

    def _without_cursor(self, mon: dict, region: Rect, exc: Exception):
        """A grab that failed with the cursor drawn in, tried without it: the X server can
        refuse the cursor image (XFixes GetCursorImage: BadAccess) while the screen reads
        fine, and losing the drawn cursor beats losing the recording."""
        if not self.draw_cursor:
            raise CaptureError(f"screen grab of {region} failed: {exc}") from exc
        try:
            plain = self._mss.MSS(with_cursor=False)
            shot = plain.grab(mon)
        except Exception:
            raise CaptureError(f"screen grab of {region} failed: {exc}") from exc
        logger.warning("the X server refused the cursor image (%s): capturing without the "
                       "drawn cursor", str(exc).splitlines()[0])
        self._sct.close()
        self._sct, self.draw_cursor = plain, False
        return shot

    def monitors(self) -> list[Rect]:
        with self._lock:
            mons = self._sct.monitors
        return [Rect(m["left"], m["top"], m["width"], m["height"]) for m in mons]

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._sct.close()
