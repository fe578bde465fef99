"""The suite's share of bench/faults_bench.py: each episode file x each damage kind
(unreadable included, read as a user whom permissions apply to) x the commands that read
it (and the GUI's episode list), in-process. No traceback, read-only commands change no
byte, the GUI's row for a damaged meta.json says so, recover only adds files and never
leaves more problems, delete spares foreign files. A full disk at the start of and during
a recording stops it cleanly and leaves a readable episode."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.recorder import test_bad_input as _shared

good_episode = _shared.good_episode  # one real recording per module

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("faults_bench", ROOT / "bench" / "faults_bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.parametrize("kind", sorted(bench.KINDS))
@pytest.mark.parametrize("file", sorted(bench.FILES))
def test_damage_ends_in_a_message(good_episode: Path, tmp_path: Path, file: str, kind: str):
    case = bench.run_case(good_episode, tmp_path, file, kind)
    assert case["tracebacks"] == [], case
    assert case["changed_by"] == [], case
    assert not case["less_readable"], case
    assert not case["foreign_deleted"], case
    assert not case["gui_silent"], case
    assert case["tried"] == len(bench.READ_ONLY) + 3


def test_unreadable_is_a_kind_of_the_episode_matrix(good_episode: Path, tmp_path: Path):
    assert "unreadable" in bench.KINDS
    # the run matrix adds it to the byte damages itself: not twice
    assert bench._faults_runs.damage_kinds("weights").count("unreadable") == 1
    # the commands run as a user the mode applies to: check names the file it cannot read
    ep = tmp_path / "ep"
    shutil.copytree(good_episode, ep)
    bench.damage(ep, "events", "unreadable")
    with bench.without_root_reads():
        rc, text = bench.run_cli(["episodes", "check", str(ep)])
    assert rc == 1 and "events.jsonl" in text and "cannot be read" in text, text


def test_full_disk_at_start_and_mid_recording_stops_cleanly(tmp_path: Path):
    result = bench._faults_disk.run_disk_full(tmp_path, quick=True)
    if "skipped" in result:
        pytest.skip(result["skipped"])
    assert result["cases"] == 2 and result["episodes_expected"] == 1, result
    assert result["clean_stops"] == 2 and result["readable_episodes_after"] == 1, result
    assert result["tracebacks"] == 0 and result["failing"] == [], result


def test_damaged_episode_reports_a_problem(good_episode: Path, tmp_path: Path):
    # the matrix above would pass on a command that says nothing: check must name the file
    for file, name in bench.FILES.items():
        ep = tmp_path / file
        shutil.copytree(good_episode, ep)
        bench.damage(ep, file, "garbage")
        rc, text = bench.run_cli(["episodes", "check", str(ep)])
        assert rc == 1 and name.split("/")[-1] in text, text


# ---- the GUI's episode list (app/gui/state.py: read_row, scan_episodes; Qt-free) -------
def _edit_meta(ep: Path, **fields) -> None:
    meta = json.loads((ep / "meta.json").read_text())
    meta.update(fields)
    (ep / "meta.json").write_text(json.dumps(meta))


def _dead_process() -> dict:
    """meta.json's ``process`` of a recorder that was killed (its pid is gone)."""
    from deskmimic.recorder.liveness import _start_ticks, this_process

    proc = subprocess.Popen(["sleep", "30"])
    ident = {**this_process(), "pid": proc.pid, "start_ticks": _start_ticks(proc.pid)}
    proc.kill()
    proc.wait()
    return ident


def test_gui_list_shows_a_killed_recording_as_interrupted(good_episode: Path, tmp_path: Path):
    from deskmimic.app.cli.episodes import _row
    from deskmimic.app.gui.state import read_row
    from deskmimic.recorder.liveness import this_process

    killed, live = tmp_path / "killed", tmp_path / "live"
    for ep, proc in ((killed, _dead_process()), (live, this_process())):
        shutil.copytree(good_episode, ep)
        _edit_meta(ep, status="recording", process=proc)
    row = read_row(killed)
    assert row.status == "interrupted" and "episodes recover killed" in row.error, row
    assert _row(killed)["status"] == "interrupted"  # the same word as `episodes list`
    assert read_row(live).status == "recording"  # a recording still running is not


def test_gui_list_names_what_is_wrong_instead_of_raising(good_episode: Path, tmp_path: Path):
    from deskmimic.app.gui.state import read_row, scan_episodes

    root = tmp_path / "episodes"
    for name in ("no-meta", "inf-counter", "unreadable", "fine"):
        shutil.copytree(good_episode, root / name)
        _edit_meta(root / name, id=name)
    (root / "no-meta" / "meta.json").unlink()
    _edit_meta(root / "inf-counter", counters={"bytes": float("inf")})  # JSON "Infinity"
    (root / "unreadable" / "meta.json").chmod(0)
    (root / "not-an-episode").mkdir()
    with bench._faults_runs.without_root_reads():
        rows = {r.id: r for r in scan_episodes(root)}
    assert set(rows) == {"no-meta", "inf-counter", "unreadable", "fine"}  # listed, not dropped
    assert rows["fine"].status == "complete" and rows["fine"].error == ""
    for name, needle in (("no-meta", "missing"), ("inf-counter", "not a usable number"),
                         ("unreadable", "cannot be read")):
        assert rows[name].status == "unreadable", rows[name]
        assert "meta.json" in rows[name].error and needle in rows[name].error, rows[name]
    assert read_row(root / "inf-counter").status == "unreadable"
