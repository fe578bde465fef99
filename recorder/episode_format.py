"""Names and constants of the episode format, reading meta.json at any version this
deskmimic reads, and upgrading an episode on disk (see docs/episode-format.md and
docs/formats.md for the version policy)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.core.formats import EPISODE, FIELD, check_version

logger = logging.getLogger(__name__)

FORMAT_VERSION = EPISODE.current  # what the recorder writes
META = "meta.json"
EVENTS = "events.jsonl"
FRAMES = "frames.csv"
VIDEO_DIR = "video"
FRAMES_HEADER = "index,t_ns,segment,pts"
VIDEO_SHA256 = "video_sha256"  # meta field: segment file name -> hex SHA-256 (optional)
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


# One step per version bump: UPGRADES[v] turns a version-v meta dict into version v + 1
# (events.jsonl and frames.csv are never rewritten: events are the source of truth; a
# change to them is read in memory by the reader). Readers apply the steps from
# EPISODE.oldest; `upgrade_episode` from the oldest step kept here, so raising
# EPISODE.oldest keeps old recordings convertible on disk. Empty while 1 is current.
UPGRADES: dict[int, Callable[[dict], dict]] = {}
# Fields of the current version readers default when absent (recordings of early 0.1.0
# builds may lack them); `upgrade_episode` writes them so every tool sees one shape.
DEFAULTS: dict[str, Callable[[], object]] = {"task": str, "instruction": str, "extra": dict}


def _oldest_upgradable() -> int:
    """The oldest version `upgrade_episode` converts: the first of an unbroken step chain."""
    v = EPISODE.current
    while v - 1 in UPGRADES:
        v -= 1
    return min(v, EPISODE.oldest)


def upgrade_meta(meta: dict) -> dict:
    """``meta`` (a version this deskmimic reads, checked) at the current version, in memory."""
    version = meta[FIELD]
    while version < EPISODE.current:
        meta = UPGRADES[version](dict(meta))
        version += 1
        meta[FIELD] = version
    return meta


def _load_meta_json(folder: Path) -> tuple[Path, dict]:
    path = folder / META
    try:
        if not folder.is_dir():
            raise EpisodeFormatError(f"{folder}: no such episode folder")
        if not path.is_file():
            raise EpisodeFormatError(f"{path}: missing (is {folder} an episode folder?)")
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EpisodeFormatError(f"{path}: not valid JSON ({exc})") from exc
    except OSError as exc:
        raise EpisodeFormatError(unreadable(path, exc)) from exc
    if not isinstance(meta, dict):
        raise EpisodeFormatError(f"{path}: expected a JSON object")
    return path, meta


def unreadable(path: Path, exc: OSError) -> str:
    """The one-line message for a file or folder the OS will not let us read."""
    return f"{path}: cannot be read ({exc.strerror or exc})"


# Optional fields and the JSON types readers take them as: a wrong type must fail here,
# naming the field, not as an AttributeError deep inside whichever command reads it.
_OPTIONAL_TYPES: dict[str, tuple[type, ...]] = {
    "task": (str,), "instruction": (str,), "extra": (dict,), "counters": (dict,),
    "created": (str,), "recovery": (list,), VIDEO_SHA256: (dict,),
    "paused": (list,), "masked_keys": (int,),
}


def _validate(meta: dict, path: Path) -> None:
    """The fields every reader relies on, at the current version, with their types."""
    for name in ("id", "status", "geometry", "fps"):
        if name not in meta:
            raise EpisodeFormatError(f"{path}: required field '{name}' is missing")
    ident = meta["id"]
    # Ids name cache files and folders: one that is a path could write outside them.
    if (not isinstance(ident, str) or ident in ("", ".", "..")
            or any(c in ident for c in "/\\\0") or len(ident) > 200):
        raise EpisodeFormatError(f"{path}: field 'id' is {ident!r}, expected a plain name "
                                 "(no '/', not '..')")
    fps = meta["fps"]
    # bool is an int subclass; NaN and inf fail the range test
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps < 10_000:
        raise EpisodeFormatError(f"{path}: field 'fps' is {fps!r}, expected a positive number")
    for name, types in _OPTIONAL_TYPES.items():
        if meta.get(name) is not None and not isinstance(meta[name], types):
            raise EpisodeFormatError(f"{path}: field '{name}' is {type(meta[name]).__name__}, "
                                     f"expected {types[0].__name__}")
    for name, value in (meta.get("counters") or {}).items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise EpisodeFormatError(f"{path}: field 'counters.{name}' is {value!r}, expected a number")
    if meta["status"] not in STATUSES:
        raise EpisodeFormatError(
            f"{path}: field 'status' is {meta['status']!r}, expected one of {STATUSES}"
        )
    try:
        region = meta["geometry"]["region"]
        for k in ("left", "top", "width", "height"):
            v = region[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
                raise ValueError(f"{k} is {v!r}, expected an integer")
        if region["width"] < 2 or region["height"] < 2:
            raise ValueError("width and height must be at least 2")
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise EpisodeFormatError(
            f"{path}: field 'geometry.region' is incomplete or invalid ({exc!r})"
        ) from exc


def read_meta(folder: Path) -> dict:
    """Read meta.json, upgraded in memory to the current version, and minimally validate it;
    errors name the file and the field. The file itself is never rewritten here."""
    path, meta = _load_meta_json(folder)
    check_version(EPISODE, meta, path)
    meta = upgrade_meta(meta)
    _validate(meta, path)
    return meta


@dataclass
class UpgradeReport:
    """What `upgrade_episode` did to one episode (or would do, with ``dry_run``)."""

    path: Path
    from_version: int
    to_version: int
    added: list[str] = field(default_factory=list)
    changed: bool = False
    backup: Path | None = None

    def to_dict(self) -> dict:
        return {"path": str(self.path), "from_version": self.from_version,
                "to_version": self.to_version, "added": self.added, "changed": self.changed,
                "backup": str(self.backup) if self.backup else None}


def _backup_path(path: Path, version: int) -> Path:
    """A free ``meta.json.v<version>.bak`` (or ``.bak.N``) beside ``path``."""
    cand = path.with_name(f"{path.name}.v{version}.bak")
    n = 1
    while cand.exists():
        cand = path.with_name(f"{path.name}.v{version}.bak.{n}")
        n += 1
    return cand


def _copy_synced(src: Path, dst: Path) -> None:
    """Copy ``src`` to a new private file ``dst`` and fsync it: the backup is on disk
    before the original is replaced."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(src.read_bytes())
        f.flush()
        os.fsync(f.fileno())


