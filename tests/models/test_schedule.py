"""The training schedule sized from the data: one rule for `deskmimic train`, the GUI and
the recipe; --epochs and --steps still override it; progress knows the real total."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from deskmimic.models.training.schedule import (
    BASE_PRESENTATIONS,
    plan,
    planned_steps,
)
from tests.models.conftest import small_config


def test_planned_steps_follow_the_samples_not_an_epoch_count():
    # 20 demonstrations of a one-step task: the recipe's 800 steps of 16, whatever the batch
    assert planned_steps(40, 16) == 800
    assert planned_steps(40, 32) == 400
    assert planned_steps(68, 32) == BASE_PRESENTATIONS // 32
    # more samples, more steps, but fewer passes over each sample
    small, big = planned_steps(180, 16), planned_steps(2000, 16)
    assert 1100 <= small <= 1300 and big > small
    assert big * 16 / 2000 < small * 16 / 180
    with pytest.raises(ValueError):
        planned_steps(10, 0)


def test_plan_keeps_epochs_and_steps_overrides():
    # --epochs: passes over the data, as before (68 samples, batch 32: 3 steps a pass)
    assert plan(68, 32, epochs=30) == (30, 3, 90)
    # --steps: that many in all, over `checkpoints` stretches
    assert plan(68, 32, steps=100, checkpoints=4) == (4, 25, 100)
    # --steps with --epochs: the epochs are the checkpoints
    assert plan(68, 32, steps=10, epochs=3) == (3, 4, 10)
    # neither: sized from the data
    epochs, per_epoch, total = plan(68, 32)
    assert total == planned_steps(68, 32) and epochs * per_epoch >= total
    # caps of smoke runs still hold
    assert plan(68, 32, max_steps=7)[2] == 7


def test_cli_defaults_leave_the_length_to_the_data(tmp_path: Path):
    from deskmimic.app.cli.train import add_parser, build_config

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    cfg = build_config(parser.parse_args(["train", str(tmp_path), "--name", "x"]))
    assert cfg.epochs is None and cfg.steps is None
    cfg = build_config(parser.parse_args(["train", str(tmp_path), "--name", "x", "--steps", "50",
                                          "--epochs", "5"]))
    assert (cfg.steps, cfg.epochs) == (50, 5)


def test_a_run_planned_by_steps_cycles_its_few_samples(demo_root: Path, tmp_path: Path):
    from deskmimic.app.gui.workers.trainwork import TrainProgress
    from deskmimic.models.training.train import train

    cfg = small_config(tmp_path, [demo_root / "click"], name="steps", epochs=None, steps=7,
                       checkpoints=2, batch_size=4, val_fraction=0.0)
    events = list(train(cfg))
    start = events[0]
    # 3 demonstrations are ~6 samples: two batches a pass, yet 4 steps an epoch
    assert start["train_samples"] < 4 * 4
    assert (start["total_steps"], start["epochs"], start["steps_per_epoch"]) == (7, 2, 4)
    assert [e["step"] for e in events if e["event"] == "epoch"] == [4, 7]
    assert events[-1]["step"] == 7
    saved = json.loads((cfg.run_dir / "config.json").read_text())
    assert (saved["steps"], saved["epochs"]) == (7, 2)  # a resume keeps the plan
    progress = TrainProgress(None)
    progress.update(start)
    assert (progress.total_steps, progress.epochs) == (7, 2)


def test_the_recipe_and_the_cli_share_the_rule(demo_root: Path, tmp_path: Path, monkeypatch):
    """`tasks.learn` asks `planned_steps` when QuickTrain.steps is not given."""
    import deskmimic.models.training.schedule as schedule
    from deskmimic.tasks.learn import QuickTrain, train_task_policy

    asked = []
    real = schedule.planned_steps

    def spy(samples: int, batch_size: int) -> int:
        asked.append((samples, batch_size))
        return min(real(samples, batch_size), 3)

    monkeypatch.setattr(schedule, "planned_steps", spy)
    qt = QuickTrain(epochs=1, batch_size=4, input_height=96, input_width=160, threads=1)
    events = list(train_task_policy(demo_root / "click", tmp_path / "runs", "r", qt))
    start = events[0]
    assert asked == [(start["train_samples"], 4)] and start["total_steps"] == 3


def test_a_tie_on_validation_goes_to_the_later_checkpoint():
    """A dozen validation decisions stop moving the score early while their loss grows:
    the earlier checkpoint of a planned run must not win the tie on loss."""
    from types import SimpleNamespace

    from deskmimic.models.training.validate import _update_best

    s = SimpleNamespace(best=None, data=SimpleNamespace(val=[object()]), step=100)
    assert _update_best(s, {"score": 0.98, "loss": 1.0}, 1)
    s.step = 400
    assert _update_best(s, {"score": 0.98, "loss": 1.6}, 4)
    assert s.best["step"] == 400
    s.step = 500
    assert not _update_best(s, {"score": 0.9, "loss": 0.5}, 5)
    assert s.best["step"] == 400
