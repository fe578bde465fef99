"""The closed-loop replay runner on the pytest-xvfb display: real Qt windows, real XTEST
input, a scripted policy (a real object returning fixed actions) instead of a network.

The runner works on a worker thread while the Qt event loop runs on the test thread,
as it does when the agent drives a live desktop.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtWidgets import QLineEdit, QPushButton, QWidget

from deskmimic.agent.input_state import query_held, release_stuck_input
from deskmimic.agent.policy_protocol import AgentAction, ScriptedPolicy
from deskmimic.agent.runner import REPLAY_LOG, ReplayConfig, ReplayResult, ReplayRunner
from deskmimic.core.geometry import Rect
from deskmimic.recorder.episode import Episode
from tests.fixtures.screen import wait_on_screen

NEUTRAL = (640, 760)  # pointer rest position, outside every test window


# ---- helpers shared with test_guards.py / test_macro.py ---------------------------------
class Panel(QWidget):
    """A window with buttons at fixed local positions and a text field; counts clicks."""

    def __init__(self, title: str = "deskmimic agent test", buttons: int = 2,
                 color: str = "#2e7d32") -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.setFixedSize(400, 300)
        self.setStyleSheet(f"Panel {{ background: {color}; }}")
        self.clicks: list[int] = []
        self.buttons: list[QPushButton] = []
        for i in range(buttons):
            b = QPushButton(f"Button {i}", self)
            b.setGeometry(40 + 180 * i, 60, 140, 40)
            b.clicked.connect(lambda _=False, i=i: self.clicks.append(i))
            self.buttons.append(b)
        self.field = QLineEdit(self)
        self.field.setGeometry(40, 200, 320, 30)

    def local(self, widget: QWidget) -> tuple[int, int]:
        """Centre of ``widget`` in this window's pixels (= captured-area pixels)."""
        c = widget.geometry().center()
        return c.x(), c.y()

    def region(self) -> Rect:
        p = self.mapToGlobal(self.rect().topLeft())
        return Rect(p.x(), p.y(), self.width(), self.height())


def show_panel(qtbot, x: int = 200, y: int = 150, **kw) -> Panel:
    w = Panel(**kw)
    qtbot.addWidget(w)
    w.move(x, y)
    with qtbot.waitExposed(w):
        w.show()
    qtbot.waitUntil(lambda: w.region().left == x and w.region().top == y, timeout=3000)
    wait_on_screen(qtbot, w)  # the agent sees the screen, not the widget: it must be drawn
    return w


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=10)


def pointer() -> tuple[int, int]:
    from deskmimic.agent.inject_xtest import open_display

    d = open_display()
    try:
        p = d.screen().root.query_pointer()
        return p.root_x, p.root_y
    finally:
        d.close()


def restore_pointer_root_focus() -> None:
    # Clicking a window gives it the X focus; give focus-follows-pointer back so later
    # tests on this display start from a bare Xvfb's state.
    from Xlib import X

    from deskmimic.agent.inject_xtest import open_display

    d = open_display()
    d.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
    d.sync()
    d.close()


@pytest.fixture
def clean_input(qapp) -> Iterator[None]:
    """Nothing held before; pointer at rest; nothing held after (asserted).

    Uses ``qapp`` for its X connection: Xvfb resets (pointer back to the centre) whenever
    its last client disconnects, e.g. each time xdotool exits.
    """
    release_stuck_input()
    xdotool("mousemove", str(NEUTRAL[0]), str(NEUTRAL[1]))
    deadline = time.monotonic() + 3
    while pointer() != NEUTRAL:
        assert time.monotonic() < deadline, "could not put the pointer at rest"
        time.sleep(0.01)  # polling interval of this deadline loop
    try:
        yield
    finally:
        restore_pointer_root_focus()
    assert query_held() == ([], []), "the test left input held in the X server"


