"""The pause and secret hotkeys of `deskmimic record`, driven with real X input: nothing
typed while paused reaches the episode, and typed secrets reach it only masked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deskmimic.core.errors import ConfigError
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.hotkey import Chord, HotkeyFilter, check_distinct, parse_hotkey
from deskmimic.recorder.privacy import MASK, CaptureGate
from tests.conftest import run_cli
from tests.recorder.test_record_cli import (
    _start_record,
    _wait_for,
    _wait_listening,
    _wait_recording,
)

PAUSE, SECRET, STOP = "ctrl+alt+shift+p", "ctrl+alt+shift+h", "ctrl+alt+shift+s"
FPS = 20


def _events(out: Path) -> list[dict]:
    path = out / "events.jsonl"
    lines = path.read_text().split("\n")[:-1] if path.exists() else []
    return [json.loads(line) for line in lines]


def _markers(out: Path) -> list[str]:
    return [e["name"] for e in _events(out) if e["type"] == "marker"]


def _typed(out: Path) -> str:
    return "".join(e.get("char") or "" for e in _events(out) if e["type"] == "key_up")


def _key(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=30)


def _stop(proc: subprocess.Popen) -> dict:
    _key("key", STOP)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    return json.loads(stdout)


def test_nothing_is_captured_while_paused(tmp_path: Path):
    out = tmp_path / "ep"
    proc = _start_record(out, "--fps", str(FPS))
    _wait_recording(out)
    _wait_listening(out)
    _key("type", "ab")
    _wait_for(lambda: _typed(out).endswith("ab"), "'ab' is recorded")
    _key("key", PAUSE)
    _wait_for(lambda: "pause" in _markers(out), "the pause marker is written", timeout=10)
    # Input and screen changes while paused: a pointer move and typing, over long enough
    # that an unpaused recorder would write ~15 frames.
    _key("mousemove", "100", "120", "type", "--delay", "60", "xyz")
    _key("mousemove", "200", "220", "sleep", "0.4")
    _key("key", PAUSE)
    _wait_for(lambda: "resume" in _markers(out), "the resume marker is written", timeout=10)
    _key("type", "cd")
    _wait_for(lambda: _typed(out).endswith("cd"), "'cd' is recorded")
    summary = _stop(proc)
    assert summary["status"] == "complete"

    events = Episode.open(out).read_events()
    pause = next(e["t"] for e in events if e.get("name") == "pause")
    resume = next(e["t"] for e in events if e.get("name") == "resume")
    assert resume - pause > 0.5e9
    inside = [e for e in events if pause <= e["t"] < resume and e["type"] != "marker"]
    assert inside == []
    keys = [e for e in events if e["type"] == "key_down"]
    assert [e["char"] for e in keys] == ["a", "b", "c", "d"]  # no x, y, z, nor the hotkey's p
    # No frame was grabbed inside the pause, one frame interval of slack at its start
    # (a grab already under way when the hotkey arrived).
    period = int(1e9 / FPS)
    with Episode.open(out) as ep:
        times = [int(t) for t in ep.frame_times]
    assert [t for t in times if pause + period < t < resume] == []
    assert any(t > resume for t in times) and any(t < pause for t in times)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["paused"] == [{"start_ns": pause, "end_ns": resume}]
    assert meta["pause_hotkey"] == "<ctrl>+<alt>+<shift>+p"
    assert check_episode(out) == []
    # The step reducer reads the markers as step boundaries: two typed runs, no crash.
    res = run_cli("episodes", "steps", str(out), "--json")
    assert res.returncode == 0, res.stderr
    texts = [s.get("text") for s in json.loads(res.stdout) if s["kind"] == "type"]
    assert texts == ["ab", "cd"]


def test_secret_typing_is_masked_on_disk(tmp_path: Path):
    out = tmp_path / "ep"
    proc = _start_record(out, "--fps", str(FPS))
    _wait_recording(out)
    _wait_listening(out)
    _key("key", SECRET)
    _wait_for(lambda: "secret_on" in _markers(out), "the secret_on marker is written", timeout=10)
    _key("type", "--delay", "40", "hunter2")
    _wait_for(lambda: sum(e["type"] == "key_up" for e in _events(out)) >= 7,
              "seven key releases are recorded")
    _key("key", SECRET)
    _wait_for(lambda: "secret_off" in _markers(out), "the secret_off marker is written", timeout=10)
    _key("type", "ok")
    _wait_for(lambda: _typed(out).endswith("ok"), "'ok' is recorded")
    _stop(proc)

    raw = (out / "events.jsonl").read_bytes()
    assert b"hunter2" not in raw
    events = Episode.open(out).read_events()
    keys = [e for e in events if e["type"] in ("key_down", "key_up")]
    for e in keys:
        assert e["key"] not in set("hunter2") and e.get("char") not in set("hunter2"), e
    masked = [e for e in keys if e.get("secret")]
    # Timing and kind survive: seven presses and seven releases, nothing else of them.
    assert [e["type"] for e in masked].count("key_down") == 7
    assert [e["type"] for e in masked].count("key_up") == 7
    assert all(e["key"] == MASK and e["code"] is None and e["keycode"] is None for e in masked)
    assert [e["char"] for e in keys if e["type"] == "key_down" and not e.get("secret")] == ["o", "k"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["masked_keys"] == 7 and meta["paused"] == []
    assert check_episode(out) == []
    res = run_cli("episodes", "steps", str(out), "--json")
    assert res.returncode == 0, res.stderr
    texts = [s.get("text") for s in json.loads(res.stdout) if s["kind"] == "type"]
    assert texts == [MASK * 7, "ok"]


def _ev(kind: str, key: str, t: int, keycode: int | None = None) -> dict:
    return {"t": t, "type": kind, "key": key, "code": None, "keycode": keycode,
            "char": key if len(key) == 1 else None}


def test_gate_masks_whole_presses_and_keeps_chords_readable():
    gate = CaptureGate()
    out = [gate.admit(_ev("key_down", "a", 0, 38))]   # pressed before the secret ...
    gate.toggle_secret(1)
    feed = [_ev("key_up", "a", 2, 38),                 # ... released in the clear
             _ev("key_down", "ctrl_l", 3, 37), _ev("key_down", "V", 4, 55),
             _ev("key_up", "v", 5, 55), _ev("key_up", "ctrl_l", 6, 37),
             _ev("key_down", "x", 7, 53)]              # pressed while secret ...
    for ev in feed:
        out.append(gate.admit(ev))
    gate.toggle_secret(8)
    out.append(gate.admit(_ev("key_up", "x", 9, 53)))  # ... its release stays masked
    assert [e["key"] for e in out] == ["a", "a", "ctrl_l", MASK, MASK, "ctrl_l", MASK, MASK]
    assert gate.masked_keys == 2


def test_gate_drops_input_and_marks_spans_while_paused():
    gate = CaptureGate()
    assert gate.toggle_pause(10)["name"] == "pause" and gate.paused
    assert gate.admit({"t": 11, "type": "move", "x": 1, "y": 1}) is None
    assert gate.admit({"t": 12, "type": "marker", "name": "x"}) is not None
    assert gate.toggle_pause(20)["name"] == "resume" and not gate.paused
    assert gate.admit({"t": 21, "type": "move", "x": 1, "y": 1}) is not None
    assert gate.covers(15) and not gate.covers(20) and not gate.covers(9)
    gate.toggle_pause(30)
    gate.close(40)
    assert gate.meta()["paused"] == [{"start_ns": 10, "end_ns": 20}, {"start_ns": 30, "end_ns": 40}]


def test_filter_swallows_each_chord_and_runs_its_action():
    out, fired = [], []
    filt = HotkeyFilter(parse_hotkey("<ctrl>+<alt>+<shift>+s"), out.append, lambda: fired.append("stop"),
                        lambda t: {"type": "marker", "t": t, "name": "stop"},
                        [Chord(parse_hotkey("<ctrl>+<alt>+<shift>+p"),
                               lambda t: {"type": "marker", "t": t, "name": "pause"},
                               lambda: fired.append("pause"))])
    for i, name in enumerate(["ctrl_l", "alt_l", "shift_l", "p"]):
        filt.feed(_ev("key_down", name, i))
    for i, name in enumerate(["p", "shift_l", "alt_l", "ctrl_l"]):
        filt.feed(_ev("key_up", name, 10 + i))
    assert fired == ["pause"] and out == [{"type": "marker", "t": 3, "name": "pause"}]


def test_hotkeys_must_differ():
    with pytest.raises(ConfigError, match="--pause-hotkey"):
        check_distinct({"--stop-hotkey": "<ctrl>+<alt>+<shift>+s",
                        "--pause-hotkey": "<shift>+<alt>+<ctrl>+s"})
    assert set(check_distinct({"--stop-hotkey": "<ctrl>+s", "--secret-hotkey": None})) == {"--stop-hotkey"}
    res = run_cli("record", "--help")
    assert "--pause-hotkey" in res.stdout and "--secret-hotkey" in res.stdout
    assert "<ctrl>+<alt>+<shift>+p" in res.stdout


def test_record_page_says_paused_and_secret():
    from deskmimic.app.gui.pages.record import _live_state

    assert _live_state({}).startswith("● Recording")
    assert "Paused" in _live_state({"paused": True})
    assert "masked" in _live_state({"secret": True}) and "masked" not in _live_state({})


def test_a_trimmed_copy_keeps_the_pauses_inside_the_cut_on_its_own_clock():
    from deskmimic.recorder.episode_edit import _cut_spans

    spans = [{"start_ns": 10, "end_ns": 20}, {"start_ns": 40, "end_ns": 60}, {"start_ns": 90, "end_ns": 95}]
    assert _cut_spans(spans, 15, 50) == [{"start_ns": 0, "end_ns": 5}, {"start_ns": 25, "end_ns": 35}]
