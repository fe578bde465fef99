"""Qt-free state behind the GUI: settings, the episode catalogue, a recording's life
cycle, playback and the event timeline a viewer draws.

Widgets in ``app/gui/`` subscribe to these objects (napari's evented-model
pattern); nothing here imports Qt, so the logic is testable without a display and
the same objects could drive another front end.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from deskmimic.core.config import DEFAULT_STOP_HOTKEY, RecordConfig
from deskmimic.core.errors import ConfigError, DeskmimicError, EpisodeFormatError
from deskmimic.core.paths import config_dir, default_episodes_dir, make_private_dir

logger = logging.getLogger(__name__)

SETTINGS_FILE = "gui.json"


# ---- a minimal evented helper ---------------------------------------------------------
class Emitter:
    """Calls its subscribers with the emitted arguments.

    Bound methods are held by weak reference (as napari does) so a deleted widget
    never keeps a model alive nor gets called after it is gone.
    """

    def __init__(self) -> None:
        self._subs: list[Callable[[], Callable | None]] = []
        self._lock = threading.Lock()

    def connect(self, callback: Callable) -> None:
        ref: Callable[[], Callable | None]
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            ref = weakref.WeakMethod(callback)
        else:
            ref = (lambda cb: (lambda: cb))(callback)
        with self._lock:
            self._subs.append(ref)

    def emit(self, *args: object) -> None:
        with self._lock:
            subs = list(self._subs)
        dead = []
        for ref in subs:
            cb = ref()
            if cb is None:
                dead.append(ref)
                continue
            cb(*args)
        if dead:
            with self._lock:
                self._subs = [r for r in self._subs if r not in dead]


# ---- settings ---------------------------------------------------------------------------
@dataclass
class GuiSettings:
    """What the GUI remembers between sessions (``config_dir()/gui.json``).

    Attributes:
        episodes_dir: folder new recordings go to and the Episodes page lists.
        stop_hotkey: pynput chord that ends a recording (never recorded as input).
        fps: default capture rate, frames per second.
        abort_hotkey: chord that aborts a replay at once (pynput or plain syntax).
    """

    episodes_dir: str = field(default_factory=lambda: str(default_episodes_dir()))
    stop_hotkey: str = DEFAULT_STOP_HOTKEY
    fps: float = 30.0
    abort_hotkey: str = "<ctrl>+<alt>+<shift>+q"  # agent.abort.DEFAULT_ABORT_HOTKEY

    def validate(self) -> None:
        from deskmimic.recorder.hotkey import parse_hotkey

        if not self.episodes_dir.strip():
            raise ConfigError("Episodes folder: must not be empty")
        if not (0 < float(self.fps) <= 120):
            raise ConfigError(f"Frames per second {self.fps}: must be in (0, 120]")
        parse_hotkey(self.stop_hotkey)
        from deskmimic.agent.abort import parse_abort_hotkey

        if parse_abort_hotkey(self.abort_hotkey) == parse_abort_hotkey(self.stop_hotkey):
            raise ConfigError("Abort hotkey: must differ from the stop hotkey")

    @staticmethod
    def path() -> Path:
        return config_dir() / SETTINGS_FILE

    @classmethod
    def load(cls) -> GuiSettings:
        """The saved settings; defaults for anything missing or unreadable (logged)."""
        path = cls.path()
        s = cls()
        if not path.is_file():
            return s
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for k in ("episodes_dir", "stop_hotkey", "abort_hotkey"):
                if isinstance(data.get(k), str) and data[k].strip():
                    setattr(s, k, data[k])
            if isinstance(data.get("fps"), int | float):
                s.fps = float(data["fps"])
            s.validate()
        except (OSError, ValueError, DeskmimicError) as exc:
            logger.warning("%s: ignoring unreadable settings (%s)", path, exc)
            return cls()
        return s

    def save(self) -> Path:
        """Validate, then write atomically (0600: it names where private recordings live)."""
        from deskmimic.recorder.episode_format import write_json_atomic

        self.validate()
        path = self.path()
        make_private_dir(path.parent)
        write_json_atomic(path, asdict(self))
        return path


# ---- the episode catalogue -------------------------------------------------------------
@dataclass(frozen=True)
class EpisodeRow:
    """One line of the Episodes list, read from meta.json only (cheap)."""

    path: Path
    id: str
    task: str = ""
    instruction: str = ""
    created: str = ""
    duration_s: float = 0.0
    status: str = "unreadable"
    success: bool | None = None
    bytes: int = 0
    frames: int = 0
    events: int = 0
    error: str = ""
    size: tuple[int, int] | None = None  # the captured area (width, height)


def read_row(path: Path) -> EpisodeRow:
    """The list's row for one episode folder; never raises for what is inside it: a
    damaged or unreadable meta.json gives an ``unreadable`` row whose ``error`` says what
    is wrong, and the status is the one `deskmimic episodes list` shows (a recording
    whose process is gone is ``interrupted``, one without frames ``empty``)."""
    from deskmimic.recorder.episode_format import read_meta
    from deskmimic.recorder.liveness import listed_status

    try:
        m = read_meta(path)
        c = m.get("counters") or {}
        success = (m.get("extra") or {}).get("success")
        status, error = listed_status(m, path.name)
        return EpisodeRow(
            path=path, id=str(m.get("id", path.name)), task=str(m.get("task") or ""),
            instruction=str(m.get("instruction") or ""), created=str(m.get("created") or ""),
            duration_s=float(c.get("duration_s") or 0.0), status=status,
            success=success if isinstance(success, bool) else None,
            bytes=int(c.get("bytes") or 0), frames=int(c.get("frames") or 0),
            events=int(c.get("events") or 0), error=error, size=_region_size(m),
        )
    except EpisodeFormatError as exc:
        return EpisodeRow(path=path, id=path.name, error=str(exc))
    except (ValueError, OverflowError) as exc:  # a counter read_meta lets through (inf, NaN)
        return EpisodeRow(path=path, id=path.name,
                          error=f"{path / 'meta.json'}: a counter is not a usable number ({exc})")


def _region_size(meta: dict) -> tuple[int, int] | None:
    region = (meta.get("geometry") or {}).get("region") or {}
    w, h = region.get("width"), region.get("height")
    return (w, h) if isinstance(w, int) and isinstance(h, int) else None


# What makes a folder an episode (ours) even when its meta.json is gone or damaged.
_EPISODE_FILES = ("meta.json", "events.jsonl", "frames.csv", "video")


def scan_episodes(root: Path) -> list[EpisodeRow]:
    """Every sub-folder of ``root`` that looks like an episode, newest first.

    Folders without any episode file are skipped (not ours); an episode that lost its
    meta.json, or whose meta.json cannot be read, is listed with its error so the user
    sees it instead of wondering where it went (as `deskmimic episodes list` does).
    """
    root = Path(root)
    if not root.is_dir():
        return []
    rows = [read_row(p) for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and _looks_like_episode(p)]
    return sorted(rows, key=lambda r: r.id, reverse=True)


def _looks_like_episode(folder: Path) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:  # cannot tell: list it, and its row says it cannot be read
        return True
    return any(n in names for n in _EPISODE_FILES)


# ---- a recording's life cycle ----------------------------------------------------------
class RecordingSession:
    """idle -> starting -> recording -> stopping -> idle, with live stats.

    ``start`` and ``stop`` block (the recorder waits for its first frame, then joins
    its threads): the GUI calls them on a worker thread. ``changed`` is emitted from
    whichever thread made the change; Qt views re-emit it as a queued signal.
    """

    def __init__(self) -> None:
        self.phase = "idle"
        self.stats: dict = {}
        self.summary = None
        self.error = ""
        self.recorder = None
        self.cfg: RecordConfig | None = None
        self.changed = Emitter()

    def _set(self, **kw: object) -> None:
        for k, v in kw.items():
            setattr(self, k, v)
        self.changed.emit()

    @property
    def active(self) -> bool:
        return self.phase in ("starting", "recording", "stopping")

    def start(self, cfg: RecordConfig) -> None:
        from deskmimic.recorder.record import Recorder

        if self.active:
            raise ConfigError("a recording is already running: stop it first")
        self.cfg = cfg
        self._set(phase="starting", error="", summary=None, stats={})
        rec = Recorder(cfg)
        try:
            rec.start()
        except BaseException as exc:
            try:
                rec.stop()  # finalizes whatever was created; never leaves threads behind
            except Exception:  # the start error is the one worth showing
                logger.exception("cleanup after a failed start")
            self._set(phase="idle", error=f"Could not start recording: {exc}", recorder=None)
            raise
        self._set(phase="recording", recorder=rec)

    def poll(self) -> bool:
        """Refresh ``stats`` (cheap, any thread); True when the recorder asks to stop
        (stop hotkey, max duration, or a capture error)."""
        rec = self.recorder
        if rec is None or self.phase != "recording":
            return False
        self.stats = rec.stats()
        self.changed.emit()
        return rec.stop_requested

    def stop(self):
        """Finalize the episode; returns the recorder's summary (idempotent)."""
        rec = self.recorder
        if rec is None:
            return self.summary
        self._set(phase="stopping")
        try:
            summary = rec.stop()
        except BaseException as exc:
            self._set(phase="idle", recorder=None, error=f"Stopping the recording failed: {exc}")
            raise
        error = ""
        try:  # a thread that failed mid-recording is noted in meta.json, not raised
            from deskmimic.recorder.episode_format import read_meta

            errors = read_meta(summary.path).get("errors")
            if errors:
                error = f"The recording stopped on an error: {errors[0]}"
        except EpisodeFormatError as exc:
            error = f"The episode could not be read back: {exc}"
        self._set(phase="idle", recorder=None, summary=summary, error=error)
        return summary


