"""The suite's share of bench/faults_bench.py's run matrix (bench/_faults_runs.py): each file
of a trained run x each damage kind x each command that reads it (replay --dry-run, eval,
train --resume, the GUI's runs list), in-process. No traceback; a failure is one error
line naming the file; read-only commands change no byte; nothing carries on silently."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("faults_bench", ROOT / "bench" / "faults_bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
runs = bench._faults_runs

CASES = [(f, k) for f in runs.RUN_FILES for k in runs.damage_kinds(f)]


@pytest.fixture(scope="module")
def made_run(qapp, tmp_path_factory) -> tuple[Path, Path]:
    """(demonstrations, run): one tiny run for the module (~15 s, most of it recording)."""
    return runs.make_run(tmp_path_factory.mktemp("faults-run"))


def test_every_reader_takes_the_intact_run(made_run, tmp_path: Path):
    # the matrix below would pass on readers that fail on anything
    assert runs.control(*made_run, tmp_path) == {}


@pytest.mark.parametrize("file, kind", CASES, ids=[f"{f}-{k}" for f, k in CASES])
def test_damaged_run_file_ends_in_a_message(made_run, tmp_path: Path, file: str, kind: str):
    case = runs.run_case(*made_run, tmp_path, file, kind)
    assert case["failing"] == {}, case
    assert case["changed_by"] == [], case
    assert case["tried"] == len(runs.READERS[file])


def test_runs_list_names_a_damaged_metrics_line(made_run, tmp_path: Path):
    import shutil

    from deskmimic.models.runs import read_metrics, read_run

    run = tmp_path / "runs" / "tiny"
    shutil.copytree(made_run[1], run, symlinks=True)
    good = read_metrics(run)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join([lines[0], '{"epoch": 1, "val": "high"}',
                                                  *lines[1:]]) + "\n")
    info = read_run(run)
    assert read_metrics(run) == good and info.error == ""
    assert "metrics.jsonl: line 2 not a metrics record" in info.warning, info
