"""Making an episode cut off by a crash readable again, without throwing anything away.

What cannot be used is moved aside with a ``.broken`` suffix, never deleted:
a half-written last line, event lines that are not valid events, the unreadable
tail of a video segment, index rows that point at frames that never reached the
disk. Every replacement is written and synced before the original is moved
aside, so a failure half-way (a full disk) leaves the original in place.
What recovery cannot fix is named in the report (`RecoveryReport.remaining`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.recorder.check import check_episode, count_packets
from deskmimic.recorder.episode import event_problem, read_frame_index
from deskmimic.recorder.episode_format import (
    EVENTS,
    FRAMES,
    FRAMES_HEADER,
    META,
    VIDEO_DIR,
    VIDEO_SHA256,
    read_meta,
    unreadable,
    write_json_atomic,
)
from deskmimic.recorder.liveness import recorder_alive
from deskmimic.recorder.privacy import privacy_from_events
from deskmimic.recorder.record import folder_bytes
from deskmimic.recorder.space import RESERVE_NAME
from deskmimic.recorder.video import file_sha256, remux_prefix, segment_path

logger = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    path: Path
    frames_kept: int = 0
    frames_dropped: int = 0
    events_kept: int = 0
    moved_aside: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    already_complete: bool = False
    counters_fixed: bool = False
    notes: list[str] = field(default_factory=list)  # what recovery had to decide, in words
    remaining: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.moved_aside or self.created or self.counters_fixed or not self.already_complete)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "frames_kept": self.frames_kept,
                "frames_dropped": self.frames_dropped, "events_kept": self.events_kept,
                "moved_aside": self.moved_aside, "created": self.created,
                "already_complete": self.already_complete,
                "counters_fixed": self.counters_fixed, "notes": self.notes,
                "remaining": self.remaining}


def _aside(path: Path) -> Path:
    """A free ``NAME.broken`` (or ``NAME.broken.N``) name next to ``path``."""
    cand = path.with_name(path.name + ".broken")
    n = 1
    while cand.exists():
        cand = path.with_name(f"{path.name}.broken.{n}")
        n += 1
    return cand


def _write_new(path: Path, data: bytes) -> None:
    """Write a new private file and sync it; a partial file is removed on failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _replace_keeping(path: Path, data: bytes, report: RecoveryReport) -> None:
    """Put ``data`` at ``path``, the original kept as ``.broken``: the new file is on disk
    before the original moves, so no failure leaves ``path`` missing."""
    tmp = path.with_name(f".{path.name}.recover.tmp")
    tmp.unlink(missing_ok=True)  # left by an earlier recovery that died
    _write_new(tmp, data)
    aside = _aside(path)
    os.replace(path, aside)
    os.replace(tmp, path)
    report.moved_aside.append(str(aside.relative_to(report.path)))


