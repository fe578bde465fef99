"""Smoke test of bench/train_bench.py: a few demos, two epochs, on its own Xvfb."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "train_bench.py"


@pytest.mark.timeout(180)
def test_train_bench_prints_one_json_object() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--click-demos", "2", "--type-demos", "2", "--val-demos",
         "1", "--epochs", "2", "--input-size", "64x96", "--threads", "1", "--latency-calls", "5"],
        capture_output=True, text=True, timeout=170, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # nothing but the JSON object on stdout
    assert result["bench"] == "train"
    assert result["throughput"]["epochs"] == 2 and result["throughput"]["train_samples_per_s"] > 0
    assert result["data"]["tasks"]["click_button"]["train_episodes"] == 2
    assert result["data"]["unseen_val_strings"]["type_field@heldout"] == 1
    assert len(result["history"]) == 2
    click, typed = result["results"]["click_button"], result["results"]["type_field"]
    assert 0 < click["chance_click_in_target"] < 0.5
    assert 0 <= click["click_in_target"]["best"] <= 1
    assert 0 <= typed["text_acc_unseen_strings"]["best"] <= 1
    inf = result["inference"]
    assert inf["input_size"] == [160, 256] and 0 < inf["p50_ms"] <= inf["p95_ms"]
    assert set(result["targets"]) == {"click_in_target_ge_0.95_within_10_min",
                                      "typed_text_unseen_ge_0.90", "inference_p50_le_10_ms"}
