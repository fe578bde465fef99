"""The data behind the training plots, Qt-free: a series of points, TensorBoard's
smoothing and the wall-clock labels (`chart` draws them)."""

from __future__ import annotations

from dataclasses import dataclass, field


def ema(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average divided by ``1 - weight**n``
    so the first points are not pulled towards zero. ``weight`` 0 returns the values."""
    if weight <= 0:
        return list(values)
    out, last = [], 0.0
    for i, v in enumerate(values):
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** (i + 1)))
    return out


def wall_label(seconds: float) -> str:
    """Elapsed seconds as m:ss or h:mm:ss (the wall-time axis and the hover text)."""
    s = int(round(seconds))
    sign, s = ("-" if s < 0 else ""), abs(s)
    return f"{sign}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 \
        else f"{sign}{s // 60}:{s % 60:02d}"


@dataclass
class Series:
    """One metric of one run: optimizer steps, seconds since the run started (None when
    unknown) and values, in arrival order."""

    run: str
    name: str
    steps: list[float] = field(default_factory=list)
    walls: list[float | None] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    @property
    def points(self) -> list[tuple[float, float]]:
        """(step, raw value) pairs."""
        return list(zip(self.steps, self.values, strict=True))

    def xy(self, mode: str) -> tuple[list[float], list[float]]:
        """x (steps, or seconds in wall mode, skipping points without a time) and values."""
        if mode == "step":
            return list(self.steps), list(self.values)
        pairs = [(w, v) for w, v in zip(self.walls, self.values, strict=True) if w is not None]
        return [p[0] for p in pairs], [p[1] for p in pairs]
