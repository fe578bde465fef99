"""The recording loop: capture thread -> bounded queue -> encoder thread; input listener
-> event queue -> writer thread. A slow disk or encoder drops frames, never input."""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from deskmimic.core.config import RecordConfig
from deskmimic.core.errors import CaptureError, describe_error
from deskmimic.core.geometry import Rect
from deskmimic.core.paths import default_episodes_dir, new_episode_id
from deskmimic.recorder.app_windows import AppWindowWatch
from deskmimic.recorder.capture import CaptureBackend, open_capture
from deskmimic.recorder.clock import EpisodeClock
from deskmimic.recorder.episode_format import VIDEO_SHA256
from deskmimic.recorder.episode_writer import (
    EventLog,
    FrameWriter,
    create_episode_folder,
    open_episode_files,
    write_meta,
)
from deskmimic.recorder.hotkey import Chord, check_distinct, parse_hotkey
from deskmimic.recorder.listener import InputListener
from deskmimic.recorder.privacy import CaptureGate
from deskmimic.recorder.record_setup import (
    RecordingSummary,
    folder_bytes,
    initial_meta,
    resolve_region,
)
from deskmimic.recorder.secret_hold import PasswordMasking
from deskmimic.recorder.space import (
    NoSpaceError,
    SpaceReserve,
    disk_full_message,
    is_disk_full,
    recover_hint,
)
from deskmimic.recorder.windows_x11 import watch_window

__all__ = ["Recorder", "RecordingSummary", "folder_bytes", "resolve_region"]

logger = logging.getLogger(__name__)

EVENT_FLUSH_S = 0.1
PAUSE_POLL_S = 0.01  # how soon capture resumes after the resume hotkey


