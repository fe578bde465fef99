"""Names and constants of episode format version 1 (see docs/episode-format.md)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from deskmimic.core.errors import EpisodeFormatError

FORMAT_VERSION = 1
META = "meta.json"
EVENTS = "events.jsonl"
FRAMES = "frames.csv"
VIDEO_DIR = "video"
FRAMES_HEADER = "index,t_ns,segment,pts"
STATUSES = ("recording", "complete", "recovered")
EVENT_TYPES = ("move", "button_down", "button_up", "scroll", "key_down", "key_up", "marker")


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temp file in the same folder, fsync, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_meta(folder: Path) -> dict:
    """Read and minimally validate meta.json; errors name the file and the field."""
    path = folder / META
    if not folder.is_dir():
        raise EpisodeFormatError(f"{folder}: no such episode folder")
    if not path.is_file():
        raise EpisodeFormatError(f"{path}: missing (is {folder} an episode folder?)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EpisodeFormatError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise EpisodeFormatError(f"{path}: expected a JSON object")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise EpisodeFormatError(f"{path}: field 'format_version' is missing or not an integer")
    if version > FORMAT_VERSION:
        raise EpisodeFormatError(
            f"{path}: format_version {version} is newer than this deskmimic understands "
            f"({FORMAT_VERSION}); upgrade deskmimic to read it"
        )
    if version < 1:
        raise EpisodeFormatError(f"{path}: format_version {version} is invalid")
    for field in ("id", "status", "geometry", "fps"):
        if field not in meta:
            raise EpisodeFormatError(f"{path}: required field '{field}' is missing")
    if meta["status"] not in STATUSES:
        raise EpisodeFormatError(f"{path}: field 'status' is {meta['status']!r}, expected one of {STATUSES}")
    try:
        region = meta["geometry"]["region"]
        for k in ("left", "top", "width", "height"):
            int(region[k])
    except (KeyError, TypeError, ValueError) as exc:
        raise EpisodeFormatError(f"{path}: field 'geometry.region' is incomplete ({exc!r})") from exc
    return meta
