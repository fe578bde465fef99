"""A checkpoint runs without the training code, in a fresh interpreter, on a real frame."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from deskmimic.models.actions import ACTION_KINDS
from deskmimic.recorder.episode import Episode

SCRIPT = r"""
import json, sys
import numpy as np
from deskmimic.models.policy import load_policy, Policy
from deskmimic.models.actions import Action

policy = load_policy(sys.argv[1])
assert isinstance(policy, Policy)
image = np.load(sys.argv[2])
policy.reset()
a1 = policy.act({"image": image, "instruction": sys.argv[3]})
a2 = policy.act({"image": image, "instruction": sys.argv[3]})
assert isinstance(a1, Action) and policy.history == [a1.kind, a2.kind]
policy.reset()
assert policy.history == []
# Loading reads checkpoint.py (in training/ beside its writer) and nothing else of training.
training = sorted(m for m in sys.modules if m.startswith("deskmimic.models.")
                  and (m.startswith("deskmimic.models.training.")
                       and m != "deskmimic.models.training.checkpoint"
                       or m.split(".")[-1] in ("dataset", "augment", "samples", "synthetic")))
print(json.dumps({"action": a1.to_dict(), "training_modules": training,
                  "step": policy.spec.info.get("step")}))
"""


def test_checkpoint_loads_in_a_fresh_process_without_training_code(
    trained_run: Path, demo_root: Path, tmp_path: Path
):
    ep_dir = next((demo_root / "click").iterdir())
    with Episode.open(ep_dir) as ep:
        image, instruction = ep.frame(0), ep.instruction
        w, h = ep.size
    frame = tmp_path / "frame.npy"
    np.save(frame, image)
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(trained_run), str(frame), instruction],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["training_modules"] == []
    assert out["step"] in (1, 2)  # "best" resolves to a real checkpoint of this run
    action = out["action"]
    assert action["kind"] in ACTION_KINDS and 0.0 <= action["confidence"] <= 1.0
    if action["x"] is not None:  # pointer actions come back in the frame's own pixels
        assert 0 <= action["x"] < w and 0 <= action["y"] < h
