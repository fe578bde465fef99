"""The person's controls over a replay stay theirs (issue 23): `deskmimic replay` takes the
recording's privacy hotkeys as flags and names them when it starts; the policy may not
press them or the abort hotkey; and while the agent waits on a paused recording, the
progress output says so."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from deskmimic.agent.policy_protocol import AgentAction, ScriptedPolicy
from deskmimic.agent.refusals import check_reserved_chord, judge_action, reserved_chords
from deskmimic.agent.replay_recording import wait_while_recording_paused
from deskmimic.agent.runner import ReplayRunner
from deskmimic.app.cli import build_parser
from deskmimic.app.cli import replay as cli_replay
from deskmimic.core.config import DEFAULT_PAUSE_HOTKEY, DEFAULT_SECRET_HOTKEY
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect
from tests.agent.test_runner import (  # noqa: F401 - clean_input is a fixture
    NEUTRAL,
    clean_input,
    fast,
    pointer,
    run_in_background,
    show_panel,
)
from tests.conftest import run_cli

ABORT = "<ctrl>+<alt>+<shift>+q"


def _args(*extra: str):
    return build_parser().parse_args(["replay", "--policy", "script.jsonl", *extra])


# ---- 1. `deskmimic replay --pause-hotkey / --secret-hotkey` ---------------------------------
def test_replay_cli_takes_the_privacy_hotkeys_like_record():
    cfg = cli_replay.build_config(_args())
    assert (cfg.pause_hotkey, cfg.secret_hotkey) == (DEFAULT_PAUSE_HOTKEY, DEFAULT_SECRET_HOTKEY)
    # record's spelling, its 'off', and the plain spelling this verb's --abort-hotkey takes
    cfg = cli_replay.build_config(_args("--pause-hotkey", "ctrl+alt+shift+x",
                                        "--secret-hotkey", "off"))
    assert cfg.pause_hotkey == "<ctrl>+<alt>+<shift>+x" and cfg.secret_hotkey is None
    cfg = cli_replay.build_config(_args("--pause-hotkey", "<ctrl>+<alt>+y", "--secret-hotkey", "None"))
    assert cfg.pause_hotkey == "<ctrl>+<alt>+y" and cfg.secret_hotkey is None
    with pytest.raises(ConfigError, match="--abort-hotkey"):  # the abort chord also stops the recording
        cli_replay.build_config(_args("--secret-hotkey", "ctrl+alt+shift+q"))
    with pytest.raises(ConfigError, match="--pause-hotkey"):
        cli_replay.build_config(_args("--pause-hotkey", "p"))


def test_replay_start_up_line_names_the_privacy_hotkeys_when_it_records():
    banner = cli_replay.start_banner(cli_replay.build_config(_args()))
    assert f"pause/resume {DEFAULT_PAUSE_HOTKEY}" in banner
    assert f"secret typing on/off {DEFAULT_SECRET_HOTKEY}" in banner
    banner = cli_replay.start_banner(cli_replay.build_config(_args("--secret-hotkey", "off")))
    assert "pause/resume" in banner and "secret" not in banner
    banner = cli_replay.start_banner(cli_replay.build_config(_args("--no-record")))
    assert "pause/resume" not in banner and "secret" not in banner  # nothing to pause


def test_replay_cli_hotkey_flags_reach_the_recording(tmp_path: Path):
    script = tmp_path / "done.jsonl"
    script.write_text(json.dumps({"kind": "done"}) + "\n")
    out = tmp_path / "ep"
    res = run_cli("replay", "--policy", str(script), "--region", "200x100+300+300", "--dry-run",
                  "--out", str(out), "--pause-hotkey", "ctrl+alt+shift+x", "--secret-hotkey", "off")
    assert res.returncode == 0, res.stderr
    assert "pause/resume <ctrl>+<alt>+<shift>+x" in res.stderr and "secret typing" not in res.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["pause_hotkey"] == "<ctrl>+<alt>+<shift>+x" and meta["secret_hotkey"] is None


# ---- 2. the policy may not press the person's hotkeys -------------------------------------
@pytest.mark.parametrize(("keys", "what"), [
    (("ctrl", "alt", "shift", "p"), "pause hotkey"),
    (("ctrl_l", "alt", "shift_r", "P"), "pause hotkey"),  # sides and case do not matter
    (("Control", "alt", "shift", "h"), "secret-typing hotkey"),
    (("ctrl+alt+shift+q",), "abort hotkey"),
    (("ctrl", "alt", "shift", "q", "a"), "abort hotkey"),  # extra keys still fire it
])
def test_reserved_chords_are_refused(keys: tuple[str, ...], what: str):
    reserved = reserved_chords(ABORT, DEFAULT_PAUSE_HOTKEY, DEFAULT_SECRET_HOTKEY)
    verdict = judge_action(AgentAction("hotkey", keys=keys), Rect(0, 0, 400, 300), 0.3, 4, reserved)
    assert verdict is not None and verdict[0] == "refused", verdict
    assert what in verdict[1] and "never presses" in verdict[1], verdict


def test_other_chords_and_hotkeys_that_are_off_pass():
    reserved = reserved_chords(ABORT, DEFAULT_PAUSE_HOTKEY, None)
    for keys in (("ctrl", "s"), ("ctrl", "alt", "p"), ("ctrl", "alt", "shift", "h"), ("p",)):
        assert check_reserved_chord(keys, reserved) is None, keys
    action = AgentAction("hotkey", keys=("ctrl", "alt", "shift", "p"))
    assert judge_action(action, Rect(0, 0, 400, 300), 0.3, 4) is None  # no reserved chords given


@pytest.mark.parametrize("keys", [("ctrl", "alt", "shift", "q"), ("ctrl", "alt", "shift", "p")])
def test_live_agent_never_presses_the_abort_or_pause_hotkey(qtbot, clean_input, keys):  # noqa: F811
    w = show_panel(qtbot)
    policy = ScriptedPolicy([AgentAction("hotkey", keys=keys)])
    events: list[dict] = []
    runner = ReplayRunner(policy, fast(region=w.region()), on_event=events.append)
    result = run_in_background(qtbot, runner)
    # Pressed, the abort chord would have ended the run as "abort_hotkey".
    assert result.stop_reason == "refused", result.message
    assert "+".join(keys) in result.message and "never presses" in result.message
    assert result.actions[0]["status"] == "refused"
    assert [e["event"] for e in events] == ["step"]  # no pause, no abort: no key went down
    assert pointer() == NEUTRAL


# ---- 3. the wait on a paused recording is reported ------------------------------------------
def _fake_recorder(paused_for_s: float):
    rec = SimpleNamespace(paused=True, cfg=SimpleNamespace(pause_hotkey=DEFAULT_PAUSE_HOTKEY))
    threading.Timer(paused_for_s, lambda: setattr(rec, "paused", False)).start()
    return rec


def test_waiting_on_a_paused_recording_is_reported():
    events: list[dict] = []
    guards = SimpleNamespace(aborted=False)
    rec = _fake_recorder(0.3)
    assert wait_while_recording_paused(rec, guards, time.monotonic() + 10, events.append)
    assert [e["event"] for e in events] == ["recording_paused", "recording_resumed"]
    assert events[0]["hotkey"] == DEFAULT_PAUSE_HOTKEY and events[0]["reason"] == "pause_hotkey"
    assert events[1]["waited_s"] >= 0.25
    # Not paused: no wait, nothing said. Past the deadline: no "resumed" that did not happen.
    events.clear()
    assert not wait_while_recording_paused(rec, guards, time.monotonic() + 10, events.append)
    rec = _fake_recorder(5.0)
    assert wait_while_recording_paused(rec, guards, time.monotonic() + 0.1, events.append)
    assert [e["event"] for e in events] == ["recording_paused"]
    rec.paused = False


def test_a_failing_progress_callback_does_not_stop_the_wait():
    def broken(_event: dict) -> None:
        raise RuntimeError("display gone")

    rec = _fake_recorder(0.1)
    assert wait_while_recording_paused(rec, SimpleNamespace(aborted=False),
                                       time.monotonic() + 10, broken)
    assert not rec.paused


def test_replay_cli_says_why_the_agent_waits(capsys):
    cli_replay._progress({"event": "recording_paused", "reason": "pause_hotkey",
                          "hotkey": DEFAULT_PAUSE_HOTKEY})
    cli_replay._progress({"event": "recording_resumed", "reason": "pause_hotkey",
                          "hotkey": DEFAULT_PAUSE_HOTKEY, "waited_s": 4.25})
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert "recording paused" in err[0] and DEFAULT_PAUSE_HOTKEY in err[0] and "waits" in err[0]
    assert "recording resumed" in err[1] and "4.2 s" in err[1]
