"""One training epoch: the shuffled order, the LR schedule and the optimizer steps.

Epoch ``e`` shuffles and augments with generators seeded from ``(seed, e, rank)`` rather
than from a running state, so a run resumed at an epoch boundary repeats exactly what the
uninterrupted run would have done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import torch

from deskmimic.models.data.augment import augment_batch
from deskmimic.models.data.samples import SampleSet
from deskmimic.models.training.build import TrainingSetup, lr_at
from deskmimic.models.training.losses import policy_loss

logger = logging.getLogger(__name__)


@dataclass
class EpochResult:
    """What an epoch leaves for its validation: mean training loss and wall time."""

    loss: float
    seconds: float


def batches(
    ds: SampleSet, indices: list[int], batch_size: int
) -> Iterator[dict[str, torch.Tensor]]:
    """Batches of ``ds`` in the order of ``indices``; ``index`` holds each row's sample index."""
    for i in range(0, len(indices), batch_size):
        yield ds.rows(torch.tensor(indices[i : i + batch_size]))


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _order(s: TrainingSetup, epoch: int) -> list[int]:
    """This process's sample order for ``epoch``: one shuffled pass, or as many as the
    epoch's steps need when a run planned by steps has fewer samples than an epoch uses
    (each pass shuffled by its own seed, so a resumed run repeats them)."""
    # Enough for steps_per_epoch batches, the last one possibly short (as one pass was).
    need = (s.steps_per_epoch - 1) * s.cfg.batch_size
    order: list[int] = []
    k = 0
    while not order or len(order) <= need:
        if s.sampler is not None:
            s.sampler.set_epoch(epoch + k * 1_000_003)
            part = list(s.sampler)
        else:
            g = torch.Generator().manual_seed(s.cfg.seed * 1_000_003 + epoch + k * 7_368_787)
            part = torch.randperm(len(s.train_set), generator=g).tolist()
        if not part:
            break
        order += part
        k += 1
    return order


def run_epoch(s: TrainingSetup, epoch: int) -> Generator[dict, None, EpochResult]:
    """Train epoch ``epoch`` (0-based), advancing ``s.step`` and ``s.lr``; yields the
    ``step`` progress events (every ``cfg.log_every`` steps) and returns the epoch's mean
    loss and time (``result = yield from run_epoch(...)``)."""
    cfg, ctx = s.cfg, s.ctx
    t0 = time.perf_counter()
    order = _order(s, epoch)
    aug_gen = torch.Generator(device=ctx.device).manual_seed(
        cfg.seed * 7919 + epoch * 104_729 + ctx.rank
    )
    s.model.train()
    loss_sum, n_steps = 0.0, 0
    for i, batch in enumerate(batches(s.train_set, order, cfg.batch_size)):
        if i >= s.steps_per_epoch or s.step >= s.total:
            break
        s.lr = lr_at(cfg, s.step, s.total)
        for group in s.opt.param_groups:
            group["lr"] = s.lr
        b = to_device(batch, ctx.device)
        images = b["image"]
        if cfg.augment:
            images, b = augment_batch(images, b, s.aug, aug_gen)
        out = s.model(images, b["tokens"], b["history"], words=b["words"])
        loss, parts = policy_loss(out, b, s.kind_w, s.done_kind, s.scroll_kind)
        s.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(s.net.parameters(), cfg.grad_clip)
        s.opt.step()
        s.step += 1
        n_steps += 1
        loss_sum += float(loss.detach())
        if s.step % cfg.log_every == 0:
            yield {
                "event": "step",
                "epoch": epoch,
                "step": s.step,
                "loss": float(loss.detach()),
                "lr": s.lr,
                "parts": parts,
            }
    return EpochResult(loss_sum / max(1, n_steps), time.perf_counter() - t0)
