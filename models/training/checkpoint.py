"""Checkpoints: safetensors weights + a JSON config, never pickle (loading runs no code).

Layout (the file names live in `deskmimic.models.runs`, torch-free, and are re-exported
here)::

    runs/<name>/checkpoints/<step>/model.safetensors      weights (+ the spec hash in its metadata)
    runs/<name>/checkpoints/<step>/config.json            everything inference needs (`PolicySpec`)
    runs/<name>/checkpoints/<step>/training_state/        optimizer.safetensors + state.json (resume)
    runs/<name>/checkpoints/last -> <step>                relative symlinks
    runs/<name>/checkpoints/best -> <step>                (best validation score)

config.json carries ``format_version`` (`deskmimic.core.formats.CHECKPOINT`). A
checkpoint directory is written under a temporary name and renamed into place, so
a crash never leaves a half-written ``<step>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from deskmimic import __version__
from deskmimic.core.errors import CheckpointError
from deskmimic.core.formats import CHECKPOINT, check_version
from deskmimic.core.paths import make_private_dir
from deskmimic.models.data.preprocess import RESIZE_METHOD
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.decode import Calibration
from deskmimic.models.net.policy_net import NetConfig, PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.perception import shown_instruction
from deskmimic.models.perception.match_maps import VERSION as TEXT_MATCH_VERSION
from deskmimic.models.perception.match_maps import (
    rec_min_width_of,
    shown_rule_of,
    word_maps_signature,
)
from deskmimic.models.perception.ocr_engine import REC_MIN_WIDTH
from deskmimic.models.runs import (  # noqa: F401 (re-exported: the trainer and tests import them here)
    BEST,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    LAST,
    MODEL_FILE,
    OPTIMIZER_FILE,
    STATE_FILE,
    TRAINING_STATE_DIR,
    step_dir_name,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = CHECKPOINT.current  # what save_checkpoint writes
POLICY_TYPE = "bc_cnn"
SPEC_HASH_KEY = "deskmimic_spec_sha256"
WEIGHTS_HASH_KEY = "deskmimic_weights_sha256"  # checkpoints from before it have none


@dataclass(frozen=True)
class PolicySpec:
    """What a checkpoint's config.json holds: architecture, vocabularies, preprocessing, screen.

    Attributes:
        net: network architecture (input size, normalization, head sizes).
        space: action kinds, strings and chords the heads index.
        tokenizer: instruction tokenizer settings.
        screen: captured-area ``width``/``height`` (pixels) trained on, and the ``region``.
        info: provenance: step, epoch, metrics, run name (not part of the identity hash).
        calibration: raw confidence -> probability of being right, fitted on validation
            episodes (None: none were held out; not part of the identity hash).
        rec_min_width: the text recognizer's width the training frames were read with
            (recorded in the preprocess settings; replay reads the same way).
        shown_rule: which lines showed the instruction itself in training
            (`shown_instruction`; recorded and followed the same way).
    """

    net: NetConfig
    space: ActionSpace
    tokenizer: dict
    screen: dict
    info: dict = field(default_factory=dict)
    calibration: Calibration | None = None
    rec_min_width: int = REC_MIN_WIDTH
    shown_rule: int = shown_instruction.CURRENT

    def identity(self) -> dict:
        """The parts the weights depend on; their hash is stored inside model.safetensors."""
        return {
            "policy_type": POLICY_TYPE,
            "net": self.net.to_dict(),
            "action_space": self.space.to_config(),
            "tokenizer": self.tokenizer,
            "preprocess": self._preprocess(),
        }

    def _preprocess(self) -> dict:
        out = {"resize": RESIZE_METHOD, "color": "RGB", "cursor": "drawn"}
        if self.net.text_match:  # a changed match map must not feed weights trained on the old
            out["text_match"] = TEXT_MATCH_VERSION
        if self.net.word_select:
            out["word_maps"] = word_maps_signature(self.rec_min_width, self.shown_rule)
        return out

    def identity_hash(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_json(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "deskmimic_version": __version__,
            **self.identity(),
            "screen": self.screen,
            "info": self.info,
            **({"calibration": self.calibration.to_json()} if self.calibration else {}),
        }

    @classmethod
    def from_json(cls, data: dict, source: Path | str = "config.json") -> PolicySpec:
        # Versions older than current get a v -> v + 1 step here when one is first bumped.
        check_version(CHECKPOINT, data, source)
        if data.get("policy_type") != POLICY_TYPE:
            raise CheckpointError(
                f"{source}: policy_type {data.get('policy_type')!r}, expected {POLICY_TYPE!r}"
            )
        try:
            spec = cls(
                net=NetConfig.from_dict(data["net"]),
                space=ActionSpace.from_config(data["action_space"]),
                tokenizer=dict(data["tokenizer"]),
                screen=dict(data["screen"]),
                info=dict(data.get("info") or {}),
                calibration=(Calibration.from_json(data["calibration"])
                             if data.get("calibration") is not None else None),
                rec_min_width=rec_min_width_of(_saved_maps(data)),
                shown_rule=shown_rule_of(_saved_maps(data)),
            )
            CharTokenizer.from_config(spec.tokenizer)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(
                f"{source}: invalid checkpoint config ({exc!r}): re-train or restore it"
            ) from exc
        # Every checkpoint has carried "preprocess" (it is part of the identity hash).
        saved = data.get("preprocess")
        if not isinstance(saved, dict):
            raise CheckpointError(
                f"{source}: invalid checkpoint config (no 'preprocess' settings): "
                "re-train or restore it"
            )
        now = json.loads(json.dumps(spec._preprocess()))
        if saved != now:
            changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
            raise CheckpointError(
                f"{source}: trained on inputs this deskmimic computes differently "
                f"({', '.join(changed)}: {[saved.get(k) for k in changed]} then, "
                f"{[now.get(k) for k in changed]} now): train the policy again"
            )
        return spec

    def build_net(self) -> PolicyNet:
        return PolicyNet(self.net)

    def make_tokenizer(self) -> CharTokenizer:
        return CharTokenizer.from_config(self.tokenizer)


def _saved_maps(data: dict) -> object:
    """The word-maps signature a checkpoint's config recorded (None when it has none)."""
    pre = data.get("preprocess")
    return pre.get("word_maps") if isinstance(pre, dict) else None


