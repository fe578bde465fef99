"""What a recording is set up from and ends with: the captured region, the summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from deskmimic import __version__
from deskmimic.core.config import RecordConfig
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect, fit_to_screen
from deskmimic.recorder.capture import CaptureBackend
from deskmimic.recorder.episode_format import FORMAT_VERSION, VIDEO_DIR
from deskmimic.recorder.liveness import this_process
from deskmimic.recorder.video import CODEC, CONTAINER


@dataclass
class RecordingSummary:
    path: Path
    status: str
    duration_s: float
    frames: int
    dropped_frames: int
    events: int
    bytes: int
    fps_achieved: float
    stop_reason: str
    error: str = ""  # why the recording stopped early (a full disk, a failed thread)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def resolve_region(cfg: RecordConfig, capture: CaptureBackend) -> tuple[Rect, str, dict | None]:
    """The captured rectangle (clipped to the screen, even-sized), its source and window info.

    A window is followed: the region is its rectangle and its dialogs and pop-ups already shown,
    grown by ``cfg.follow`` (recorder/app_windows.py), so the dialogs and menus it opens
    later are captured too; the window's own rectangle is kept in the window info.
    """
    monitors = capture.monitors()
    screen = monitors[0]
    window = None
    if cfg.window is not None:
        from deskmimic.recorder.app_windows import app_windows, follow_region
        from deskmimic.recorder.windows_x11 import find_window

        info = find_window(cfg.window)
        fit_to_screen(info.rect, screen, f"--window {cfg.window!r}", exact=False)  # on screen?
        shown = app_windows(info.window_id)
        attached = [w.rect for w in shown if w.attached]
        region, source = follow_region(info.rect, screen, attached, cfg.follow), "window"
        window = {"id": info.window_id, "title": info.title, "rect": info.rect.to_dict(),
                  "follow_margin": cfg.follow, "app_windows": shown}
    elif cfg.region is not None:
        region, source = cfg.region, "region"
    else:
        if cfg.monitor >= len(monitors):
            raise ConfigError(f"--monitor {cfg.monitor}: this screen has monitors 1..{len(monitors) - 1}")
        region, source = monitors[cfg.monitor], "monitor"
    what = {"window": f"--window {cfg.window!r}", "region": f"--region {region}",
            "monitor": f"--monitor {cfg.monitor}"}[source]
    region = fit_to_screen(region, screen, what, exact=source == "region")
    if window is not None:  # what the app showed at the start, and how much of it is captured
        window["app_windows"] = [w.to_meta(region) for w in window["app_windows"]]
    return region, source, window


def initial_meta(cfg: RecordConfig, episode_id: str, region: Rect, screen: Rect, source: str,
                 window: dict | None) -> dict:
    """meta.json as a recording starts (docs/episode-format.md); `stop` completes it."""
    return {
        "format_version": FORMAT_VERSION,
        "id": episode_id,
        "status": "recording",
        "task": cfg.task,
        "instruction": cfg.instruction,
        "created": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "geometry": {"region": region.to_dict(), "monitor": cfg.monitor,
                     "screen": screen.to_dict(), "device_pixel_ratio": 1.0,
                     "source": source, "window": window},
        "fps": cfg.fps,
        "recorder_version": __version__,
        "segment_seconds": cfg.segment_seconds,
        "video": {"codec": CODEC, "crf": 0, "container": CONTAINER, "dir": VIDEO_DIR},
        "clock": {},
        "stop_hotkey": cfg.stop_hotkey if cfg.listen_input else None,
        "pause_hotkey": cfg.pause_hotkey if cfg.listen_input else None,
        "secret_hotkey": cfg.secret_hotkey if cfg.listen_input else None,
        "process": this_process(),  # tells a live recording from a killed one
        "counters": {"frames": 0, "dropped_frames": 0, "events": 0, "duration_s": 0.0, "bytes": 0},
        "extra": dict(cfg.extra_meta),
    }
