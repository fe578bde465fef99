"""Smoke test of bench/learning_bench.py with tiny settings, on its own Xvfb.

Runs the script as a subprocess, so this also checks that stdout carries exactly one
JSON object and that every part (record, train, evaluate three agents, latency) ran.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "learning_bench.py"


@pytest.mark.timeout(360)
def test_learning_bench_prints_one_json_object(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--tasks", "click_button", "--demos", "2",
         "--eval-seeds", "2", "--steps", "4", "--epochs", "1", "--batch-size", "4",
         "--input", "64x96", "--latency-samples", "5", "--out", str(tmp_path / "bench")],
        capture_output=True, text=True, timeout=230, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # nothing but the JSON object on stdout
    assert result["bench"] == "learning"
    row = result["tasks"]["click_button"]
    assert row["expert_success_rate"] == 1.0
    for agent in (row["policy"]["2"], row["macro"], row["random"]):
        assert agent["episodes"] == 2 and 0.0 <= agent["success_rate"] <= 1.0
        assert 0 < agent["mean_time_s"] < 60 and agent["mean_steps"] <= row["max_steps"]
    assert row["policy"]["2"]["train_seconds"] > 0 and row["train_steps"] == 4
    # confidence judged two ways: by the evaluation's own episodes, and step by step on
    # recorded held-out demonstrations (as demonstrated, or an answer the training ones give)
    loop = row["policy"]["2"]["closed_loop_confidence"]
    assert loop["episodes"] == 2 and loop["decisions"] >= 1 and len(loop["sweep"]) == 9
    assert len(loop["failed"]) == 2 - loop["successes"]
    assert result["closed_loop_confidence"]["episodes"] == 2
    rec = row["policy"]["2"]["recorded_confidence"]
    assert rec["episodes"] == 2 and rec["equivalent"]["split_fit"]["decisions"] == \
        rec["split_fit"]["decisions"]
    assert set(result["recorded_confidence"]) == {"demonstrated", "equivalent"}
    lat = result["latency"]
    assert lat["samples"] == 5 and 0 < lat["capture_ms_p50"] <= lat["decision_ms_p50"]
    assert lat["decision_ms_p50"] <= lat["decision_ms_p95"]
    assert 0 < lat["first_decision_ms_p50"] <= lat["first_decision_ms_p95"]
    assert lat["instruction_words"] == 1  # "Click <label>"
    assert result["closed_loop_steps_per_s"] > 0
    # The bench keeps what it made under --out, nothing in the user's data folder.
    assert (tmp_path / "bench" / "click_button" / "episodes").is_dir()

    # bench/step_bench.py judges that policy step by step on two held-out demonstrations.
    run = next(p.parent for p in (tmp_path / "bench" / "click_button").rglob("config.json")
               if p.parent.name != "checkpoints" and (p.parent / "checkpoints").is_dir())
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "step_bench.py"), "--policy", str(run),
         "--task", "click_button", "--seeds", "1000000-1000001", "--demos",
         str(tmp_path / "steps")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = json.loads(proc.stdout)
    assert steps["bench"] == "steps" and steps["episodes"] == 2 and steps["skipped"] == []
    assert steps["pointer_steps"] == 2 and steps["per_step"]["0"]["steps"] == 2
    assert steps["hits"] == 2 - len(steps["misses"]) and 0.0 <= steps["hit_rate"] <= 1.0
