"""Writes one episode folder of format v1: meta.json, events.jsonl, frames.csv, video segments."""

from __future__ import annotations

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
from deskmimic.recorder.video import SegmentEncoder, file_sha256, segment_path

logger = logging.getLogger(__name__)


def _open_private(path: Path, mode: str = "a"):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, mode, encoding="utf-8", buffering=1 << 16)


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
        raise EpisodeFormatError(f"{path}: cannot create the episode folder ({exc})") from exc
    os.chmod(path, 0o700)
    return path


class EventLog:
    """Append-only events.jsonl; the caller decides when to flush (at least every 0.5 s)."""

    def __init__(self, folder: Path):
        self._f = _open_private(folder / EVENTS)
        self._lock = threading.Lock()
        self.count = 0

    def write(self, events: list[dict]) -> None:
        if not events:
            return
        text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
        with self._lock:
            self._f.write(text)
            self._f.flush()
            self.count += len(events)

    def close(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.flush()
                os.fsync(self._f.fileno())
                self._f.close()


class FrameWriter:
    """Encodes frames into segments and appends their index rows to frames.csv."""

    def __init__(self, folder: Path, width: int, height: int, fps: float, segment_seconds: float):
        self.folder = folder
        self.width, self.height, self.fps = width, height, fps
        self.frames_per_segment = max(1, int(round(fps * segment_seconds)))
        self._index_file = _open_private(folder / FRAMES)
        self._index_file.write(FRAMES_HEADER + "\n")
        self._index_file.flush()
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
        self._index_file.flush()
        self.count += 1

    def _roll(self) -> None:
        self._close_encoder()
        self._segment += 1
        path = segment_path(self.folder / VIDEO_DIR, self._segment)
        self._encoder = SegmentEncoder(path, self.width, self.height, self.fps)

    def _close_encoder(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
            self.bytes_closed += self._encoder.path.stat().st_size
            # Hashed once closed (the file is still in the page cache): `check` compares it.
            self.checksums[self._encoder.path.name] = file_sha256(self._encoder.path)
            self._encoder = None

    def close(self) -> None:
        self._close_encoder()
        if not self._index_file.closed:
            self._index_file.flush()
            os.fsync(self._index_file.fileno())
            self._index_file.close()


def write_meta(folder: Path, meta: dict) -> None:
    write_json_atomic(folder / META, meta)
