"""The replay agent's safety guards, with real X input from xdotool playing the person.

Each test starts the runner on a worker thread with a scripted policy whose move is
slow enough to interrupt, then acts as the person would: presses the abort chord,
throws the pointer into the corner, grabs the mouse, types.
"""

from __future__ import annotations

import threading
import time

import pytest

from deskmimic.agent.abort import parse_abort_hotkey
from deskmimic.agent.actuate import MotionConfig
from deskmimic.agent.guards import GuardConfig
from deskmimic.agent.input_state import query_held
from deskmimic.agent.policy_protocol import AgentAction, ScriptedPolicy, load_action_script
from deskmimic.agent.refusals import check_confidence, check_confinement
from deskmimic.agent.runner import ReplayResult, ReplayRunner
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect
from tests.agent.test_runner import (  # noqa: F401 - clean_input is a fixture
    NEUTRAL,
    Background,
    clean_input,
    fast,
    pointer,
    show_panel,
    xdotool,
)

pytestmark = pytest.mark.usefixtures("clean_input")
WIDE = Rect(100, 100, 1000, 600)


def _start(runner: ReplayRunner) -> tuple[threading.Thread, list]:
    box: list = []

    def target() -> None:
        try:
            box.append(runner.run())
        except BaseException as exc:  # re-raised by _join
            box.append(exc)

    th = threading.Thread(target=target, daemon=True)
    th.start()
    return th, box


def _join(th: threading.Thread, box: list, timeout: float = 20) -> ReplayResult:
    th.join(timeout)
    assert not th.is_alive(), "the runner did not stop"
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def _moved_by(start: tuple[int, int]) -> int:
    """How far (px, the larger axis) the pointer is from ``start`` now."""
    return max(abs(a - b) for a, b in zip(pointer(), start, strict=True))


def _wait_moved_by(start: tuple[int, int], pixels: int, timeout: float = 10) -> None:
    """Until the pointer is ``pixels`` away from ``start``: the agent is well into its move."""
    deadline = time.monotonic() + timeout
    while _moved_by(start) < pixels:
        assert time.monotonic() < deadline, f"the pointer never got {pixels} px from {start}"
        time.sleep(0.005)  # polling interval of this deadline loop


def _last_motion(duration: float) -> tuple[float, tuple[int, int]]:
    """Sample the pointer every ~5 ms for ``duration`` s: (time of the last change, last pos)."""
    last, t_last = pointer(), time.monotonic()
    end = time.monotonic() + duration
    while time.monotonic() < end:
        p = pointer()
        if p != last:
            last, t_last = p, time.monotonic()
        time.sleep(0.005)  # the sampling period: this loop watches for ``duration`` s
    return t_last, last


def test_abort_hotkey_stops_the_agent_within_100_ms_mid_move() -> None:
    # Pausing is off so that only the abort can stop the move (xdotool's ctrl would pause).
    cfg = fast(region=WIDE, guards=GuardConfig(pause_on_user_input=False),
               motion=MotionConfig(move_duration_s=3.0))
    runner = ReplayRunner(ScriptedPolicy([AgentAction("click", 950, 550)]), cfg)
    th, box = _start(runner)
    try:
        _wait_moved_by(NEUTRAL, 20)
        xdotool("keydown", "ctrl+alt+shift+q")
        t_pressed = time.monotonic()  # the chord is complete once xdotool returns
        t_last, last = _last_motion(0.5)
    finally:
        xdotool("keyup", "ctrl+alt+shift+q")
    result = _join(th, box)
    assert result.stop_reason == "abort_hotkey", result.message
    assert t_last - t_pressed < 0.1, f"the pointer still moved {t_last - t_pressed:.3f} s after the abort"
    assert last != (1050, 650)  # the click's target was never reached
    assert result.input_after_abort_s is not None and result.input_after_abort_s < 0.1
    assert result.actions[0]["status"] == "aborted"
    assert query_held() == ([], [])


def test_failsafe_corner_aborts_mid_move() -> None:
    cfg = fast(region=WIDE, motion=MotionConfig(move_duration_s=3.0))
    runner = ReplayRunner(ScriptedPolicy([AgentAction("click", 950, 550)]), cfg)
    th, box = _start(runner)
    _wait_moved_by(NEUTRAL, 20)
    xdotool("mousemove", "0", "0")
    t_moved = time.monotonic()
    result = _join(th, box)
    assert time.monotonic() - t_moved < 1.0
    assert result.stop_reason == "failsafe_corner", result.message
    assert _last_motion(0.3)[1] == (0, 0)  # the agent left the pointer where the person put it


def test_the_agent_refuses_to_click_into_the_failsafe_corner() -> None:
    runner = ReplayRunner(ScriptedPolicy([AgentAction("click", 2, 3)]),
                          fast(region=Rect(0, 0, 400, 300)))
    result = runner.run()
    assert result.stop_reason == "refused" and "failsafe corner" in result.message
    assert pointer() == NEUTRAL