# ---- playback and the event timeline ---------------------------------------------------
SPEEDS = (0.5, 1.0, 2.0, 4.0)


class Playback:
    """Where the viewer is in an episode and whether it is playing (frame-time based)."""

    def __init__(self) -> None:
        self.frame_times = np.zeros(0, np.int64)
        self.index = 0
        self.playing = False
        self.speed = 1.0
        self._t = 0
        self.changed = Emitter()

    def load(self, frame_times: np.ndarray) -> None:
        self.frame_times = np.asarray(frame_times, np.int64)
        self.index, self._t, self.playing = 0, int(self.frame_times[0]) if len(self.frame_times) else 0, False
        self.changed.emit()

    @property
    def count(self) -> int:
        return int(self.frame_times.shape[0])

    @property
    def t_ns(self) -> int:
        return int(self.frame_times[self.index]) if self.count else 0

    def seek(self, index: int) -> None:
        if not self.count:
            return
        index = int(min(max(index, 0), self.count - 1))
        self._t = int(self.frame_times[index])
        if index != self.index:
            self.index = index
            self.changed.emit()

    def set_playing(self, playing: bool) -> None:
        if playing and self.count and self.index >= self.count - 1:
            self.seek(0)  # play from the start again after the end
        if playing != self.playing:
            self.playing = playing
            self.changed.emit()

    def set_speed(self, speed: float) -> None:
        if speed not in SPEEDS:
            raise ConfigError(f"speed {speed}: choose one of {SPEEDS}")
        self.speed = speed
        self.changed.emit()

    def tick(self, wall_dt_s: float) -> None:
        """Advance by ``wall_dt_s`` seconds of wall time at the current speed."""
        if not self.playing or not self.count:
            return
        self._t += int(wall_dt_s * self.speed * 1e9)
        i = int(np.searchsorted(self.frame_times, self._t, side="right")) - 1
        i = min(max(i, 0), self.count - 1)
        end = self._t >= int(self.frame_times[-1])
        if i != self.index:
            self.index = i
        if end:
            self.playing = False
        self.changed.emit()


