"""Checkpoint and run formats: what 0.1.0 wrote keeps loading and deciding the same, what
this code writes loads back, and versions outside the policy are refused by name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from deskmimic.core.errors import CheckpointError, CheckpointVersionError
from deskmimic.models import runs
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.policy_net import NetConfig, PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.policy import load_policy
from deskmimic.models.training import checkpoint
from deskmimic.models.training.checkpoint import PolicySpec, load_checkpoint, save_checkpoint

# A tiny checkpoint written by deskmimic 0.1.0 (the commit before the architecture pass),
# with the action its policy took on the frame of `_frame` then. The confidence is the
# probability on the predicted element since the calibration work (issue 20); the
# decision is the one 0.1.0 took.
GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "checkpoint_0_1_0"
GOLDEN_HASH = "e595da82eacb4b5a5b2ec32c7155d6382d8cbd278658b06e65fb916a5265150d"
GOLDEN_ACTION = {"kind": "double_click", "x": 251, "y": 27, "x2": None, "y2": None,
                 "text": None, "keys": [], "dx": 0, "dy": 0}
GOLDEN_CONFIDENCE = 0.12948141992092133


def _frame() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (160, 320, 3), dtype=np.uint8)


def _spec(**flags: bool) -> PolicySpec:
    tok = CharTokenizer(max_len=16)
    space = ActionSpace(strings=("hello",), chords=(("ctrl", "s"),), history_len=2)
    net = NetConfig(input_height=32, input_width=64, channels=(4, 4, 4, 4),
                    decoder_channels=(4, 4, 4), text_dim=8, history_dim=4, head_dim=8,
                    vocab_size=tok.vocab_size, max_text_len=16, num_kinds=space.num_kinds,
                    num_strings=space.num_strings, num_chords=space.num_chords,
                    num_scroll=space.num_scroll, history_len=space.history_len, **flags)
    screen = {"width": 320, "height": 160, "region": None}
    return PolicySpec(net, space, tok.to_config(), screen, {"step": 3})


def test_a_0_1_0_checkpoint_loads_and_decides_as_it_did():
    spec, net, where = load_checkpoint(GOLDEN)
    assert where == GOLDEN and spec.identity_hash() == GOLDEN_HASH
    policy = load_policy(GOLDEN)
    action = policy.act({"image": _frame(), "instruction": "Click Save"}).to_dict()
    assert action.pop("confidence") == pytest.approx(GOLDEN_CONFIDENCE, rel=1e-4)
    assert action == GOLDEN_ACTION


@pytest.mark.parametrize("flags", [
    {},
    {"text_match": True},
    {"text_match": True, "word_select": True, "term_glance": True, "shown_only": True,
     "row_band": True},
], ids=["rgb", "text_match", "all_flags"])
def test_what_this_code_writes_loads_back(tmp_path: Path, flags: dict):
    spec = _spec(**flags)
    torch.manual_seed(0)
    net = PolicyNet(spec.net)
    step_dir = save_checkpoint(tmp_path / "run", 3, net, spec, best=True)
    assert step_dir.name == runs.step_dir_name(3)
    loaded, got, where = load_checkpoint(tmp_path / "run")
    assert where == step_dir and loaded.net == spec.net and loaded.space == spec.space
    assert loaded.identity_hash() == spec.identity_hash()
    for k, v in net.state_dict().items():
        assert torch.equal(got.state_dict()[k], v), k
    info = runs.read_run(tmp_path / "run")
    assert info.checkpoints == (step_dir.name,) and info.links == {"best": step_dir.name,
                                                                   "last": step_dir.name}


def _golden_copy(tmp_path: Path, **changes) -> Path:
    ck = tmp_path / "ck"
    shutil.copytree(GOLDEN, ck)
    data = json.loads((ck / runs.CONFIG_FILE).read_text())
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    (ck / runs.CONFIG_FILE).write_text(json.dumps(data))
    return ck


def test_a_newer_checkpoint_is_refused_by_name(tmp_path: Path):
    ck = _golden_copy(tmp_path, format_version=2)
    with pytest.raises(CheckpointVersionError) as exc:
        load_checkpoint(ck)
    msg = str(exc.value)
    assert str(ck / "config.json") in msg and "newer" in msg and "upgrade deskmimic" in msg


@pytest.mark.parametrize("changes, needle", [
    ({"format_version": None}, "field 'format_version' is missing"),
    ({"preprocess": None}, "no 'preprocess' settings"),
])
def test_a_damaged_checkpoint_config_is_refused(tmp_path: Path, changes: dict, needle: str):
    with pytest.raises(CheckpointError, match=needle):
        load_checkpoint(_golden_copy(tmp_path, **changes))


def test_run_file_names_have_one_home():
    for name in ("CHECKPOINTS_DIR", "MODEL_FILE", "CONFIG_FILE", "TRAINING_STATE_DIR",
                 "OPTIMIZER_FILE", "STATE_FILE", "LAST", "BEST", "step_dir_name"):
        assert getattr(checkpoint, name) is getattr(runs, name), name


def test_runs_module_imports_without_torch():
    code = ("import sys; import deskmimic.models.runs; "
            "assert 'torch' not in sys.modules, 'models.runs imported torch'")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_a_run_from_a_newer_deskmimic_is_listed_with_why(tmp_path: Path):
    run = tmp_path / "runs" / "future"
    run.mkdir(parents=True)
    (run / runs.RUN_CONFIG).write_text(json.dumps({"format_version": 5, "epochs": 3}))
    old = tmp_path / "runs" / "old"
    old.mkdir()
    (old / runs.RUN_CONFIG).write_text(json.dumps({"epochs": 3}))  # 0.1.0: no version
    infos = {i.name: i for i in runs.scan_run_infos(tmp_path / "runs")}
    assert "upgrade deskmimic" in infos["future"].error
    assert infos["old"].error == "" and infos["old"].epochs == 3