def test_moving_the_mouse_pauses_and_idle_resumes(qtbot) -> None:
    w = show_panel(qtbot)
    policy = ScriptedPolicy([AgentAction("click", *w.local(w.buttons[0])),
                             AgentAction("click", *w.local(w.buttons[1]))])
    cfg = fast(region=w.region(), guards=GuardConfig(resume_idle_s=0.6),
               motion=MotionConfig(move_duration_s=1.5))
    events: list[dict] = []
    runner = ReplayRunner(policy, cfg, on_event=events.append)
    job = Background(runner.run)
    # Until the agent is well into its first move.
    qtbot.waitUntil(lambda: bool(getattr(runner, "actions", None)) and _moved_by(NEUTRAL) >= 20,
                    timeout=10_000)
    xdotool("mousemove", "900", "700")  # the person grabs the mouse
    qtbot.waitUntil(lambda: runner.guards.paused, timeout=3000)  # no latency bound for pausing; a busy CI box is slow
    qtbot.wait(300)  # a duration, shorter than resume_idle_s: the agent must not move meanwhile
    assert pointer() == (900, 700)  # paused: the agent keeps its hands off
    result = job.wait(qtbot)
    assert result.stop_reason == "done", result.message
    assert [p["reason"] for p in result.pauses] == ["user_moved_pointer"]
    assert result.pauses[0]["resumed_by"] == "idle"
    assert result.pauses[0]["resumed_at_s"] - result.pauses[0]["paused_at_s"] >= 0.6
    assert [a["status"] for a in result.actions] == ["interrupted", "executed", "done"]
    qtbot.waitUntil(lambda: w.clicks == [1], timeout=3000)  # the interrupted click never happened
    assert [e["event"] for e in events if e["event"] in ("pause", "resume")] == ["pause", "resume"]


def test_typing_pauses_until_resume_is_called(qtbot) -> None:
    w = show_panel(qtbot)
    policy = ScriptedPolicy([AgentAction("click", *w.local(w.buttons[0])),
                             AgentAction("click", *w.local(w.buttons[1]))])
    cfg = fast(region=w.region(), guards=GuardConfig(resume_idle_s=None),
               motion=MotionConfig(move_duration_s=1.5))
    runner = ReplayRunner(policy, cfg)
    job = Background(runner.run)
    # Until the agent is well into its first move.
    qtbot.waitUntil(lambda: bool(getattr(runner, "actions", None)) and _moved_by(NEUTRAL) >= 20,
                    timeout=10_000)
    xdotool("key", "z")  # the person types
    qtbot.waitUntil(lambda: runner.guards.paused, timeout=3000)
    stopped_at = pointer()
    qtbot.wait(1200)  # longer than any idle resume: only resume() resumes now
    assert runner.guards.paused and job.thread.is_alive()
    assert pointer() == stopped_at and w.clicks == []
    assert runner.resume()
    result = job.wait(qtbot)
    assert result.stop_reason == "done", result.message
    assert [(p["reason"], p["resumed_by"]) for p in result.pauses] == [("user_typed", "resume_call")]
    qtbot.waitUntil(lambda: w.clicks == [1], timeout=3000)


def test_abort_hotkey_and_check_messages() -> None:
    assert parse_abort_hotkey("<ctrl>+<alt>+<shift>+q") == {"ctrl", "alt", "shift", "q"}
    assert parse_abort_hotkey("ctrl_l+Q") == {"ctrl", "q"}
    for bad in ("q", "a+b", "ctrl++q", ""):
        with pytest.raises(ConfigError, match="--abort-hotkey"):
            parse_abort_hotkey(bad)
    assert check_confidence(0.5, 0.3) is None
    assert "0.20 < --min-confidence 0.30" in check_confidence(0.2, 0.3)
    assert check_confinement([(0, 0), (399, 299)], 400, 300) is None
    assert "(400, 10)" in check_confinement([(10, 10), (400, 10)], 400, 300, "drag")
    assert "(-1, 5)" in check_confinement([(-1, 5)], 400, 300)


def test_action_script_errors_name_the_line(tmp_path) -> None:
    good = tmp_path / "ok.jsonl"
    good.write_text('# a comment\n{"kind": "click", "x": 5, "y": 6, "confidence": 0.5}\n\n'
                    '{"kind": "hotkey", "keys": ["ctrl", "s"]}\n')
    policy = load_action_script(good)
    assert policy.act({}).kind == "click" and policy.act({}).keys == ("ctrl", "s")
    assert policy.act({}).kind == "done"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "click", "x": 5, "y": 6}\n{"kind": "drag", "x": 1, "y": 2}\n')
    with pytest.raises(ConfigError, match="item 2: a drag action needs x2 and y2"):
        load_action_script(bad)
    bad.write_text('{"kind": "click", "x": 5, "y": 6, "button": "left"}\n')
    with pytest.raises(ConfigError, match="unknown fields \\['button'\\]"):
        load_action_script(bad)
