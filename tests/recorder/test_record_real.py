"""Recording a real Qt window while real X input (xdotool -> XTEST) is injected."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.hotkey import key_token
from deskmimic.recorder.record import Recorder
from deskmimic.recorder.windows_x11 import list_windows
from tests.fixtures.reaction_window import ReactionWindow
from tests.fixtures.recording import (
    recorded_events,
    recorded_frame_times,
    wait_listening,
    wait_recorded,
)
from tests.fixtures.screen import wait_on_screen


def _show(qtbot, pos=(200, 150)) -> ReactionWindow:
    w = ReactionWindow()
    qtbot.addWidget(w)
    w.move(*pos)
    w.show()
    qtbot.waitExposed(w)
    wait_on_screen(qtbot, w)  # the recorder records the screen: the window must be on it
    return w


def _region(w) -> Rect:
    g = w.geometry()
    top_left = w.mapToGlobal(w.rect().topLeft())
    return Rect(top_left.x(), top_left.y(), g.width(), g.height())


def _xdotool(qtbot, *args: str) -> None:
    proc = subprocess.Popen(["xdotool", *args])
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=20000)
    assert proc.returncode == 0


def _has(events: list[dict], kind: str, x: int, y: int) -> bool:
    return any(e["type"] == kind and (e["x"], e["y"]) == (x, y) for e in events)


def _typed(events: list[dict]) -> str:
    return "".join(e["char"] for e in events if e["type"] == "key_down" and e.get("char"))


def _all_released(events: list[dict]) -> bool:
    downs = sum(e["type"] == "key_down" for e in events)
    return downs > 0 and downs == sum(e["type"] == "key_up" for e in events)


def test_every_injected_event_is_recorded_in_order_with_exact_coordinates(qtbot, tmp_path: Path):
    w = _show(qtbot)
    region = _region(w)
    btn = w.button.mapToGlobal(w.button.rect().center())
    fld = w.field.mapToGlobal(w.field.rect().center())
    rec = Recorder(RecordConfig(out=tmp_path / "ep", region=region, fps=30)).start()
    L, T = region.left, region.top
    wait_listening(qtbot, rec, L + 5, T + 5)  # a point apart from the moves checked below
    moves = [(L + 10, T + 10), (L + 37, T + 251), (btn.x(), btn.y())]
    for x, y in moves:
        _xdotool(qtbot, "mousemove", str(x), str(y))
        wait_recorded(qtbot, rec, lambda evs, x=x, y=y: _has(evs, "move", x - L, y - T),
                      f"the move to {(x - L, y - T)}")
    _xdotool(qtbot, "mousedown", "1")
    _xdotool(qtbot, "mouseup", "1")
    wait_recorded(qtbot, rec, lambda evs: _has(evs, "button_up", btn.x() - L, btn.y() - T),
                  "the click on the button")
    # a drag from one corner area to another
    _xdotool(qtbot, "mousemove", str(L + 20), str(T + 200))
    _xdotool(qtbot, "mousedown", "1")
    _xdotool(qtbot, "mousemove", str(L + 60), str(T + 220))
    _xdotool(qtbot, "mousemove", str(L + 120), str(T + 240))
    _xdotool(qtbot, "mouseup", "1")
    # scroll: two clicks up, one down
    _xdotool(qtbot, "click", "4")
    _xdotool(qtbot, "click", "4")
    _xdotool(qtbot, "click", "5")
    # type with shifted characters into the field, then a chord
    _xdotool(qtbot, "mousemove", str(fld.x()), str(fld.y()))
    _xdotool(qtbot, "mousedown", "1")
    _xdotool(qtbot, "mouseup", "1")
    text = "Hi! A_b{~}"
    _xdotool(qtbot, "type", "--delay", "30", text)
    _xdotool(qtbot, "key", "ctrl+a")
    qtbot.waitUntil(lambda: w.field.text() == text, timeout=5000)
    # Stop only once the recording holds every key typed, and every key's release.
    wait_recorded(qtbot, rec, lambda evs: _typed(evs) == text + "a" and _all_released(evs),
                  f"{text!r} and ctrl+a, every key released")
    summary = rec.stop()
    assert summary.status == "complete"
    assert check_episode(summary.path) == []

    ep = Episode.open(summary.path)
    events = ep.read_events()
    ts = [e["t"] for e in events]
    assert ts == sorted(ts)
    assert events[0] == {**events[0], "type": "marker", "name": "start"}
    assert events[-1]["type"] == "marker" and events[-1]["name"] == "stop_api"

    move_xy = [(e["x"], e["y"]) for e in events if e["type"] == "move"]
    expected_moves = [(x - L, y - T) for x, y in moves]
    it = iter(move_xy)
    assert all(m in it for m in expected_moves), (expected_moves, move_xy)

    pointer = [(e["type"], e.get("button"), e["x"], e["y"]) for e in events
               if e["type"] in ("button_down", "button_up")]
    bx, by = btn.x() - L, btn.y() - T
    fx, fy = fld.x() - L, fld.y() - T
    assert pointer == [
        ("button_down", "left", bx, by), ("button_up", "left", bx, by),
        ("button_down", "left", 20, 200), ("button_up", "left", 120, 240),
        ("button_down", "left", fx, fy), ("button_up", "left", fx, fy),
    ]
    drag_moves = [(e["x"], e["y"]) for e in events if e["type"] == "move"]
    assert (60, 220) in drag_moves and (120, 240) in drag_moves
    scrolls = [(e["dy"], e["x"], e["y"]) for e in events if e["type"] == "scroll"]
    assert scrolls == [(1, 120, 240), (1, 120, 240), (-1, 120, 240)]
    assert w.wheel_total == 1

    keys = [e for e in events if e["type"] in ("key_down", "key_up")]
    typed = [e["char"] for e in keys if e["type"] == "key_down" and e["char"]]
    assert "".join(typed) == text + "a"
    # each shifted character is pressed with shift held
    # (downs and ups pair by keycode: a shifted key's release reports the unshifted keysym)
    held: dict[int, str] = {}
    for e in keys:
        if e["type"] == "key_down":
            if e["char"] and e["char"] in "HA!_{~}":
                assert "shift" in held.values(), e
            held[e["keycode"]] = key_token(e["key"])
        else:
            assert e["keycode"] in held, e
            del held[e["keycode"]]
    assert not held  # every key released again
    chord = [key_token(e["key"]) for e in keys[-4:]]
    assert chord[0] == "ctrl" and chord[1] == "a"
    assert all(e.get("keycode") for e in keys)


def test_frames_show_the_reaction_only_after_the_click(qtbot, tmp_path: Path):
    w = _show(qtbot, pos=(500, 300))
    region = _region(w)
    btn = w.button.mapToGlobal(w.button.rect().center())
    rec = Recorder(RecordConfig(out=tmp_path / "ep", region=region, fps=30)).start()
    _xdotool(qtbot, "mousemove", str(btn.x()), str(btn.y()))
    # Until the recording holds the frames checked below: 10 before the click ...
    qtbot.waitUntil(lambda: len(recorded_frame_times(rec)) >= 10, timeout=10_000)
    _xdotool(qtbot, "mousedown", "1")
    _xdotool(qtbot, "mouseup", "1")

    def frames_after_click() -> int:
        clicks = [e["t"] for e in recorded_events(rec) if e["type"] == "button_down"]
        if not clicks:
            return 0
        return sum(t > clicks[0] + 150_000_000 for t in recorded_frame_times(rec))

    # ... and 10 more than 150 ms after it.
    qtbot.waitUntil(lambda: frames_after_click() >= 10, timeout=10_000)
    summary = rec.stop()
    ep = Episode.open(summary.path)
    t_click = next(e["t"] for e in ep.read_events() if e["type"] == "button_down")

    def is_red(img: np.ndarray) -> bool:
        r, g, b = (int(v) for v in img[8, 8])
        return r > 150 and g < 100

    before = [i for i, t in enumerate(ep.frame_times) if t < t_click]
    after = [i for i, t in enumerate(ep.frame_times) if t > t_click + 150_000_000]
    assert len(before) >= 10 and len(after) >= 10
    assert not any(is_red(ep.frame(i)) for i in before)
    assert all(is_red(ep.frame(i)) for i in after)


@pytest.mark.parametrize("with_wm", [False, True], ids=["bare-xvfb", "openbox"])
def test_window_picked_by_title(qtbot, tmp_path: Path, request, with_wm: bool):
    if with_wm:
        request.getfixturevalue("window_manager")
    w = _show(qtbot, pos=(300, 200))
    w.setWindowTitle("deskmimic unique title 42")
    # Until the new title has reached the X server, where the recorder looks for it.
    qtbot.waitUntil(lambda: any(x.title == w.windowTitle() for x in list_windows()), timeout=5000)
    rec = Recorder(RecordConfig(out=tmp_path / "ep", window="unique title 42", fps=15,
                                listen_input=False)).start()
    qtbot.wait(500)  # a duration: record half a second of the window
    summary = rec.stop()
    ep = Episode.open(summary.path)
    assert ep.region == _region(w)
    assert ep.meta["geometry"]["source"] == "window"
    frame = ep.frame(ep.frame_count - 1)
    assert frame.shape == (300, 400, 3)
    r, g, b = (int(v) for v in frame[8, 8])
    assert g > 100 and r < 100  # the window's green background, not something else


def test_a_recorded_window_that_closes_ends_the_recording_with_a_message(qtbot, tmp_path: Path):
    w = _show(qtbot, pos=(300, 200))
    w.setWindowTitle("deskmimic closing window 7")
    qtbot.waitUntil(lambda: any(x.title == w.windowTitle() for x in list_windows()), timeout=5000)
    rec = Recorder(RecordConfig(out=tmp_path / "ep", window="closing window 7", fps=15,
                                listen_input=False)).start()
    qtbot.wait(400)  # a duration: some frames of the window first
    assert not rec.stop_requested
    w.close()
    qtbot.waitUntil(lambda: rec.stop_requested, timeout=3000)
    summary = rec.stop()
    assert summary.stop_reason == "window_closed"
    assert "'deskmimic closing window 7' was closed" in summary.error
    assert summary.status == "complete" and check_episode(summary.path) == []
    assert Episode.open(summary.path).frame_count >= 3
