"""`TrainConfig`: every setting of a training run, validated, saved as the run's config.json."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from deskmimic.core.errors import ConfigError
from deskmimic.core.formats import FIELD, RUN, check_version
from deskmimic.core.paths import default_runs_dir
from deskmimic.models.training.schedule import CHECKPOINTS

# Settings the weights depend on: a resumed run must keep them.
ARCH_FIELDS = (
    "input_height",
    "input_width",
    "history_len",
    "max_text_len",
    "scroll_max",
    "channels",
    "decoder_channels",
    "text_match",
    "word_select",
)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class TrainConfig:
    """A training run.

    Attributes:
        episodes: episode folders, or folders of episodes.
        name: run name; the run lives in ``runs_dir/name``.
        runs_dir: parent of run folders (default: ``$DESKMIMIC_HOME/runs``).
        epochs: passes over the data; with ``steps``, the number of checkpoints instead.
        steps: optimizer steps in all. Neither set: sized from the number of training
            samples (`deskmimic.models.training.schedule.planned_steps`), with
            ``checkpoints`` checkpoints along the way; the run's saved config.json then
            holds the numbers it used.
        checkpoints: checkpoints of a run planned by steps (ignored with ``epochs``).
        batch_size, lr, weight_decay, warmup_steps, grad_clip: optimisation (AdamW,
            linear warm-up then cosine decay to 10 %).
        seed: seeds initialisation, shuffling, augmentation and the episode split.
        device: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
        resume: continue ``runs_dir/name`` from its ``last`` checkpoint.
        smoke: a few iterations of everything (2 epochs x 3 steps), for CI.
        val_fraction: share of episodes held out for validation (split by episode).
        input_height, input_width: network input in pixels (multiples of 32).
        history_len: previous action kinds the policy sees.
        max_text_len: instruction characters the policy reads at least; training grows it
            to fit the longest instruction (rounded up to 32, at most 512).
        scroll_max: largest wheel-click count per scroll step it can output.
        channels, decoder_channels: network widths (see `NetConfig`).
        text_match: give the network the instruction match channel (where the instruction's
            words are written on screen, `deskmimic.models.perception.text_match`).
        word_select: with ``text_match``, one match map per instruction word, and the
            network learns which word each step points at (`models/net/word_select.py: WordSelect`);
            ignored without ``text_match``.
        keep_typed_text: store the strings typed in the demonstrations in the checkpoint
            (its config.json holds them verbatim) so the policy can type them again; off by
            default: it types what it copies from the instruction.
        augment, translate, brightness, contrast, gain, pair_words, zoom, dark: augmentation
            (see `AugmentConfig`; zoom and dark are the look augmentation).
        balance_kinds: weight the kind loss up for rare kinds.
        num_threads: torch CPU threads per process.
        cache_dir: preprocessed-sample cache (default: ``runs_dir/.cache``).
        allow_mixed_sizes: train on episodes of different captured-area sizes.
        max_steps: stop after this many optimizer steps in total.
        max_steps_per_epoch, max_val_batches: caps (used by smoke runs).
        log_every: yield a progress event every this many steps.
        keep_checkpoints: newest checkpoints kept besides ``best`` (0 = keep every one).
    """

    episodes: tuple[Path, ...] = ()
    name: str = "run"
    runs_dir: Path | None = None
    epochs: int | None = None
    steps: int | None = None
    checkpoints: int = CHECKPOINTS
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 30
    grad_clip: float = 5.0
    seed: int = 0
    device: str = "auto"
    resume: bool = False
    smoke: bool = False
    val_fraction: float = 0.15
    input_height: int = 160
    input_width: int = 256
    history_len: int = 4
    max_text_len: int = 96
    scroll_max: int = 10
    channels: tuple[int, ...] = (32, 48, 64, 96)
    decoder_channels: tuple[int, ...] = (32, 32, 48)
    text_match: bool = True
    word_select: bool = True
    keep_typed_text: bool = False
    augment: bool = True
    translate: float = 0.08
    brightness: float = 0.15
    contrast: float = 0.2
    gain: float = 0.08
    pair_words: float = 0.5
    zoom: float = 0.0
    dark: float = 0.0
    balance_kinds: bool = True
    num_threads: int = 2
    cache_dir: Path | None = None
    allow_mixed_sizes: bool = False
    max_steps: int | None = None
    max_steps_per_epoch: int | None = None
    max_val_batches: int | None = None
    log_every: int = 10
    keep_checkpoints: int = 5

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen)
        set_("episodes", tuple(Path(p) for p in self.episodes))
        set_("channels", tuple(self.channels))
        set_("decoder_channels", tuple(self.decoder_channels))
        for k in ("runs_dir", "cache_dir"):
            if getattr(self, k) is not None:
                set_(k, Path(getattr(self, k)))
        if self.smoke:  # shrink, as robomimic's --debug does; idempotent when reloaded
            set_("epochs", min(self.epochs or 2, 2))
            set_("max_steps_per_epoch", min(self.max_steps_per_epoch or 3, 3))
            set_("max_val_batches", min(self.max_val_batches or 2, 2))
            set_("batch_size", min(self.batch_size, 8))
            set_("log_every", 1)
        self._validate()

    def _validate(self) -> None:
        if not _NAME_RE.fullmatch(self.name) or self.name in (".", ".."):
            raise ConfigError(
                f"--name {self.name!r}: use letters, digits, '.', '_' or '-' (max 100)"
            )
        positive = ("epochs", "steps", "checkpoints", "batch_size", "num_threads", "log_every",
                    "history_len")
        for k in positive:
            if getattr(self, k) is not None and getattr(self, k) < 1:
                raise ConfigError(f"--{k.replace('_', '-')} {getattr(self, k)}: must be at least 1")
        if self.keep_checkpoints < 0:
            raise ConfigError(
                f"--keep-checkpoints {self.keep_checkpoints}: must be >= 0 (0 keeps all)"
            )
        for k in ("max_steps", "max_steps_per_epoch", "max_val_batches"):
            v = getattr(self, k)
            if v is not None and v < 1:
                raise ConfigError(f"{k} {v}: must be at least 1 (or unset)")
        if not (0 < self.lr < 1):
            raise ConfigError(f"--lr {self.lr}: must be in (0, 1)")
        if self.weight_decay < 0 or self.warmup_steps < 0 or self.grad_clip <= 0:
            raise ConfigError("weight_decay and warmup_steps must be >= 0 and grad_clip > 0")
        if not (0 <= self.val_fraction < 1):
            raise ConfigError(f"val_fraction {self.val_fraction}: must be in [0, 1)")
        if any(v < 64 or v % 32 for v in (self.input_height, self.input_width)):
            raise ConfigError(
                f"--input-size {self.input_height}x{self.input_width} (input_height x input_width):"
                " both must be multiples of 32, at least 64"
            )
        if not (8 <= self.max_text_len <= 512) or not (1 <= self.scroll_max <= 50):
            raise ConfigError("max_text_len must be in [8, 512] and scroll_max in [1, 50]")
        if (
            len(self.channels) != 4
            or len(self.decoder_channels) != 3
            or min(self.channels + self.decoder_channels) < 8
        ):
            raise ConfigError("channels needs 4 and decoder_channels 3 widths, each at least 8")
        if not (self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(f"--device {self.device!r}: expected auto, cpu, cuda or cuda:N")
        for k in ("translate", "brightness", "contrast", "gain"):
            if not 0 <= getattr(self, k) <= 0.5:
                raise ConfigError(f"augmentation {k}={getattr(self, k)}: must be in [0, 0.5]")
        for k in ("pair_words", "zoom", "dark"):
            if not 0 <= getattr(self, k) <= 1:
                raise ConfigError(f"augmentation {k}={getattr(self, k)}: must be in [0, 1]")

    @property
    def run_dir(self) -> Path:
        return (self.runs_dir or default_runs_dir()) / self.name

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or (self.runs_dir or default_runs_dir()) / ".cache"

    def to_json(self) -> dict:
        d = {FIELD: RUN.current, **asdict(self)}
        d["episodes"] = [str(p) for p in self.episodes]
        for k in ("runs_dir", "cache_dir"):
            d[k] = str(d[k]) if d[k] is not None else None
        for k in ("channels", "decoder_channels"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        """Settings from `to_json` output; the format version is checked by `load`."""
        data = {k: v for k, v in data.items() if k != FIELD}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown training settings {unknown}")
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        try:
            data = json.loads(Path(path).read_text())
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"{path}: not a readable training config ({exc})") from exc
        check_version(RUN, data, path)
        try:
            return cls.from_json(data)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path}: not a readable training config ({exc})") from exc

    def arch_differences(self, other: TrainConfig) -> list[str]:
        """Architecture settings that differ from ``other`` (a resume must keep them)."""
        return [
            f"{k}: {getattr(other, k)} -> {getattr(self, k)}"
            for k in ARCH_FIELDS
            if getattr(self, k) != getattr(other, k)
        ]

    @property
    def uses_word_maps(self) -> bool:
        """Whether the net gets one match map per word (`word_select` with `text_match`)."""
        return self.text_match and self.word_select

    def replace(self, **changes) -> TrainConfig:
        return replace(self, **changes)