def weights_digest(weights: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order.

    Random bytes written over a weights file's data leave its header intact, so it
    still loads, and replay then failed deep inside with "cannot convert float NaN to
    integer"; this digest, kept in the file's metadata, names the damage at load.
    """
    h = hashlib.sha256()
    for name in sorted(weights):
        t = weights[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _link(checkpoints: Path, name: str, target: str) -> None:
    tmp = checkpoints / f".{name}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)  # relative: the run folder can be moved or copied
    os.replace(tmp, checkpoints / name)


def prune_checkpoints(run_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` step folders; never what ``last`` or ``best`` names.

    A run saves one checkpoint per epoch (~4 MB each at the default size): without
    pruning a long run fills the disk with folders nobody loads. ``keep`` 0 keeps all.
    """
    checkpoints = run_dir / CHECKPOINTS_DIR
    if keep <= 0 or not checkpoints.is_dir():
        return []
    steps = sorted(
        (
            p
            for p in checkpoints.iterdir()
            if p.name.isdigit() and p.is_dir() and not p.is_symlink()
        ),
        key=lambda p: int(p.name),
    )
    linked = {(checkpoints / n).resolve().name for n in (LAST, BEST) if (checkpoints / n).exists()}
    removed = [p for p in steps[:-keep] if p.name not in linked]
    for p in removed:
        shutil.rmtree(p)
    return removed


def save_checkpoint(
    run_dir: Path,
    step: int,
    model: torch.nn.Module,
    spec: PolicySpec,
    optimizer: torch.optim.Optimizer | None = None,
    state: dict | None = None,
    best: bool = False,
) -> Path:
    """Write ``run_dir/checkpoints/<step>/`` atomically and point ``last`` (and ``best``) at it.

    Args:
        run_dir: the run folder.
        step: optimizer steps taken so far.
        model: the bare `PolicyNet` (not the DDP wrapper).
        spec: what inference needs; its ``info`` is stored as given.
        optimizer: saved (flattened) for resuming when given.
        state: JSON-able training state (epoch, best score, ...) for resuming.
        best: also point ``best`` here.
    """
    checkpoints = make_private_dir(run_dir / CHECKPOINTS_DIR)
    final = checkpoints / step_dir_name(step)
    tmp = checkpoints / f".{step_dir_name(step)}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(mode=0o700)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(
        weights,
        tmp / MODEL_FILE,
        metadata={
            SPEC_HASH_KEY: spec.identity_hash(),
            WEIGHTS_HASH_KEY: weights_digest(weights),
            "format": "pt",
        },
    )
    (tmp / CONFIG_FILE).write_text(json.dumps(spec.to_json(), indent=2) + "\n")
    if optimizer is not None or state is not None:
        # Imported here: replay loads checkpoints without any training module.
        from deskmimic.models.training.optim_state import save_training_state

        save_training_state(tmp / TRAINING_STATE_DIR, model, optimizer, state)
    # Weights and config hold what was learnt from someone's screen: user-only.
    for path in tmp.rglob("*"):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    if final.exists():
        shutil.rmtree(final)  # re-saving the same step (e.g. after an interrupted run)
    os.replace(tmp, final)
    _link(checkpoints, LAST, final.name)
    if best:
        _link(checkpoints, BEST, final.name)
    logger.info("saved checkpoint %s", final)
    return final


