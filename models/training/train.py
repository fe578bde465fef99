"""Behavior-cloning training: `train(cfg)` yields progress dicts; `run_training(cfg)` runs it.

Progress events (plain JSON-able dicts, so the GUI can show them from a QThread and
cancel by no longer iterating)::

    {"event": "start", "run_dir", "train_samples", "val_samples", "steps_per_epoch", "step", "epoch"}
    {"event": "step", "epoch", "step", "loss", "lr", "parts": {...}}
    {"event": "epoch", "epoch", "step", "loss", "metrics": {...}, "checkpoint", "best"}
    {"event": "done", "run_dir", "step", "epoch", "best_checkpoint", "last_checkpoint"}

Determinism: initialisation uses ``seed``; epoch ``e`` shuffles and augments with
generators seeded from ``(seed, e, rank)``, so a run resumed from an epoch-end
checkpoint continues exactly as the uninterrupted run would (no RNG state to pickle).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import DistributedSampler

from deskmimic.core.errors import CheckpointError, ConfigError
from deskmimic.models.data.augment import AugmentConfig, augment_batch
from deskmimic.models.data.dataset import DatasetSplit, load_dataset
from deskmimic.models.data.samples import SampleSet
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.policy_net import NetConfig, PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.training.checkpoint import (
    CHECKPOINTS_DIR,
    LAST,
    PolicySpec,
    load_checkpoint,
    load_training_state,
    prune_checkpoints,
    save_checkpoint,
)
from deskmimic.models.training.config import TrainConfig
from deskmimic.models.training.distributed import DistContext, init_distributed, main_first
from deskmimic.models.training.losses import kind_logit, policy_loss
from deskmimic.models.training.metrics import MetricAccumulator
from deskmimic.models.training.tb_events import ScalarWriter

logger = logging.getLogger(__name__)

RUN_CONFIG = "config.json"
METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"

__all__ = ["TrainConfig", "train", "run_training", "evaluate"]


def _lr_at(cfg: TrainConfig, step: int, total: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / (cfg.warmup_steps + 1)
    frac = min(1.0, (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps))
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _batches(
    ds: SampleSet, indices: list[int], batch_size: int
) -> Iterator[dict[str, torch.Tensor]]:
    for i in range(0, len(indices), batch_size):
        idx = torch.tensor(indices[i : i + batch_size])
        batch = {k: v[idx] for k, v in ds.targets.items()}
        batch.update(
            image=ds.images[idx],
            tokens=ds.tokens[idx],
            history=ds.history[idx],
            words=ds.words[idx],
            size=ds.size_tensor[idx],
            index=idx,
        )
        yield batch


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


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
    done_kind, scroll_kind = kind_logit(ds.space.kinds, "done"), kind_logit(ds.space.kinds, "scroll")
    for n, batch in enumerate(_batches(ds, list(range(len(ds))), batch_size)):
        if max_batches is not None and n >= max_batches:
            break
        b = _to(batch, device)
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


def _text_len(setting: int, data: DatasetSplit) -> int:
    """Instruction characters the network reads: ``setting``, grown to the longest
    instruction (rounded up to 32, at most 512). Cut at 96, a workflow instruction lost its
    end ("..., choose Mode Verbose, then press OK"): the option to choose was never seen."""
    longest = max((len(s.instruction) for s in (*data.train, *data.val)), default=0)
    if longest <= setting:
        return setting
    grown = min(512, -(-longest // 32) * 32)
    logger.info(
        "max_text_len %d -> %d: the longest instruction has %d characters", setting, grown, longest
    )
    return grown


def _keep_saved_inputs(cfg: TrainConfig) -> TrainConfig:
    """On --resume, keep the run's own text_match and word_select: they describe the data the
    weights were trained on (runs from before a setting existed have none), not a choice to
    change."""
    path = cfg.run_dir / RUN_CONFIG
    if not cfg.resume or not path.is_file():
        return cfg
    saved = TrainConfig.load(path)
    return cfg.replace(text_match=saved.text_match, word_select=saved.word_select)


def _prepare_run_dir(cfg: TrainConfig, ctx: DistContext) -> Path | None:
    """Refuse to overwrite a run; on resume return the checkpoint to continue from (or None)."""
    run_dir = cfg.run_dir
    if not cfg.resume:
        if run_dir.exists() and any(run_dir.iterdir()):
            raise ConfigError(
                f"run folder {run_dir} already exists: pick another --name or pass --resume"
            )
        return None
    if not (run_dir / RUN_CONFIG).is_file():
        raise ConfigError(
            f"--resume: {run_dir} is not a run folder (no {RUN_CONFIG}): drop --resume to start it"
        )
    saved = TrainConfig.load(run_dir / RUN_CONFIG)
    diffs = cfg.arch_differences(saved)
    if diffs:
        raise CheckpointError(
            f"--resume: {run_dir} was trained with other network settings ({'; '.join(diffs)})"
        )
    last = run_dir / CHECKPOINTS_DIR / LAST
    return last.resolve() if last.exists() else None


def _write_json_line(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def train(cfg: TrainConfig, data: DatasetSplit | None = None) -> Iterator[dict]:
    """Train a policy; yields progress events (module docstring). Rank 0 writes the run.

    Args:
        cfg: the run's settings.
        data: ready-made samples (tests, benchmarks); default: load ``cfg.episodes``.

    Raises:
        ConfigError: bad settings, no usable episodes, or the run folder exists (no --resume).
        CheckpointError: --resume from a missing/corrupt checkpoint or other network settings.
    """
    cfg = _keep_saved_inputs(cfg)
    ctx = init_distributed(cfg.device)
    threads = (
        max(1, cfg.num_threads // ctx.local_world_size)
        if ctx.device.type == "cpu"
        else cfg.num_threads
    )
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    writer = None
    try:
        resume_from = _prepare_run_dir(cfg, ctx)
        ctx.barrier()  # every rank checked the folder before rank 0 creates it
        if data is None:
            if not cfg.episodes:
                raise ConfigError("no episodes given: pass episode folders or a folder of episodes")
            data = main_first(
                ctx,
                lambda: load_dataset(
                    cfg.episodes,
                    height=cfg.input_height,
                    width=cfg.input_width,
                    val_fraction=cfg.val_fraction,
                    seed=cfg.seed,
                    cache_dir=cfg.resolved_cache_dir,
                    allow_mixed_sizes=cfg.allow_mixed_sizes,
                    text_match=cfg.text_match,
                    word_maps=cfg.uses_word_maps,
                ),
            )
        if not data.train:
            raise ConfigError("the training split is empty: add episodes or lower --val-fraction")

        state: dict = {}
        if resume_from is not None:
            spec0, loaded, _ = load_checkpoint(resume_from)
            space = spec0.space
            text_len = spec0.net.max_text_len  # the network's own, whatever the data now
        else:
            text_len = _text_len(cfg.max_text_len, data)
            space = ActionSpace.build(
                (s.action for s in data.train),
                instructions=(s.instruction for s in data.train),
                scroll_max=cfg.scroll_max,
                history_len=cfg.history_len,
            )
        tokenizer = CharTokenizer(text_len)
        train_set = SampleSet(data.train, space, tokenizer)
        val_set = SampleSet(data.val, space, tokenizer) if data.val else train_set
        if not data.val:
            logger.warning(
                "no validation episodes: metrics use training samples, 'best' is the last checkpoint"
            )

        net_cfg = NetConfig(
            input_height=cfg.input_height,
            input_width=cfg.input_width,
            channels=cfg.channels,
            decoder_channels=cfg.decoder_channels,
            vocab_size=tokenizer.vocab_size,
            max_text_len=text_len,
            num_kinds=space.num_kinds,
            num_strings=space.num_strings,
            num_chords=space.num_chords,
            num_scroll=space.num_scroll,
            history_len=space.history_len,
            text_match=cfg.text_match,
            word_select=cfg.uses_word_maps,
            # Runs from before the glance resume without it.
            term_glance=cfg.uses_word_maps and (resume_from is None or spec0.net.term_glance),
            shown_only=cfg.uses_word_maps and (resume_from is None or spec0.net.shown_only),
            row_band=cfg.uses_word_maps and (resume_from is None or spec0.net.row_band),
        )
        channels = data.train[0].image.shape[-1]
        if channels != net_cfg.in_channels:
            raise ConfigError(
                f"samples have {channels} image channels but text_match={cfg.text_match}, "
                f"word_select={cfg.word_select} needs {net_cfg.in_channels}: load them with "
                f"load_dataset(..., text_match={cfg.text_match}, "
                f"word_maps={cfg.uses_word_maps}) or change the TrainConfig to match"
            )
        torch.manual_seed(cfg.seed)
        net = PolicyNet(net_cfg)
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        if resume_from is not None:
            if spec0.net != net_cfg:
                raise CheckpointError(
                    f"{resume_from}: trained with a different network: cannot resume"
                )
            net.load_state_dict(loaded.state_dict(), strict=True)
            state = load_training_state(resume_from, net, opt)
        net.to(ctx.device)
        for st in opt.state.values():  # optimizer tensors follow the parameters' device
            for k, v in st.items():
                if isinstance(v, torch.Tensor) and k != "step":
                    st[k] = v.to(ctx.device)
        step, start_epoch = int(state.get("step", 0)), int(state.get("epoch", 0))
        best = state.get("best")

        run_dir = cfg.run_dir
        if ctx.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / RUN_CONFIG).write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
            writer = ScalarWriter(run_dir / TENSORBOARD_DIR)
        model = net
        if ctx.distributed:
            model = torch.nn.parallel.DistributedDataParallel(
                net, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None
            )
        kind_w = train_set.kind_weights().to(ctx.device) if cfg.balance_kinds else None
        done_kind, scroll_kind = kind_logit(space.kinds, "done"), kind_logit(space.kinds, "scroll")
        aug = AugmentConfig(cfg.translate, cfg.brightness, cfg.contrast, cfg.gain, cfg.pair_words)
        sampler = (
            DistributedSampler(train_set, ctx.world_size, ctx.rank, shuffle=True, seed=cfg.seed)
            if ctx.distributed
            else None
        )
        n_local = len(sampler) if sampler is not None else len(train_set)
        steps_per_epoch = math.ceil(n_local / cfg.batch_size)
        if cfg.max_steps_per_epoch:
            steps_per_epoch = min(steps_per_epoch, cfg.max_steps_per_epoch)
        total = steps_per_epoch * cfg.epochs
        if cfg.max_steps:
            total = min(total, cfg.max_steps)
        spec_screen = dict(data.screen)
        yield {
            "event": "start",
            "run_dir": str(run_dir),
            "train_samples": len(train_set),
            "val_samples": len(data.val),
            "steps_per_epoch": steps_per_epoch,
            "step": step,
            "epoch": start_epoch,
            "world_size": ctx.world_size,
            "device": str(ctx.device),
            "kinds": dict(train_set.kind_counts()),
        }

        epochs_done, lr = start_epoch, _lr_at(cfg, step, total)
        for epoch in range(start_epoch, cfg.epochs):
            if cfg.max_steps and step >= cfg.max_steps:
                break
            t0 = time.perf_counter()
            if sampler is not None:
                sampler.set_epoch(epoch)
                order = list(sampler)
            else:
                g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
                order = torch.randperm(len(train_set), generator=g).tolist()
            aug_gen = torch.Generator(device=ctx.device).manual_seed(
                cfg.seed * 7919 + epoch * 104_729 + ctx.rank
            )
            model.train()
            loss_sum, n_steps = 0.0, 0
            for i, batch in enumerate(_batches(train_set, order, cfg.batch_size)):
                if i >= steps_per_epoch or (cfg.max_steps and step >= cfg.max_steps):
                    break
                lr = _lr_at(cfg, step, total)
                for group in opt.param_groups:
                    group["lr"] = lr
                b = _to(batch, ctx.device)
                images = b["image"]
                if cfg.augment:
                    images, b = augment_batch(images, b, aug, aug_gen)
                out = model(images, b["tokens"], b["history"], words=b["words"])
                loss, parts = policy_loss(out, b, kind_w, done_kind, scroll_kind)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
                opt.step()
                step += 1
                n_steps += 1
                loss_sum += float(loss.detach())
                if step % cfg.log_every == 0:
                    yield {
                        "event": "step",
                        "epoch": epoch,
                        "step": step,
                        "loss": float(loss.detach()),
                        "lr": lr,
                        "parts": parts,
                    }
            train_loss = loss_sum / max(1, n_steps)
            record = {
                "event": "epoch",
                "epoch": epoch + 1,
                "step": step,
                "loss": train_loss,
                "metrics": {},
                "checkpoint": None,
                "best": False,
                "seconds": time.perf_counter() - t0,
            }
            if ctx.is_main:
                metrics = evaluate(net, val_set, ctx.device, max_batches=cfg.max_val_batches)
                key = (metrics.get("score", 0.0), -metrics.get("loss", float("inf")))
                # Without validation episodes the metrics come from one batch of training
                # samples: picking "best" by them chose an arbitrary epoch (a workflow policy
                # at 3/4 of its schedule clicked 14 px above fields the last one hit:
                # 14/30 vs 19/30 held-out seeds). Then the last checkpoint is the best guess.
                is_best = best is None or not data.val or key > (best["score"], -best["loss"])
                if is_best:
                    best = {"score": key[0], "loss": -key[1], "step": step, "epoch": epoch + 1}
                spec = PolicySpec(
                    net_cfg,
                    space,
                    tokenizer.to_config(),
                    spec_screen,
                    {
                        "run": cfg.name,
                        "step": step,
                        "epoch": epoch + 1,
                        "metrics": metrics,
                        "train_samples": len(train_set),
                        "val_episodes": data.val_episodes,
                    },
                )
                ckpt = save_checkpoint(
                    run_dir,
                    step,
                    net,
                    spec,
                    opt,
                    {
                        "step": step,
                        "epoch": epoch + 1,
                        "best": best,
                        "seed": cfg.seed,
                        "world_size": ctx.world_size,
                    },
                    best=is_best,
                )
                prune_checkpoints(run_dir, cfg.keep_checkpoints)
                record.update(metrics=metrics, checkpoint=str(ckpt), best=is_best)
                _write_json_line(
                    run_dir / METRICS_FILE,
                    {
                        "epoch": epoch + 1,
                        "step": step,
                        "time": time.time(),
                        "lr": lr,
                        "train": {"loss": train_loss, "seconds": record["seconds"]},
                        "val": metrics,
                    },
                )
                if writer is not None:
                    writer.add_scalar("train/loss", train_loss, step)
                    writer.add_scalar("train/lr", lr, step)
                    for k, v in metrics.items():
                        writer.add_scalar(f"val/{k}", v, step)
                    writer.flush()
            ctx.barrier()
            epochs_done = epoch + 1
            yield record
        yield {
            "event": "done",
            "run_dir": str(run_dir),
            "step": step,
            "epoch": epochs_done,
            "best_checkpoint": str(run_dir / CHECKPOINTS_DIR / "best"),
            "last_checkpoint": str(run_dir / CHECKPOINTS_DIR / LAST),
            "best": best,
        }
    finally:
        if writer is not None:
            writer.close()
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
