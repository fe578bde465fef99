"""A damaged or unusable policy ends in one clear error naming the file, never a traceback
deep inside replay or a quiet swap for another checkpoint."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from deskmimic.core.errors import CheckpointError, ConfigError
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.policy_net import NetConfig, PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.policy import load_policy
from deskmimic.models.runs import BEST, CHECKPOINTS_DIR, LAST, MODEL_FILE
from deskmimic.models.training.checkpoint import (
    SPEC_HASH_KEY,
    PolicySpec,
    save_checkpoint,
)


def _spec() -> PolicySpec:
    tok = CharTokenizer(max_len=16)
    space = ActionSpace(history_len=2)
    net = NetConfig(input_height=32, input_width=64, channels=(4, 4, 4, 4),
                    decoder_channels=(4, 4, 4), text_dim=8, history_dim=4, head_dim=8,
                    vocab_size=tok.vocab_size, max_text_len=16, num_kinds=space.num_kinds,
                    num_strings=space.num_strings, num_chords=space.num_chords,
                    num_scroll=space.num_scroll, history_len=space.history_len)
    return PolicySpec(net, space, tok.to_config(), {"width": 64, "height": 32}, {})


def _save(run: Path, step: int, best: bool = True) -> Path:
    spec = _spec()
    torch.manual_seed(step)
    return save_checkpoint(run, step, PolicyNet(spec.net), spec, best=best)


def _overwrite_data(path: Path, fill: bytes) -> None:
    """Bytes inside the tensor data, the header left intact (as random damage does)."""
    raw = bytearray(path.read_bytes())
    start = 8 + struct.unpack("<Q", raw[:8])[0]
    mid = start + (len(raw) - start) // 2
    raw[mid : mid + 256] = (fill * 256)[:256]
    path.write_bytes(bytes(raw))


def _act(policy) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (32, 64, 3), dtype=np.uint8)
    policy.act({"image": frame, "instruction": "Click Save"})


def test_random_bytes_in_the_weights_are_named_at_load(tmp_path: Path):
    ckpt = _save(tmp_path / "run", 4)
    _act(load_policy(ckpt))  # intact, it decides
    _overwrite_data(ckpt / MODEL_FILE, os.urandom(256))
    with pytest.raises(CheckpointError, match=rf"{MODEL_FILE}.*damaged.*corrupt"):
        load_policy(ckpt)


def test_nan_weights_of_a_checkpoint_without_a_digest_are_refused(tmp_path: Path):
    ckpt = _save(tmp_path / "run", 4)
    # As checkpoints written before the digest: only the spec hash in the metadata.
    weights = load_file(str(ckpt / MODEL_FILE))
    from safetensors import safe_open

    with safe_open(str(ckpt / MODEL_FILE), framework="pt") as f:
        meta = f.metadata()
    save_file(weights, ckpt / MODEL_FILE, metadata={SPEC_HASH_KEY: meta[SPEC_HASH_KEY]})
    _act(load_policy(ckpt))
    _overwrite_data(ckpt / MODEL_FILE, b"\xff")  # 0xffffffff is a NaN
    with pytest.raises(CheckpointError, match=rf"{MODEL_FILE}.*damaged.*NaN"):
        load_policy(ckpt)


def test_a_broken_best_is_named_not_swapped_for_last(tmp_path: Path):
    run = tmp_path / "run"
    best = _save(run, 2, best=True)
    _save(run, 4, best=False)
    assert load_policy(run).source == best
    shutil.rmtree(best)  # best now points at nothing
    with pytest.raises(CheckpointError, match=r"best checkpoint is broken.*last"):
        load_policy(run)
    assert load_policy(run, which=LAST).source.name == "000004"
    # a run without any best link (never validated) still gives its last checkpoint
    (run / CHECKPOINTS_DIR / BEST).unlink()
    assert load_policy(run).source.name == "000004"


def test_best_with_a_damaged_config_is_refused_by_name(tmp_path: Path):
    run = tmp_path / "run"
    best = _save(run, 2, best=True)
    _save(run, 4, best=False)
    (best / "config.json").unlink()
    with pytest.raises(CheckpointError, match="best checkpoint is broken"):
        load_policy(run)
    (best / "config.json").write_text(json.dumps({"format_version": 1}))
    with pytest.raises(CheckpointError, match=str(best.name)):
        load_policy(run)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_device_cuda_without_a_gpu_is_one_clear_error(tmp_path: Path):
    ckpt = _save(tmp_path / "run", 4)
    with pytest.raises(ConfigError, match="--device cuda: CUDA is not available"):
        load_policy(ckpt, device="cuda")
