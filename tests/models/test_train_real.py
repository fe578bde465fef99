"""Training on real recorded demonstrations: checkpoints, resume, determinism, loss going down."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from safetensors.torch import load_file

from deskmimic.models.training.checkpoint import CHECKPOINTS_DIR, MODEL_FILE
from deskmimic.models.training.train import train
from tests.models.conftest import small_config
from tests.models.test_run_log import read_scalars


def _events(cfg, stop_after_epoch: int | None = None) -> list[dict]:
    out = []
    for ev in train(cfg):
        out.append(ev)
        if ev["event"] == "epoch" and ev["epoch"] == stop_after_epoch:
            break  # what the GUI's cancel does: stop iterating
    return out


def test_train_interrupt_resume_is_exact_and_loss_drops(demo_root: Path, tmp_path: Path):
    eps = [demo_root / "click", demo_root / "type"]
    # 12 training samples: one full batch per epoch, 30 optimizer steps in all.
    cfg = small_config(tmp_path, eps, name="full", epochs=30, batch_size=16)
    full = _events(cfg)
    start = full[0]
    assert start["event"] == "start" and start["step"] == 0
    assert start["kinds"]["click"] >= 3 and start["kinds"]["type"] >= 1
    per_epoch = start["steps_per_epoch"]
    steps = [e for e in full if e["event"] == "step"]
    assert len(steps) == 30 * per_epoch
    # the loss goes down clearly: the last epochs against the first one
    losses = [e["loss"] for e in full if e["event"] == "epoch"]
    assert sum(losses[-3:]) / 3 < 0.5 * losses[0], losses
    epochs = [e for e in full if e["event"] == "epoch"]
    for e in epochs:
        assert {"kind_acc", "click_in_target", "pixel_error", "loss"} <= set(e["metrics"])

    run = cfg.run_dir
    ckpts = run / CHECKPOINTS_DIR
    assert os.readlink(ckpts / "last") == f"{30 * per_epoch:06d}"  # relative link
    assert (ckpts / "best" / MODEL_FILE).is_file()
    kept = [p.name for p in ckpts.iterdir() if p.name.isdigit()]
    assert len(kept) <= 6 and os.readlink(ckpts / "best") in kept  # newest 5 + best
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == list(range(1, 31))
    assert json.loads((run / "config.json").read_text())["epochs"] == 30
    (events,) = (run / "tensorboard").iterdir()
    assert events.name.startswith("events.out.tfevents.")
    scalars = read_scalars(events)
    # one train/loss per epoch, at the epoch's last step, with the epoch event's loss
    assert [(step, value) for tag, step, value in scalars if tag == "train/loss"] == [
        (e["step"], pytest.approx(e["loss"], rel=1e-6)) for e in epochs
    ]
    assert [(s, v) for t, s, v in scalars if t == "val/click_in_target"] == [
        (e["step"], pytest.approx(e["metrics"]["click_in_target"], abs=1e-6)) for e in epochs
    ]

    # Interrupted after epoch 10, then resumed: continues the step count and ends with
    # exactly the weights of the uninterrupted run (same seed).
    part = small_config(tmp_path, eps, name="part", epochs=30, batch_size=16)
    first = _events(part, stop_after_epoch=10)
    assert first[-1]["step"] == 10 * per_epoch
    resumed = _events(part.replace(resume=True))
    assert resumed[0]["step"] == 10 * per_epoch and resumed[0]["epoch"] == 10
    assert [e["epoch"] for e in resumed if e["event"] == "epoch"] == list(range(11, 31))
    assert resumed[-1]["event"] == "done" and resumed[-1]["step"] == 30 * per_epoch
    a = load_file(ckpts / "last" / MODEL_FILE)
    b = load_file(part.run_dir / CHECKPOINTS_DIR / "last" / MODEL_FILE)
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)