def upgrade_episode(folder: Path, dry_run: bool = False) -> UpgradeReport:
    """Rewrite ``folder``'s meta.json at the current format version, atomically.

    Applies the version steps (`UPGRADES`) and writes the current version's defaulted
    fields (`DEFAULTS`). The original is kept beside it as ``meta.json.v<N>.bak``; a meta
    already current and complete is not touched (its mtime, which keys dataset caches,
    stays). Every check happens before anything is written: a refused episode is left
    exactly as it was.

    Raises:
        EpisodeFormatError: no meta.json, invalid JSON, missing required fields (they
            cannot be invented), or a version newer than this deskmimic, or older than any
            conversion it keeps (`EpisodeVersionError`).
    """
    folder = Path(folder)
    path, meta = _load_meta_json(folder)
    version = check_version(
        EPISODE, meta, path, oldest=_oldest_upgradable(),
        too_old="no conversion from it is left in this deskmimic: upgrade it with an "
                "earlier release first",
    )
    new = upgrade_meta(dict(meta))  # a copy: ``meta`` stays what is on disk
    added = [name for name in DEFAULTS if name not in new]
    for name in added:
        new[name] = DEFAULTS[name]()
    _validate(new, path)
    report = UpgradeReport(folder, version, EPISODE.current, added, changed=new != meta)
    if report.changed and not dry_run:
        report.backup = _backup_path(path, version)
        _copy_synced(path, report.backup)
        write_json_atomic(path, new)
        logger.info("upgraded %s from format %d to %d", path, version, EPISODE.current)
    return report
