"""`deskmimic train` end to end, and every bad input: one clear line, non-zero exit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deskmimic.core.errors import CheckpointError, ConfigError, DeskmimicError
from deskmimic.models.policy import load_policy
from deskmimic.models.training.checkpoint import CHECKPOINTS_DIR, MODEL_FILE
from deskmimic.models.training.train import run_training
from tests.conftest import run_cli
from tests.models.conftest import small_config

SMALL = ("--input-size", "96x160", "--threads", "1")


def _error_line(res) -> str:
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("deskmimic train: error: ")
    return lines[0]


def test_cli_trains_resumes_and_writes_a_loadable_run(demo_root: Path, tmp_path: Path, tmp_home):
    runs = tmp_path / "runs"
    args = (str(demo_root / "click"), "--name", "cli", "--runs-dir", str(runs), *SMALL, "--smoke",
            "--allow-mixed-sizes", "--batch-size", "2")
    res = run_cli("train", *args, "--json", timeout=240)
    assert res.returncode == 0, res.stderr
    done = json.loads(res.stdout.strip().splitlines()[-1])
    assert done["event"] == "done" and done["epoch"] == 2 and done["step"] == 4  # smoke: 2 x 2
    assert load_policy(runs / "cli").spec.info["run"] == "cli"
    # the same run again without --resume is refused ...
    assert "already exists" in _cli_error(*args)
    # ... with --resume (and without --smoke) and 3 epochs it continues from step 4
    res = run_cli("train", str(demo_root / "click"), "--name", "cli", "--runs-dir", str(runs),
                  *SMALL, "--allow-mixed-sizes", "--resume", "--epochs", "3", "--batch-size", "2",
                  "--json", timeout=240)
    assert res.returncode == 0, res.stderr
    done = json.loads(res.stdout.strip().splitlines()[-1])
    assert done["epoch"] == 3 and done["step"] == 6
    assert (runs / "cli" / CHECKPOINTS_DIR / f"{done['step']:06d}" / MODEL_FILE).is_file()
    # a resume with other network settings is refused, naming the setting
    assert "input_height: 96 -> 128" in _cli_error(
        str(demo_root / "click"), "--name", "cli", "--runs-dir", str(runs), "--input-size",
        "128x160", "--allow-mixed-sizes", "--resume")


def _cli_error(*argv: str) -> str:
    """Run ``deskmimic train ARGV`` in this process; the DeskmimicError it raises, as text.

    `deskmimic.app.cli.main` prints exactly this as its one line (checked in a subprocess
    below); calling the verb in-process spares an interpreter start per case.
    """
    from deskmimic.app.cli import build_parser

    args = build_parser().parse_args(["train", *argv])
    with pytest.raises(DeskmimicError) as info:
        args.func(args)
    return str(info.value)


def test_cli_match_flags_reach_the_config(tmp_path: Path):
    from deskmimic.app.cli import build_parser
    from deskmimic.app.cli.train import build_config

    def cfg(*flags: str):
        return build_config(build_parser().parse_args(
            ["train", str(tmp_path), "--name", "m", *flags]))

    assert cfg().text_match and cfg().word_select and cfg().uses_word_maps
    assert not cfg("--no-word-select").uses_word_maps and cfg("--no-word-select").text_match
    assert not cfg("--no-text-match").text_match and not cfg("--no-text-match").uses_word_maps


def test_cli_bad_inputs_give_one_line(demo_root: Path, tmp_path: Path, tmp_home):
    runs = ("--runs-dir", str(tmp_path / "runs"), *SMALL)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no episodes found" in _cli_error(str(empty), "--name", "a", *runs)
    assert "does not exist" in _cli_error(str(tmp_path / "nope"), "--name", "a", *runs)
    # default folder ($DESKMIMIC_HOME/episodes) does not exist either
    assert "does not exist" in _cli_error("--name", "a", *runs)
    line = _cli_error(str(demo_root / "click"), "--name", "a", *runs)
    assert "different captured-area sizes" in line and "--allow-mixed-sizes" in line
    assert "--input-size" in _cli_error(str(empty), "--name", "a", "--input-size", "100x160")
    assert "--input-size" in _cli_error(str(empty), "--name", "a", "--input-size", "big")
    assert "--name" in _cli_error(str(empty), "--name", "../x")
    assert "--device" in _cli_error(str(empty), "--name", "a", "--device", "tpu")
    # an episode whose events reduce to nothing: the real CLI prints one line naming it
    # one of several folders named is an episode without its meta.json: named, not skipped
    broken = tmp_path / "broken"
    shutil.copytree(next((demo_root / "click").iterdir()), broken)
    (broken / "meta.json").unlink()
    line = _cli_error(str(demo_root / "click"), str(broken), "--name", "a", *runs)
    assert str(broken) in line and "no meta.json" in line
    no_steps = tmp_path / "no_steps"
    ep = no_steps / next((demo_root / "click").iterdir()).name
    shutil.copytree(next((demo_root / "click").iterdir()), ep)
    (ep / "events.jsonl").write_text("")
    line = _error_line(run_cli("train", str(no_steps), "--name", "a", *runs))
    assert "without steps" in line and ep.name in line


def _copy_run(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest, symlinks=True)
    return dest


def test_corrupt_and_mismatched_checkpoints_are_refused(
    trained_run: Path, demo_root: Path, tmp_path: Path
):
    # truncated weights
    bad = _copy_run(trained_run, tmp_path / "trunc")
    ckpt = (bad / CHECKPOINTS_DIR / "last").resolve()
    data = (ckpt / MODEL_FILE).read_bytes()
    (ckpt / MODEL_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_policy(ckpt)
    # garbage config
    bad2 = _copy_run(trained_run, tmp_path / "garbage")
    ckpt2 = (bad2 / CHECKPOINTS_DIR / "last").resolve()
    (ckpt2 / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json"):
        load_policy(ckpt2)
    # weights of a checkpoint trained with another config
    other = run_training(small_config(tmp_path, [demo_root / "click"], name="other", epochs=1,
                                      input_height=64, input_width=96, batch_size=16))
    mixed = _copy_run(trained_run, tmp_path / "mixed")
    ckpt3 = (mixed / CHECKPOINTS_DIR / "last").resolve()
    shutil.copy(Path(other["last_checkpoint"]).resolve() / MODEL_FILE, ckpt3 / MODEL_FILE)
    with pytest.raises(CheckpointError, match="different config"):
        load_policy(ckpt3)
    # a checkpoint trained on inputs computed another way (an older word-maps version)
    old = _copy_run(trained_run, tmp_path / "old_maps")
    ckpt4 = (old / CHECKPOINTS_DIR / "last").resolve()
    cfg = json.loads((ckpt4 / "config.json").read_text())
    cfg["preprocess"]["word_maps"] = [3]
    (ckpt4 / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="computes differently.*word_maps.*train"):
        load_policy(ckpt4)
    with pytest.raises(CheckpointError, match="no such run"):
        load_policy(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        load_policy(tmp_path)
    # resuming from the corrupt checkpoint
    assert "corrupt" in _cli_error(str(demo_root / "click"), "--name", "trunc", "--runs-dir",
                                   str(tmp_path), *SMALL, "--allow-mixed-sizes", "--resume")


def test_config_validation_names_the_setting(tmp_path: Path):
    with pytest.raises(ConfigError, match="--lr"):
        small_config(tmp_path, [], lr=0)
    with pytest.raises(ConfigError, match="--input-size 96x100"):
        small_config(tmp_path, [], input_width=100)
    with pytest.raises(ConfigError, match="--device"):
        small_config(tmp_path, [], device="tpu")
    with pytest.raises(ConfigError, match="unknown training settings"):
        type(small_config(tmp_path, [])).from_json({"bogus": 1})
