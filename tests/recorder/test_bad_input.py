"""Bad input gets a clear message naming the file/field, a non-zero exit, and no data loss."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.record import Recorder
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def good_episode(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eps") / "good"
    rec = Recorder(RecordConfig(out=out, region=Rect(0, 0, 320, 240), fps=20, max_duration=1.5,
                                segment_seconds=0.5))
    rec.start()
    rec.wait(10)
    rec.stop()
    assert check_episode(out) == []
    return out


@pytest.fixture
def episode(good_episode: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "ep"
    shutil.copytree(good_episode, dst)
    return dst


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _check_fails(folder: Path, *needles: str) -> str:
    before = _snapshot(folder)
    res = run_cli("episodes", "check", str(folder))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in res.stdout, res.stdout
    assert _snapshot(folder) == before, "check must never modify an episode"
    return res.stdout


def test_good_episode_checks_clean(episode: Path):
    res = run_cli("episodes", "check", str(episode))
    assert res.returncode == 0 and "ok" in res.stdout


def test_missing_meta(episode: Path):
    (episode / "meta.json").unlink()
    _check_fails(episode, "meta.json: missing")
    res = run_cli("episodes", "show", str(episode))
    assert res.returncode == 2 and "meta.json" in res.stderr and "Traceback" not in res.stderr


def test_corrupt_meta(episode: Path):
    (episode / "meta.json").write_text('{"format_version": 1, "id": ')
    _check_fails(episode, "meta.json: not valid JSON")


def test_meta_missing_field(episode: Path):
    meta = json.loads((episode / "meta.json").read_text())
    del meta["geometry"]
    (episode / "meta.json").write_text(json.dumps(meta))
    _check_fails(episode, "meta.json: required field 'geometry' is missing")


def test_future_format_version(episode: Path):
    meta = json.loads((episode / "meta.json").read_text())
    meta["format_version"] = 99
    (episode / "meta.json").write_text(json.dumps(meta))
    _check_fails(episode, "format_version 99 is newer", "upgrade deskmimic")


def test_truncated_events_then_recover(episode: Path):
    path = episode / "events.jsonl"
    data = path.read_bytes()
    path.write_bytes(data + b'{"t": 99999999999, "type": "mo')
    _check_fails(episode, "events.jsonl: the last line is unfinished")
    res = run_cli("episodes", "recover", str(episode))
    assert res.returncode == 0, res.stderr
    assert check_episode(episode) == []
    assert path.read_bytes() == data
    # the original, whole, is kept beside the repaired file
    assert (episode / "events.jsonl.broken").read_bytes() == data + b'{"t": 99999999999, "type": "mo'


def test_garbage_event_line(episode: Path):
    path = episode / "events.jsonl"
    path.write_text(path.read_text() + "not json at all\n")
    _check_fails(episode, "events.jsonl: line")


def test_missing_video_segment(episode: Path):
    (episode / "video" / "000001.mkv").unlink()
    _check_fails(episode, "video/000001.mkv: missing")


def test_truncated_video_then_recover(episode: Path):
    seg = episode / "video" / "000002.mkv"
    data = seg.read_bytes()
    seg.write_bytes(data[: len(data) // 3])
    _check_fails(episode, "video/000002.mkv")
    res = run_cli("episodes", "recover", str(episode), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["frames_dropped"] > 0 and report["frames_kept"] >= 20
    assert check_episode(episode) == []
    assert (episode / "video" / "000002.mkv.broken").read_bytes() == data[: len(data) // 3]


def test_existing_output_folder_is_never_overwritten(episode: Path):
    before = _snapshot(episode)
    res = run_cli("record", "--out", str(episode), "--max-duration", "1")
    assert res.returncode == 2
    assert "already exists" in res.stderr and str(episode) in res.stderr
    assert _snapshot(episode) == before


def test_unwritable_output_directory(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = run_cli("record", "--out", str(blocker / "ep"), "--max-duration", "1")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(blocker) in res.stderr and "cannot create" in res.stderr


def test_no_display():
    res = run_cli("record", "--max-duration", "1", env={"DISPLAY": None, "WAYLAND_DISPLAY": None,
                                                        "XDG_SESSION_TYPE": None})
    assert res.returncode == 2 and "DISPLAY is not set" in res.stderr and "Traceback" not in res.stderr


def test_wayland_session():
    res = run_cli("record", "--max-duration", "1", env={"XDG_SESSION_TYPE": "wayland"})
    assert res.returncode == 2 and "Wayland" in res.stderr and "Traceback" not in res.stderr


def test_bad_arguments_name_the_flag():
    res = run_cli("record", "--fps", "0")
    assert res.returncode == 2 and "--fps" in res.stderr
    res = run_cli("record", "--region", "big")
    assert res.returncode == 2 and "--region" in res.stderr


def test_delete_needs_confirmation(episode: Path):
    res = run_cli("episodes", "delete", str(episode))
    assert res.returncode == 2 and "--yes" in res.stderr and episode.exists()
    res = run_cli("episodes", "delete", str(episode), "--yes")
    assert res.returncode == 0 and not episode.exists()


def test_recorder_imports_without_display():
    res = run_cli("--help", env={"DISPLAY": None})
    assert res.returncode == 0
    import subprocess
    import sys

    code = "import deskmimic.recorder.record, deskmimic.recorder.episode, deskmimic.recorder.listener"
    out = subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
