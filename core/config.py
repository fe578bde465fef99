"""Typed, self-validating settings for each verb. Errors name the flag to fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect

DEFAULT_STOP_HOTKEY = "<ctrl>+<alt>+<shift>+s"
# The same family as the stop hotkey (and the agent's abort, ...+q), so none is a chord an
# application already uses; each is a different letter, so none completes another.
DEFAULT_PAUSE_HOTKEY = "<ctrl>+<alt>+<shift>+p"
DEFAULT_SECRET_HOTKEY = "<ctrl>+<alt>+<shift>+h"


@dataclass(frozen=True)
class RecordConfig:
    """What `deskmimic record` captures and where it writes.

    Attributes:
        out: episode folder to create; ``None`` means ``episodes_dir/<new id>``.
        episodes_dir: parent folder for new episodes.
        fps: target capture rate, frames per second.
        region: captured rectangle in virtual-desktop pixels; ``None`` = a monitor.
        monitor: mss monitor index used when no region/window is given (1 = first).
        window: title (substring) of a window to capture.
        follow: with ``window``, pixels added on every side of it so the dialogs and menus
            the app opens around it are captured too (0: the window alone;
            recorder/app_windows.py).
        task: short task label stored in meta.json.
        instruction: what the person was asked to do; the policy reads it.
        max_duration: stop after this many seconds (``None`` = until stopped).
        stop_hotkey: pynput hotkey string that ends the recording; recorded as a marker.
        pause_hotkey: chord that pauses and resumes capture (no frames, no input while
            paused; ``pause``/``resume`` markers); ``None`` = no pause hotkey.
        secret_hotkey: chord that turns secret typing on and off: key events keep their
            time and kind but not their key (``secret_on``/``secret_off`` markers);
            ``None`` = no secret hotkey.
        draw_cursor: draw the pointer into each frame.
        segment_seconds: length of each video segment (one keyframe each): longer is smaller
            on disk and slower to seek into; a crash loses at most ~0.25 s either way.
        listen_input: record keyboard and mouse events.
    """

    out: Path | None = None
    episodes_dir: Path | None = None
    fps: float = 30.0
    region: Rect | None = None
    monitor: int = 1
    window: str | None = None
    follow: int = 0
    task: str = ""
    instruction: str = ""
    max_duration: float | None = None
    stop_hotkey: str = DEFAULT_STOP_HOTKEY
    pause_hotkey: str | None = DEFAULT_PAUSE_HOTKEY
    secret_hotkey: str | None = DEFAULT_SECRET_HOTKEY
    draw_cursor: bool = True
    segment_seconds: float = 4.0
    listen_input: bool = True
    extra_meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (0 < self.fps <= 120):
            raise ConfigError(f"--fps {self.fps}: must be in (0, 120]")
        if self.max_duration is not None and self.max_duration <= 0:
            raise ConfigError(f"--max-duration {self.max_duration}: must be positive")
        if self.monitor < 0:
            raise ConfigError(f"--monitor {self.monitor}: must be 0 (all) or a monitor number")
        if sum(x is not None for x in (self.region, self.window)) > 1:
            raise ConfigError("--region and --window are exclusive: give one of them")
        if self.follow < 0 or (self.follow and self.window is None):
            raise ConfigError(f"--follow {self.follow}: a margin >= 0 around --window "
                              "(it needs --window)")
        if not (0.2 <= self.segment_seconds <= 10):
            raise ConfigError(f"segment_seconds {self.segment_seconds}: must be in [0.2, 10]")
        if not self.stop_hotkey.strip():
            raise ConfigError("--stop-hotkey must not be empty")
        for flag, value in (("--pause-hotkey", self.pause_hotkey),
                            ("--secret-hotkey", self.secret_hotkey)):
            if value is not None and not value.strip():
                raise ConfigError(f"{flag} must not be empty (leave it out for the default)")

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("out", "episodes_dir"):
            d[k] = str(d[k]) if d[k] is not None else None
        return d
