"""Validating an episode folder: every problem found is named, none is fixed here."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.recorder.episode import iter_event_lines, read_frame_index
from deskmimic.recorder.episode_format import EVENT_TYPES, EVENTS, FRAMES, VIDEO_DIR, read_meta
from deskmimic.recorder.video import list_segments, segment_path

logger = logging.getLogger(__name__)

_REQUIRED = {
    "move": ("x", "y"), "button_down": ("x", "y", "button"), "button_up": ("x", "y", "button"),
    "scroll": ("x", "y", "dx", "dy"), "key_down": ("key",), "key_up": ("key",), "marker": ("name",),
}


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


def check_events(path: Path) -> tuple[list[str], list[dict]]:
    problems: list[str] = []
    events: list[dict] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            data = f.read()
    except FileNotFoundError:
        return [f"{path.name}: missing"], []
    if data and not data.endswith("\n"):
        problems.append(f"{path.name}: the last line is unfinished (a crash mid-write): run `episodes recover`")
    last_t = None
    try:
        for n, ev in iter_event_lines(path, strict=True):
            if ev["type"] not in EVENT_TYPES:
                problems.append(f"{path.name}: line {n}: unknown type {ev['type']!r}")
            missing = [k for k in _REQUIRED.get(ev["type"], ()) if k not in ev]
            if missing:
                problems.append(f"{path.name}: line {n}: {ev['type']} without {', '.join(missing)}")
            if not isinstance(ev["t"], int):
                problems.append(f"{path.name}: line {n}: t is not an integer")
            elif last_t is not None and ev["t"] < last_t:
                problems.append(f"{path.name}: line {n}: t goes backwards ({ev['t']} < {last_t})")
            else:
                last_t = ev["t"]
            events.append(ev)
    except EpisodeFormatError as exc:
        problems.append(str(exc))
    return problems, events


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
        index = np.zeros((0, 4), np.int64)
    n = index.shape[0]
    if n == 0:
        problems.append(f"{FRAMES}: no frames")
    else:
        if not np.array_equal(index[:, 0], np.arange(n)):
            problems.append(f"{FRAMES}: frame indices are not 0..{n - 1} without gaps")
        if np.any(np.diff(index[:, 1]) < 0):
            problems.append(f"{FRAMES}: capture times go backwards")
    counters = meta.get("counters", {})
    if meta["status"] != "recording" and counters.get("frames") not in (None, n):
        problems.append(f"meta.json: counters.frames is {counters.get('frames')} but {FRAMES} lists {n}")

    video_dir = folder / VIDEO_DIR
    referenced = sorted({int(s) for s in index[:, 2]}) if n else []
    on_disk = set(list_segments(video_dir))
    for seg in referenced:
        rows = index[index[:, 2] == seg]
        path = segment_path(video_dir, seg)
        rel = f"{VIDEO_DIR}/{path.name}"
        if seg not in on_disk:
            problems.append(f"{rel}: missing ({len(rows)} frames refer to it)")
            continue
        if not np.array_equal(rows[:, 3], np.arange(len(rows))):
            problems.append(f"{FRAMES}: frames of segment {seg} do not count 0..{len(rows) - 1}")
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
