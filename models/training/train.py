"""Behavior-cloning training: `train(cfg)` yields progress dicts; `run_training(cfg)` runs it.

Progress events (plain JSON-able dicts, so the GUI can show them from a QThread and
cancel by no longer iterating)::

    {"event": "start", "run_dir", "train_samples", "val_samples", "steps_per_epoch",
     "total_steps", "epochs", "step", "epoch"}
    {"event": "step", "epoch", "step", "loss", "lr", "parts": {...}}
    {"event": "epoch", "epoch", "step", "loss", "metrics": {...}, "checkpoint", "best"}
    {"event": "done", "run_dir", "step", "epoch", "best_checkpoint", "last_checkpoint"}

Determinism: initialisation uses ``seed``; epoch ``e`` shuffles and augments with
generators seeded from ``(seed, e, rank)``, so a run resumed from an epoch-end
checkpoint continues exactly as the uninterrupted run would (no RNG state to pickle).

The pieces: `build` (samples, network, optimizer, resume state), `epoch` (one epoch of
optimizer steps), `validate` (validation, checkpoints) and `run_log` (config.json,
metrics.jsonl, TensorBoard); this module strings them together into the event stream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import torch

from deskmimic.models.data.dataset import DatasetSplit
from deskmimic.models.runs import CHECKPOINTS_DIR, LAST
from deskmimic.models.training.build import TrainingSetup, build_training, keep_saved_inputs
from deskmimic.models.training.config import TrainConfig
from deskmimic.models.training.distributed import init_distributed
from deskmimic.models.training.epoch import run_epoch
from deskmimic.models.training.run_log import RunLog
from deskmimic.models.training.validate import evaluate, validate_and_checkpoint

logger = logging.getLogger(__name__)

__all__ = ["TrainConfig", "train", "run_training", "evaluate"]


def _start_event(s: TrainingSetup) -> dict:
    return {
        "event": "start",
        "run_dir": str(s.cfg.run_dir),
        "train_samples": len(s.train_set),
        "val_samples": len(s.data.val),
        "steps_per_epoch": s.steps_per_epoch,
        "total_steps": s.total,
        "epochs": s.cfg.epochs,
        "step": s.step,
        "epoch": s.start_epoch,
        "world_size": s.ctx.world_size,
        "device": str(s.ctx.device),
        "kinds": dict(s.train_set.kind_counts()),
    }


def _epochs(s: TrainingSetup, log: RunLog | None) -> Iterator[dict]:
    """The step and epoch events of the remaining epochs; then the ``done`` event."""
    cfg, ctx = s.cfg, s.ctx
    epochs_done = s.start_epoch
    for epoch in range(s.start_epoch, cfg.epochs):
        if cfg.max_steps and s.step >= cfg.max_steps:
            break
        result = yield from run_epoch(s, epoch)
        record = {
            "event": "epoch",
            "epoch": epoch + 1,
            "step": s.step,
            "loss": result.loss,
            "metrics": {},
            "checkpoint": None,
            "best": False,
            "seconds": result.seconds,
        }
        if log is not None:  # rank 0
            record.update(validate_and_checkpoint(s, epoch + 1, result, log))
        ctx.barrier()
        epochs_done = epoch + 1
        yield record
    run_dir = cfg.run_dir
    yield {
        "event": "done",
        "run_dir": str(run_dir),
        "step": s.step,
        "epoch": epochs_done,
        "best_checkpoint": str(run_dir / CHECKPOINTS_DIR / "best"),
        "last_checkpoint": str(run_dir / CHECKPOINTS_DIR / LAST),
        "best": s.best,
    }


def train(cfg: TrainConfig, data: DatasetSplit | None = None) -> Iterator[dict]:
    """Train a policy; yields progress events (module docstring). Rank 0 writes the run.

    Args:
        cfg: the run's settings.
        data: ready-made samples (tests, benchmarks); default: load ``cfg.episodes``.

    Raises:
        ConfigError: bad settings, no usable episodes, or the run folder exists (no --resume).
        CheckpointError: --resume from a missing/corrupt checkpoint or other network settings.
    """
    cfg = keep_saved_inputs(cfg)
    ctx = init_distributed(cfg.device)
    # CPU processes of one machine share its cores; a GPU process keeps the setting.
    threads = (
        max(1, cfg.num_threads // ctx.local_world_size)
        if ctx.device.type == "cpu"
        else cfg.num_threads
    )
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    log = None
    try:
        s = build_training(cfg, ctx, data)
        log = RunLog(s.cfg, s.step) if ctx.is_main else None
        yield _start_event(s)
        yield from _epochs(s, log)
    finally:
        if log is not None:
            log.close()
        torch.set_num_threads(prev_threads)
        ctx.close()


def run_training(cfg: TrainConfig, data: DatasetSplit | None = None) -> dict:
    """Run `train` to the end; returns the final ``done`` event."""
    last: dict = {}
    for event in train(cfg, data):
        if event["event"] in ("epoch", "done"):
            logger.info("%s", {k: v for k, v in event.items() if k != "parts"})
        last = event
    return last
