"""The one clock frames and events share: monotonic nanoseconds since the episode origin."""

from __future__ import annotations

import time


class EpisodeClock:
    def __init__(self) -> None:
        self.origin_monotonic_ns = time.monotonic_ns()
        self.origin_unix_ns = time.time_ns()

    def now(self) -> int:
        """Nanoseconds since the origin."""
        return time.monotonic_ns() - self.origin_monotonic_ns

    def to_dict(self) -> dict[str, int]:
        return {"origin_monotonic_ns": self.origin_monotonic_ns, "origin_unix_ns": self.origin_unix_ns}