def resolve_checkpoint(path: Path | str, which: str = "best") -> Path:
    """A checkpoint folder from a run folder, its checkpoints folder, or a checkpoint itself.

    Args:
        path: run dir, ``<run>/checkpoints`` or ``<run>/checkpoints/<step>``.
        which: ``"best"`` (falls back to ``last``) or ``"last"`` when ``path`` is not a checkpoint.
    """
    p = Path(path).expanduser()
    if (p / CONFIG_FILE).is_file() and (p / MODEL_FILE).exists():
        return p
    for base in (p / CHECKPOINTS_DIR, p):
        cand = base / which
        if (cand / CONFIG_FILE).is_file():
            return cand.resolve()
        if which == BEST and (cand.is_symlink() or cand.exists()):
            # A broken best must not quietly become last: they are different policies.
            raise CheckpointError(
                f"{cand}: the best checkpoint is broken ({_why_broken(cand)}): pass "
                f"{base / LAST} to use the last one, or train again"
            )
        if which == BEST and (base / LAST / CONFIG_FILE).is_file():
            return (base / LAST).resolve()  # no validation yet: last is all there is
    if not p.exists():
        raise CheckpointError(f"{p}: no such run or checkpoint folder")
    raise CheckpointError(
        f"{p}: no checkpoint found (expected {CONFIG_FILE} + {MODEL_FILE}, or "
        f"{CHECKPOINTS_DIR}/{LAST}): train one with `deskmimic train`"
    )


def _why_broken(link: Path) -> str:
    if link.is_symlink() and not link.exists():
        return f"it points at {os.readlink(link)}, which does not exist"
    return f"no {CONFIG_FILE} in it"


def load_checkpoint(path: Path | str, which: str = "best") -> tuple[PolicySpec, PolicyNet, Path]:
    """Load a checkpoint strictly: config, weights, hash and every tensor shape must match.

    Returns:
        (spec, net in eval mode on CPU, resolved checkpoint folder).

    Raises:
        CheckpointError: missing, corrupt, from a newer format, or weights from another config.
    """
    ckpt = resolve_checkpoint(path, which)
    cfg_path, model_path = ckpt / CONFIG_FILE, ckpt / MODEL_FILE
    try:
        data = json.loads(cfg_path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{cfg_path}: unreadable ({exc}): the checkpoint is corrupt") from exc
    spec = PolicySpec.from_json(data, cfg_path)
    try:
        from safetensors import safe_open

        with safe_open(str(model_path), framework="pt") as f:
            meta = f.metadata() or {}
        weights = load_file(str(model_path))
    except (OSError, SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{model_path}: unreadable weights ({exc}): the checkpoint is corrupt"
        ) from exc
    _check_weights(weights, meta, model_path)
    if meta.get(SPEC_HASH_KEY) != spec.identity_hash():
        raise CheckpointError(
            f"{model_path}: the weights were saved with a different config than {cfg_path}: "
            "do not mix files from different checkpoints"
        )
    net = spec.build_net()
    expected = net.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = sorted(k for k in set(expected) & set(weights) if expected[k].shape != weights[k].shape)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{model_path}: weights do not match the network in {cfg_path} "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {wrong[:3]})"
        )
    net.load_state_dict(weights, strict=True)
    net.eval()
    logger.info("loaded checkpoint %s (step %s)", ckpt, spec.info.get("step"))
    return spec, net, ckpt


def _check_weights(weights: dict[str, torch.Tensor], meta: dict, model_path: Path) -> None:
    """Damaged weight bytes under an intact header: the stored digest (newer checkpoints)
    or, for any checkpoint, values that are not finite."""
    saved = meta.get(WEIGHTS_HASH_KEY)
    damaged = saved is not None and saved != weights_digest(weights)
    bad = [k for k, t in weights.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if damaged or bad:
        what = "its bytes do not match their checksum" if damaged else f"NaN/inf in {bad[:3]}"
        raise CheckpointError(
            f"{model_path}: the weights are damaged ({what}): the checkpoint is corrupt; "
            "restore it from a copy or train again"
        )
