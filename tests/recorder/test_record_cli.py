"""`deskmimic record` as a process: stop hotkey, SIGTERM, SIGKILL + recover."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from tests.conftest import run_cli


def _start_record(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deskmimic.app.cli", "record", "--out", str(out),
         "--region", "640x480+0+0", "--json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for(done, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting until {what}")


def _lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def _recorded_chars(out: Path) -> str:
    path = out / "events.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    events = [json.loads(line) for line in lines if line.endswith("}")]
    return "".join(e.get("char") or "" for e in events if e["type"] == "key_up")


def _wait_recording(out: Path, frames: int = 3, timeout: float = 30) -> None:
    _wait_for(lambda: _lines(out / "frames.csv") > frames, f"{out} holds {frames} frames", timeout)


def _wait_listening(out: Path, timeout: float = 30) -> None:
    """Until the input listener records: capture starts ~0.2 s before it (the crash
    guarantee), so frames on disk do not mean input is recorded yet."""
    nudge = [0]

    def moved() -> bool:
        path = out / "events.jsonl"
        if path.exists() and '"type":"move"' in path.read_text():
            return True
        nudge[0] = 1 - nudge[0]
        subprocess.run(["xdotool", "mousemove", str(600 + nudge[0]), "400"], check=True)
        return False

    _wait_for(moved, "the recorder records input", timeout)


def test_stop_hotkey_ends_recording_and_is_a_marker_not_keys(tmp_path: Path):
    out = tmp_path / "ep"
    proc = _start_record(out)
    _wait_recording(out)
    _wait_listening(out)
    subprocess.run(["xdotool", "mousemove", "30", "40", "type", "ok"], check=True)
    # The hotkey must come after the typed keys reach the episode, not race them.
    _wait_for(lambda: _recorded_chars(out).endswith("ok"), "'o', 'k' are recorded")
    subprocess.run(["xdotool", "key", "ctrl+alt+shift+s"], check=True)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["stop_reason"] == "stop_hotkey" and summary["status"] == "complete"
    events = Episode.open(out).read_events()
    keys = [e for e in events if e["type"].startswith("key")]
    assert [e["char"] for e in keys if e["type"] == "key_down"] == ["o", "k"]
    assert not any(e["key"].startswith(("ctrl", "alt", "shift", "s")) for e in keys)
    assert events[-1] == {"t": events[-1]["t"], "type": "marker", "name": "stop_hotkey"}
    assert check_episode(out) == []


def test_sigterm_finalizes_the_episode(tmp_path: Path):
    out = tmp_path / "ep"
    proc = _start_record(out)
    _wait_recording(out, frames=10)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout)["stop_reason"] == "stop_signal"
    assert check_episode(out) == []
    assert json.loads((out / "meta.json").read_text())["status"] == "complete"


def test_sigkill_then_recover_keeps_all_but_the_last_two_seconds(tmp_path: Path):
    from Xlib import X, display
    from Xlib.ext import xtest

    out = tmp_path / "ep"
    proc = _start_record(out, "--fps", "20")
    _wait_recording(out)
    _wait_listening(out)
    injected: list[tuple[int, int, int]] = []  # (monotonic ns, x, y)
    stop = threading.Event()

    def inject() -> None:
        d = display.Display()
        i = 0
        while not stop.is_set():
            x, y = 5 + i % 600, 5 + (i // 600) * 7
            xtest.fake_input(d, X.MotionNotify, x=x, y=y)
            d.sync()
            injected.append((time.monotonic_ns(), x, y))
            i += 1
            time.sleep(0.02)  # a duration: one move every 20 ms, a steady stream of input
        d.close()

    th = threading.Thread(target=inject)
    th.start()
    # Long enough that most of the input lies well before the kill's lost tail.
    _wait_for(lambda: len(injected) >= 150, "150 moves are injected")
    killed_at = time.monotonic_ns()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    stop.set()
    th.join()

    problems = check_episode(out)
    assert any("status is 'recording'" in p for p in problems)
    res = run_cli("episodes", "recover", str(out), "--json")
    assert res.returncode == 0, res.stderr
    assert check_episode(out) == [], check_episode(out)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "recovered"

    origin = meta["clock"]["origin_monotonic_ns"]
    ep = Episode.open(out)
    cutoff = killed_at - 2_000_000_000
    assert origin + int(ep.frame_times[-1]) >= cutoff
    assert ep.frame(ep.frame_count - 1).shape == (480, 640, 3)
    recorded = {(e["x"], e["y"]) for e in ep.read_events() if e["type"] == "move"}
    expected = [(x, y) for t, x, y in injected if origin < t <= cutoff]
    assert len(expected) > 50
    missing = [xy for xy in expected if xy not in recorded]
    assert not missing, f"{len(missing)} of {len(expected)} injected moves lost, e.g. {missing[:3]}"
