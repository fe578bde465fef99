"""Issue 23: damaged or unreadable episode files end in one line naming the file, a
non-zero exit and no traceback; recover, check, delete and record tell the truth."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deskmimic.app.cli import main
from deskmimic.core.config import RecordConfig
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect
from deskmimic.core.paths import make_private_dir
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.record import Recorder
from tests.recorder import test_bad_input as _shared

# the episodes the recorder's bad-input tests record (one real recording per module)
good_episode, episode = _shared.good_episode, _shared.episode

# The tests run as root, who reads everything: drop the capabilities that let it.
NON_ROOT = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps",
            "-dac_override,-dac_read_search"]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``deskmimic ARGV`` in this process: (exit code, stdout, stderr)."""
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def assert_clean_error(rc: int, err: str, *needles: str) -> None:
    assert rc != 0
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], err


def _edit_meta(ep: Path, **fields) -> None:
    meta = json.loads((ep / "meta.json").read_text())
    meta.update(fields)
    (ep / "meta.json").write_text(json.dumps(meta))


def test_non_utf8_frames_named_by_every_command(episode: Path, capsys):
    frames = episode / "frames.csv"
    frames.write_bytes(frames.read_bytes() + b"\xff\xfe,1,2\n")
    for verb in ("steps", "recover"):
        rc, _, err = cli(capsys, "episodes", verb, str(episode))
        assert_clean_error(rc, err, "frames.csv", "not UTF-8")
    rc, out, err = cli(capsys, "episodes", "check", str(episode))
    assert rc == 1 and "not UTF-8" in out and "Traceback" not in out + err


@pytest.mark.parametrize("fields, needle", [
    ({"fps": "fast"}, "field 'fps'"),
    ({"counters": [1]}, "field 'counters'"),
    ({"extra": "x"}, "field 'extra'"),
    ({"id": "../../x"}, "field 'id'"),
])
def test_wrong_types_in_meta_name_the_field(episode: Path, capsys, fields, needle):
    _edit_meta(episode, **fields)
    for argv in (["show"], ["steps"], ["recover"]):
        rc, _, err = cli(capsys, "episodes", *argv, str(episode))
        assert_clean_error(rc, err, "meta.json", needle)
    rc, out, err = cli(capsys, "episodes", "check", "--decode", str(episode))
    assert rc == 1 and needle in out and "Traceback" not in err
    rc, out, _ = cli(capsys, "episodes", "--dir", str(episode.parent), "list")
    assert rc == 0 and "unreadable" in out


def test_wrong_event_field_type_is_named(episode: Path, capsys):
    events = episode / "events.jsonl"
    events.write_text(events.read_text() + '{"t": 5, "type": "move", "x": "left", "y": 1}\n')
    rc, _, err = cli(capsys, "episodes", "steps", str(episode))
    assert_clean_error(rc, err, "events.jsonl", "line 3", "x is 'left'")


def _non_root_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NON_ROOT, sys.executable, "-m", "deskmimic.app.cli", *argv],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["meta.json", "frames.csv", "events.jsonl", "video"])
def test_unreadable_file_is_named(episode: Path, name: str):
    os.chmod(episode / name, 0)
    res = _non_root_cli("episodes", "check", str(episode))
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr
    assert name in res.stdout + res.stderr and ("cannot be read" in res.stdout + res.stderr
                                                or "Permission denied" in res.stdout + res.stderr)
    res = _non_root_cli("episodes", "recover", str(episode))
    assert "Traceback" not in res.stderr, res.stderr


def test_one_unreadable_episode_does_not_break_list(episode: Path, tmp_path: Path):
    shutil.copytree(episode, episode.parent / "other")
    _edit_meta(episode.parent / "other", id="other-id")
    os.chmod(episode, 0)
    res = _non_root_cli("episodes", "--dir", str(episode.parent), "list")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "other-id" in res.stdout and "unreadable" in res.stdout
    os.chmod(episode.parent, 0o300)  # no read: the folder cannot be listed at all
    res = _non_root_cli("episodes", "--dir", str(episode.parent), "list")
    assert res.returncode == 2 and "Traceback" not in res.stderr and "cannot be read" in res.stderr
    os.chmod(episode.parent, 0o700)


