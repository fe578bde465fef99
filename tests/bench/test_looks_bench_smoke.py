"""Smoke test of bench/looks_bench.py with tiny settings: one JSON object on stdout, the
shards it writes, and a resumed run that redoes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "looks_bench.py"
TINY = ["--toolkits", "qt", "--tasks", "click_button", "--modes", "per_task", "--demos", "2",
        "--eval-seeds", "1", "--steps", "4", "--input", "64x96"]


@pytest.mark.timeout(420)
def test_looks_bench_prints_one_json_object_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "looks"
    proc = subprocess.run([sys.executable, str(SCRIPT), *TINY, "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # nothing but the JSON object on stdout
    assert result["bench"] == "looks" and result["settings"]["eval_looks"] == "heldout"
    row = result["by_toolkit"]["qt"]["click_button"]
    assert row["expert_success"] == 1.0
    assert row["per_task"]["success"] in ("0/1", "1/1")
    assert result["trained"]["per_task-click_button"]["steps"] == 4
    shards = sorted(p.name for p in (out / "shards").iterdir())
    assert shards == ["demos-click_button.json", "eval-per_task-click_button.json",
                      "train-per_task-click_button.json"]
    # A finished run's folder is refused without --resume, and a resumed one redoes nothing.
    again = subprocess.run([sys.executable, str(SCRIPT), *TINY, "--out", str(out)],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert again.returncode == 2 and "--resume" in again.stderr
    before = {p: p.stat().st_mtime_ns for p in (out / "shards").iterdir()}
    resumed = subprocess.run([sys.executable, str(SCRIPT), *TINY, "--out", str(out), "--resume"],
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads(resumed.stdout)["by_toolkit"] == result["by_toolkit"]
    assert {p: p.stat().st_mtime_ns for p in (out / "shards").iterdir()} == before