def _valid_event(line: bytes) -> dict | None:
    try:
        ev = json.loads(line.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both
        return None
    return ev if event_problem(ev) is None else None


def _recover_events(folder: Path, meta: dict, report: RecoveryReport) -> list[dict]:
    path = folder / EVENTS
    if not path.exists():
        if meta["status"] == "recording":  # killed before the writer made it: nothing was lost
            _write_new(path, b"")
            report.created.append(EVENTS)
        return []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EpisodeFormatError(unreadable(path, exc)) from exc
    lines = data.split(b"\n")[:-1]  # the bytes after the last newline are an unfinished line
    events = [_valid_event(line) for line in lines]
    keep = [line for line, ev in zip(lines, events, strict=True) if ev is not None or not line.strip()]
    if len(keep) != len(lines) or data.rfind(b"\n") + 1 < len(data):
        _replace_keeping(path, b"".join(line + b"\n" for line in keep), report)
    events = [ev for ev in events if ev is not None]
    report.events_kept = len(events)
    return events


def _recover_segment(path: Path, rows: int, report: RecoveryReport) -> int:
    """How many of the segment's ``rows`` frames are readable, after copying the readable
    prefix of a segment cut off mid-write into a clean, seekable file."""
    if not path.is_file():
        return 0
    packets, _, err = count_packets(path)
    if err is None and packets >= rows:
        return rows
    tmp = path.with_name(f".{path.name}.recover.tmp")
    tmp.unlink(missing_ok=True)
    try:
        copied = remux_prefix(path, tmp, max_frames=rows) if packets else 0
    except Exception as exc:  # a file too damaged to remux keeps nothing
        logger.warning("%s: cannot remux (%s)", path, exc)
        copied = 0
    aside = _aside(path)
    os.replace(path, aside)
    report.moved_aside.append(f"{VIDEO_DIR}/{aside.name}")
    if copied:
        os.replace(tmp, path)
    else:
        tmp.unlink(missing_ok=True)
    return copied


def _recover_frames(folder: Path, report: RecoveryReport) -> np.ndarray:
    src = folder / FRAMES
    index = read_frame_index(src)
    keep = np.ones(index.shape[0], dtype=bool)
    for seg in sorted({int(s) for s in index[:, 2]}):
        rows = np.nonzero(index[:, 2] == seg)[0]
        readable = _recover_segment(segment_path(folder / VIDEO_DIR, seg), len(rows), report)
        keep[rows[readable:]] = False
    # Frames are only usable up to the first gap, so the index stays gap-free.
    bad = np.nonzero(~keep)[0]
    n_keep = int(bad[0]) if bad.size else index.shape[0]
    report.frames_kept = n_keep
    report.frames_dropped = index.shape[0] - n_keep
    unfinished = not src.read_bytes().endswith(b"\n")
    if report.frames_dropped or unfinished:
        text = FRAMES_HEADER + "\n" + "".join(",".join(str(int(v)) for v in row) + "\n"
                                              for row in index[:n_keep])
        _replace_keeping(src, text.encode(), report)
    return index[:n_keep]


def _update_checksums(folder: Path, meta: dict, report: RecoveryReport) -> None:
    """Segments recovery rewrote get the checksum of their new bytes (the moved-aside
    original keeps its own), so `check` keeps telling later damage apart."""
    sums = meta.get(VIDEO_SHA256)
    if not isinstance(sums, dict):
        return
    for moved in report.moved_aside:
        if moved.startswith(f"{VIDEO_DIR}/"):
            name = moved[len(VIDEO_DIR) + 1:].split(".broken")[0]
            seg = folder / VIDEO_DIR / name
            if seg.is_file():
                sums[name] = file_sha256(seg)
            else:
                sums.pop(name, None)


def _rebuild_privacy(meta: dict, events: list[dict], last_t: int, report: RecoveryReport) -> None:
    """Fill in ``paused`` and ``masked_keys``, which a recorder writes only when it stops,
    from the markers and masked keys in events.jsonl (the source of truth).

    A field the recorder did write (it stopped, but a file did not close) is kept: it
    saw input that a damaged events.jsonl may have lost.
    """
    if "paused" in meta and "masked_keys" in meta:
        return
    fields, still_on = privacy_from_events(events, last_t)
    for name, value in fields.items():
        meta.setdefault(name, value)
    # The kill time is unknown: the last frame or event is the latest moment known to
    # be in the recording, so an open pause ends there (nothing after it was captured).
    if "pause" in still_on:
        report.notes.append(f"the recording was paused when it was cut off: its last pause "
                            f"is closed at the last frame or event ({last_t / 1e9:.3f} s)")
    if "secret" in still_on:
        report.notes.append("secret typing was on when the recording was cut off: keys typed "
                            "after its last secret_on marker are masked (counted in masked_keys)")
    for note in report.notes:
        logger.warning("%s: %s", report.path, note)


def recover_episode(folder: Path) -> RecoveryReport:
    """Make ``folder`` readable again after a crash; returns what was kept and moved aside,
    and in ``remaining`` every problem `check_episode` still finds afterwards.

    Raises:
        deskmimic.core.errors.EpisodeFormatError: meta.json or frames.csv is unreadable
            (nothing to anchor a recovery on), or the episode is still being recorded;
            nothing has been changed then.
    """
    folder = Path(folder)
    meta = read_meta(folder)
    if meta["status"] == "recording" and recorder_alive(meta):
        raise EpisodeFormatError(f"{folder}: is still being recorded (process "
                                 f"{meta['process']['pid']}): stop that recording first")
    read_frame_index(folder / FRAMES)  # refuse before touching anything else
    report = RecoveryReport(folder, already_complete=meta["status"] != "recording")
    # A killed recorder leaves its space reserve: only allocated room, and the room
    # this recovery may need on a full disk.
    (folder / RESERVE_NAME).unlink(missing_ok=True)
    events = _recover_events(folder, meta, report)
    index = _recover_frames(folder, report)
    counters = dict(meta.get("counters") or {})
    # A missing events.jsonl keeps its old counter: `remaining` names the loss, and the
    # counter still says how many events there were.
    n_events = len(events) if (folder / EVENTS).exists() else counters.get("events")
    report.counters_fixed = report.already_complete and (
        counters.get("frames") not in (None, len(index)) or counters.get("events") != n_events)
    if report.changed:
        last_t = int(index[-1, 1]) if len(index) else 0
        if events:
            last_t = max(last_t, int(events[-1]["t"]))
        meta["status"] = "recovered" if meta["status"] == "recording" else meta["status"]
        meta["counters"] = {
            "frames": int(len(index)),
            "dropped_frames": int(counters.get("dropped_frames") or 0),
            "events": n_events,
            "duration_s": round(last_t / 1e9, 3),
            "bytes": folder_bytes(folder),
        }
        _update_checksums(folder, meta, report)
        if meta["status"] == "recovered":
            _rebuild_privacy(meta, events, last_t, report)
        entry = report.to_dict()
        entry.pop("remaining")
        meta.setdefault("recovery", []).append(entry)
        write_json_atomic(folder / META, meta)
    report.remaining = check_episode(folder)
    if not len(index) and f"{FRAMES}: no frames" in report.remaining:
        # Killed before its first frame reached the disk (within 0.25 s of the start): say
        # so in one line instead of leaving the user to work out what "no frames" means.
        report.remaining[report.remaining.index(f"{FRAMES}: no frames")] = (
            f"{FRAMES}: no frames: the episode is empty (the recorder stopped before its "
            "first frame reached the disk); nothing to recover: delete it with "
            "`deskmimic episodes delete`")
    return report
