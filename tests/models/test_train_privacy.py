"""What a person typed while recording stays out of the checkpoint unless they allow it."""

from __future__ import annotations

import json
from pathlib import Path

from deskmimic.models.runs import CHECKPOINTS_DIR, CONFIG_FILE, LAST
from deskmimic.models.training.train import run_training
from tests.models.conftest import small_config


def _config_text(run_dir: Path) -> str:
    return ((run_dir / CHECKPOINTS_DIR / LAST).resolve() / CONFIG_FILE).read_text()


def test_typed_text_is_kept_only_when_allowed(demo_root: Path, tmp_path: Path):
    kept = small_config(tmp_path, [demo_root / "type"], name="kept", epochs=1, val_fraction=0.0,
                        keep_typed_text=True)
    run_training(kept)
    typed = json.loads(_config_text(kept.run_dir))["action_space"]["strings"]
    assert typed  # the demonstrations typed something: what must not leak by default
    plain = small_config(tmp_path, [demo_root / "type"], name="plain", epochs=1,
                         val_fraction=0.0)
    run_training(plain)
    text = _config_text(plain.run_dir)
    assert json.loads(text)["action_space"]["strings"] == []
    assert not [s for s in typed if s in text]


def test_runs_and_checkpoints_are_user_only_whatever_the_umask(demo_root: Path, tmp_path: Path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        cfg = small_config(tmp_path, [demo_root / "click"], name="private", epochs=1,
                           val_fraction=0.0)
        run_training(cfg)
    finally:
        os.umask(old)
    ckpt = (cfg.run_dir / CHECKPOINTS_DIR / LAST).resolve()
    for folder in (cfg.run_dir, cfg.run_dir / CHECKPOINTS_DIR, ckpt):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    files = [p for p in ckpt.rglob("*") if p.is_file()] + [cfg.run_dir / "config.json"]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files), [
        (p.name, oct(p.stat().st_mode)) for p in files]
