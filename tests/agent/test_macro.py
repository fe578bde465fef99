"""Literal macro replay: record a real episode (real Recorder + xdotool), replay it into a
fresh Qt window, and check what happened and what the divergence report says."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from deskmimic.agent.guards import GuardConfig
from deskmimic.agent.macro import MacroConfig, MacroPlayer, MacroResult
from deskmimic.core.config import RecordConfig
from deskmimic.recorder.record import Recorder
from deskmimic.recorder.windows_x11 import list_windows
from tests.agent.test_runner import (  # noqa: F401 - clean_input is a fixture
    Background,
    Panel,
    clean_input,
    show_panel,
    xdotool,
)
from tests.conftest import run_cli
from tests.fixtures.recording import wait_listening, wait_recorded
from tests.fixtures.screen import wait_on_screen

pytestmark = pytest.mark.usefixtures("clean_input")
TEXT = "Hi, Ana!"


def record_click_and_type(qtbot, out: Path) -> Panel:
    """Record: click Button 0, click the field, type TEXT. Returns the (closed) window."""
    w = show_panel(qtbot, x=200, y=150)
    r = w.region()
    bx, by = w.local(w.buttons[0])
    fx, fy = w.local(w.field)
    rec = Recorder(RecordConfig(out=out, region=r, fps=15, instruction="Press Button 0, type")).start()
    try:
        wait_listening(qtbot, rec, r.left + 20, r.top + 20)
        # The pauses below are the demonstration's pacing, durations and not syncs: a person
        # rests before each click, so the frames the replay compares with show a still screen.
        for x, y in ((r.left + 20, r.top + 20), (r.left + bx, r.top + by)):
            xdotool("mousemove", str(x), str(y))
            qtbot.wait(150)
        qtbot.wait(300)
        xdotool("mousedown", "1")
        xdotool("mouseup", "1")
        qtbot.wait(300)
        xdotool("mousemove", str(r.left + fx), str(r.top + fy))
        qtbot.wait(200)
        xdotool("mousedown", "1")
        xdotool("mouseup", "1")
        xdotool("type", "--delay", "40", TEXT)
        qtbot.waitUntil(lambda: w.field.text() == TEXT, timeout=5000)
        # Stop only once the recording holds every key typed, and every key's release.
        wait_recorded(qtbot, rec, lambda evs: _keys_done(evs, TEXT), f"{TEXT!r} typed and released")
    finally:
        rec.stop()
    assert w.clicks == [0]
    w.close()
    # Until the window is off the screen: the next one shown must not be confused with it.
    qtbot.waitUntil(lambda: all(x.title != w.windowTitle() for x in list_windows()), timeout=5000)
    return w


def _keys_done(events: list[dict], text: str) -> bool:
    downs = [e for e in events if e["type"] == "key_down"]
    typed = "".join(e["char"] for e in downs if e.get("char"))
    return typed == text and len(downs) == sum(e["type"] == "key_up" for e in events)


def play(qtbot, episode: Path, cfg: MacroConfig) -> MacroResult:
    steps: list = []
    player = MacroPlayer(episode, cfg, on_step=steps.append)
    result = Background(player.run).wait(qtbot, 30_000)
    assert steps == [s for s in result.steps if s.matched is not None]
    return result


def test_macro_replays_clicks_and_typing_into_a_fresh_window(qtbot, tmp_path: Path) -> None:
    record_click_and_type(qtbot, tmp_path / "ep")
    fresh = show_panel(qtbot, x=500, y=330)  # same app, elsewhere on screen
    cfg = MacroConfig(speed=2.0, wait_match=True, match_timeout_s=1.5, region_offset=(300, 180))
    result = play(qtbot, tmp_path / "ep", cfg)
    assert result.stop_reason == "finished", result.message
    qtbot.waitUntil(lambda: fresh.field.text() == TEXT, timeout=5000)
    assert fresh.clicks == [0]
    kinds = [s.kind for s in result.steps]
    assert kinds[:2] == ["click left", "click left"] and kinds[2].startswith("key ")
    assert all(s.matched for s in result.steps), [(s.kind, s.diff) for s in result.steps]
    assert result.first_divergence is None and result.events_skipped == 0
    assert (result.region.left, result.region.top) == (500, 330)


def test_wait_match_reports_where_a_different_screen_diverged(qtbot, tmp_path: Path) -> None:
    ep = tmp_path / "ep"
    record_click_and_type(qtbot, ep)
    other = show_panel(qtbot, x=200, y=150, color="#1565c0", buttons=1)  # looks different
    other.buttons[0].move(200, 150)  # and the button is elsewhere
    wait_on_screen(qtbot, other)  # the replay compares the screen: the move must show on it
    cfg = MacroConfig(wait_match=True, match_timeout_s=0.5, stop_on_diverge=True,
                      guards=GuardConfig(resume_idle_s=None))
    t0 = time.monotonic()
    result = play(qtbot, ep, cfg)
    assert result.stop_reason == "diverged"
    assert result.first_divergence == 0
    first = result.steps[0]
    assert first.matched is False and first.diff > cfg.match_threshold
    assert first.waited_s >= 0.5  # it waited for the screen to match before giving up
    assert time.monotonic() - t0 < 10
    qtbot.wait(200)  # a duration: time for a stray click or key to arrive, were there one
    assert other.clicks == [] and other.field.text() == ""  # nothing pressed after diverging

    # the CLI: a dry run lists the same steps and injects nothing; bad input is one clear line
    res = run_cli("macro", str(ep), "--dry-run", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["stop_reason"] == "dry_run"
    assert [s["kind"] for s in report["steps"]] == [s.kind for s in result.steps]
    assert "step   1/" in res.stderr
    assert other.clicks == []
    res = run_cli("macro", str(tmp_path / "missing"))
    assert res.returncode == 2 and "no such episode folder" in res.stderr
    res = run_cli("macro", str(ep), "--region-offset", "12")
    assert res.returncode == 2 and "expected DX,DY" in res.stderr
    res = run_cli("macro", str(ep), "--speed", "0")
    assert res.returncode == 2 and "--speed 0.0: must be in" in res.stderr