class Background:
    """Run ``fn`` on a worker thread; `wait` keeps the Qt loop running meanwhile."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.result: object = None
        self.error: BaseException | None = None

        def target() -> None:
            try:
                self.result = fn()
            except BaseException as exc:  # re-raised on the test thread
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def wait(self, qtbot, timeout_ms: int = 20_000):
        qtbot.waitUntil(lambda: not self.thread.is_alive(), timeout=timeout_ms)
        if self.error is not None:
            raise self.error
        return self.result


def fast(**kw) -> ReplayConfig:
    """A replay config for tests: quick settling and moves, no recording unless asked."""
    from deskmimic.agent.actuate import MotionConfig
    from deskmimic.agent.settle import SettleConfig

    kw.setdefault("record", False)
    kw.setdefault("settle", SettleConfig(threshold=1.0, quiet=1, interval_s=0.04, timeout_s=1.5))
    kw.setdefault("motion", MotionConfig(move_duration_s=0.1))
    return ReplayConfig(**kw)


def run_in_background(qtbot, runner: ReplayRunner, timeout_ms: int = 20_000) -> ReplayResult:
    return Background(runner.run).wait(qtbot, timeout_ms)


# ---- tests ---------------------------------------------------------------------------------
def test_scripted_policy_clicks_types_and_is_recorded(qtbot, clean_input, tmp_path: Path) -> None:
    w = show_panel(qtbot)
    text = "Hi there, Ana!"
    policy = ScriptedPolicy([
        AgentAction("click", *w.local(w.buttons[1]), confidence=0.9),
        AgentAction("click", *w.local(w.field), confidence=0.8),
        AgentAction("type", text=text, confidence=0.7),
        AgentAction("hotkey", keys=("ctrl", "a")),
        AgentAction("type", text="New"),
    ])
    out = tmp_path / "replay"
    events: list[dict] = []
    cfg = fast(region=w.region(), instruction="Press Button 1, then type", record=True, out=out)
    result = run_in_background(qtbot, ReplayRunner(policy, cfg, on_event=events.append))
    qtbot.waitUntil(lambda: w.field.text() == "New", timeout=3000)
    assert w.clicks == [1]
    assert result.stop_reason == "done", result.message
    assert [a["status"] for a in result.actions] == ["executed"] * 5 + ["done"]
    assert result.pauses == []  # the agent's own typing never looks like the person's
    assert policy.observations[0]["image"].shape == (300, 400, 3)
    assert policy.observations[0]["instruction"] == "Press Button 1, then type"
    assert [e["step"] for e in events if e["event"] == "step"] == list(range(6))

    # the replay is an ordinary episode; its meta and replay.jsonl list the decisions
    ep = Episode.open(result.episode)
    assert ep.status == "complete" and ep.instruction == "Press Button 1, then type"
    assert ep.extra["replay"]["stop_reason"] == "done"
    assert [a["action"]["confidence"] for a in ep.extra["agent_actions"]] == [0.9, 0.8, 0.7, 1.0, 1.0, 1.0]
    lines = [json.loads(x) for x in (out / REPLAY_LOG).read_text().splitlines()]
    assert [x["action"]["kind"] for x in lines] == ["click", "click", "type", "hotkey", "type", "done"]
    downs = [(e["x"], e["y"]) for e in ep.read_events() if e["type"] == "button_down"]
    assert downs == [w.local(w.buttons[1]), w.local(w.field)]  # recorded where the agent clicked
    assert ep.frame_count > 3


def test_low_confidence_stops_with_a_reason(qtbot, clean_input) -> None:
    w = show_panel(qtbot)
    policy = ScriptedPolicy([AgentAction("click", *w.local(w.buttons[0]), confidence=0.12)])
    result = run_in_background(qtbot, ReplayRunner(policy, fast(region=w.region(), min_confidence=0.3)))
    assert result.stop_reason == "low_confidence"
    assert "0.12 < --min-confidence 0.30" in result.message
    assert result.actions[0]["status"] == "low_confidence"
    qtbot.wait(200)  # a duration, not a sync: a click that never came cannot be waited for
    assert w.clicks == []
    assert pointer() == NEUTRAL  # it never even moved toward the button


def test_action_outside_the_region_is_refused(qtbot, clean_input) -> None:
    w = show_panel(qtbot)
    policy = ScriptedPolicy([AgentAction("drag", 50, 50, x2=450, y2=120)])  # ends 50 px outside
    result = run_in_background(qtbot, ReplayRunner(policy, fast(region=w.region())))
    assert result.stop_reason == "refused"
    assert "(450, 120) lies outside the recorded 400x300 area" in result.message
    assert pointer() == NEUTRAL
    assert query_held() == ([], [])


def test_moved_window_is_found_again_by_title(qtbot, clean_input) -> None:
    w = show_panel(qtbot, x=150, y=120, title="deskmimic moving window")
    # The first click moves the window, as a real app's dialog might jump between steps.
    w.buttons[0].clicked.connect(lambda: len(w.clicks) == 1 and w.move(w.x() + 300, w.y() + 220))
    target = w.local(w.buttons[0])
    policy = ScriptedPolicy([AgentAction("click", *target), AgentAction("click", *target)])
    result = run_in_background(qtbot, ReplayRunner(policy, fast(window="deskmimic moving window")))
    assert result.stop_reason == "done", result.message
    qtbot.waitUntil(lambda: w.clicks == [0, 0], timeout=3000)  # the second click found it too
    first, second = (a["region"] for a in result.actions[:2])
    assert (second["left"] - first["left"], second["top"] - first["top"]) == (300, 220)


def test_dry_run_injects_nothing_and_draws_the_action(qtbot, clean_input, tmp_path: Path) -> None:
    w = show_panel(qtbot)
    x, y = w.local(w.buttons[0])
    policy = ScriptedPolicy([AgentAction("click", x, y, confidence=0.77), AgentAction("type", text="x")])
    cfg = fast(region=w.region(), dry_run=True, out=tmp_path / "dry")
    result = run_in_background(qtbot, ReplayRunner(policy, cfg))
    assert result.stop_reason == "done"
    assert [a["status"] for a in result.actions] == ["dry_run", "dry_run", "done"]
    qtbot.wait(300)  # a duration: time for a stray click or key to arrive, were there one
    assert w.clicks == [] and w.field.text() == ""
    assert pointer() == NEUTRAL
    assert [p.name for p in result.annotated] == ["step_000.png", "step_001.png"]
    png = cv2.cvtColor(cv2.imread(str(result.annotated[0])), cv2.COLOR_BGR2RGB)
    raw = policy.observations[0]["image"]
    assert png.shape == raw.shape
    changed = np.any(png != raw, axis=2)
    ys, xs = np.nonzero(changed[40:, :])  # below the caption band
    assert abs(np.median(xs) - x) <= 3 and abs(np.median(ys) + 40 - y) <= 3  # drawn at the target
    assert (png[y, x + 14] == (255, 0, 255)).all() or (png[y, x - 14] == (255, 0, 255)).all()


def test_step_mode_asks_before_each_action(qtbot, clean_input) -> None:
    w = show_panel(qtbot)
    asked: list[tuple[int, str]] = []

    def confirm(step: int, action: AgentAction, preview: np.ndarray) -> bool:
        asked.append((step, action.kind))
        assert preview.shape == (300, 400, 3)
        return step == 0  # yes to the first click, no to the second

    policy = ScriptedPolicy([AgentAction("click", *w.local(w.buttons[0])),
                             AgentAction("click", *w.local(w.buttons[1]))])
    result = run_in_background(qtbot, ReplayRunner(policy, fast(region=w.region(), step=True),
                                                   confirm=confirm))
    assert asked == [(0, "click"), (1, "click")]
    assert result.stop_reason == "declined"
    assert result.message.startswith("step 2 (click"), "people count steps from 1, as the log does"
    qtbot.waitUntil(lambda: w.clicks == [0], timeout=3000)
    qtbot.wait(200)  # a duration: time for a declined second click to arrive, were there one
    assert w.clicks == [0]


class _CrashingPolicy(ScriptedPolicy):
    """Leaves input held through the runner's injector, then fails (a buggy policy)."""

    runner: ReplayRunner

    def act(self, observation):
        if len(self.observations) == 1:
            self.runner.injector.key_down("shift")
            self.runner.injector.button_down("left")
            assert query_held()[0] == ["left"]
            raise RuntimeError("policy crashed")
        return super().act(observation)


