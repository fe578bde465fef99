"""`episodes recover` after a SIGKILL rebuilds what the recorder writes into meta.json only
when it stops (the paused spans, the masked key count) from the markers and masked keys
that reached events.jsonl, and training still leaves out the pause and the secret text."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from deskmimic.core.keys import SECRET_MASK
from deskmimic.models.actions import action_from_step
from deskmimic.models.data.steps import steps_for_episode
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.privacy import CaptureGate, privacy_from_events
from tests.conftest import run_cli
from tests.recorder.test_pause_secret import FPS, PAUSE, SECRET, _events, _key, _markers, _typed
from tests.recorder.test_record_cli import (
    _start_record,
    _wait_for,
    _wait_listening,
    _wait_recording,
)


def _ev(kind: str, key: str, t: int, keycode: int) -> dict:
    return {"t": t, "type": kind, "key": key, "code": None, "keycode": keycode,
            "char": key if len(key) == 1 else None}


def _masked_ups(out: Path) -> int:
    return sum(e["type"] == "key_up" and e.get("secret", False) for e in _events(out))


def test_rebuilt_fields_equal_what_the_gate_writes_at_a_clean_stop():
    gate = CaptureGate()
    secret, pause = gate.toggle_secret, gate.toggle_pause  # called in turn with the input
    feed = [_ev("key_down", "a", 1, 38), _ev("key_up", "a", 2, 38), (secret, 3)]
    # x held down: the X server repeats its press; one key, counted once.
    feed += [_ev("key_down", "x", 4, 53), _ev("key_down", "x", 5, 53), _ev("key_down", "x", 6, 53),
             _ev("key_up", "x", 7, 53)]
    feed += [_ev("key_down", "y", 8, 29), (pause, 9), _ev("key_up", "y", 10, 29), (pause, 11)]
    # y released while paused (not written) and pressed again: a new key, not a repeat.
    feed += [_ev("key_down", "y", 12, 29), _ev("key_up", "y", 13, 29)]
    feed += [(secret, 14), _ev("key_down", "b", 15, 56), (secret, 16), _ev("key_down", "c", 17, 54),
             (pause, 20)]
    written = []
    for item in feed:
        ev = item[0](item[1]) if isinstance(item, tuple) else item
        admitted = gate.admit(ev)
        if admitted is not None:
            written.append(admitted)
    gate.close(25)
    assert gate.meta() == {"paused": [{"start_ns": 9, "end_ns": 11}, {"start_ns": 20, "end_ns": 25}],
                           "masked_keys": 4}
    rebuilt, still_on = privacy_from_events(written, 25)
    assert rebuilt == gate.meta()
    assert still_on == ["pause", "secret"]
    assert [e.get("repeat", False) for e in written if e["type"] == "key_down" and e.get("secret")] == [
        False, True, True, False, False, False]
    assert not any("x" in (e.get("key"), e.get("char")) for e in written)


def test_stray_markers_change_nothing_and_open_secret_is_named():
    events = [{"t": 5, "type": "marker", "name": "resume"},
              {"t": 6, "type": "marker", "name": "pause"}, {"t": 7, "type": "marker", "name": "pause"},
              {"t": 8, "type": "marker", "name": "resume"}, {"t": 9, "type": "marker", "name": "secret_on"}]
    assert privacy_from_events(events, 3) == ({"paused": [{"start_ns": 6, "end_ns": 8}],
                                                "masked_keys": 0}, ["secret"])


def test_sigkill_while_paused_and_secret_recovers_the_spans_and_count(tmp_path: Path):
    out = tmp_path / "ep"
    proc = _start_record(out, "--fps", str(FPS))
    try:
        _wait_recording(out)
        _wait_listening(out)
        _key("type", "ab")
        _wait_for(lambda: _typed(out).endswith("ab"), "'ab' is recorded")
        _key("key", PAUSE)
        _wait_for(lambda: "pause" in _markers(out), "the pause marker is written", timeout=10)
        _key("type", "--delay", "60", "xyz", "sleep", "0.3")
        _key("key", PAUSE)
        _wait_for(lambda: "resume" in _markers(out), "the resume marker is written", timeout=10)
        _key("key", SECRET)
        _wait_for(lambda: "secret_on" in _markers(out), "the secret_on marker is written", timeout=10)
        _key("type", "--delay", "40", "hunter2")
        _wait_for(lambda: _masked_ups(out) >= 7, "seven masked releases are recorded")
        _key("key", SECRET)
        _wait_for(lambda: "secret_off" in _markers(out), "the secret_off marker is written", timeout=10)
        _key("type", "ok")
        _wait_for(lambda: _typed(out).endswith("ok"), "'ok' is recorded")
        # Killed with secret typing on and a pause open.
        _key("key", SECRET)
        _wait_for(lambda: _markers(out).count("secret_on") == 2, "secret is on again", timeout=10)
        _key("type", "--delay", "40", "pw")
        _wait_for(lambda: _masked_ups(out) >= 9, "two more masked releases are recorded")
        _key("key", PAUSE)
        _wait_for(lambda: _markers(out).count("pause") == 2, "the second pause marker", timeout=10)
        _key("type", "zz", "sleep", "0.3")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "recording" and "paused" not in meta and "masked_keys" not in meta

    res = run_cli("episodes", "recover", str(out), "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert any("paused when it was cut off" in n for n in report["notes"]), report
    assert any("secret typing was on" in n for n in report["notes"]), report
    assert "paused when it was cut off" in res.stderr  # said in the CLI's own output too

    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "recovered"
    events = Episode.open(out).read_events()
    marks = [(e["name"], e["t"]) for e in events if e["type"] == "marker"]
    pauses = [t for name, t in marks if name == "pause"]
    resumes = [t for name, t in marks if name == "resume"]
    with Episode.open(out) as ep:
        frame_times = [int(t) for t in ep.frame_times]
    last_t = max(frame_times[-1], events[-1]["t"])
    # The closed span is what a clean stop writes (the marker times); the open one ends
    # at the last frame or event, the latest moment known to be in the recording.
    assert meta["paused"] == [{"start_ns": pauses[0], "end_ns": resumes[0]},
                              {"start_ns": pauses[1], "end_ns": last_t}]
    assert meta["masked_keys"] == 9
    assert meta["recovery"][-1]["notes"] == report["notes"]
    assert check_episode(out) == []
    raw = (out / "events.jsonl").read_bytes()
    assert b"hunter2" not in raw and b'"pw"' not in raw

    # Training reads the recovered episode as it reads a finished one: nothing from the
    # pauses, the secret text as bullets that are never learnt.
    with Episode.open(out) as ep:
        steps = steps_for_episode(ep)
    texts = [s.text for s in steps if s.kind == "type"]
    assert texts == ["ab", SECRET_MASK * 7, "ok", SECRET_MASK * 2]
    for s in steps:
        lo, hi = s.events
        for ev in events[lo:hi]:
            assert not (pauses[0] <= ev["t"] < resumes[0]) and ev["t"] < pauses[1], (s, ev)
    masked_steps = [s for s in steps if s.kind == "type" and SECRET_MASK in s.text]
    assert [action_from_step(s) for s in masked_steps] == [None, None]
    assert [t for t in frame_times if pauses[0] + int(1e9 / FPS) < t < resumes[0]] == []