def test_missing_dir_is_an_error(tmp_path: Path, capsys):
    rc, _, err = cli(capsys, "episodes", "--dir", str(tmp_path / "nope"), "list")
    assert_clean_error(rc, err, "--dir", "no such folder")


def test_list_flags_copied_episodes(episode: Path, capsys):
    shutil.copytree(episode, episode.parent / "copy")
    rc, out, _ = cli(capsys, "episodes", "--dir", str(episode.parent), "list")
    assert rc == 0 and out.count("same id as another folder") == 2


def test_recover_moves_garbage_event_lines_aside(episode: Path, capsys):
    events = episode / "events.jsonl"
    original = events.read_bytes() + b"not json\n"
    events.write_bytes(original)
    rc, out, _ = cli(capsys, "episodes", "recover", str(episode))
    assert rc == 0 and "events.jsonl.broken" in out
    assert check_episode(episode) == []
    assert (episode / "events.jsonl.broken").read_bytes() == original


def test_recover_names_what_it_cannot_fix(episode: Path, capsys):
    (episode / "events.jsonl").unlink()
    rc, out, _ = cli(capsys, "episodes", "recover", str(episode))
    assert rc == 1 and "cannot fix" in out and "events.jsonl: missing" in out
    assert not (episode / "events.jsonl").exists(), "a lost file must not be faked as empty"


def test_recover_fixes_counters_of_a_cut_frame_index(episode: Path, capsys):
    frames = episode / "frames.csv"
    lines = frames.read_text().splitlines(keepends=True)
    frames.write_text("".join(lines[:10]))
    assert check_episode(episode) != []
    rc, _, _ = cli(capsys, "episodes", "recover", str(episode))
    assert rc == 0 and check_episode(episode) == []
    assert json.loads((episode / "meta.json").read_text())["counters"]["frames"] == 9


def test_check_sees_garbled_video(episode: Path, capsys):
    seg = episode / "video" / "000001.mkv"
    data = bytearray(seg.read_bytes())
    data[-200:-184] = bytes(range(16))  # inside a frame: still demuxes and decodes
    seg.write_bytes(bytes(data))
    rc, out, _ = cli(capsys, "episodes", "check", str(episode))
    assert rc == 1 and "video/000001.mkv" in out and "checksum" in out


def test_delete_refuses_a_damaged_episode_then_removes_only_its_own_files(episode: Path, capsys):
    (episode / "meta.json").write_text("{not json")
    (episode / "notes.txt").write_text("mine")
    rc, _, err = cli(capsys, "episodes", "delete", "--yes", str(episode))
    assert_clean_error(rc, err, "meta.json", "--force")
    assert (episode / "frames.csv").exists() and (episode / "video" / "000000.mkv").exists()
    rc, out, _ = cli(capsys, "episodes", "delete", "--yes", "--force", str(episode))
    assert rc == 0 and "notes.txt" in out
    assert sorted(p.name for p in episode.rglob("*")) == ["notes.txt"]


def test_delete_removes_a_good_episode_folder(episode: Path, capsys):
    rc, _, _ = cli(capsys, "episodes", "delete", "--yes", str(episode))
    assert rc == 0 and not episode.exists()


@pytest.mark.parametrize("region", [Rect(0, 0, 5000, 5000), Rect(1250, 780, 100, 100)])
def test_region_reaching_off_screen_is_refused(tmp_path: Path, region: Rect):
    rec = Recorder(RecordConfig(out=tmp_path / "ep", region=region, fps=10, max_duration=1))
    with pytest.raises(ConfigError, match=r"--region .*reaches outside the screen 1280x800\+0\+0"):
        rec.start()
    rec.stop()
    assert not (tmp_path / "ep").exists()


def test_private_folders_whatever_the_umask(tmp_path: Path, tmp_home: Path):
    old = os.umask(0o022)
    try:
        deep = make_private_dir(tmp_home / "data" / "episodes" / "x")
        from deskmimic.agent.eval_report import write_report

        report = write_report({"n": 1}, tmp_home / "data" / "evals" / "e1")
    finally:
        os.umask(old)
    for p in (tmp_home, tmp_home / "data", tmp_home / "data" / "episodes", deep, report.parent):
        assert p.stat().st_mode & 0o777 == 0o700, p
    assert report.stat().st_mode & 0o777 == 0o600
