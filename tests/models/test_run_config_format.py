"""A run's config.json carries the run format's version; readers check it (core/formats.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskmimic.core.errors import RunVersionError
from deskmimic.core.formats import FIELD, RUN
from deskmimic.models.training.config import TrainConfig
from tests.models.conftest import small_config


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


def test_a_saved_config_names_its_version_and_loads_back(tmp_path: Path):
    cfg = small_config(tmp_path, [tmp_path / "ep"])
    data = cfg.to_json()
    assert data[FIELD] == RUN.current
    assert TrainConfig.load(_write(tmp_path, data)) == cfg


def test_a_0_1_0_config_without_a_version_still_loads(tmp_path: Path):
    data = small_config(tmp_path, [tmp_path / "ep"]).to_json()
    del data[FIELD]
    assert TrainConfig.load(_write(tmp_path, data)).name == "t"


def test_a_newer_run_is_refused_naming_the_file(tmp_path: Path):
    data = {**small_config(tmp_path, [tmp_path / "ep"]).to_json(), FIELD: RUN.current + 1}
    path = _write(tmp_path, data)
    before = path.read_bytes()
    with pytest.raises(RunVersionError, match="upgrade deskmimic") as info:
        TrainConfig.load(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
