"""Distributed data-parallel training: `torchrun --nproc_per_node 2` (gloo, CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from deskmimic.models.policy import load_policy
from deskmimic.models.training.checkpoint import CHECKPOINTS_DIR, TRAINING_STATE_DIR


def test_torchrun_two_processes_write_one_loadable_run(demo_root: Path, tmp_path: Path):
    runs = tmp_path / "runs"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "deskmimic.app.cli", "train", str(demo_root / "click"), str(demo_root / "type"),
           "--name", "ddp", "--runs-dir", str(runs), "--input-size", "96x160", "--threads", "2",
           "--device", "cpu", "--smoke", "--batch-size", "2", "--allow-mixed-sizes", "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    # only rank 0 prints the summary and writes the run
    summaries = [x for x in res.stdout.splitlines() if x.startswith("{")]
    assert len(summaries) == 1
    done = json.loads(summaries[0])
    assert done["epoch"] == 2 and done["step"] == 6  # smoke: 3 steps per epoch on each rank
    ckpts = sorted(p.name for p in (runs / "ddp" / CHECKPOINTS_DIR).iterdir())
    assert ckpts == ["000003", "000006", "best", "last"]
    state = json.loads((runs / "ddp" / CHECKPOINTS_DIR / "last" / TRAINING_STATE_DIR /
                        "state.json").read_text())
    assert state["world_size"] == 2 and state["step"] == 6
    policy = load_policy(runs / "ddp", which="last")
    assert policy.spec.info["step"] == 6
