"""Qt-free edits of episode folders used by the GUI: label, outcome, delete, trim.

Rules (see docs/gui.md):
- meta.json is only ever rewritten atomically (``write_json_atomic``), and only for
  finished episodes: a folder whose status is ``recording`` belongs to a running
  (or crashed) recorder, which would overwrite the edit.
- Events and frames of an existing episode are never modified. Trimming writes a
  NEW episode folder next to the source and leaves the source untouched; removing
  the original is a separate, confirmed delete.
"""

from __future__ import annotations

import copy
import logging
import re
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from deskmimic.core.errors import EpisodeError, EpisodeFormatError
from deskmimic.core.paths import new_episode_id
from deskmimic.recorder.episode_format import (
    META,
    VIDEO_DIR,
    VIDEO_SHA256,
    read_meta,
    write_json_atomic,
)
from deskmimic.recorder.video import file_sha256

logger = logging.getLogger(__name__)


def _editable_meta(folder: Path) -> dict:
    meta = read_meta(Path(folder))
    if meta["status"] == "recording":
        raise EpisodeError(
            f"{folder}: status is 'recording' (still being recorded, or cut off by a crash); "
            "finish the recording or run `deskmimic episodes recover` before editing it"
        )
    return meta


def set_task_label(folder: Path, label: str) -> dict:
    """Set meta.json ``task`` (surrounding spaces removed); returns the new meta."""
    meta = _editable_meta(folder)
    meta["task"] = label.strip()
    write_json_atomic(Path(folder) / META, meta)
    return meta


def set_instruction(folder: Path, instruction: str) -> dict:
    """Set meta.json ``instruction`` (what the person was asked to do)."""
    meta = _editable_meta(folder)
    meta["instruction"] = instruction.strip()
    write_json_atomic(Path(folder) / META, meta)
    return meta


def set_success(folder: Path, success: bool | None) -> dict:
    """Mark the episode a success (True), a failure (False) or unknown (None, removes it).

    Stored as ``extra.success``, where practice tasks put the outcome they report.
    """
    if success not in (True, False, None):
        raise EpisodeError(f"success must be True, False or None, not {success!r}")
    meta = _editable_meta(folder)
    extra = dict(meta.get("extra") or {})
    if success is None:
        extra.pop("success", None)
    else:
        extra["success"] = success
    meta["extra"] = extra
    write_json_atomic(Path(folder) / META, meta)
    return meta


# What deskmimic itself writes into an episode folder (recorder, recovery, upgrade,
# atomic rewrites): a delete removes these and nothing else a user may have put there.
_OWN_FILES = re.compile(
    r"(meta\.json|events\.jsonl|frames\.csv)(\.v\d+\.bak(\.\d+)?|\.broken(\.\d+)?|\.tmp)?"
    r"|\.(meta\.json|events\.jsonl|frames\.csv)\..*\.tmp|\.space-reserve")
_OWN_SEGMENTS = re.compile(r"\.?\d{6}\.mkv(\.broken(\.\d+)?|\.recover\.tmp)?")


def _own_files(folder: Path) -> list[Path]:
    from deskmimic.recorder.episode_format import VIDEO_DIR

    own = [p for p in folder.iterdir() if p.is_file() and _OWN_FILES.fullmatch(p.name)]
    video = folder / VIDEO_DIR
    if video.is_dir() and not video.is_symlink():
        own += [p for p in video.iterdir() if p.is_file() and _OWN_SEGMENTS.fullmatch(p.name)]
    return own


def check_deletable(folder: Path, force: bool = False) -> None:
    """Raise EpisodeFormatError when `delete_episode` would refuse ``folder``."""
    if folder.is_symlink() or not (folder / META).is_file():
        raise EpisodeFormatError(f"{folder}: has no {META}; refusing to delete a folder that is not an episode")
    if not force:
        try:
            read_meta(folder)
        except EpisodeFormatError as exc:
            raise EpisodeFormatError(f"{exc}; refusing to delete a damaged episode: add --force to "
                                     "delete deskmimic's own files in it anyway") from exc


