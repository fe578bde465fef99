"""Smoke test of bench/typing_bench.py --quick: trains, decodes held-out instructions, prints
one JSON object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "typing_bench.py"


@pytest.mark.timeout(300)
def test_typing_bench_quick_prints_one_json_object() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--threads", "1"],
                          capture_output=True, text=True, timeout=290, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # nothing but the JSON object on stdout
    assert result["bench"] == "typing" and result["quick"] and result["head"] == "program"
    exact = result["exact"]
    assert {"le20", "le80", "le200", "compositions", "all"} <= set(exact)
    assert exact["all"]["n"] == 4 * len(result["templates"])
    assert result["max_text_len"] >= 224 and "/" in result["literals"]
    # 40 steps on 4 demonstrations each: short values are already copied.
    assert exact["le20"]["rate"] >= 0.5
