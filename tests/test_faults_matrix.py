"""The suite's share of bench/faults_bench.py: each episode file x each damage kind x the
commands that read it, in-process. No traceback, read-only commands change no byte,
recover only adds files and never leaves more problems, delete spares foreign files."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.recorder import test_bad_input as _shared

good_episode = _shared.good_episode  # one real recording per module

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("faults_bench", ROOT / "bench" / "faults_bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.parametrize("kind", sorted(bench.DAMAGES))
@pytest.mark.parametrize("file", sorted(bench.FILES))
def test_damage_ends_in_a_message(good_episode: Path, tmp_path: Path, file: str, kind: str):
    case = bench.run_case(good_episode, tmp_path, file, kind)
    assert case["tracebacks"] == [], case
    assert case["changed_by"] == [], case
    assert not case["less_readable"], case
    assert not case["foreign_deleted"], case
    assert case["tried"] == len(bench.READ_ONLY) + 2


def test_damaged_episode_reports_a_problem(good_episode: Path, tmp_path: Path):
    # the matrix above would pass on a command that says nothing: check must name the file
    for file, name in bench.FILES.items():
        ep = tmp_path / file
        shutil.copytree(good_episode, ep)
        bench.damage(ep, file, "garbage")
        rc, text = bench.run_cli(["episodes", "check", str(ep)])
        assert rc == 1 and name.split("/")[-1] in text, text
