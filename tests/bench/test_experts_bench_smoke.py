"""Smoke test of bench/experts_bench.py: two seeds of two tasks on its own Xvfb."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "experts_bench.py"


@pytest.mark.timeout(120)
def test_experts_bench_prints_one_json_object() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--seeds", "2", "--tasks", "click_button,type_field",
         "--speed", "2"],
        capture_output=True, text=True, timeout=110, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # nothing but the JSON object on stdout
    assert result["bench"] == "experts" and result["seeds_per_task"] == 2
    assert set(result["tasks"]) == {"click_button", "type_field"}
    for row in result["tasks"].values():
        assert row["episodes"] == 2 and row["success_rate"] == 1.0 and row["failures"] == []
        assert 0 < row["mean_duration_s"] < 30
    assert result["tasks"]["click_button"]["min_steps"] >= 1
    assert result["tasks"]["type_field"]["min_steps"] >= 2  # a click into the field, the text
    assert result["all_solved"] is True
