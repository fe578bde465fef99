"""Event reduction rules (docs/steps.md) on hand-written event sequences. Pure logic, fast."""

from __future__ import annotations

import pytest

from deskmimic.core.errors import ConfigError
from deskmimic.models.data.steps import (
    reduce_events,
)
from tests.fixtures import event_sequences as ev
from tests.fixtures.event_sequences import SEQUENCES, check_invariants, kinds, reduce


# ---- rules ------------------------------------------------------------------------------
def test_moves_fold_into_the_next_pointer_step() -> None:
    rec = ev.seq_move_click()
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
    steps = reduce(ev.seq_double_click())
    assert kinds(steps) == ["double_click", "done"]
    assert (steps[0].x, steps[0].y) == (100, 100)
    assert kinds(reduce(ev.seq_slow_clicks())) == ["click", "click", "done"]
    assert kinds(reduce(ev.seq_far_clicks())) == ["click", "click", "done"]
    # the interval is a rule
    assert kinds(reduce(ev.seq_slow_clicks(), double_click_ms=800)) == ["double_click", "done"]


def test_triple_click_is_double_then_click() -> None:
    assert kinds(reduce(ev.seq_triple_click())) == ["double_click", "click", "done"]


def test_right_middle_and_unknown_buttons() -> None:
    steps = reduce(ev.seq_other_buttons())
    assert kinds(steps) == ["right_click", "middle_click", "raw", "done"]
    assert steps[0].button == "right" and steps[1].button == "middle"


def test_jitter_stays_a_click_and_drag_has_both_ends() -> None:
    steps = reduce(ev.seq_jitter_click())
    assert kinds(steps) == ["click", "done"] and (steps[0].x, steps[0].y) == (200, 200)
    assert steps[0].x2 is None
    steps = reduce(ev.seq_drag())
    assert kinds(steps) == ["drag", "done"]
    s = steps[0]
    assert (s.x, s.y, s.x2, s.y2, s.button) == (200, 200, 300, 250, "left")
    assert s.events[0] == 0  # the move before the press is folded in
    assert kinds(reduce(ev.seq_drag(), drag_px=200)) == ["click", "done"]


@pytest.mark.parametrize("name", ["seq_hello_shifted", "seq_hello_shifted_no_keycode"])
def test_shifted_characters_and_unshifted_key_up(name: str) -> None:
    steps = reduce(SEQUENCES[name]())
    assert kinds(steps) == ["type", "done"]
    assert steps[0].text == "Hello!"
    assert steps[0].events == (0, len(SEQUENCES[name]().events))


def test_caps_lock_applies_to_letters_only() -> None:
    steps = reduce(ev.seq_caps_lock())
    assert kinds(steps) == ["type", "done"]
    assert steps[0].text == "ABc1d"


def test_key_repeat_repeats_characters_and_hotkeys() -> None:
    steps = reduce(ev.seq_key_repeat())
    assert [(s.kind, s.text) for s in steps] == [("type", "aaaaab"), ("done", None)]
    steps = reduce(ev.seq_arrow_repeat())
    assert kinds(steps) == ["hotkey"] * 3 + ["done"]
    assert all(s.keys == ("down",) for s in steps[:3])


def test_chords() -> None:
    steps = reduce(ev.seq_chords())
    assert [s.keys for s in steps if s.kind == "hotkey"] == [
        ("ctrl", "s"), ("ctrl", "shift", "t"), ("ctrl", "c"), ("ctrl", "v")]
    assert kinds(steps) == ["hotkey"] * 4 + ["done"]


def test_lone_special_keys_are_hotkeys() -> None:
    steps = reduce(ev.seq_lone_specials())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("type", "abc", ()), ("hotkey", None, ("enter",)), ("hotkey", None, ("tab",)),
        ("hotkey", None, ("f5",)), ("type", "d", ()), ("done", None, ())]


def test_rolled_keys_keep_ranges_disjoint() -> None:
    steps = reduce(ev.seq_rolled_enter())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("type", "hello", ()), ("hotkey", None, ("enter",)), ("done", None, ())]
    steps = reduce(ev.seq_rolled_chord())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("type", "abc", ()), ("hotkey", None, ("ctrl", "s")), ("done", None, ())]


