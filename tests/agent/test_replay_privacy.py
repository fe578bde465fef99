"""A recorded replay honours the recorder's pause and secret hotkeys, pressed with real X
input by the person watching: nothing is captured while the recording is paused (and the
agent does not act unrecorded meanwhile, and says that it waits), and what they type in
secret is masked."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from deskmimic.agent.guards import GuardConfig
from deskmimic.agent.policy_protocol import AgentAction
from deskmimic.agent.runner import ReplayConfig, ReplayRunner
from deskmimic.core.errors import ConfigError
from deskmimic.core.keys import SECRET_MASK
from deskmimic.recorder.episode import Episode
from tests.agent.test_runner import Background, clean_input, fast, show_panel, xdotool  # noqa: F401

PAUSE, SECRET = "ctrl+alt+shift+p", "ctrl+alt+shift+h"


class _ClicksUntilTold:
    """Clicks two targets in turn until ``finish`` is set; notes when it was asked."""

    name = "clicks-until-told"

    def __init__(self, targets: list[tuple[int, int]]) -> None:
        self.targets = targets
        self.finish = threading.Event()
        self.asked_ns: list[int] = []  # time.monotonic_ns() of each decision

    def reset(self) -> None:
        self.asked_ns.clear()

    def act(self, observation: dict) -> AgentAction:
        self.asked_ns.append(time.monotonic_ns())
        if self.finish.is_set():
            return AgentAction("done")
        return AgentAction("click", *self.targets[len(self.asked_ns) % 2])


def _events(out: Path) -> list[dict]:
    path = out / "events.jsonl"
    lines = path.read_text().split("\n")[:-1] if path.exists() else []
    return [json.loads(line) for line in lines]


def _markers(out: Path) -> list[str]:
    return [e["name"] for e in _events(out) if e["type"] == "marker"]


def test_pause_and_secret_hotkeys_during_a_recorded_replay(qtbot, clean_input, tmp_path: Path):  # noqa: F811
    w = show_panel(qtbot)
    policy = _ClicksUntilTold([w.local(w.buttons[0]), w.local(w.buttons[1])])
    out = tmp_path / "replay"
    idle_s = 0.4
    cfg = fast(region=w.region(), record=True, out=out, guards=GuardConfig(resume_idle_s=idle_s))
    progress: list[dict] = []
    runner = ReplayRunner(policy, cfg, on_event=progress.append)
    job = Background(runner.run)
    try:
        # The replay's recorder listens once the agent's own clicks reach its events.
        qtbot.waitUntil(lambda: any(e["type"] == "button_up" for e in _events(out)), timeout=20_000)
        xdotool("key", PAUSE)
        qtbot.waitUntil(lambda: "pause" in _markers(out), timeout=10_000)
        xdotool("type", "zz")
        # Much longer than resume_idle_s: the takeover pause ends, the recording's does not,
        # and an agent that acted now would act unrecorded.
        qtbot.wait(int(idle_s * 1000) + 1200)
        xdotool("key", PAUSE)
        qtbot.waitUntil(lambda: "resume" in _markers(out), timeout=10_000)
        asked = len(policy.asked_ns)
        qtbot.waitUntil(lambda: len(policy.asked_ns) > asked, timeout=10_000)  # it goes on
        xdotool("key", SECRET)
        qtbot.waitUntil(lambda: "secret_on" in _markers(out), timeout=10_000)
        xdotool("type", "--delay", "40", "pw")
        qtbot.waitUntil(lambda: sum(e["type"] == "key_up" and e.get("secret", False)
                                    for e in _events(out)) >= 2, timeout=10_000)
        xdotool("key", SECRET)
        qtbot.waitUntil(lambda: "secret_off" in _markers(out), timeout=10_000)
    finally:
        policy.finish.set()
    result = job.wait(qtbot, 30_000)
    assert result.stop_reason == "done", result.message

    ep = Episode.open(result.episode)
    events = ep.read_events()
    meta = json.loads((out / "meta.json").read_text())
    pause = next(e["t"] for e in events if e.get("name") == "pause")
    resume = next(e["t"] for e in events if e.get("name") == "resume")
    assert resume - pause > idle_s * 1e9
    assert [e for e in events if pause <= e["t"] < resume and e["type"] != "marker"] == []
    period = int(1e9 / cfg.fps)
    with ep:
        times = [int(t) for t in ep.frame_times]
    assert [t for t in times if pause + period < t < resume] == []
    assert any(t > resume for t in times)
    origin = meta["clock"]["origin_monotonic_ns"]
    asked = [t - origin for t in policy.asked_ns]
    assert [t for t in asked if pause < t < resume] == [], "the agent decided while unrecorded"
    # ... and it said why it waited (the CLI and the GUI show these), once, with the chord.
    said = [e for e in progress if e["event"].startswith("recording_")]
    assert [e["event"] for e in said] == ["recording_paused", "recording_resumed"], progress
    assert said[0]["hotkey"] == "<ctrl>+<alt>+<shift>+p"
    assert meta["paused"] == [{"start_ns": pause, "end_ns": resume}]
    assert meta["pause_hotkey"] == "<ctrl>+<alt>+<shift>+p"
    assert meta["secret_hotkey"] == "<ctrl>+<alt>+<shift>+h"

    raw = (out / "events.jsonl").read_bytes()
    assert b'"p"' not in raw and b'"w"' not in raw and b'"z"' not in raw
    on = next(e["t"] for e in events if e.get("name") == "secret_on")
    off = next(e["t"] for e in events if e.get("name") == "secret_off")
    keys = [e for e in events if on < e["t"] < off and e["type"] in ("key_down", "key_up")]
    assert [e["type"] for e in keys] == ["key_down", "key_up"] * 2
    assert all(e["key"] == SECRET_MASK and e["keycode"] is None and e["secret"] for e in keys)
    assert meta["masked_keys"] == 2


def test_replay_hotkeys_must_not_clash():
    with pytest.raises(ConfigError, match="--abort-hotkey"):
        ReplayConfig(guards=GuardConfig(abort_hotkey="ctrl+alt+shift+p"))
    with pytest.raises(ConfigError, match="--abort-hotkey"):
        ReplayConfig(secret_hotkey="<ctrl>+<alt>+<shift>+q")
    # No recording, no recording hotkeys: nothing to clash with.
    ReplayConfig(record=False, guards=GuardConfig(abort_hotkey="ctrl+alt+shift+p"))
    cfg = ReplayConfig(pause_hotkey=None, secret_hotkey=None)
    assert cfg.pause_hotkey is None
