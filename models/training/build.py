"""Everything a training run needs before its first step: the run folder check, the
samples, the action space, the network and optimizer (restored on --resume) and the
step schedule, gathered in one `TrainingSetup`.

The order of the calls here is part of the determinism contract (`train` module
docstring): the network is initialised right after ``torch.manual_seed(cfg.seed)``, and
nothing before that draws from torch's global generator.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DistributedSampler

from deskmimic.core.errors import CheckpointError, ConfigError
from deskmimic.models.data.augment import AugmentConfig
from deskmimic.models.data.dataset import DatasetSplit, load_dataset
from deskmimic.models.data.samples import SampleSet
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.decode import Calibration
from deskmimic.models.net.policy_net import NetConfig, PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.net.type_program import PROGRAM_SLOTS
from deskmimic.models.runs import CHECKPOINTS_DIR, LAST, RUN_CONFIG
from deskmimic.models.training.checkpoint import PolicySpec, load_checkpoint
from deskmimic.models.training.config import TrainConfig
from deskmimic.models.training.distributed import DistContext, main_first
from deskmimic.models.training.losses import kind_logit
from deskmimic.models.training.optim_state import load_training_state
from deskmimic.models.training.schedule import plan

logger = logging.getLogger(__name__)


@dataclass
class TrainingSetup:
    """A run ready to train: data, network, optimizer and where it stands.

    Attributes:
        net: the network itself; ``model`` is what the steps call (``net`` wrapped in
            DistributedDataParallel when there are several processes).
        steps_per_epoch, total: optimizer steps per epoch and in the whole run (the LR
            schedule's length).
        step, start_epoch, best: where the run stands (0, 0, None unless resumed).
        lr: the learning rate of the last step taken (of the next one before any).
        kind_w, done_kind, scroll_kind: loss settings (`losses.policy_loss`; -1: no such
            kind).
    """

    cfg: TrainConfig
    ctx: DistContext
    data: DatasetSplit
    space: ActionSpace
    tokenizer: CharTokenizer
    train_set: SampleSet
    val_set: SampleSet
    net_cfg: NetConfig
    net: PolicyNet
    model: torch.nn.Module
    opt: torch.optim.Optimizer
    sampler: DistributedSampler | None
    aug: AugmentConfig
    kind_w: torch.Tensor | None
    done_kind: int
    scroll_kind: int
    steps_per_epoch: int
    total: int
    step: int
    start_epoch: int
    best: dict | None
    lr: float

    def spec(self, info: dict, calibration: Calibration | None = None) -> PolicySpec:
        """The checkpoint description of this run's network, with ``info`` attached."""
        return PolicySpec(
            self.net_cfg,
            self.space,
            self.tokenizer.to_config(),
            dict(self.data.screen),
            info,
            calibration,
        )


def text_len_for(setting: int, data: DatasetSplit) -> int:
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


def keep_saved_inputs(cfg: TrainConfig) -> TrainConfig:
    """On --resume, keep the run's own text_match and word_select: they describe the data the
    weights were trained on (runs from before a setting existed have none), not a choice to
    change. Its length too, unless --epochs or --steps say otherwise."""
    path = cfg.run_dir / RUN_CONFIG
    if not cfg.resume or not path.is_file():
        return cfg
    saved = TrainConfig.load(path)
    cfg = cfg.replace(text_match=saved.text_match, word_select=saved.word_select)
    if cfg.epochs is None and cfg.steps is None:
        cfg = cfg.replace(epochs=saved.epochs, steps=saved.steps)
    return cfg


def prepare_run_dir(cfg: TrainConfig) -> Path | None:
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
    if last.is_file():
        raise CheckpointError(
            f"--resume: {last} is a file, not a link to a checkpoint (copied without links?): "
            f"point it at the checkpoint to continue from (ln -sfn STEP {last})"
        )
    if last.exists():
        return last.resolve()
    # Without a usable last link a resume started over from step 0 and wrote over the
    # run's checkpoints without a word; only a run that never saved one may start over.
    if last.is_symlink():
        raise CheckpointError(
            f"--resume: {last} points at {os.readlink(last)!r}, which does not exist: point it "
            f"at the checkpoint to continue from (ln -sfn STEP {last})"
        )
    steps = sorted(p.name for p in last.parent.glob("[0-9]*") if p.is_dir())
    if steps:
        raise CheckpointError(
            f"--resume: {last} is missing, but checkpoints {', '.join(steps[-3:])} are there: "
            f"point it at the one to continue from (ln -s STEP {last})"
        )
    return None


def _load_data(cfg: TrainConfig, ctx: DistContext, data: DatasetSplit | None) -> DatasetSplit:
    if data is None:
        if not cfg.episodes:
            raise ConfigError("no episodes given: pass episode folders or a folder of episodes")
        data = main_first(  # rank 0 fills the sample cache, the others read it
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
    return data


def space_and_tokenizer(
    cfg: TrainConfig, data: DatasetSplit, saved: PolicySpec | None
) -> tuple[ActionSpace, CharTokenizer]:
    """The action space and instruction tokenizer: a resumed run's own, whatever the data
    holds now, else built from the training samples."""
    if saved is not None:
        return saved.space, CharTokenizer(saved.net.max_text_len)
    text_len = text_len_for(cfg.max_text_len, data)
    space = ActionSpace.build(
        (s.action for s in data.train),
        instructions=(s.instruction for s in data.train),
        scroll_max=cfg.scroll_max,
        history_len=cfg.history_len,
        keep_strings=cfg.keep_typed_text,
        program_slots=PROGRAM_SLOTS,
    )
    if not cfg.keep_typed_text:
        lost = sum(
            1
            for s in data.train
            if s.action.kind == "type"
            and s.action.text
            and not space.can_type(s.instruction, s.action.text, text_len)
        )
        if lost:
            logger.warning(
                "%d typed values are not made of their instruction: the policy cannot type them, "
                "since typed text is kept out of the checkpoint unless --keep-typed-text",
                lost,
            )
    return space, CharTokenizer(text_len)


def _net_config(
    cfg: TrainConfig,
    space: ActionSpace,
    tokenizer: CharTokenizer,
    data: DatasetSplit,
) -> NetConfig:
    """The network for ``space``; a resume then checks the checkpoint was built the same way."""
    net_cfg = NetConfig(
        input_height=cfg.input_height,
        input_width=cfg.input_width,
        channels=cfg.channels,
        decoder_channels=cfg.decoder_channels,
        vocab_size=tokenizer.vocab_size,
        max_text_len=tokenizer.max_len,
        num_kinds=space.num_kinds,
        num_strings=space.num_strings,
        num_chords=space.num_chords,
        num_scroll=space.num_scroll,
        history_len=space.history_len,
        text_match=cfg.text_match,
        word_select=cfg.uses_word_maps,
        term_glance=cfg.uses_word_maps,
        shown_only=cfg.uses_word_maps,
        row_band=cfg.uses_word_maps,
        type_program=space.program_slots,
        num_literals=len(space.literals),
    )
    channels = data.train[0].image.shape[-1]
    if channels != net_cfg.in_channels:
        raise ConfigError(
            f"samples have {channels} image channels but text_match={cfg.text_match}, "
            f"word_select={cfg.word_select} needs {net_cfg.in_channels}: load them with "
            f"load_dataset(..., text_match={cfg.text_match}, "
            f"word_maps={cfg.uses_word_maps}) or change the TrainConfig to match"
        )
    return net_cfg


def _net_and_optimizer(
    cfg: TrainConfig,
    ctx: DistContext,
    net_cfg: NetConfig,
    resume_from: Path | None,
    saved: PolicySpec | None,
    loaded: PolicyNet | None,
) -> tuple[PolicyNet, torch.optim.Optimizer, dict]:
    """A seeded network and its AdamW on ``ctx.device``; on resume their saved state too."""
    torch.manual_seed(cfg.seed)
    net = PolicyNet(net_cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state: dict = {}
    if resume_from is not None:
        if saved.net != net_cfg:
            raise CheckpointError(f"{resume_from}: trained with a different network: cannot resume")
        net.load_state_dict(loaded.state_dict(), strict=True)
        state = load_training_state(resume_from, net, opt)
    net.to(ctx.device)
    for st in opt.state.values():  # optimizer tensors follow the parameters' device
        for k, v in st.items():
            if isinstance(v, torch.Tensor) and k != "step":
                st[k] = v.to(ctx.device)
    return net, opt, state


def lr_at(cfg: TrainConfig, step: int, total: int) -> float:
    """Learning rate of optimizer step ``step`` of ``total``: linear warm-up, then cosine
    decay to 10 % of ``cfg.lr``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / (cfg.warmup_steps + 1)
    frac = min(1.0, (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps))
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _schedule(cfg: TrainConfig, n_local: int) -> tuple[TrainConfig, int, int]:
    """The config with its schedule filled in (epochs; steps when planned by steps), optimizer
    steps per epoch and in all, for ``n_local`` samples on this process (`schedule.plan`)."""
    epochs, steps_per_epoch, total = plan(
        n_local,
        cfg.batch_size,
        epochs=cfg.epochs,
        steps=cfg.steps,
        checkpoints=cfg.checkpoints,
        max_steps=cfg.max_steps,
        max_steps_per_epoch=cfg.max_steps_per_epoch,
    )
    if cfg.steps is None and cfg.epochs is not None:
        return cfg.replace(epochs=epochs), steps_per_epoch, total
    # Saved like this, a resumed run keeps the length it was planned with.
    return cfg.replace(epochs=epochs, steps=cfg.steps or total), steps_per_epoch, total


def build_training(
    cfg: TrainConfig, ctx: DistContext, data: DatasetSplit | None = None
) -> TrainingSetup:
    """Check the run folder, load the samples and build (or restore) network and optimizer.

    Raises:
        ConfigError: bad settings, no usable episodes, or the run folder exists (no --resume).
        CheckpointError: --resume from a missing/corrupt checkpoint or other network settings.
    """
    resume_from = prepare_run_dir(cfg)
    ctx.barrier()  # every rank checked the folder before rank 0 creates it
    data = _load_data(cfg, ctx, data)
    saved = loaded = None
    if resume_from is not None:
        saved, loaded, _ = load_checkpoint(resume_from)
    space, tokenizer = space_and_tokenizer(cfg, data, saved)
    train_set = SampleSet(data.train, space, tokenizer)
    val_set = SampleSet(data.val, space, tokenizer) if data.val else train_set
    if not data.val:
        logger.warning(
            "no validation episodes: metrics use training samples, 'best' is the last checkpoint"
        )
    net_cfg = _net_config(cfg, space, tokenizer, data)
    net, opt, state = _net_and_optimizer(cfg, ctx, net_cfg, resume_from, saved, loaded)
    model: torch.nn.Module = net
    if ctx.distributed:
        model = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None
        )
    sampler = (
        DistributedSampler(train_set, ctx.world_size, ctx.rank, shuffle=True, seed=cfg.seed)
        if ctx.distributed
        else None
    )
    cfg, steps_per_epoch, total = _schedule(
        cfg, len(sampler) if sampler is not None else len(train_set)
    )
    step = int(state.get("step", 0))
    return TrainingSetup(
        cfg=cfg,
        ctx=ctx,
        data=data,
        space=space,
        tokenizer=tokenizer,
        train_set=train_set,
        val_set=val_set,
        net_cfg=net_cfg,
        net=net,
        model=model,
        opt=opt,
        sampler=sampler,
        aug=AugmentConfig(cfg.translate, cfg.brightness, cfg.contrast, cfg.gain, cfg.pair_words,
                          cfg.zoom, cfg.dark),
        kind_w=train_set.kind_weights().to(ctx.device) if cfg.balance_kinds else None,
        done_kind=kind_logit(space.kinds, "done"),
        scroll_kind=kind_logit(space.kinds, "scroll"),
        steps_per_epoch=steps_per_epoch,
        total=total,
        step=step,
        start_epoch=int(state.get("epoch", 0)),
        best=state.get("best"),
        lr=lr_at(cfg, step, total),
    )