def test_backspace_edits_the_run_else_is_a_hotkey() -> None:
    steps = reduce(ev.seq_backspace())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("hotkey", None, ("backspace",)), ("type", "hello", ()),
        ("hotkey", None, ("backspace",)), ("done", None, ())]


def test_space_is_typed() -> None:
    assert [s.text for s in reduce(ev.seq_space())] == ["a b", None]


def test_scroll_bursts_merge_and_separate() -> None:
    steps = reduce(ev.seq_scroll_burst())
    assert [(s.kind, s.dy) for s in steps] == [("scroll", -3), ("scroll", -2), ("done", 0)]
    assert (steps[0].x, steps[0].y) == (400, 300) and steps[0].events[0] == 0
    steps = reduce(ev.seq_scroll_split())  # direction change, another place, another axis
    assert [(s.kind, s.dx, s.dy, s.x) for s in steps[:-1]] == [
        ("scroll", 0, -1, 400), ("scroll", 0, 1, 400), ("scroll", 1, 1, 600)]


def test_modifiers_on_pointer_steps() -> None:
    steps = reduce(ev.seq_ctrl_scroll_click())
    assert [(s.kind, s.keys) for s in steps] == [
        ("scroll", ("ctrl",)), ("click", ("ctrl",)), ("done", ())]


def test_markers_are_stripped_and_end_steps() -> None:
    rec = ev.seq_marker_splits_typing()
    steps = reduce(rec)
    assert [(s.kind, s.text) for s in steps] == [("type", "ab"), ("type", "cd"), ("done", None)]
    assert steps[-1].t_start == rec.events[-1]["t"]  # done: the stop marker's time
    steps = reduce(ev.seq_move_click())
    assert all(s.kind != "raw" for s in steps)


def test_idle_splits_typing() -> None:
    steps = reduce(ev.seq_idle_typing())
    assert [s.text for s in steps] == ["ab", "cde", None]  # 2 s splits, 1 s does not
    assert [s.text for s in reduce(ev.seq_idle_typing(), idle_gap_ms=3000)] == ["abcde", None]


def test_raw_fallback_never_drops_input() -> None:
    rec = ev.seq_raw()
    steps = reduce(rec)
    assert kinds(steps) == ["raw", "type", "raw", "click", "done"]
    assert steps[0].events == (0, 2)  # the orphan button_up and key_up
    assert steps[1].text == "ok"
    # unknown type, orphan key_up, malformed move (+ the orphan shift up, attached)
    assert steps[2].events == (6, 10)
    # an orphan modifier release alone is no raw step: it joins the next step
    steps = reduce(ev.seq_orphan_modifier_up())
    assert kinds(steps) == ["click", "done"] and steps[0].events == (0, 3)


def test_press_oddities_are_raw() -> None:
    steps = reduce(ev.seq_press_oddities())
    assert kinds(steps) == ["raw", "raw", "raw", "done"]  # button chord, esc mid-drag, no up


def test_lone_modifiers() -> None:
    steps = reduce(ev.seq_lone_modifiers())
    assert [(s.kind, s.text, s.keys) for s in steps] == [
        ("hotkey", None, ("ctrl",)), ("type", "abc", ()), ("hotkey", None, ("cmd",)),
        ("done", None, ())]


def test_alt_gr_characters_are_typed() -> None:
    assert [s.text for s in reduce(ev.seq_alt_gr())] == ["a@b", None]


def test_done_is_last_and_owns_trailing_events() -> None:
    rec = ev.seq_trailing()
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


def test_text_typed_in_secret_is_not_learned(caplog) -> None:
    from deskmimic.core.keys import SECRET_MASK
    from deskmimic.models.actions import action_from_step

    masked = [{"type": "key_down", "t": 10 + i, "key": SECRET_MASK, "char": SECRET_MASK,
               "secret": True} for i in range(3)]
    steps = reduce_events(masked + [{"type": "key_down", "t": 20, "key": "enter"}])
    typed = next(s for s in steps if s.kind == "type")
    assert typed.text == SECRET_MASK * 3
    with caplog.at_level("WARNING"):
        assert action_from_step(typed) is None
    assert "secret" in caplog.text
    clear = reduce_events([{"type": "key_down", "t": 1, "key": "a", "char": "a"}])[0]
    assert action_from_step(clear).text == "a"
