"""A full disk under `deskmimic record`: at its start and in the middle of a recording.

The third part of ``bench/faults_bench.py`` (which imports this). Each case mounts a small
tmpfs of its own (the machine's disk is never filled; as tests/recorder/test_disk_full.py
does, which needs root or CAP_SYS_ADMIN), fills it to leave an exact number of bytes free,
and runs ``deskmimic record`` as its own process, as a person would.

A case passes when the recorder stops cleanly and tells the truth:

* at the start (less free space than the recording's reserve): exit code 2, one line
  saying there is not enough free space, and no episode folder left behind;
* mid-recording: a non-zero exit, the JSON summary ``complete`` / ``disk_full``, one
  ``error:`` line past the banner saying the disk is full, an episode that checks clean
  (frames decoded) as it is, and, once space is freed, ``episodes recover`` and
  ``episodes check`` that succeed;

and nothing prints a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

# Bytes free past the reserve. Each 4-s segment opens with a full keyframe (~24 KB of a
# quiet screen; the frames between are tiny), so 32 KB fills the disk at the second
# segment's start (~4 s in) and 64 KB a segment or two later (~9 s); 256 KB outlasts
# --max-duration 30 on a quiet screen, and that case would fail as "exit code 0".
_MID_FREE = (32 << 10, 64 << 10)
_START_FREE = (0, 64 << 10)  # none at all; less than the reserve


class DiskUnavailable(RuntimeError):
    """No small disk can be mounted here: the cases cannot run."""


def _reserve_bytes() -> int:
    from deskmimic.recorder.episode_writer import RESERVE_BYTES

    return RESERVE_BYTES


@contextlib.contextmanager
def small_disk(where: Path) -> Iterator[Path]:
    """A fresh tmpfs of the reserve + 8 MB mounted at ``where``, unmounted afterwards."""
    where.mkdir(parents=True)
    size = _reserve_bytes() + (8 << 20)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700",
                               f"deskmimic-bench-{uuid.uuid4().hex[:8]}", str(where)],
                              capture_output=True, text=True, timeout=30)
    except FileNotFoundError as exc:
        raise DiskUnavailable("no `mount` command") from exc
    if done.returncode != 0:
        raise DiskUnavailable(f"mounting a small tmpfs needs root or CAP_SYS_ADMIN: "
                              f"{done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=30)


def leave_free(mnt: Path, free: int) -> Path:
    """Fill ``mnt`` until ``free`` bytes are left; returns the filler file."""
    st = os.statvfs(mnt)
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
    return filler


def _record(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deskmimic.app.cli", "record", "--out", str(out),
         "--region", "640x480+0+0", "--max-duration", "30", "--json"],
        capture_output=True, text=True, timeout=120)


def _said(stderr: str, skip: int) -> list[str]:
    # Log warnings about the capture itself (a refused cursor image) are not the message.
    return [ln for ln in stderr.strip().splitlines() if not ln.startswith("WARNING")][skip:]


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deskmimic.app.cli", *argv],
                          capture_output=True, text=True, timeout=120)


def _judge_start(mnt: Path, done: subprocess.CompletedProcess) -> str:
    """'' when a recording refused at its start said so in one line and left nothing."""
    said = _said(done.stderr, 0)
    if done.returncode != 2:
        return f"exit code {done.returncode}, not 2"
    if len(said) != 1 or "not enough free space" not in said[0]:
        return f"not one clear line: {done.stderr.strip()[-300:]}"
    left = sorted(p.name for p in mnt.iterdir() if p.name != "filler")
    return f"left behind: {left}" if left else ""


def _judge_mid(out: Path, filler: Path, done: subprocess.CompletedProcess) -> tuple[str, bool]:
    """('' or what is wrong with the stop, whether the episode is readable after)."""
    from deskmimic.recorder.check import check_episode

    try:
        summary = json.loads(done.stdout)
    except ValueError:
        summary = {}
    said = _said(done.stderr, 2)  # past the two-line "● REC" banner
    if done.returncode == 0:
        wrong = "exit code 0"
    elif (summary.get("status"), summary.get("stop_reason")) != ("complete", "disk_full"):
        wrong = f"summary {summary.get('status')}/{summary.get('stop_reason')}"
    elif len(said) != 1 or not said[0].startswith("deskmimic record: error:") \
            or "the disk is full" not in said[0]:
        wrong = f"not one clear line: {done.stderr.strip()[-300:]}"
    else:
        wrong = ""
    readable = out.is_dir() and check_episode(out, decode=True) == []
    filler.unlink()
    rec = _cli("episodes", "recover", str(out))
    readable = readable and rec.returncode == 0 and "Traceback" not in rec.stderr
    return wrong, readable and _cli("episodes", "check", str(out)).returncode == 0


def run_case(where: Path, when: str, free: int) -> dict:
    """One recording onto a disk with ``free`` bytes left (``when``: 'start' or 'mid')."""
    free_total = free + (_reserve_bytes() if when == "mid" else 0)
    case = {"case": f"{when}/{free >> 10}KB", "traceback": False, "wrong": "", "readable": None}
    with small_disk(where) as mnt:
        filler = leave_free(mnt, free_total)
        out = mnt / "ep"
        t0 = time.monotonic()
        done = _record(out)
        case["record_s"] = round(time.monotonic() - t0, 1)
        case["traceback"] = "Traceback" in done.stderr
        if when == "start":
            case["wrong"] = _judge_start(mnt, done)
        else:
            case["wrong"], case["readable"] = _judge_mid(out, filler, done)
    return case


def run_disk_full(work: Path, quick: bool = False) -> dict:
    """Every case (``quick``: one at the start, one mid-recording) as the bench's JSON part."""
    t0 = time.monotonic()
    plan = ([("start", _START_FREE[0]), ("mid", _MID_FREE[0])] if quick
            else [("start", f) for f in _START_FREE] + [("mid", f) for f in _MID_FREE])
    try:
        cases = [run_case(work / f"disk-{i}", when, free) for i, (when, free) in enumerate(plan)]
    except DiskUnavailable as exc:
        return {"skipped": str(exc)}
    mid = [c for c in cases if c["readable"] is not None]
    return {
        "cases": len(cases),
        "clean_stops": sum(not c["wrong"] and not c["traceback"] for c in cases),
        "episodes_expected": len(mid),
        "readable_episodes_after": sum(c["readable"] for c in mid),
        "tracebacks": sum(c["traceback"] for c in cases),
        "failing": [c for c in cases if c["wrong"] or c["traceback"] or c["readable"] is False],
        "seconds": round(time.monotonic() - t0, 1),
    }
