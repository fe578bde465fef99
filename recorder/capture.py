"""Screen capture behind a small interface, so other platforms are a backend away."""

from __future__ import annotations

import abc
import os

import numpy as np

from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect


class CaptureBackend(abc.ABC):
    """Grabs a rectangle of the virtual desktop as BGRA pixels."""

    #: Human-readable reasons for running in a degraded mode (shown by `doctor`).
    performance_status: list[str]

    @abc.abstractmethod
    def grab(self, region: Rect) -> np.ndarray:
        """Return (H, W, 4) uint8 BGRA of ``region`` (screen pixels), cursor drawn in if enabled."""

    @abc.abstractmethod
    def monitors(self) -> list[Rect]:
        """Index 0 is the whole virtual desktop, 1.. the monitors (mss convention)."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release resources; idempotent."""

    def __enter__(self) -> CaptureBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_capture(draw_cursor: bool = True) -> CaptureBackend:
    """The capture backend for this platform (``DESKMIMIC_CAPTURE`` overrides)."""
    name = os.environ.get("DESKMIMIC_CAPTURE", "mss")
    if name == "mss":
        from deskmimic.recorder.capture_mss import MssCapture

        return MssCapture(draw_cursor=draw_cursor)
    raise ConfigError(f"DESKMIMIC_CAPTURE={name!r}: unknown capture backend (known: mss)")
