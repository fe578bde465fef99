"""Making an episode cut off by a crash readable again, without throwing anything away.

What cannot be used is moved aside with a ``.broken`` suffix, never deleted:
a half-written last event line, the unreadable tail of the last video segment,
index rows that point at frames that never reached the disk.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deskmimic.recorder.check import count_packets
from deskmimic.recorder.episode import iter_event_lines, read_frame_index
from deskmimic.recorder.episode_format import (
    EVENTS,
    FRAMES,
    FRAMES_HEADER,
    VIDEO_DIR,
    read_meta,
    write_json_atomic,
)
from deskmimic.recorder.record import folder_bytes
from deskmimic.recorder.video import remux_prefix, segment_path

logger = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    path: Path
    frames_kept: int = 0
    frames_dropped: int = 0
    events_kept: int = 0
    moved_aside: list[str] = field(default_factory=list)
    already_complete: bool = False

    def to_dict(self) -> dict:
        return {"path": str(self.path), "frames_kept": self.frames_kept,
                "frames_dropped": self.frames_dropped, "events_kept": self.events_kept,
                "moved_aside": self.moved_aside, "already_complete": self.already_complete}


def _aside(path: Path) -> Path:
    """A free ``NAME.broken`` (or ``NAME.broken.N``) name next to ``path``."""
    cand = path.with_name(path.name + ".broken")
    n = 1
    while cand.exists():
        cand = path.with_name(f"{path.name}.broken.{n}")
        n += 1
    return cand


def _recover_events(folder: Path, report: RecoveryReport) -> list[dict]:
    path = folder / EVENTS
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        return []
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    if cut < len(data):
        aside = _aside(path)
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data[cut:])
        with open(path, "r+b") as f:
            f.truncate(cut)
        report.moved_aside.append(aside.name)
    events = [ev for _, ev in iter_event_lines(path, strict=False)]
    report.events_kept = len(events)
    return events


def _recover_frames(folder: Path, meta: dict, report: RecoveryReport) -> np.ndarray:
    index = read_frame_index(folder / FRAMES)
    video_dir = folder / VIDEO_DIR
    keep = np.ones(index.shape[0], dtype=bool)
    for seg in sorted({int(s) for s in index[:, 2]}):
        rows = np.nonzero(index[:, 2] == seg)[0]
        path = segment_path(video_dir, seg)
        if not path.is_file():
            keep[rows] = False
            continue
        packets, _, err = count_packets(path)
        if err is None and packets >= len(rows):
            continue
        # Cut off mid-write: copy what can be read into a clean, seekable file.
        broken = _aside(path)
        os.replace(path, broken)
        report.moved_aside.append(f"{VIDEO_DIR}/{broken.name}")
        try:
            copied = remux_prefix(broken, path, max_frames=len(rows)) if packets else 0
        except Exception as exc:  # a file too damaged to remux keeps nothing
            logger.warning("%s: cannot remux (%s)", broken, exc)
            copied = 0
            if path.exists():
                path.unlink()
        keep[rows[copied:]] = False
    # Frames are only usable up to the first gap, so the index stays gap-free.
    bad = np.nonzero(~keep)[0]
    n_keep = int(bad[0]) if bad.size else index.shape[0]
    report.frames_kept = n_keep
    report.frames_dropped = index.shape[0] - n_keep
    if report.frames_dropped:
        src = folder / FRAMES
        aside = _aside(src)
        os.replace(src, aside)
        report.moved_aside.append(aside.name)
        tmp = folder / (FRAMES + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(FRAMES_HEADER + "\n")
            for row in index[:n_keep]:
                f.write(",".join(str(int(v)) for v in row) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, src)
    return index[:n_keep]


def recover_episode(folder: Path) -> RecoveryReport:
    """Make ``folder`` readable again after a crash; returns what was kept and moved aside.

    Raises:
        deskmimic.core.errors.EpisodeFormatError: meta.json itself is unreadable (nothing to anchor a recovery on).
    """
    folder = Path(folder)
    meta = read_meta(folder)
    report = RecoveryReport(folder)
    if meta["status"] != "recording":
        report.already_complete = True
    events = _recover_events(folder, report)
    index = _recover_frames(folder, meta, report)
    if report.already_complete and not report.moved_aside:
        return report
    last_t = int(index[-1, 1]) if len(index) else 0
    if events:
        last_t = max(last_t, int(events[-1]["t"]))
    meta["status"] = "recovered" if meta["status"] == "recording" else meta["status"]
    meta["counters"] = {
        "frames": int(len(index)),
        "dropped_frames": int(meta.get("counters", {}).get("dropped_frames", 0)),
        "events": len(events),
        "duration_s": round(last_t / 1e9, 3),
        "bytes": folder_bytes(folder),
    }
    meta.setdefault("recovery", []).append(report.to_dict())
    write_json_atomic(folder / "meta.json", meta)
    return report
