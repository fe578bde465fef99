"""Qt-free episode edits and GUI state: label, outcome, delete, trimmed copy, settings."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from deskmimic.app.gui.state import EventTimeline, GuiSettings, Playback, scan_episodes
from deskmimic.core.errors import ConfigError, EpisodeError, EpisodeFormatError
from deskmimic.recorder import episode_edit
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.episode_format import read_meta
from tests.app.conftest import SAMPLE_ID


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_label_and_outcome_edit_meta_atomically(episodes_dir: Path):
    ep = episodes_dir / SAMPLE_ID
    episode_edit.set_task_label(ep, "  press the go button ")
    episode_edit.set_success(ep, False)
    meta = read_meta(ep)
    assert meta["task"] == "press the go button"
    assert meta["extra"]["success"] is False
    episode_edit.set_success(ep, None)
    assert "success" not in read_meta(ep)["extra"]
    assert check_episode(ep) == []
    assert not list(ep.glob(".meta.json.*")), "no temp file left behind"
    with pytest.raises(EpisodeError):
        episode_edit.set_success(ep, "yes")


def test_edits_refuse_an_episode_still_recording(episodes_dir: Path):
    ep = episodes_dir / SAMPLE_ID
    meta = read_meta(ep)
    meta["status"] = "recording"
    (ep / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(EpisodeError, match="recover"):
        episode_edit.set_task_label(ep, "x")


def test_delete_refuses_a_folder_that_is_not_an_episode(tmp_path: Path, episodes_dir: Path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "a.jpg").write_bytes(b"x")
    with pytest.raises(EpisodeFormatError, match="not an episode"):
        episode_edit.delete_episode(other)
    assert (other / "a.jpg").exists()
    episode_edit.delete_episode(episodes_dir / SAMPLE_ID)
    assert not (episodes_dir / SAMPLE_ID).exists()


def test_trim_writes_a_valid_new_episode_and_leaves_the_source_alone(episodes_dir: Path):
    src = episodes_dir / SAMPLE_ID
    before = _digest(src)
    with Episode.open(src) as ep:
        times = ep.frame_times
        events = ep.read_events()
        a, b = 1, ep.frame_count - 2  # frame counts vary with machine load
        assert b - a >= 2
        want = [ep.frame(i) for i in (a, b)]
    n = b - a + 1
    start, end = int(times[a]), int(times[b])
    seen = []
    dest = episode_edit.trim_episode(src, start, end, progress=lambda d, t: seen.append((d, t)))
    assert dest.parent == episodes_dir and dest != src
    assert _digest(src) == before
    assert check_episode(dest, decode=True) == []
    assert seen[-1] == (n, n)
    with Episode.open(dest) as new:
        assert new.frame_count == n
        assert new.frame_times[0] == 0
        assert np.array_equal(new.frame(0), want[0]) and np.array_equal(new.frame(n - 1), want[1])
        got = new.read_events()
        meta = new.meta
    assert got[0] == {"t": 0, "type": "marker", "name": "start"}
    inside = [dict(e, t=e["t"] - start) for e in events if start <= e["t"] <= end]
    assert [e for e in got if e not in inside] == [got[0]]
    assert meta["extra"]["trimmed_from"]["id"] == read_meta(src)["id"]
    assert meta["clock"]["origin_monotonic_ns"] == read_meta(src)["clock"]["origin_monotonic_ns"] + start
    assert meta["counters"]["frames"] == n and meta["status"] == "complete"


def test_trim_cancel_and_bad_ranges_leave_nothing_behind(episodes_dir: Path):
    src = episodes_dir / SAMPLE_ID
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(EpisodeError, match="cancelled"):
        episode_edit.trim_episode(src, 0, 10**12, cancel=cancel)
    with pytest.raises(EpisodeError, match="after the start"):
        episode_edit.trim_episode(src, 5, 5)
    with pytest.raises(EpisodeError, match="no frame"):
        episode_edit.trim_episode(src, 10**13, 10**13 + 1)
    assert sorted(p.name for p in episodes_dir.iterdir()) == [SAMPLE_ID]


def test_settings_round_trip_and_bad_file_falls_back(tmp_home: Path):
    s = GuiSettings(episodes_dir=str(tmp_home / "eps"), stop_hotkey="<ctrl>+<alt>+q", fps=12)
    path = s.save()
    assert path.stat().st_mode & 0o077 == 0
    assert GuiSettings.load() == s
    path.write_text("{ not json")
    assert GuiSettings.load() == GuiSettings()
    with pytest.raises(ConfigError):
        GuiSettings(stop_hotkey="ctrl").validate()
    with pytest.raises(ConfigError, match="Frames per second"):
        GuiSettings(fps=0).validate()


def test_scan_lists_unreadable_episodes_with_their_error(episodes_dir: Path):
    bad = episodes_dir / "20250101T000000000Z-dead"
    bad.mkdir()
    (bad / "meta.json").write_text("garbage{")
    (episodes_dir / "not-an-episode").mkdir()
    rows = scan_episodes(episodes_dir)
    assert [r.path.name for r in rows] == [SAMPLE_ID, bad.name]
    assert rows[0].status == "complete" and rows[0].task == "press_go" and rows[0].frames > 10
    assert rows[1].status == "unreadable" and "not valid JSON" in rows[1].error


def test_playback_and_timeline():
    pb = Playback()
    pb.load(np.array([0, 100, 200, 300], np.int64) * 1_000_000)
    pb.set_playing(True)
    pb.tick(0.15)
    assert pb.index == 1 and pb.playing
    pb.set_speed(4.0)
    pb.tick(0.1)
    assert pb.index == 3 and not pb.playing, "stops at the end"
    pb.set_playing(True)
    assert pb.index == 0, "play after the end starts over"
    with pytest.raises(ConfigError):
        pb.set_speed(3.0)
    tl = EventTimeline([{"t": 0, "type": "marker", "name": "start"},
                        {"t": 100, "type": "move", "x": 1, "y": 1},
                        {"t": 600_000_000, "type": "move", "x": 5, "y": 6},
                        {"t": 650_000_000, "type": "button_down", "x": 5, "y": 6, "button": "left"}])
    assert tl.trail(700_000_000).tolist() == [[5, 6], [5, 6]]
    assert [e["type"] for _, e in tl.recent(700_000_000)] == ["button_down"]
