"""Hover steps (docs/steps.md "Hover") on demonstrations recorded by the real recorder from
a real Qt window driven by real X input: a rest that opened a submenu is a step, a pause
on a button or on the way to one is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deskmimic.core.rules import HoverRules
from deskmimic.models.data.hover import rest_candidates, target_change
from deskmimic.models.data.steps import reduce_events, steps_for_episode
from deskmimic.models.data.steps_format import format_steps_table
from tests.fixtures.event_sequences import MS, Rec, check_invariants, kinds
from tests.fixtures.menu_window import (
    Hand,
    pauses_without_hover,
    record,
    record_region,
    show_menu_window,
    through_submenu,
)
from tests.fixtures.tk_menu import TkMenuApp


def local(region, p: tuple[int, int]) -> tuple[int, int]:
    return p[0] - region.left, p[1] - region.top


@pytest.mark.parametrize("rest_ms,jitter,slow", [(450, 0, False), (900, 2, False), (400, 0, True)])
def test_a_rest_that_opens_a_submenu_is_a_hover_step(qtbot, tmp_path: Path, rest_ms, jitter, slow):
    w = show_menu_window(qtbot)
    region = record_region(w)
    marks: dict[str, tuple[int, int]] = {}

    def demo(hand: Hand) -> None:
        through_submenu(qtbot, w, hand, rest_ms, jitter, slow)
        marks["convert"] = local(region, w.item(w.edit, "Convert", dx=30))
        marks["upper"] = local(region, w.item(w.convert, "To Uppercase", dx=30))

    ep = record(qtbot, w, tmp_path / "ep", demo)
    steps = steps_for_episode(ep)
    table = format_steps_table(steps)
    assert [s.kind for s in steps] == ["click", "hover", "click", "done"], table
    hover, sub = steps[1], steps[2]
    assert abs(hover.x - marks["convert"][0]) <= 3 and abs(hover.y - marks["convert"][1]) <= 3, table
    assert (sub.x, sub.y) == marks["upper"], table
    assert "rest at" in table
    # the hover's state is the menu without the submenu, the click's has it: the policy
    # sees why it rests first
    assert hover.frame_index is not None and sub.frame_index > hover.frame_index
    before, after = (np.asarray(ep.frame(s.frame_index)) for s in (hover, sub))
    assert target_change(before, after, sub.x, sub.y) > HoverRules().area_px
    # the hover owns the moves to Convert and in the rest; the click those after it
    assert hover.events[1] == sub.events[0]
    events = ep.read_events()
    assert all(e["type"] == "move" for e in events[hover.events[0]:hover.events[1]])


def test_pauses_that_open_nothing_are_no_steps(qtbot, tmp_path: Path):
    w = show_menu_window(qtbot)
    ep = record(qtbot, w, tmp_path / "ep", lambda hand: pauses_without_hover(qtbot, w, hand))
    steps = steps_for_episode(ep)
    table = format_steps_table(steps)
    assert kinds(steps) == ["click"] * 8 + ["done"], table
    # the pauses were there to be judged: they are candidates (left by a move), turned
    # down by the rules on the frames and distances
    rests = rest_candidates(ep.read_events(), HoverRules())
    assert len(rests) >= 6, rests


# ---- Tk: a cascade opens as soon as the pointer is on its entry ------------------------
def _tk_through_cascade(qtbot, app: TkMenuApp, hand: Hand, marks: dict) -> None:
    hand.move(*app.edit_title())
    hand.rest(150)
    hand.click()
    menu = app.menu_with("Convert")
    hand.rest(250)
    marks["convert"] = app.item(menu, "Convert")
    hand.move(*marks["convert"])
    hand.rest(500)
    sub = app.menu_with("To Uppercase")
    marks["upper"] = app.item(sub, "To Uppercase")
    hand.move(*marks["upper"])
    hand.rest(150)
    hand.click()
    app.wait(lambda m: m.get("done") == "upper")


def _tk_pause_in_menu(qtbot, app: TkMenuApp, hand: Hand, marks: dict) -> None:
    hand.move(*app.edit_title())
    hand.rest(150)
    hand.click()
    menu = app.menu_with("Convert")
    hand.rest(250)
    hand.move(*app.item(menu, "Copy"))
    hand.rest(600)
    hand.move(*app.item(menu, "Select All"))
    hand.rest(150)
    hand.click()
    app.wait(lambda m: m.get("done") == "select all")


@pytest.mark.parametrize("demo,expected", [
    (_tk_through_cascade, ["click", "hover", "click", "done"]),
    (_tk_pause_in_menu, ["click", "click", "done"]),
], ids=["cascade", "pause"])
def test_tk_menus(qtbot, tmp_path: Path, demo, expected):
    app = TkMenuApp(qtbot, tmp_path / "tk.log")
    try:
        region = app.region()
        marks: dict[str, tuple[int, int]] = {}
        ep = record(qtbot, region, tmp_path / "ep", lambda hand: demo(qtbot, app, hand, marks))
    finally:
        app.close()
    steps = steps_for_episode(ep)
    table = format_steps_table(steps)
    assert kinds(steps) == expected, table
    if "hover" in expected:
        hover, sub = steps[1], steps[2]
        assert (hover.x, hover.y) == local(region, marks["convert"]), table
        assert (sub.x, sub.y) == local(region, marks["upper"]), table


# ---- the candidates and the reduction, on event sequences -----------------------------
def test_rest_candidates_are_rests_left_by_a_move():
    r = HoverRules()
    # to (50, 50), still 300 ms with 2 px tremor, then on: one rest, at the last place
    rec = Rec().click(5, 5).move(30, 30).move(50, 50).wait(150).move(52, 50).wait(150)
    rec.move(90, 50).move(120, 50).click(120, 50).marker()
    (rest,) = rest_candidates(rec.events, r)
    assert (rest.x, rest.y) == (52, 50) and rest.t_leave - rest.t_arrive >= r.rest_ms * MS
    assert rec.events[rest.last + 1]["x"] == 90
    steps = reduce_events(rec.events, [rest])
    check_invariants(rec.events, steps)
    assert kinds(steps) == ["click", "hover", "click", "done"]
    hover, click = steps[1], steps[2]
    assert (hover.x, hover.y) == (52, 50) and hover.events == (2, rest.last + 1)
    assert click.events[0] == rest.last + 1  # the moves after the rest are the click's
    assert kinds(reduce_events(rec.events)) == ["click", "click", "done"]  # none given: none
    # not candidates: too short; ended by a click in place, a key or a marker; a button down
    for rec in (
        Rec().move(50, 50).wait(150).move(90, 50).click(90, 50),
        Rec().move(50, 50).wait(400).click(50, 50),
        Rec().move(50, 50).wait(400).tap("a").move(90, 50),
        Rec().move(50, 50).wait(400).marker(),
        Rec().down(10, 10).move(50, 50).wait(400).move(90, 50).up(90, 50),
    ):
        assert rest_candidates(rec.events, r) == [], rec.events
    # a tremor wider than rest_px moves on: two short stays, no rest
    assert rest_candidates(Rec().move(50, 50).wait(150).move(60, 50).wait(150)
                           .move(90, 50).events, r) == []
