"""Validating an episode folder: every problem found is named, none is fixed here."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import av
import numpy as np

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.recorder.episode import event_problem, read_frame_index, read_text
from deskmimic.recorder.episode_format import EVENTS, FRAMES, VIDEO_DIR, VIDEO_SHA256, read_meta
from deskmimic.recorder.video import file_sha256, list_segments, segment_path

logger = logging.getLogger(__name__)

_MAX_LINE_PROBLEMS = 10

def count_packets(path: Path) -> tuple[int, tuple[int, int] | None, str | None]:
    """(video packets readable, (width, height), error) without decoding: cheap."""
    try:
        with av.open(str(path), mode="r") as c:
            s = c.streams.video[0]
            size = (s.codec_context.width, s.codec_context.height)
            n = 0
            try:
                for packet in c.demux(s):
                    if packet.size:
                        n += 1
            except (av.error.FFmpegError, EOFError) as exc:
                return n, size, f"stops after {n} packets ({exc})"
            return n, size, None
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        return 0, None, f"cannot be opened ({exc})"


def _event_line_problem(line: str) -> str | None:
    try:
        return event_problem(json.loads(line))
    except ValueError as exc:
        return f"not JSON ({exc})"


def check_events(path: Path) -> tuple[list[str], list[dict]]:
    """Every problem of events.jsonl, line by line, and the events that are valid."""
    try:
        data = read_text(path)
    except EpisodeFormatError as exc:
        return [str(exc).replace(str(path), path.name, 1)], []
    problems: list[str] = []
    if data and not data.endswith("\n"):
        problems.append(f"{path.name}: the last line is unfinished (a crash mid-write): run `episodes recover`")
    events: list[dict] = []
    last_t = None
    for n, line in enumerate(data.split("\n")[:-1], start=1):
        if not line.strip():
            continue
        problem = _event_line_problem(line)
        if problem:
            problems.append(f"{path.name}: line {n}: {problem}")
            continue
        ev = json.loads(line)
        if last_t is not None and ev["t"] < last_t:
            problems.append(f"{path.name}: line {n}: t goes backwards ({ev['t']} < {last_t})")
        else:
            last_t = ev["t"]
        events.append(ev)
    if len(problems) > _MAX_LINE_PROBLEMS:  # a garbled file: the first few say enough
        problems[_MAX_LINE_PROBLEMS:] = [f"{path.name}: ... and {len(problems) - _MAX_LINE_PROBLEMS} more"]
    return problems, events


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:  # unreadable: count_packets names it
        return None


def check_episode(folder: Path, decode: bool = False) -> list[str]:
    """Return every problem with the episode at ``folder`` (empty list = valid)."""
    folder = Path(folder)
    try:
        meta = read_meta(folder)
    except EpisodeFormatError as exc:
        return [str(exc)]
    problems: list[str] = []
    if meta["status"] == "recording":
        problems.append("meta.json: status is 'recording': the recorder did not finish "
                        "(crash or kill): run `deskmimic episodes recover`")
    region = meta["geometry"]["region"]
    want_size = (int(region["width"]), int(region["height"]))

    try:
        index = read_frame_index(folder / FRAMES)
    except EpisodeFormatError as exc:
        problems.append(str(exc))
        index = None
    index_ok = index is not None
    if index is None:
        index = np.zeros((0, 4), np.int64)  # named above: no follow-on problems from it
    n = index.shape[0]
    if not index_ok:
        pass
    elif n == 0:
        problems.append(f"{FRAMES}: no frames")
    else:
        if not np.array_equal(index[:, 0], np.arange(n)):
            problems.append(f"{FRAMES}: frame indices are not 0..{n - 1} without gaps")
        if np.any(np.diff(index[:, 1]) < 0):
            problems.append(f"{FRAMES}: capture times go backwards")
    counters = meta.get("counters", {})
    if index_ok and meta["status"] != "recording" and counters.get("frames") not in (None, n):
        problems.append(f"meta.json: counters.frames is {counters.get('frames')} but {FRAMES} lists {n}")

    video_dir = folder / VIDEO_DIR
    referenced = sorted({int(s) for s in index[:, 2]}) if n else []
    try:
        on_disk = set(list_segments(video_dir))
    except EpisodeFormatError as exc:
        return [*problems, str(exc)]
    for seg in referenced:
        rows = index[index[:, 2] == seg]
        path = segment_path(video_dir, seg)
        rel = f"{VIDEO_DIR}/{path.name}"
        if seg not in on_disk:
            problems.append(f"{rel}: missing ({len(rows)} frames refer to it)")
            continue
        if not np.array_equal(rows[:, 3], np.arange(len(rows))):
            problems.append(f"{FRAMES}: frames of segment {seg} do not count 0..{len(rows) - 1}")
        want_sha = (meta.get(VIDEO_SHA256) or {}).get(path.name)
        got_sha = _sha256_or_none(path) if want_sha is not None else None
        if got_sha is not None and got_sha != want_sha:
            problems.append(f"{rel}: its bytes changed since it was recorded (checksum in "
                            f"meta.json {VIDEO_SHA256} differs): frames may decode to wrong pixels")
        packets, size, err = count_packets(path)
        if err:
            problems.append(f"{rel}: {err}")
        if size is not None and size != want_size:
            problems.append(f"{rel}: frames are {size[0]}x{size[1]}, meta.json geometry.region says "
                            f"{want_size[0]}x{want_size[1]}")
        if packets < len(rows):
            problems.append(f"{rel}: holds {packets} frames, {FRAMES} lists {len(rows)}")
        if decode and not err:
            from deskmimic.recorder.video import SegmentDecoder

            dec = SegmentDecoder(path, float(meta["fps"]))
            try:
                got = dec.count_decodable()
            finally:
                dec.close()
            if got < len(rows):
                problems.append(f"{rel}: only {got} of {len(rows)} frames decode")

    ev_problems, events = check_events(folder / EVENTS)
    problems.extend(ev_problems)
    if meta["status"] != "recording" and counters.get("events") not in (None, len(events)) and not ev_problems:
        problems.append(f"meta.json: counters.events is {counters.get('events')} but {EVENTS} has {len(events)}")
    return problems
