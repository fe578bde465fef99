"""A full disk, at start or mid-recording, stops `deskmimic record` with one clear line
and leaves a readable episode (or, at start, nothing); recover works once space is freed.

The disk is a small tmpfs mounted for the test (the machine's own disk is never filled),
topped up with a filler file to leave an exact amount of free space.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.episode_writer import RESERVE_BYTES, RESERVE_NAME
from tests.conftest import run_cli

DISK_BYTES = RESERVE_BYTES + (8 << 20)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700",
                               f"deskmimic-test-{uuid.uuid4().hex[:8]}", str(mnt)],
                              capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("no `mount` command: cannot make a small disk to fill")
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs is not permitted here (needs root or "
                    f"CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True, timeout=30)


def _leave_free(mnt: Path, free: int) -> Path:
    """Fill ``mnt`` until ``free`` bytes are left; returns the filler file."""
    st = os.statvfs(mnt)
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * (st.f_bavail * st.f_frsize - free))
    return filler


def _record(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deskmimic.app.cli", "record", "--out", str(out),
         "--region", "640x480+0+0", "--max-duration", "30", "--json", *extra],
        capture_output=True, text=True, timeout=120)


def test_disk_full_mid_recording_stops_cleanly_with_a_readable_episode(small_disk: Path):
    # Room for the reserve and the first keyframe (~24 KB) and some frames after it: the
    # disk fills a second or two into the recording, never at its start.
    filler = _leave_free(small_disk, RESERVE_BYTES + (64 << 10))
    out = small_disk / "ep"
    done = _record(out)
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr
    # Past the "● REC" banner (two lines), one line says why it stopped (log warnings
    # about the capture itself, such as a refused cursor image, aside).
    said = [ln for ln in done.stderr.strip().splitlines() if not ln.startswith("WARNING")][2:]
    assert len(said) == 1 and "the disk is full" in said[0], done.stderr
    assert said[0].startswith("deskmimic record: error:"), done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "complete" and summary["stop_reason"] == "disk_full", summary
    assert summary["frames"] > 1, summary
    assert check_episode(out, decode=True) == []
    assert not (out / RESERVE_NAME).exists()
    with Episode.open(out) as ep:
        assert ep.frame_count == summary["frames"]
        assert ep.frame(ep.frame_count - 1).shape == (480, 640, 3)
        assert ep.read_events()[-1]["name"] == "disk_full"

    filler.unlink()
    rc = run_cli("episodes", "recover", str(out))
    assert rc.returncode == 0 and "Traceback" not in rc.stderr, rc
    assert run_cli("episodes", "check", str(out)).returncode == 0


@pytest.mark.parametrize("free", [0, 64 << 10], ids=["no-space", "less-than-the-reserve"])
def test_disk_full_at_start_is_one_line_and_leaves_no_folder(small_disk: Path, free: int):
    _leave_free(small_disk, free)
    out = small_disk / "ep"
    done = _record(out)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not enough free space" in lines[0], done.stderr
    assert str(small_disk) in lines[0], lines
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
