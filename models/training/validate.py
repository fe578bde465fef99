"""The end of an epoch on rank 0: validation metrics, the checkpoint (``best`` when they
beat every earlier epoch), pruning old checkpoints, and the run's logs."""

from __future__ import annotations

import logging

import torch

from deskmimic.models.data.samples import SampleSet
from deskmimic.models.net.decode import Calibration
from deskmimic.models.net.policy_net import PolicyNet
from deskmimic.models.training.build import TrainingSetup
from deskmimic.models.training.calibration import (
    collect,
    expected_calibration_error,
    fit_platt,
)
from deskmimic.models.training.checkpoint import prune_checkpoints, save_checkpoint
from deskmimic.models.training.epoch import EpochResult, batches, to_device
from deskmimic.models.training.losses import kind_logit, policy_loss
from deskmimic.models.training.metrics import MetricAccumulator
from deskmimic.models.training.run_log import RunLog

logger = logging.getLogger(__name__)


@torch.no_grad()
def evaluate(
    net: PolicyNet,
    ds: SampleSet,
    device: torch.device,
    batch_size: int = 64,
    max_batches: int | None = None,
) -> dict[str, float]:
    """Validation metrics (`deskmimic.models.training.metrics`) of ``net`` on ``ds``, no augmentation."""
    was_training = net.training
    net.eval()
    acc = MetricAccumulator(ds.space)
    done_kind, scroll_kind = (
        kind_logit(ds.space.kinds, "done"),
        kind_logit(ds.space.kinds, "scroll"),
    )
    for n, batch in enumerate(batches(ds, list(range(len(ds))), batch_size)):
        if max_batches is not None and n >= max_batches:
            break
        b = to_device(batch, device)
        out = net(b["image"], b["tokens"], b["history"], words=b["words"])
        loss, _ = policy_loss(out, b, done_kind=done_kind, scroll_kind=scroll_kind)
        rows = batch["index"].tolist()
        acc.update(
            out,
            b,
            float(loss),
            [ds.instructions[r] for r in rows],
            [ds.actions[r].text for r in rows],
        )
    net.train(was_training)
    return acc.result()


def _update_best(s: TrainingSetup, metrics: dict[str, float], epoch: int) -> bool:
    """Whether ``metrics`` of ``epoch`` are at least as good as the best epoch so far (a
    higher score; an equal one too, so a tie goes to the later checkpoint); makes them
    ``s.best`` when they are.

    Ties are the rule on a small validation split (20 demonstrations hold out 3, a dozen
    decisions): its score stops moving early while its loss grows as the network grows
    surer, so "then lower loss" kept the checkpoint at a quarter of a planned run (step
    100 of 400 on type_field: 27/30 held-out seeds, the last one 28/30, docs/learning.md).

    Without validation episodes the metrics come from one batch of training samples:
    picking "best" by them chose an arbitrary epoch (a workflow policy at 3/4 of its
    schedule clicked 14 px above fields the last one hit: 14/30 vs 19/30 held-out seeds).
    Then the last checkpoint is the best guess.
    """
    key = (metrics.get("score", 0.0), -metrics.get("loss", float("inf")))
    best = s.best
    is_best = best is None or not s.data.val or key[0] >= best["score"]
    if is_best:
        s.best = {"score": key[0], "loss": -key[1], "step": s.step, "epoch": epoch}
    return is_best


def _calibrate(s: TrainingSetup, metrics: dict[str, float]) -> Calibration | None:
    """The confidence scaling fitted on the validation episodes' decisions; their raw
    calibration error and share of right decisions go into ``metrics``. None without
    validation episodes: decisions on training samples are right far more often than on
    new screens, and a scaling fitted to them would promise that."""
    if not s.data.val:
        return None
    conf, right = collect(s.net, s.val_set, s.ctx.device)
    metrics["right_rate"] = float(right.mean()) if len(right) else 0.0
    metrics["ece_raw"] = expected_calibration_error(conf, right)
    return fit_platt(conf, right)


def validate_and_checkpoint(s: TrainingSetup, epoch: int, result: EpochResult, log: RunLog) -> dict:
    """Rank 0's end of ``epoch`` (1-based): validate, save a checkpoint, prune, log.

    Returns the epoch event's ``metrics``, ``checkpoint`` (its folder) and ``best``.
    """
    cfg = s.cfg
    metrics = evaluate(s.net, s.val_set, s.ctx.device, max_batches=cfg.max_val_batches)
    calibration = _calibrate(s, metrics)
    is_best = _update_best(s, metrics, epoch)
    spec = s.spec(
        {
            "run": cfg.name,
            "step": s.step,
            "epoch": epoch,
            "metrics": metrics,
            "train_samples": len(s.train_set),
            "val_episodes": s.data.val_episodes,
        },
        calibration,
    )
    training_state = {
        "step": s.step,
        "epoch": epoch,
        "best": s.best,
        "seed": cfg.seed,
        "world_size": s.ctx.world_size,
    }
    ckpt = save_checkpoint(cfg.run_dir, s.step, s.net, spec, s.opt, training_state, best=is_best)
    prune_checkpoints(cfg.run_dir, cfg.keep_checkpoints)
    log.epoch(
        epoch=epoch,
        step=s.step,
        lr=s.lr,
        train_loss=result.loss,
        seconds=result.seconds,
        metrics=metrics,
    )
    return {"metrics": metrics, "checkpoint": str(ckpt), "best": is_best}
