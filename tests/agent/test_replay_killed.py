"""A replay killed with SIGKILL leaves its own episode `recording` forever unless someone
notices: `episodes list` must tell it from a live recording, and `recover` fix it (and
refuse a recording that is still running)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskmimic.agent.input_state import query_held, release_stuck_input
from deskmimic.recorder.check import check_episode
from tests.conftest import run_cli


def _frames(out: Path) -> int:
    path = out / "frames.csv"
    return path.read_text().count("\n") - 1 if path.exists() else 0


def _wait_frames(proc: subprocess.Popen, out: Path, n: int = 5, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _frames(out) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{out} never held {n} frames"
        time.sleep(0.05)  # polling interval of this deadline loop


def _listed(root: Path) -> dict[str, dict]:
    res = run_cli("episodes", "--dir", str(root), "list", "--json")
    assert res.returncode == 0, res.stderr
    return {r["id"]: r for r in json.loads(res.stdout)}


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen]]:
    procs: list[subprocess.Popen] = []
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate(timeout=30)
        release_stuck_input()  # a killed replay leaves its drag's button down


def test_killed_replay_episode_is_interrupted_and_recovers(tmp_path: Path, spawned):
    script = tmp_path / "drag.jsonl"
    # A slow drag keeps the replay busy (and recording) for seconds.
    script.write_text(json.dumps({"kind": "drag", "x": 20, "y": 20, "x2": 380, "y2": 260}) + "\n")
    root = tmp_path / "episodes"
    replay = subprocess.Popen(
        [sys.executable, "-m", "deskmimic.app.cli", "replay", "--policy", str(script),
         "--region", "400x300+100+100", "--out", str(root / "replayed"), "--move-duration", "0.1",
         "--drag-duration", "6", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    spawned.append(replay)
    _wait_frames(replay, root / "replayed")
    replay.send_signal(signal.SIGKILL)
    replay.wait(30)
    release_stuck_input()
    assert query_held() == ([], [])

    # A live recording beside it still lists as recording, and recover leaves it alone.
    live = subprocess.Popen(
        [sys.executable, "-m", "deskmimic.app.cli", "record", "--out", str(root / "live"),
         "--region", "320x240+0+0", "--no-input", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    spawned.append(live)
    _wait_frames(live, root / "live")

    rows = _listed(root)
    assert rows["replayed"]["status"] == "interrupted", rows
    assert "episodes recover" in rows["replayed"]["error"], rows
    assert rows["live"]["status"] == "recording", rows
    res = run_cli("episodes", "recover", str(root / "live"))
    assert res.returncode != 0 and "still being recorded" in res.stderr, res
    assert "Traceback" not in res.stderr, res.stderr

    res = run_cli("episodes", "recover", str(root / "replayed"))
    assert res.returncode == 0, res
    assert check_episode(root / "replayed") == []
    assert _listed(root)["replayed"]["status"] == "recovered"

    live.send_signal(signal.SIGTERM)
    live.communicate(timeout=30)
    assert live.returncode == 0
    assert _listed(root)["live"]["status"] == "complete"