def delete_episode(folder: Path, force: bool = False) -> list[Path]:
    """Delete an episode folder: deskmimic's own files in it, then the folder if that left
    it empty. Returns what was kept (files deskmimic did not write).

    Refuses a folder without meta.json (not an episode) and, unless ``force``, one whose
    meta.json does not read (`read_meta`): the folder might not be an episode at all.
    The caller asks the user first; this function does not.
    """
    folder = Path(folder)
    check_deletable(folder, force)
    try:
        for p in _own_files(folder):
            p.unlink()
        for d in (folder / "video", folder):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
    except OSError as exc:
        raise EpisodeError(f"{folder}: cannot delete ({exc.strerror}: {exc.filename})") from exc
    logger.info("deleted episode %s", folder)
    return sorted(p for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


def trim_range(frame_times: np.ndarray, start_ns: int, end_ns: int) -> tuple[int, int]:
    """First and last frame index inside [start_ns, end_ns]; raises if none is."""
    if end_ns <= start_ns:
        raise EpisodeError(f"trim: the end ({end_ns / 1e9:.3f} s) must come after the start "
                           f"({start_ns / 1e9:.3f} s)")
    inside = np.flatnonzero((frame_times >= start_ns) & (frame_times <= end_ns))
    if inside.size == 0:
        raise EpisodeError(f"trim: no frame lies between {start_ns / 1e9:.3f} s and {end_ns / 1e9:.3f} s")
    return int(inside[0]), int(inside[-1])


def trim_episode(
    src: Path,
    start_ns: int,
    end_ns: int,
    dest: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Write a new episode holding ``src`` between ``start_ns`` and ``end_ns`` (episode clock).

    The copy's clock starts at ``start_ns`` (every time is shifted by it, and
    ``meta.clock`` moves its origin by the same amount, so absolute times stay
    right); frames are decoded and re-encoded losslessly; the events in the range
    are copied unchanged except for the shifted ``t``, after a ``start`` marker.
    ``meta.extra.trimmed_from`` names the source and the range. The source is not
    touched. A key or button held across a cut shows up as a lone release or press:
    the steps reducer turns such input into a ``raw`` step rather than dropping it.

    Args:
        src: finished episode folder.
        start_ns, end_ns: the range to keep, nanoseconds on the source's clock.
        dest: folder to create (default: a new id next to ``src``); never overwritten.
        progress: called with (frames written, frames to write).
        cancel: set it to stop; the partial copy is removed and EpisodeError raised.

    Returns:
        The new episode folder.
    """
    from deskmimic.recorder.episode import Episode
    from deskmimic.recorder.episode_writer import create_episode_folder

    src = Path(src)
    meta = _editable_meta(src)
    start_ns = max(int(start_ns), 0)
    end_ns = int(end_ns)
    with Episode.open(src) as ep:
        i0, i1 = trim_range(ep.frame_times, start_ns, end_ns)
        new_id = dest.name if dest is not None else new_episode_id()
        dest = dest if dest is not None else src.parent / new_id
        create_episode_folder(dest)  # refuses an existing folder
        try:
            frames = _copy_frames(ep, dest, (i0, i1), start_ns, meta, progress, cancel)
            kept = _copy_events(ep.read_events(), dest, start_ns, end_ns)
            last_t = max(int(ep.frame_times[i1]) - start_ns, kept[-1]["t"])
            duration_ns = min(end_ns - start_ns, max(last_t, 0))
            source = {"id": str(meta.get("id", src.name)), "start_ns": start_ns,
                      "end_ns": end_ns, "frames": [i0, i1]}
            _write_trimmed_meta(dest, meta, new_id, source, (frames, len(kept)), duration_ns)
        except BaseException:
            # Only the folder this call created is removed; the source is never touched.
            shutil.rmtree(dest, ignore_errors=True)
            raise
    logger.info("trimmed %s [%d..%d] into %s", src, i0, i1, dest)
    return dest


def _copy_frames(ep, dest: Path, frames: tuple[int, int], start_ns: int, meta: dict,
                 progress: Callable[[int, int], None] | None,
                 cancel: threading.Event | None) -> int:
    """Re-encode frames ``frames[0]..frames[1]`` of ``ep`` into ``dest``, times shifted."""
    from deskmimic.recorder.episode_writer import FrameWriter

    i0, i1 = frames
    w, h = ep.size
    writer = FrameWriter(dest, w, h, ep.fps, float(meta.get("segment_seconds") or 1.0))
    try:
        bgra = np.full((h, w, 4), 255, np.uint8)
        total = i1 - i0 + 1
        for n, i in enumerate(range(i0, i1 + 1)):
            if cancel is not None and cancel.is_set():
                raise EpisodeError("trim cancelled; the partial copy was removed")
            rgb = ep.frame(i)
            bgra[..., 0], bgra[..., 1], bgra[..., 2] = rgb[..., 2], rgb[..., 1], rgb[..., 0]
            writer.write(int(ep.frame_times[i]) - start_ns, bgra)
            if progress is not None:
                progress(n + 1, total)
    finally:
        writer.close()
    return writer.count


def _copy_events(events: list[dict], dest: Path, start_ns: int, end_ns: int) -> list[dict]:
    """The events in the range, ``t`` shifted, after a ``start`` marker; written to ``dest``."""
    from deskmimic.recorder.episode_writer import EventLog

    kept = [dict(e, t=int(e["t"]) - start_ns) for e in events if start_ns <= int(e["t"]) <= end_ns]
    if not (kept and kept[0]["type"] == "marker" and kept[0].get("name") == "start"):
        kept.insert(0, {"t": 0, "type": "marker", "name": "start"})
    log = EventLog(dest)
    try:
        log.write(kept)
    finally:
        log.close()
    return kept


def _write_trimmed_meta(dest: Path, meta: dict, new_id: str, source: dict,
                        counts: tuple[int, int], duration_ns: int) -> None:
    """The copy's meta.json: the source's, with the clock origin moved by the cut.

    ``source``: id, start_ns, end_ns and frames of the cut (``extra.trimmed_from``).
    """
    from deskmimic.recorder.record import folder_bytes

    start_ns = source["start_ns"]
    new = copy.deepcopy(meta)
    clock = dict(new.get("clock") or {})
    for k in ("origin_monotonic_ns", "origin_unix_ns"):
        if isinstance(clock.get(k), int):
            clock[k] += start_ns
    src_counters = meta.get("counters") or {}
    new.update(
        id=new_id, status="complete", created=datetime.now(UTC).isoformat(timespec="milliseconds"),
        clock=clock, stop_reason="trim",
    )
    extra = dict(new.get("extra") or {})
    extra["trimmed_from"] = {**source,
                             "source_dropped_frames": int(src_counters.get("dropped_frames") or 0)}
    new["extra"] = extra
    if isinstance(meta.get("paused"), list):  # the pauses inside the cut, on the copy's clock
        new["paused"] = _cut_spans(meta["paused"], start_ns, source["end_ns"])
    new["counters"] = {"frames": counts[0], "dropped_frames": 0, "events": counts[1],
                       "duration_s": round(duration_ns / 1e9, 3), "bytes": 0}
    # The source's checksums describe its segments, not these re-encoded ones.
    new[VIDEO_SHA256] = {p.name: file_sha256(p) for p in sorted((dest / VIDEO_DIR).glob("*.mkv"))}
    write_json_atomic(dest / META, new)
    new["counters"]["bytes"] = folder_bytes(dest)
    write_json_atomic(dest / META, new)


def _cut_spans(spans: list, start_ns: int, end_ns: int) -> list[dict]:
    out = []
    for span in spans:
        if not isinstance(span, dict):
            continue
        s, e = span.get("start_ns"), span.get("end_ns")
        if not isinstance(s, int) or not isinstance(e, int) or e <= start_ns or s >= end_ns:
            continue
        out.append({"start_ns": max(s, start_ns) - start_ns, "end_ns": min(e, end_ns) - start_ns})
    return out
