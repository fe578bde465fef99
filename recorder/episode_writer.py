"""Writes one episode folder of format v1: meta.json, events.jsonl, frames.csv, video segments."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

from deskmimic.core.errors import EpisodeExistsError, EpisodeFormatError
from deskmimic.core.paths import make_private_dir
from deskmimic.recorder.episode_format import (
    EVENTS,
    FRAMES,
    FRAMES_HEADER,
    META,
    VIDEO_DIR,
    write_json_atomic,
)
from deskmimic.recorder.space import (
    RESERVE_BYTES,
    RESERVE_NAME,
    SpaceReserve,
    is_disk_full,
    not_enough_space,
    write_all,
)
from deskmimic.recorder.video import SegmentEncoder, file_sha256, segment_path

__all__ = ["RESERVE_BYTES", "RESERVE_NAME", "EventLog", "FrameWriter", "SpaceReserve",
           "create_episode_folder", "open_episode_files", "write_meta"]

logger = logging.getLogger(__name__)


class _AppendFile:
    """An append-only private file written in whole, unbuffered writes: a line is on disk
    when ``write`` returns, and a full disk falls back on the episode's `SpaceReserve`
    (a buffered writer would hold, or half-write, what did not fit)."""

    def __init__(self, path: Path, reserve: SpaceReserve | None):
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._reserve = reserve

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def write(self, text: str) -> None:
        write_all(lambda b: os.write(self._fd, b), text.encode("utf-8"), self._reserve)

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def create_episode_folder(path: Path) -> Path:
    """Create a new, private episode folder; refuse to reuse an existing one."""
    if path.exists():
        raise EpisodeExistsError(
            f"{path}: already exists; refusing to overwrite a recording (choose another --out)"
        )
    parent = path.parent
    try:
        make_private_dir(parent)
        path.mkdir(mode=0o700)
        (path / VIDEO_DIR).mkdir(mode=0o700)
    except PermissionError as exc:
        raise EpisodeFormatError(f"{parent}: cannot create the episode folder there ({exc.strerror})") from exc
    except OSError as exc:
        remove_new_episode_folder(path)
        if is_disk_full(exc):
            raise not_enough_space(path, exc) from exc
        raise EpisodeFormatError(f"{path}: cannot create the episode folder ({exc})") from exc
    os.chmod(path, 0o700)
    return path


def remove_new_episode_folder(path: Path) -> None:
    """Undo `create_episode_folder` after a failed start, before any frame: what the
    recorder wrote there, then the folders; anything else in it is left (and the folder)."""
    own = [RESERVE_NAME, META, EVENTS, FRAMES]
    for p in [*(path / n for n in own), *(path / VIDEO_DIR).glob("*.mkv")]:
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("%s: cannot remove (%s)", p, exc)
    for d in (path / VIDEO_DIR, path):
        try:
            d.rmdir()
        except OSError:
            pass  # not there, or not empty: never removed with something left in it


class EventLog:
    """Append-only events.jsonl; each batch is in the file when ``write`` returns (the
    caller batches, at least every 0.5 s)."""

    def __init__(self, folder: Path, reserve: SpaceReserve | None = None):
        self._f = _AppendFile(folder / EVENTS, reserve)
        self._lock = threading.Lock()
        self.count = 0

    def write(self, events: list[dict]) -> None:
        if not events:
            return
        text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
        with self._lock:
            self._f.write(text)
            self.count += len(events)

    def close(self) -> None:
        with self._lock:
            self._f.close()


class FrameWriter:
    """Encodes frames into segments and appends their index rows to frames.csv."""

    def __init__(self, folder: Path, width: int, height: int, fps: float, segment_seconds: float,
                 reserve: SpaceReserve | None = None):
        self.folder = folder
        self.width, self.height, self.fps = width, height, fps
        self.frames_per_segment = max(1, int(round(fps * segment_seconds)))
        self._reserve = reserve
        self._index_file = _AppendFile(folder / FRAMES, reserve)
        self._index_file.write(FRAMES_HEADER + "\n")
        self._encoder: SegmentEncoder | None = None
        self._segment = -1
        self.count = 0
        self.bytes_closed = 0
        self.checksums: dict[str, str] = {}  # segment file name -> hex SHA-256, once closed

    def write(self, t_ns: int, bgra: np.ndarray) -> None:
        if self._encoder is None or self._encoder.frames >= self.frames_per_segment:
            self._roll()
        pts = self._encoder.encode(bgra)
        # The row goes out only after the frame is in the encoder: a row never
        # points at a frame that was not handed to the file.
        self._index_file.write(f"{self.count},{t_ns},{self._segment},{pts}\n")
        self.count += 1

    def _roll(self) -> None:
        self._close_encoder()
        self._segment += 1
        path = segment_path(self.folder / VIDEO_DIR, self._segment)
        self._encoder = SegmentEncoder(path, self.width, self.height, self.fps, reserve=self._reserve)

    def _close_encoder(self) -> None:
        if self._encoder is not None and self._encoder.frames == 0:
            # Opened for a frame that never got in (the disk filled): no row points at it.
            enc, self._encoder = self._encoder, None
            try:
                enc.close()
            except Exception as exc:  # its muxer never wrote a header: nothing to keep
                logger.debug("%s: closing an empty segment: %s", enc.path, exc)
            enc.path.unlink(missing_ok=True)
        if self._encoder is not None:
            self._encoder.close()
            self.bytes_closed += self._encoder.path.stat().st_size
            # Hashed once closed (the file is still in the page cache): `check` compares it.
            self.checksums[self._encoder.path.name] = file_sha256(self._encoder.path)
            self._encoder = None

    def close(self) -> None:
        try:
            self._close_encoder()
        finally:
            self._index_file.close()


def write_meta(folder: Path, meta: dict) -> None:
    write_json_atomic(folder / META, meta)


def open_episode_files(folder: Path, meta: dict, region, fps: float, segment_seconds: float,
                       on_full) -> tuple[SpaceReserve, EventLog, FrameWriter]:
    """In the new ``folder``: the space reserve first (a disk too full for it fails here,
    not mid-recording), then meta.json and the writers. Any failure removes the folder
    again, so a failed start leaves nothing behind; a full disk is a `NoSpaceError`."""
    opened: list = []
    try:
        reserve = SpaceReserve(folder, on_full=on_full)
        write_meta(folder, meta)
        opened.append(EventLog(folder, reserve))
        opened.append(FrameWriter(folder, region.width, region.height, fps, segment_seconds, reserve))
    except BaseException as exc:
        for f in opened:
            with contextlib.suppress(OSError):  # its folder goes next
                f.close()
        remove_new_episode_folder(folder)
        if is_disk_full(exc):
            raise not_enough_space(folder, exc) from exc
        raise
    return reserve, opened[0], opened[1]
