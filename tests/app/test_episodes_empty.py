"""An episode without a single frame (killed before its first frame, then recovered) is
named empty by `episodes steps` (exit != 0) and flagged by `episodes list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskmimic.recorder.episode_format import FRAMES_HEADER
from tests.recorder import test_bad_input as _shared
from tests.test_reliab_episodes import assert_clean_error, cli

# a real recording, copied per test
good_episode, episode = _shared.good_episode, _shared.episode


@pytest.fixture
def empty_episode(episode: Path) -> Path:
    """What `recover` leaves of a recording killed before its first frame."""
    (episode / "frames.csv").write_text(FRAMES_HEADER + "\n")
    for seg in (episode / "video").iterdir():
        seg.unlink()
    meta = json.loads((episode / "meta.json").read_text())
    meta["status"] = "recovered"
    meta["counters"]["frames"] = 0
    meta.pop("video_sha256", None)
    (episode / "meta.json").write_text(json.dumps(meta))
    return episode


def test_steps_of_an_empty_episode_is_an_error(empty_episode: Path, capsys):
    rc, out, err = cli(capsys, "episodes", "steps", str(empty_episode))
    assert_clean_error(rc, err, "the episode is empty", str(empty_episode))
    assert out == ""


def test_list_flags_an_empty_episode(empty_episode: Path, good_episode: Path, capsys):
    root = empty_episode.parent
    rc, out, _ = cli(capsys, "episodes", "--dir", str(root), "list", "--json")
    assert rc == 0
    [row] = json.loads(out)
    assert row["status"] == "empty" and "no frames" in row["error"], row
    rc, out, _ = cli(capsys, "episodes", "--dir", str(root), "list")
    line = out.splitlines()[1]
    assert " empty " in line and "no frames" in line, out
    # A recording with frames stays as it was.
    rc, out, _ = cli(capsys, "episodes", "--dir", str(good_episode.parent), "list", "--json")
    assert json.loads(out)[0]["status"] == "complete"
