"""Optimizer state as safetensors + JSON (no pickle), for resuming a run: a checkpoint's
``training_state/`` (optimizer.safetensors + state.json), written with each checkpoint
and read only by a resume: loading a policy needs none of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from deskmimic.core.errors import CheckpointError
from deskmimic.models.runs import OPTIMIZER_FILE, STATE_FILE, TRAINING_STATE_DIR

# sha256 of the optimizer tensors (as `checkpoint.weights_digest`), kept in the file's
# metadata: random bytes over the data leave its header intact and the moments finite, so
# a resume went on from damaged state without a word. Older checkpoints have none.
OPTIMIZER_HASH_KEY = "deskmimic_optimizer_sha256"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


def flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state -> (tensors for safetensors, JSON-able rest), no pickle needed."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"state.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[k] = _json_safe(v)
    return tensors, {"param_groups": _json_safe(sd["param_groups"]), "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """Inverse of `flatten_optimizer`: a state dict for ``Optimizer.load_state_dict``."""
    state: dict[int, dict] = {}
    for key, t in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = t
    for pid, st in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(st)
    groups = []
    for g in meta["param_groups"]:
        g = dict(g)
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


def save_training_state(ts: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None,
                        state: dict | None) -> None:
    """Write ``ts/`` (a new folder): the flattened optimizer and state.json."""
    from deskmimic.models.training.checkpoint import weights_digest  # it imports this module

    ts.mkdir()
    meta = {"saved": datetime.now(UTC).isoformat(timespec="seconds"), **(state or {})}
    if optimizer is not None:
        tensors, opt_meta = flatten_optimizer(optimizer)
        save_file(tensors, ts / OPTIMIZER_FILE,
                  metadata={OPTIMIZER_HASH_KEY: weights_digest(tensors)})
        meta["optimizer"] = opt_meta
        meta["param_names"] = [n for n, _ in model.named_parameters()]
    (ts / STATE_FILE).write_text(json.dumps(_json_safe(meta), indent=2) + "\n")


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_state(state: object, path: Path, with_optimizer: bool) -> None:
    """The fields a resume relies on, with their types: a damaged state.json is named here,
    not taken for "a different network" or an error deep inside the optimizer."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a JSON object: the training state is damaged; "
                              "cannot resume")
    checks = {"step": _is_count, "epoch": _is_count,
              "best": lambda v: v is None or isinstance(v, dict)}
    if with_optimizer:
        checks["param_names"] = lambda v: isinstance(v, list) and all(
            isinstance(n, str) for n in v)
        checks["optimizer"] = lambda v: (
            isinstance(v, dict) and isinstance(v.get("param_groups"), list)
            and all(isinstance(g, dict) for g in v["param_groups"])
            and isinstance(v.get("scalars", {}), dict))
    for name, ok in checks.items():
        if (name in state or name in ("param_names", "optimizer")) and not ok(state.get(name)):
            raise CheckpointError(f"{path}: field '{name}' is {str(state.get(name))[:60]!r}, "
                                  "not what a training state holds: it is damaged; cannot resume")


def _load_optimizer_tensors(path: Path) -> dict[str, torch.Tensor]:
    from deskmimic.models.training.checkpoint import weights_digest

    with safe_open(str(path), framework="pt") as f:
        saved = (f.metadata() or {}).get(OPTIMIZER_HASH_KEY)
    tensors = load_file(str(path))
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if (saved is not None and saved != weights_digest(tensors)) or bad:
        raise CheckpointError(f"{path}: the optimizer state is damaged (its bytes do not match "
                              "their checksum, or hold NaN/inf): cannot resume from it")
    return tensors


def load_training_state(
    ckpt: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None
) -> dict:
    """Restore the optimizer (if given) from ``ckpt/training_state`` and return state.json.

    Raises:
        CheckpointError: either file missing, unreadable or damaged, or saved for another
            network; the message names the file.
    """
    ts = Path(ckpt) / TRAINING_STATE_DIR
    try:
        state = json.loads((ts / STATE_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"{ts / STATE_FILE}: cannot resume ({exc}): the training state is missing or corrupt"
        ) from exc
    _check_state(state, ts / STATE_FILE, optimizer is not None)
    if optimizer is not None:
        names = [n for n, _ in model.named_parameters()]
        if state["param_names"] != names:
            raise CheckpointError(
                f"{ts / STATE_FILE}: optimizer state belongs to a different network: cannot resume"
            )
        try:
            tensors = _load_optimizer_tensors(ts / OPTIMIZER_FILE)
            optimizer.load_state_dict(unflatten_optimizer(tensors, state["optimizer"]))
        except (OSError, SafetensorError, KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise CheckpointError(
                f"{ts / OPTIMIZER_FILE}: cannot restore the optimizer ({exc})"
            ) from exc
    return state
