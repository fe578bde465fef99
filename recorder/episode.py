"""Reading episodes: metadata (any format version `read_meta` accepts, upgraded in memory),
random access to frames, events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.episode_format import (
    EVENTS,
    FRAMES,
    FRAMES_HEADER,
    VIDEO_DIR,
    read_meta,
    unreadable,
)
from deskmimic.recorder.video import SegmentDecoder, segment_path

logger = logging.getLogger(__name__)


def read_text(path: Path, strict_utf8: bool = True) -> str:
    """The whole of an episode text file; every way it can fail is an EpisodeFormatError
    naming the file. Without ``strict_utf8`` undecodable bytes become U+FFFD (recovery
    still wants the lines around them)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise EpisodeFormatError(f"{path}: missing") from exc
    except IsADirectoryError as exc:
        raise EpisodeFormatError(f"{path}: is a folder, expected a file") from exc
    except OSError as exc:
        raise EpisodeFormatError(unreadable(path, exc)) from exc
    try:
        return data.decode("utf-8", errors="strict" if strict_utf8 else "replace")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise EpisodeFormatError(f"{path}: line {line} is not UTF-8 text "
                                 f"(byte {exc.start} is 0x{data[exc.start]:02x})") from exc


def read_frame_index(path: Path) -> np.ndarray:
    """frames.csv -> int64 array of rows (index, t_ns, segment, pts).

    A half-written last line (a crash mid-write) is ignored; any other bad line
    raises EpisodeFormatError naming the line.
    """
    rows = []
    lines = read_text(path).split("\n")
    if not lines or lines[0].strip() != FRAMES_HEADER:
        raise EpisodeFormatError(f"{path}: line 1 should be the header {FRAMES_HEADER!r}")
    complete = lines[1:-1]  # the text after the last newline is an unfinished line
    for n, line in enumerate(complete, start=2):
        if not line.strip():
            continue
        parts = line.split(",")
        try:
            if len(parts) != 4:
                raise ValueError("expected 4 fields")
            row = tuple(int(p) for p in parts)
            if any(not 0 <= v < 2**63 for v in row):
                raise ValueError("a value is negative or too large")
            rows.append(row)
        except ValueError as exc:
            raise EpisodeFormatError(f"{path}: line {n} is malformed ({exc}): {line[:60]!r}") from exc
    if lines[-1].strip():
        logger.warning("%s: ignoring an unfinished last line", path)
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


# Fields each event type needs, and their JSON types: every reader (steps, macro,
# the GUI timeline) indexes them, so a wrong type must fail here, naming the line.
EVENT_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "move": {"x": int, "y": int},
    "button_down": {"x": int, "y": int, "button": str},
    "button_up": {"x": int, "y": int, "button": str},
    "scroll": {"x": int, "y": int, "dx": int, "dy": int},
    "key_down": {"key": str},
    "key_up": {"key": str},
    "marker": {"name": str},
}


def event_problem(ev: object) -> str | None:
    """Why ``ev`` is not a usable event (its fields for its type), or None when it is."""
    if not isinstance(ev, dict) or "t" not in ev or "type" not in ev:
        return "needs an object with 't' and 'type'"
    if isinstance(ev["t"], bool) or not isinstance(ev["t"], int):
        return "t is not an integer"
    fields = EVENT_FIELDS.get(ev["type"]) if isinstance(ev["type"], str) else None
    if fields is None:
        return f"unknown type {ev['type']!r}"
    missing = [k for k in fields if k not in ev]
    if missing:
        return f"{ev['type']} without {', '.join(missing)}"
    for k, kind in fields.items():
        if isinstance(ev[k], bool) or not isinstance(ev[k], kind):
            return f"{ev['type']}: {k} is {ev[k]!r}, expected {getattr(kind, '__name__', kind)}"
    return None


def iter_event_lines(path: Path, strict: bool = True) -> Iterator[tuple[int, dict]]:
    """Yield (line number, event). An unfinished last line is skipped with a warning;
    with ``strict`` any other line that is not a valid event (`event_problem`) raises
    EpisodeFormatError; without, such lines are skipped."""
    lines = read_text(path, strict_utf8=strict).split("\n")
    tail = lines.pop()  # "" when the file ends with a newline
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
            problem = event_problem(ev)
            if problem:
                raise ValueError(problem)
        except ValueError as exc:
            if strict:
                raise EpisodeFormatError(f"{path}: line {n} is not a valid event ({exc})") from exc
            continue
        yield n, ev
    if tail.strip():
        logger.warning("%s: ignoring an unfinished last line (%d chars)", path, len(tail))


class Episode:
    """An episode folder opened for reading. Frames are RGB (H, W, 3) uint8."""

    def __init__(self, path: Path, meta: dict, index: np.ndarray):
        self.path = path
        self.meta = meta
        self._index = index
        self._decoders: dict[int, SegmentDecoder] = {}

    @classmethod
    def open(cls, path: str | Path) -> Episode:
        path = Path(path)
        meta = read_meta(path)
        index = read_frame_index(path / FRAMES)
        return cls(path, meta, index)

    # ---- metadata -------------------------------------------------------------------
    @property
    def id(self) -> str:
        return str(self.meta.get("id", self.path.name))

    @property
    def status(self) -> str:
        return str(self.meta["status"])

    @property
    def task(self) -> str:
        return str(self.meta.get("task") or "")

    @property
    def instruction(self) -> str:
        return str(self.meta.get("instruction") or "")

    @property
    def extra(self) -> dict:
        return dict(self.meta.get("extra") or {})

    @property
    def region(self) -> Rect:
        return Rect.from_dict(self.meta["geometry"]["region"])

    @property
    def fps(self) -> float:
        return float(self.meta["fps"])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames."""
        r = self.meta["geometry"]["region"]
        return int(r["width"]), int(r["height"])

    # ---- frames ---------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return int(self._index.shape[0])

    @property
    def frame_times(self) -> np.ndarray:
        return self._index[:, 1].copy()

    @property
    def duration_s(self) -> float:
        return float(self.meta.get("counters", {}).get("duration_s") or 0.0)

    def frame_index_at(self, t_ns: int) -> int:
        """Index of the last frame captured at or before ``t_ns`` (0 if none)."""
        i = int(np.searchsorted(self._index[:, 1], t_ns, side="right")) - 1
        return max(i, 0)

    def frame(self, i: int) -> np.ndarray:
        if not 0 <= i < self.frame_count:
            raise IndexError(f"frame {i} out of range (episode has {self.frame_count})")
        _, _, seg, pts = (int(v) for v in self._index[i])
        dec = self._decoders.get(seg)
        if dec is None:
            path = segment_path(self.path / VIDEO_DIR, seg)
            if not path.is_file():
                raise EpisodeFormatError(f"{path}: video segment missing (frame {i})")
            if len(self._decoders) > 4:  # keep a few open for scrubbing back and forth
                self._decoders.pop(next(iter(self._decoders))).close()
            dec = self._decoders[seg] = SegmentDecoder(path, self.fps)
        return dec.frame(pts)

    def iter_frames(self) -> Iterator[tuple[int, int, np.ndarray]]:
        for i in range(self.frame_count):
            yield i, int(self._index[i, 1]), self.frame(i)

    # ---- events ---------------------------------------------------------------------
    def read_events(self) -> list[dict]:
        return [ev for _, ev in iter_event_lines(self.path / EVENTS)]

    def close(self) -> None:
        for dec in self._decoders.values():
            dec.close()
        self._decoders.clear()

    def __enter__(self) -> Episode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