class EventTimeline:
    """Events indexed by time for drawing: the cursor trail and what just happened."""

    TRAIL_NS = 500_000_000
    RECENT_NS = 600_000_000

    def __init__(self, events: list[dict]):
        moves = [e for e in events if e["type"] in ("move", "button_down", "button_up", "scroll")
                 and "x" in e and "y" in e]
        self.move_t = np.array([e["t"] for e in moves], np.int64)
        self.move_xy = np.array([(e["x"], e["y"]) for e in moves], np.int64).reshape(-1, 2)
        self.actions = [e for e in events if e["type"] != "move"]
        self.action_t = np.array([e["t"] for e in self.actions], np.int64)

    def trail(self, t_ns: int, window_ns: int | None = None) -> np.ndarray:
        """(N, 2) pointer positions during the ``window_ns`` before ``t_ns``, oldest first."""
        w = self.TRAIL_NS if window_ns is None else window_ns
        lo = np.searchsorted(self.move_t, t_ns - w, side="left")
        hi = np.searchsorted(self.move_t, t_ns, side="right")
        return self.move_xy[lo:hi]

    def recent(self, t_ns: int, window_ns: int | None = None) -> list[tuple[float, dict]]:
        """Non-move events in the window before ``t_ns`` as (age 0..1, event), oldest first."""
        w = self.RECENT_NS if window_ns is None else window_ns
        lo = np.searchsorted(self.action_t, t_ns - w, side="left")
        hi = np.searchsorted(self.action_t, t_ns, side="right")
        return [((t_ns - int(self.action_t[i])) / w, self.actions[i]) for i in range(lo, hi)]
