"""Capture with python-mss (XCB + MIT-SHM on X11), cursor composited by mss via XFixes."""

from __future__ import annotations

import threading

import numpy as np

from deskmimic.core.errors import CaptureError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.capture import CaptureBackend
from deskmimic.recorder.environment import require_x_display


class MssCapture(CaptureBackend):
    def __init__(self, draw_cursor: bool = True):
        require_x_display()
        import mss

        try:
            self._sct = mss.MSS(with_cursor=draw_cursor)
        except Exception as exc:  # mss raises ScreenShotError and ctypes errors alike
            raise CaptureError(f"cannot open the screen for capture: {exc}") from exc
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
                raise CaptureError(f"screen grab of {region} failed: {exc}") from exc
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)

    def monitors(self) -> list[Rect]:
        with self._lock:
            mons = self._sct.monitors
        return [Rect(m["left"], m["top"], m["width"], m["height"]) for m in mons]

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._sct.close()