def test_exception_inside_the_loop_releases_held_input(qtbot, clean_input, tmp_path: Path) -> None:
    w = show_panel(qtbot)
    policy = _CrashingPolicy([AgentAction("click", *w.local(w.buttons[0]))])
    runner = ReplayRunner(policy, fast(region=w.region(), record=True, out=tmp_path / "ep"))
    policy.runner = runner
    with pytest.raises(RuntimeError, match="policy crashed"):
        run_in_background(qtbot, runner)
    assert query_held() == ([], [])
    assert runner.injector.closed
    meta = json.loads((tmp_path / "ep" / "meta.json").read_text())
    assert meta["status"] == "complete"  # the replay recording was finalized anyway
    assert meta["extra"]["replay"]["stop_reason"] == "error"
    assert "policy crashed" in meta["extra"]["replay"]["message"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_to_a_running_agent_releases_held_input(clean_input, tmp_path: Path, sig: int,
                                                       code: int) -> None:
    script = tmp_path / "drag.jsonl"
    # a slow drag: the left button is held for seconds while the pointer moves
    script.write_text(json.dumps({"kind": "drag", "x": 20, "y": 20, "x2": 380, "y2": 260}) + "\n")
    out = tmp_path / "ep"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deskmimic.app.cli", "replay", "--policy", str(script),
         "--region", "400x300+100+100", "--out", str(out), "--move-duration", "0.1",
         "--drag-duration", "4", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while query_held()[0] != ["left"]:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the agent never started its drag"
            time.sleep(0.02)  # polling interval of this deadline loop
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert query_held() == ([], []), stderr
    assert proc.returncode == code, stderr
    result = json.loads(stdout)
    assert result["stop_reason"] == "signal", result
    assert Episode.open(out).status == "complete"
