"""Event reduction rules (docs/steps.md) on hand-written event sequences. Pure logic, fast."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from deskmimic.core.errors import ConfigError
from deskmimic.models.data.steps import (
    KINDS,
    SettleRules,
    Step,
    format_steps_table,
    reduce_events,
    steps_for_episode,
    steps_to_jsonable,
)

MS = 1_000_000
_SPECIAL = {"shift": 50, "shift_r": 62, "ctrl": 37, "ctrl_l": 37, "ctrl_r": 105, "alt": 64,
            "alt_gr": 108, "caps_lock": 66, "enter": 36, "backspace": 22, "tab": 23, "esc": 9,
            "space": 65, "down": 116, "f5": 71, "cmd": 133}
_US_SHIFTED = dict(zip('~!@#$%^&*()_+{}|:"<>?', "`1234567890-=[]\\;',./", strict=True))


class Rec:
    """Builds pynput-like events on a fake clock (times in ms, stored as ns)."""

    def __init__(self, keycodes: bool = True):
        self.t = 0
        self.events: list[dict] = []
        self.keycodes = keycodes

    def add(self, typ: str, dt: float, **fields) -> Rec:
        self.t += int(dt * MS)
        self.events.append({"t": self.t, "type": typ, **fields})
        return self

    def wait(self, ms: float) -> Rec:
        self.t += int(ms * MS)
        return self

    def move(self, x: int, y: int, dt: float = 10) -> Rec:
        return self.add("move", dt, x=x, y=y)

    def down(self, x: int, y: int, button: str = "left", dt: float = 10) -> Rec:
        return self.add("button_down", dt, x=x, y=y, button=button)

    def up(self, x: int, y: int, button: str = "left", dt: float = 10) -> Rec:
        return self.add("button_up", dt, x=x, y=y, button=button)

    def click(self, x: int, y: int, button: str = "left", dt: float = 10, hold: float = 60) -> Rec:
        return self.down(x, y, button, dt).up(x, y, button, hold)

    def scroll(self, x: int, y: int, dy: int, dx: int = 0, dt: float = 10) -> Rec:
        return self.add("scroll", dt, x=x, y=y, dx=dx, dy=dy)

    def _key(self, typ: str, key: str, dt: float) -> Rec:
        special = len(key) > 1
        fields = {"key": key, "code": 0xFF00 + _SPECIAL.get(key, 0) if special else ord(key),
                  "char": None if special else key}
        if self.keycodes:
            base = _US_SHIFTED.get(key, key.lower())
            fields["keycode"] = _SPECIAL.get(key, 0) if special else 1000 + ord(base)
        return self.add(typ, dt, **fields)

    def kdown(self, key: str, dt: float = 30) -> Rec:
        return self._key("key_down", key, dt)

    def kup(self, key: str, dt: float = 30) -> Rec:
        return self._key("key_up", key, dt)

    def tap(self, key: str, dt: float = 30, hold: float = 40) -> Rec:
        return self.kdown(key, dt).kup(key, hold)

    def text(self, s: str) -> Rec:
        for c in s:
            self.tap(c)
        return self

    def marker(self, name: str = "stop_hotkey", dt: float = 10) -> Rec:
        return self.add("marker", dt, name=name)


def check_invariants(events: list[dict], steps: list[Step]) -> None:
    """Every non-marker event is owned by exactly one step; ranges are ordered, disjoint,
    start and end on owned events; times match; `done` is last and only last."""
    n = len(events)
    assert [s.index for s in steps] == list(range(len(steps)))
    assert steps and steps[-1].kind == "done"
    assert all(s.kind in KINDS for s in steps)
    assert [s.kind for s in steps].count("done") == 1
    owner = [[] for _ in range(n)]
    for s in steps:
        a, b = s.events
        assert 0 <= a <= b <= n
        for i in range(a, b):
            owner[i].append(s.index)
        if s.kind != "done":
            assert a < b, s
            assert events[a]["type"] != "marker" and events[b - 1]["type"] != "marker", s
            assert s.t_start == events[a]["t"] and s.t_end == events[b - 1]["t"], s
        assert s.t_start <= s.t_end
    for i, ev in enumerate(events):
        if ev.get("type") == "marker":
            continue
        assert len(owner[i]) == 1, f"event {i} {ev} owned by steps {owner[i]}"
    for s, nxt in zip(steps, steps[1:], strict=False):
        assert s.events[1] <= nxt.events[0]
        assert s.t_start <= nxt.t_start


SEQUENCES: dict[str, Callable[[], Rec]] = {}


def sequence(fn: Callable[[], Rec]) -> Callable[[], Rec]:
    SEQUENCES[fn.__name__] = fn
    return fn


def reduce(rec: Rec, **rules) -> list[Step]:
    steps = reduce_events(rec.events, **rules)
    check_invariants(rec.events, steps)
    return steps


def kinds(steps: list[Step]) -> list[str]:
    return [s.kind for s in steps]


# ---- sequences --------------------------------------------------------------------------
@sequence
def seq_move_click() -> Rec:
    return (Rec().marker("start").wait(500).move(10, 10).move(50, 40).move(100, 80)
            .click(100, 80).move(110, 90).move(300, 300).click(300, 300).marker())


@sequence
def seq_double_click() -> Rec:
    return Rec().move(5, 5).click(100, 100).click(102, 101, dt=150)


@sequence
def seq_slow_clicks() -> Rec:
    return Rec().click(100, 100).click(100, 100, dt=600)


@sequence
def seq_far_clicks() -> Rec:
    return Rec().click(100, 100).click(120, 100, dt=100)


@sequence
def seq_triple_click() -> Rec:
    return Rec().click(50, 50).click(50, 50, dt=100).click(50, 50, dt=100)


@sequence
def seq_other_buttons() -> Rec:
    return Rec().click(10, 10, "right").click(20, 20, "middle").click(30, 30, "x1")


@sequence
def seq_jitter_click() -> Rec:
    return Rec().down(200, 200).move(202, 201).move(204, 203).move(201, 202).up(203, 203)


@sequence
def seq_drag() -> Rec:
    return Rec().move(190, 190).down(200, 200).move(210, 205).move(260, 240).up(300, 250)


@sequence
def seq_hello_shifted() -> Rec:
    # shift released before the key: the key_up reports the unshifted char ('h', '1')
    return (Rec().kdown("shift").kdown("H").kup("shift").kup("h").text("ello")
            .kdown("shift").kdown("!").kup("1").kup("shift"))


@sequence
def seq_hello_shifted_no_keycode() -> Rec:
    rec = seq_hello_shifted()
    for ev in rec.events:
        ev.pop("keycode", None)
    return rec


@sequence
def seq_caps_lock() -> Rec:
    return (Rec().tap("caps_lock").text("ab").kdown("shift").tap("C").kup("shift")
            .tap("1").tap("caps_lock").text("d"))


@sequence
def seq_key_repeat() -> Rec:
    rec = Rec().kdown("a")
    for _ in range(4):
        rec.kdown("a", dt=33)
    return rec.kup("a").text("b")


@sequence
def seq_arrow_repeat() -> Rec:
    return Rec().kdown("down").kdown("down", dt=33).kdown("down", dt=33).kup("down")


@sequence
def seq_chords() -> Rec:
    return (Rec().kdown("ctrl_l").tap("s").kup("ctrl_l").wait(300)
            .kdown("ctrl").kdown("shift").tap("T").kup("shift").kup("ctrl").wait(300)
            .kdown("ctrl").tap("c").tap("v").kup("ctrl"))


@sequence
def seq_lone_specials() -> Rec:
    return Rec().text("abc").tap("enter").tap("tab").tap("f5").text("d")


@sequence
def seq_rolled_enter() -> Rec:
    # fast typing: 'o' is released after enter went down
    return Rec().text("hell").kdown("o").kdown("enter").kup("o").kup("enter")


@sequence
def seq_rolled_chord() -> Rec:
    return Rec().text("ab").kdown("c").kdown("ctrl").kup("c").tap("s").kup("ctrl")


@sequence
def seq_backspace() -> Rec:
    return Rec().tap("backspace").text("helo").tap("backspace").text("lo").wait(2000).tap("backspace")


@sequence
def seq_space() -> Rec:
    return Rec().text("a").tap("space").text("b")


@sequence
def seq_scroll_burst() -> Rec:
    return (Rec().move(400, 300).scroll(400, 300, -1).scroll(401, 300, -1, dt=80)
            .scroll(401, 301, -1, dt=120).wait(1000).scroll(400, 300, -2))


@sequence
def seq_scroll_split() -> Rec:
    return (Rec().scroll(400, 300, -1).scroll(400, 300, 1, dt=50)
            .scroll(600, 300, 1, dt=50).scroll(600, 300, 0, dx=1, dt=50))


@sequence
def seq_ctrl_scroll_click() -> Rec:
    return Rec().kdown("ctrl").scroll(10, 10, 1).click(20, 20, dt=100).kup("ctrl")


@sequence
def seq_marker_splits_typing() -> Rec:
    return Rec().text("ab").marker("stop_api").text("cd").marker("stop_hotkey")


@sequence
def seq_idle_typing() -> Rec:
    return Rec().text("ab").wait(2000).text("cd").wait(1000).text("e")


@sequence
def seq_raw() -> Rec:
    rec = Rec().up(10, 10).kup("q").text("ok").add("wheel_tilt", 10, x=1).kup("z")
    rec.add("move", 10, x="bad")
    return rec.kup("shift").click(30, 30)


@sequence
def seq_orphan_modifier_up() -> Rec:
    return Rec().kup("ctrl_r").click(30, 30)


@sequence
def seq_press_oddities() -> Rec:
    return (Rec().down(10, 10).down(10, 10, "right").up(10, 10, "right").up(10, 10)
            .down(50, 50).move(300, 300).tap("esc").up(300, 300).down(60, 60))


@sequence
def seq_lone_modifiers() -> Rec:
    return Rec().tap("ctrl").text("ab").tap("shift").text("c").tap("cmd")


@sequence
def seq_alt_gr() -> Rec:
    return Rec().text("a").kdown("alt_gr").tap("@").kup("alt_gr").text("b")


@sequence
def seq_trailing() -> Rec:
    return Rec().click(5, 5).move(40, 40).move(60, 60).marker().kup("ctrl")


# ---- rules ------------------------------------------------------------------------------
def test_moves_fold_into_the_next_pointer_step() -> None:
    rec = seq_move_click()
    steps = reduce(rec)
    assert kinds(steps) == ["click", "click", "done"]
    first_move = rec.events[1]
    assert first_move["type"] == "move"
    assert steps[0].t_start == first_move["t"] and steps[0].events[0] == 1
    assert (steps[0].x, steps[0].y, steps[0].button) == (100, 80, "left")
    # the second click starts at the first move after the first click ended
    after = steps[0].events[1]
    assert rec.events[after]["type"] == "move" and steps[1].t_start == rec.events[after]["t"]
    assert steps[1].x == 300


def test_double_click_vs_slow_and_far_clicks() -> None:
    steps = reduce(seq_double_click())
    assert kinds(steps) == ["double_click", "done"]
    assert (steps[0].x, steps[0].y) == (100, 100)
    assert kinds(reduce(seq_slow_clicks())) == ["click", "click", "done"]
    assert kinds(reduce(seq_far_clicks())) == ["click", "click", "done"]
    # the interval is a rule
    assert kinds(reduce(seq_slow_clicks(), double_click_ms=800)) == ["double_click", "done"]


def test_triple_click_is_double_then_click() -> None:
    assert kinds(reduce(seq_triple_click())) == ["double_click", "click", "done"]


def test_right_middle_and_unknown_buttons() -> None:
    steps = reduce(seq_other_buttons())
    assert kinds(steps) == ["right_click", "middle_click", "raw", "done"]
    assert steps[0].button == "right" and steps[1].button == "middle"


def test_jitter_stays_a_click_and_drag_has_both_ends() -> None:
    steps = reduce(seq_jitter_click())
    assert kinds(steps) == ["click", "done"] and (steps[0].x, steps[0].y) == (200, 200)
    assert steps[0].x2 is None
    steps = reduce(seq_drag())
    assert kinds(steps) == ["drag", "done"]
    s = steps[0]
    assert (s.x, s.y, s.x2, s.y2, s.button) == (200, 200, 300, 250, "left")
    assert s.events[0] == 0  # the move before the press is folded in
    assert kinds(reduce(seq_drag(), drag_px=200)) == ["click", "done"]


@pytest.mark.parametrize("name", ["seq_hello_shifted", "seq_hello_shifted_no_keycode"])
def test_shifted_characters_and_unshifted_key_up(name: str) -> None:
    steps = reduce(SEQUENCES[name]())
    assert kinds(steps) == ["type", "done"]
    assert steps[0].text == "Hello!"
    assert steps[0].events == (0, len(SEQUENCES[name]().events))


def test_caps_lock_applies_to_letters_only() -> None:
    steps = reduce(seq_caps_lock())
    assert kinds(steps) == ["type", "done"]
    assert steps[0].text == "ABc1d"


def test_key_repeat_repeats_characters_and_hotkeys() -> None:
    steps = reduce(seq_key_repeat())
    assert [(s.kind, s.text) for s in steps] == [("type", "aaaaab"), ("done", None)]
    steps = reduce(seq_arrow_repeat())
    assert kinds(steps) == ["hotkey"] * 3 + ["done"]
    assert all(s.keys == ("down",) for s in steps[:3])


def test_chords() -> None:
    steps = reduce(seq_chords())
    assert [s.keys for s in steps if s.kind == "hotkey"] == [
        ("ctrl", "s"), ("ctrl", "shift", "t"), ("ctrl", "c"), ("ctrl", "v")]
    assert kinds(steps) == ["hotkey"] * 4 + ["done"]


def test_lone_special_keys_are_hotkeys() -> None:
    steps = reduce(seq_lone_specials())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("type", "abc", ()), ("hotkey", None, ("enter",)), ("hotkey", None, ("tab",)),
        ("hotkey", None, ("f5",)), ("type", "d", ()), ("done", None, ())]


def test_rolled_keys_keep_ranges_disjoint() -> None:
    steps = reduce(seq_rolled_enter())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("type", "hello", ()), ("hotkey", None, ("enter",)), ("done", None, ())]
    steps = reduce(seq_rolled_chord())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("type", "abc", ()), ("hotkey", None, ("ctrl", "s")), ("done", None, ())]


def test_backspace_edits_the_run_else_is_a_hotkey() -> None:
    steps = reduce(seq_backspace())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("hotkey", None, ("backspace",)), ("type", "hello", ()),
        ("hotkey", None, ("backspace",)), ("done", None, ())]


def test_space_is_typed() -> None:
    assert [s.text for s in reduce(seq_space())] == ["a b", None]


def test_scroll_bursts_merge_and_separate() -> None:
    steps = reduce(seq_scroll_burst())
    assert [(s.kind, s.dy) for s in steps] == [("scroll", -3), ("scroll", -2), ("done", 0)]
    assert (steps[0].x, steps[0].y) == (400, 300) and steps[0].events[0] == 0
    steps = reduce(seq_scroll_split())  # direction change, another place, another axis
    assert [(s.kind, s.dx, s.dy, s.x) for s in steps[:-1]] == [
        ("scroll", 0, -1, 400), ("scroll", 0, 1, 400), ("scroll", 1, 1, 600)]


def test_modifiers_on_pointer_steps() -> None:
    steps = reduce(seq_ctrl_scroll_click())
    assert [(s.kind, s.keys) for s in steps] == [
        ("scroll", ("ctrl",)), ("click", ("ctrl",)), ("done", ())]


def test_markers_are_stripped_and_end_steps() -> None:
    rec = seq_marker_splits_typing()
    steps = reduce(rec)
    assert [(s.kind, s.text) for s in steps] == [("type", "ab"), ("type", "cd"), ("done", None)]
    assert steps[-1].t_start == rec.events[-1]["t"]  # done: the stop marker's time
    steps = reduce(seq_move_click())
    assert all(s.kind != "raw" for s in steps)


def test_idle_splits_typing() -> None:
    steps = reduce(seq_idle_typing())
    assert [s.text for s in steps] == ["ab", "cde", None]  # 2 s splits, 1 s does not
    assert [s.text for s in reduce(seq_idle_typing(), idle_gap_ms=3000)] == ["abcde", None]


def test_raw_fallback_never_drops_input() -> None:
    rec = seq_raw()
    steps = reduce(rec)
    assert kinds(steps) == ["raw", "type", "raw", "click", "done"]
    assert steps[0].events == (0, 2)  # the orphan button_up and key_up
    assert steps[1].text == "ok"
    # unknown type, orphan key_up, malformed move (+ the orphan shift up, attached)
    assert steps[2].events == (6, 10)
    # an orphan modifier release alone is no raw step: it joins the next step
    steps = reduce(seq_orphan_modifier_up())
    assert kinds(steps) == ["click", "done"] and steps[0].events == (0, 3)


def test_press_oddities_are_raw() -> None:
    steps = reduce(seq_press_oddities())
    assert kinds(steps) == ["raw", "raw", "raw", "done"]  # button chord, esc mid-drag, no up


def test_lone_modifiers() -> None:
    steps = reduce(seq_lone_modifiers())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("hotkey", None, ("ctrl",)), ("type", "abc", ()), ("hotkey", None, ("cmd",)),
        ("done", None, ())]


def test_alt_gr_characters_are_typed() -> None:
    assert [s.text for s in reduce(seq_alt_gr())] == ["a@b", None]


def test_done_is_last_and_owns_trailing_events() -> None:
    rec = seq_trailing()
    steps = reduce(rec)
    assert kinds(steps) == ["click", "done"]
    assert steps[-1].events == (2, len(rec.events))
    assert steps[-1].t_start == rec.events[-1]["t"]
    empty = reduce_events([])
    assert [(s.kind, s.t_start, s.events) for s in empty] == [("done", 0, (0, 0))]


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_coverage_invariant(name: str) -> None:
    rec = SEQUENCES[name]()
    check_invariants(rec.events, reduce_events(rec.events))


def test_rules_are_validated() -> None:
    with pytest.raises(ConfigError, match="double_clik_ms"):
        reduce_events([], double_clik_ms=300)
    with pytest.raises(ConfigError, match="drag_px"):
        reduce_events([], drag_px=0)


# ---- state frames -----------------------------------------------------------------------
class FakeEpisode:
    """The attributes of recorder.episode.Episode that steps_for_episode uses."""

    def __init__(self, events: list[dict], frames: list[np.ndarray], times_ms: list[int]):
        self._events = events
        self._frames = frames
        self.frame_times = np.array(times_ms, dtype=np.int64) * MS
        self.reads: list[int] = []

    def read_events(self) -> list[dict]:
        return list(self._events)

    def frame(self, i: int) -> np.ndarray:
        self.reads.append(i)
        return self._frames[i]


def _screen(level: int, box: int = 0) -> np.ndarray:
    img = np.full((80, 128, 3), level, np.uint8)
    img[10:10 + box, 10:10 + box] = 255 - level
    return img


def test_state_frame_is_settled_and_before_t_start() -> None:
    a, b = _screen(30), _screen(200)
    half = np.concatenate([b[:40], a[40:]])  # grabbed mid-repaint
    frames = [a, a, a, b, b, b, half, b, b, b]
    times = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]
    rec = (Rec().wait(50).move(1, 1).click(5, 5, hold=20)      # starts at 60 ms: frame 0
           .wait(170).move(9, 9).click(10, 10, hold=20)       # starts at 310 ms: 3 changed
           .wait(270).click(20, 20, hold=20)                  # starts at 650 ms: 6 mid-change
           .wait(300).marker())                               # done at 1000 ms: frame 9
    ep = FakeEpisode(rec.events, frames, times)
    steps = steps_for_episode(ep)
    assert kinds(steps) == ["click", "click", "click", "done"]
    assert [s.frame_index for s in steps] == [0, 2, 5, 9]
    assert ep.reads == sorted(set(ep.reads))  # decoded forward, each frame once
    # a small change (a caret, a cursor) does not count as unsettled
    frames2 = [a, a, _screen(30, box=3), _screen(30, box=3)]
    ep2 = FakeEpisode(Rec().wait(250).click(1, 1).events, frames2, [0, 100, 200, 300])
    assert steps_for_episode(ep2)[0].frame_index == 2
    # the walk back is bounded
    frames3 = [_screen(v) for v in (0, 40, 80, 120, 160, 200)]
    ep3 = FakeEpisode(Rec().wait(550).click(1, 1).events, frames3, [0, 100, 200, 300, 400, 500])
    assert steps_for_episode(ep3, settle=SettleRules(max_back=2))[0].frame_index == 3
    assert steps_for_episode(ep3)[0].frame_index == 0


def test_state_frame_keeps_a_change_that_its_successor_keeps() -> None:
    # A menu opens in the last frame before the pointer starts for its entry: the frame
    # differs from its predecessor, but the next one (grabbed as the pointer starts to
    # move) shows the same, so the change is finished and the popup is the state.
    closed, popup = _screen(30), _screen(30, box=40)
    half = popup.copy()
    half[30:] = closed[30:]  # the popup half painted
    rec = Rec().wait(330).click(5, 5, hold=20)  # starts at 330 ms: frame 3 is the last
    ep = FakeEpisode(rec.events, [closed] * 3 + [popup] * 3, [0, 100, 200, 300, 400, 500])
    assert steps_for_episode(ep)[0].frame_index == 3
    # half painted at 300 ms and whole at 400: the step keeps the last settled frame
    ep = FakeEpisode(rec.events, [closed] * 3 + [half] + [popup] * 2, [0, 100, 200, 300, 400, 500])
    assert steps_for_episode(ep)[0].frame_index == 2
    # no successor yet (the recording ends there): not known to be finished
    ep = FakeEpisode(rec.events, [closed] * 3 + [popup], [0, 100, 200, 300])
    assert steps_for_episode(ep)[0].frame_index == 2


def test_state_frame_unknown_before_first_frame_and_without_frames() -> None:
    rec = Rec().click(1, 1).wait(500).click(2, 2, dt=0)
    ep = FakeEpisode(rec.events, [_screen(0)] * 3, [100, 200, 300])
    assert [s.frame_index for s in steps_for_episode(ep)] == [None, 2, 2]
    empty = FakeEpisode(rec.events, [], [])
    assert all(s.frame_index is None for s in steps_for_episode(empty))


def test_jsonable_and_table() -> None:
    rec = Rec().click(3, 4).text("Hi").kdown("ctrl").tap("s").kup("ctrl").scroll(1, 1, -2)
    rec.down(10, 10).move(80, 80).up(90, 90).up(0, 0)
    steps = reduce(rec)
    data = steps_to_jsonable(steps)
    assert json.loads(json.dumps(data)) == data
    assert data[2]["keys"] == ["ctrl", "s"] and data[0]["events"] == [0, 2]
    table = format_steps_table(steps)
    lines = table.splitlines()
    assert len(lines) == len(steps) + 1 and lines[0].split()[:2] == ["#", "kind"]
    for needle in ("click", "'Hi'", "ctrl+s", "dy=-2", "(10, 10) -> (90, 90)", "raw", "done"):
        assert needle in table