class Recorder:
    """One recording. ``start()`` returns once capturing; ``stop()`` always finalizes."""

    def __init__(self, cfg: RecordConfig, capture: CaptureBackend | None = None):
        self.cfg = cfg
        self._capture = capture
        self._own_capture = capture is None
        self.path: Path | None = None
        self.region: Rect | None = None
        self._clock = EpisodeClock()
        self._frames: queue.Queue = queue.Queue(maxsize=max(4, int(cfg.fps * 2)))
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._stopped = False
        self._stop_reason = ""
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self.frames_captured = 0
        self.dropped_frames = 0
        self._listener: InputListener | None = None
        self._event_log: EventLog | None = None
        self._frame_writer: FrameWriter | None = None
        self._reserve: SpaceReserve | None = None
        self._error = ""
        self._meta: dict = {}
        self._lock = threading.Lock()
        self._first_frame = threading.Event()
        self._gate = CaptureGate()  # pause spans and secret masking
        self._masking: PasswordMasking | None = None  # password fields turn the secret on

    # ---- life cycle ---------------------------------------------------------------
    def start(self) -> Recorder:
        cfg = self.cfg
        if cfg.listen_input:  # before anything exists: a bad chord leaves no folder
            check_distinct({"--stop-hotkey": cfg.stop_hotkey, "--pause-hotkey": cfg.pause_hotkey,
                            "--secret-hotkey": cfg.secret_hotkey})
        if self._capture is None:
            self._capture = open_capture(draw_cursor=cfg.draw_cursor)
        self.region, source, window = resolve_region(cfg, self._capture)
        episode_id = cfg.out.name if cfg.out is not None else new_episode_id()
        self.path = cfg.out if cfg.out is not None else (cfg.episodes_dir or default_episodes_dir()) / episode_id
        create_episode_folder(self.path)
        self._open_files(episode_id, source, window)
        self._clock = EpisodeClock()
        self._meta["clock"] = self._clock.to_dict()
        write_meta(self.path, self._meta)
        self._events.put({"t": self._clock.now(), "type": "marker", "name": "start"})
        # Capture first: the input listener takes ~0.2 s to start, and the first frame
        # must be on disk within 0.25 s of the origin (the crash guarantee).
        loops = [("capture", self._capture_loop), ("encode", self._encode_loop),
                 ("events", self._events_loop)]
        if window is not None:
            apps = AppWindowWatch(window["id"], self.region, window["app_windows"])
            loops.append(("window", lambda: watch_window(
                window["id"], self._stop, lambda: self.request_stop("window_closed"), apps=apps)))
        for name, target in loops:
            th = threading.Thread(target=self._guard(target), name=f"deskmimic-{name}", daemon=True)
            th.start()
            self._threads.append(th)
        if cfg.listen_input:
            self._masking = PasswordMasking(self._gate, self._clock, self._events.put, cfg.secret_hotkey)
            self._listener = InputListener(self._clock, self.region, self._put_event,
                                           stop_hotkey=cfg.stop_hotkey,
                                           on_stop=lambda: self.request_stop("stop_hotkey"),
                                           more_hotkeys=self._privacy_hotkeys())
            try:
                self._listener.start()
            except BaseException:
                self.stop()  # the threads already run: finalize, never leave them writing
                raise
            # In the background, once the listener runs: no accessibility bus only means
            # no automatic masking.
            self._masking.start()
        if not self._first_frame.wait(5.0) and not self._errors:
            logger.warning("no frame captured within 5 s of starting")
        if self._errors:
            self.stop()
            raise CaptureError(f"recording failed at start: {self._errors[0]}")
        logger.info("recording %s at %.1f fps into %s", self.region, cfg.fps, self.path)
        return self

    def _privacy_hotkeys(self) -> list[Chord]:
        cfg, gate = self.cfg, self._gate
        chords = []
        if cfg.pause_hotkey is not None:
            chords.append(Chord(parse_hotkey(cfg.pause_hotkey, "--pause-hotkey"), gate.toggle_pause))
        if cfg.secret_hotkey is not None:
            chords.append(Chord(parse_hotkey(cfg.secret_hotkey, "--secret-hotkey"), gate.toggle_secret))
        return chords

    def _put_event(self, event: dict) -> None:
        # The only way input reaches the queue: paused input stops here, secret keys
        # leave masked, so neither is ever written.
        if self._masking is not None:
            self._masking.feed(event)  # holds input briefly after a possible focus move
            return
        event = self._gate.admit(event)
        if event is not None:
            self._events.put(event)

    @property
    def paused(self) -> bool:
        """Whether capture is paused (the pause hotkey)."""
        return self._gate.paused

    @property
    def secret(self) -> bool:
        """Whether typed keys are being masked (the secret hotkey or a password field)."""
        return self._gate.masking

    def _open_files(self, episode_id: str, source: str, window: dict | None) -> None:
        self._meta = initial_meta(self.cfg, episode_id, self.region,
                                  self._capture.monitors()[0], source, window)
        try:
            self._reserve, self._event_log, self._frame_writer = open_episode_files(
                self.path, self._meta, self.region, self.cfg.fps, self.cfg.segment_seconds,
                on_full=lambda: self.request_stop("disk_full"))
        except BaseException:
            self._meta = {}  # the folder is gone: nothing for stop() to finalize
            raise

    def _guard(self, fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # surfaced by stop(); never lost silently
                if not is_disk_full(exc):  # stop() says it in one line
                    logger.exception("recorder thread %s failed", threading.current_thread().name)
                self._errors.append(exc)
                self._stop_reason = self._stop_reason or "error"
                self._stop.set()
                self._first_frame.set()
        return run

    def request_stop(self, reason: str = "stop_api") -> None:
        """Ask the recording to end (thread-safe); `stop()` finalizes."""
        with self._lock:
            if not self._stop_reason:
                self._stop_reason = reason
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a stop was requested (hotkey, duration, error); True if so."""
        return self._stop.wait(timeout)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def elapsed_s(self) -> float:
        return self._clock.now() / 1e9

    def stats(self) -> dict:
        """Live counters for progress displays."""
        el = max(self.elapsed_s(), 1e-9)
        return {"elapsed_s": el, "frames": self.frames_captured, "dropped_frames": self.dropped_frames,
                "events": self._event_log.count if self._event_log else 0,
                "fps": self.frames_captured / el, "paused": self.paused, "secret": self.secret}

    # ---- threads --------------------------------------------------------------------
    def _capture_loop(self) -> None:
        period_ns = int(1e9 / self.cfg.fps)
        max_ns = int(self.cfg.max_duration * 1e9) if self.cfg.max_duration else None
        next_t = self._clock.now()
        while not self._stop.is_set():
            t = self._clock.now()
            if max_ns is not None and t >= max_ns:
                self.request_stop("stop_duration")
                break
            if self._gate.covers(t):
                # Paused: grab nothing, and restart the frame ticks on resume so the
                # pause does not count as frames missed.
                self._stop.wait(PAUSE_POLL_S)
                next_t = self._clock.now()
                continue
            img = self._capture.grab(self.region)
            try:
                self._frames.put_nowait((t, img))
                self.frames_captured += 1
            except queue.Full:
                self.dropped_frames += 1
            self._first_frame.set()
            next_t += period_ns
            now = self._clock.now()
            if now > next_t + period_ns:
                # Fell more than a frame behind: skip the missed ticks rather than burst.
                missed = (now - next_t) // period_ns
                self.dropped_frames += int(missed)
                next_t += missed * period_ns
            delay = (next_t - now) / 1e9
            if delay > 0:
                self._stop.wait(delay)
        self._frames.put(None)

    def _encode_loop(self) -> None:
        while True:
            item = self._frames.get()
            if item is None:
                break
            if self._reserve is not None and self._reserve.full:
                # The disk is full: what is queued would eat the reserve the episode
                # needs to close.
                self.dropped_frames += 1
                continue
            t, img = item
            if self._gate.covers(t):
                continue  # grabbed just before the pause took effect: inside the span
            self._frame_writer.write(t, img)

    def _events_loop(self) -> None:
        while True:
            done = self._stop.wait(EVENT_FLUSH_S)
            self._drain_events()
            if done and self._listener is None:
                break
            if done:
                time.sleep(EVENT_FLUSH_S)

    def _drain_events(self) -> None:
        batch = []
        while True:
            try:
                batch.append(self._events.get_nowait())
            except queue.Empty:
                break
        self._event_log.write(batch)

    # ---- finalize -------------------------------------------------------------------
    def stop(self, extra_meta: dict | None = None) -> RecordingSummary:
        """Stop and finalize (idempotent). Meta gets status 'complete' and the counters."""
        with self._lock:
            if not self._stop_reason:
                self._stop_reason = "stop_api"
            reason = self._stop_reason
            already = self._stopped
            self._stopped = True
        if extra_meta:
            self._meta.setdefault("extra", {}).update(extra_meta)
        if already:
            if extra_meta and self.path is not None:
                write_meta(self.path, self._meta)
            return self._summary(reason)
        t_end = self._clock.now()
        self._gate.close(t_end)
        self._stop.set()  # the capture thread ends within one frame period
        if self._listener is not None:
            # Input that arrives while the listener shuts down is still recorded,
            # so the stop marker is stamped after it.
            self._listener.stop()
            self._listener = None
        if self._masking is not None:
            self._masking.stop()  # writes what it held
        if reason not in ("stop_hotkey",):
            self._events.put({"t": self._clock.now(), "type": "marker", "name": reason})
        for th in self._threads:
            th.join(timeout=60)
        closed = self._close_files()
        if self._own_capture and self._capture is not None:
            self._capture.close()
        if self.path is not None and self._meta:
            # A file that did not close whole leaves the episode to `recover`.
            self._meta["status"] = "complete" if closed else "recording"
            self._meta["stop_reason"] = reason
            self._meta["counters"] = self._counters(t_end)
            self._meta.update(self._gate.meta())
            if self._masking is not None:
                self._meta.update(self._masking.meta())
            if self._frame_writer is not None:
                self._meta[VIDEO_SHA256] = dict(self._frame_writer.checksums)
            self._error = self._stop_message(t_end, closed)
            errors = [repr(e) for e in self._errors]
            if self._reserve is not None and self._reserve.full:
                errors.insert(0, self._error)  # what the GUI shows: the cause, in words
            if errors:
                self._meta["errors"] = errors
            try:
                write_meta(self.path, self._meta)
            except OSError as exc:
                self._meta["status"] = "recording"
                if not is_disk_full(exc):
                    raise
                raise NoSpaceError(f"{self.path}: the disk is full: the episode could not be "
                                   f"finished; {recover_hint(self.path)}") from exc
        return self._summary(reason)

    def _close_files(self) -> bool:
        """Close events.jsonl and the video (the reserve still held for them), then free
        the reserve: meta.json is written in its room. False if a file did not close."""
        ok = True
        steps = []
        if self._event_log is not None:
            steps += [self._drain_events, self._event_log.close]
        if self._frame_writer is not None:
            steps.append(self._frame_writer.close)
        for step in steps:
            try:
                step()
            except Exception as exc:  # the others still close; stop() reports it
                logger.debug("finalizing the episode: %s failed", step, exc_info=True)
                self._errors.append(exc)
                ok = False
        if self._reserve is not None:
            self._reserve.release()
        return ok

    def _stop_message(self, t_end: int, closed: bool) -> str:
        """One line for a recording that stopped early, or ''."""
        if self._reserve is not None and self._reserve.full:
            n = self._frame_writer.count if self._frame_writer else 0
            return disk_full_message(self.path, t_end / 1e9, n, closed)
        if self._stop_reason == "window_closed":
            title = (self._meta.get("geometry", {}).get("window") or {}).get("title")
            return (f"the window {title!r} was closed or hidden: the recording stopped there "
                    "(what was recorded until then is kept)")
        if self._errors:
            then = "" if closed else f"; {recover_hint(self.path)}"
            return f"the recording stopped on an error: {describe_error(self._errors[0])}{then}"
        return ""

    def _counters(self, t_end: int) -> dict:
        return {
            "frames": self._frame_writer.count if self._frame_writer else 0,
            "dropped_frames": self.dropped_frames,
            "events": self._event_log.count if self._event_log else 0,
            "duration_s": round(t_end / 1e9, 3),
            "bytes": folder_bytes(self.path),
        }

    def _summary(self, reason: str) -> RecordingSummary:
        c = self._meta.get("counters", {})
        dur = float(c.get("duration_s") or 0.0)
        return RecordingSummary(
            path=self.path, status=self._meta.get("status", "recording"), duration_s=dur,
            frames=int(c.get("frames", 0)), dropped_frames=int(c.get("dropped_frames", 0)),
            events=int(c.get("events", 0)), bytes=int(c.get("bytes", 0)),
            fps_achieved=(int(c.get("frames", 0)) / dur) if dur > 0 else 0.0, stop_reason=reason,
            error=self._error,
        )

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> bool:
        self.stop()
        return False
