"""The state frame of each step (docs/steps.md), and steps as JSON and as a table."""

from __future__ import annotations

import json

import numpy as np

from deskmimic.models.data.steps import SettleRules, steps_for_episode
from deskmimic.models.data.steps_format import format_steps_table, steps_to_jsonable
from tests.fixtures.event_sequences import MS, Rec, kinds, reduce


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
    # a small change (a caret, a character) counts, as at replay (SettleRules.local): kept
    # when its successor keeps it, stepped back from when nothing shows that it is finished
    frames2 = [a, a, _screen(30, box=3), _screen(30, box=3)]
    ep2 = FakeEpisode(Rec().wait(250).click(1, 1).events, frames2, [0, 100, 200, 300])
    assert steps_for_episode(ep2)[0].frame_index == 2
    ep2 = FakeEpisode(Rec().wait(250).click(1, 1).events, frames2[:3], [0, 100, 200])
    assert steps_for_episode(ep2)[0].frame_index == 1
    loose = SettleRules(local=1e9)  # the whole-image mean alone (the old training rule)
    assert steps_for_episode(ep2, settle=loose)[0].frame_index == 2
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
    # the successor already shows the pointer starting to move (drawn in): that changes a
    # tile, not the whole mean, so the popup is still known to be finished
    moved = popup.copy()
    moved[60:72, 100:108] = 0  # the arrow, a few pixels on
    ep = FakeEpisode(rec.events, [closed] * 3 + [popup, moved, moved],
                     [0, 100, 200, 300, 400, 500])
    assert steps_for_episode(ep)[0].frame_index == 3
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
