"""The format_version policy (docs/formats.md) on episodes: readers accept oldest..current,
refuse newer and too old with the file named, and `deskmimic episodes upgrade` rewrites
meta.json atomically, keeps the original, and never touches a refused episode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from deskmimic.app.cli import main
from deskmimic.core import formats
from deskmimic.core.errors import (
    EpisodeFormatError,
    EpisodeVersionError,
    FormatVersionError,
    RunVersionError,
)
from deskmimic.recorder import episode_format
from deskmimic.recorder.episode_format import read_meta, upgrade_episode
from tests.conftest import run_cli

META_V1 = {
    "format_version": 1, "id": "20261201T000000000Z-abcd", "status": "complete",
    "task": "click_button", "instruction": "Click Save", "created": "2026-12-01T00:00:00.000+00:00",
    "geometry": {"region": {"left": 0, "top": 0, "width": 320, "height": 240}},
    "fps": 20.0, "counters": {"frames": 0, "events": 0}, "extra": {"seed": 3},
}


def _episode(root: Path, name: str, **changes) -> Path:
    """An episode folder as the recorder leaves it (meta.json 0600 + empty index/events)."""
    folder = root / name
    folder.mkdir(parents=True)
    meta = {**META_V1, "id": name, **changes}
    meta = {k: v for k, v in meta.items() if v is not None}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    os.chmod(folder / "meta.json", 0o600)
    (folder / "frames.csv").write_text("index,t_ns,segment,pts\n")
    (folder / "events.jsonl").write_text("")
    return folder


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.fixture
def v2(monkeypatch: pytest.MonkeyPatch):
    """Pretend the current episode format is 2, whose step from 1 adds ``outcome``."""
    fmt = formats.Format("episode", current=2, oldest=1, missing=None,
                         too_old=formats.EPISODE.too_old, error=EpisodeVersionError)
    monkeypatch.setattr(episode_format, "EPISODE", fmt)
    monkeypatch.setattr(episode_format, "UPGRADES", {1: lambda m: {**m, "outcome": None}})
    return fmt


# ---- the shared check --------------------------------------------------------------------
@pytest.mark.parametrize("fmt", formats.FORMATS, ids=lambda f: f.name)
def test_every_format_accepts_its_current_version(fmt: formats.Format):
    assert formats.check_version(fmt, {"format_version": fmt.current}, "x.json") == fmt.current


@pytest.mark.parametrize("value", ["1", 1.0, True, None, [1]])
def test_a_version_that_is_not_an_integer_is_refused(value):
    with pytest.raises(EpisodeVersionError, match=r"x\.json: field 'format_version'"):
        formats.check_version(formats.EPISODE, {"format_version": value}, "x.json")


def test_a_run_config_without_a_version_is_version_1():
    # 0.1.0 wrote runs/<name>/config.json without the field.
    assert formats.check_version(formats.RUN, {}, "config.json") == 1
    with pytest.raises(RunVersionError, match="newer than this deskmimic"):
        formats.check_version(formats.RUN, {"format_version": 9}, "config.json")


def test_too_old_names_the_way_forward():
    fmt = formats.Format("episode", 3, 2, None, "run `deskmimic episodes upgrade` on it",
                         EpisodeVersionError)
    with pytest.raises(FormatVersionError) as exc:
        formats.check_version(fmt, {"format_version": 1}, "/e/meta.json")
    assert str(exc.value) == (
        "/e/meta.json: episode format_version 1 is older than this deskmimic reads (2 to 3): "
        "run `deskmimic episodes upgrade` on it"
    )
    with pytest.raises(FormatVersionError, match="invalid"):
        formats.check_version(fmt, {"format_version": 0}, "/e/meta.json")


def test_version_errors_stay_in_their_family():
    # Callers that catch EpisodeFormatError / CheckpointError / ConfigError still catch them.
    assert issubclass(formats.EPISODE.error, EpisodeFormatError)
    from deskmimic.core.errors import CheckpointError, ConfigError

    assert issubclass(formats.CHECKPOINT.error, CheckpointError)
    assert issubclass(formats.RUN.error, ConfigError)


# ---- readers -----------------------------------------------------------------------------
def test_a_newer_episode_is_refused_naming_the_file(tmp_path: Path):
    ep = _episode(tmp_path, "new", format_version=2)
    with pytest.raises(EpisodeVersionError) as exc:
        read_meta(ep)
    assert str(ep / "meta.json") in str(exc.value)
    assert "format_version 2 is newer" in str(exc.value) and "upgrade deskmimic" in str(exc.value)


def test_an_older_readable_episode_is_upgraded_in_memory_only(tmp_path: Path, v2):
    ep = _episode(tmp_path, "old")
    before = _snapshot(ep)
    meta = read_meta(ep)
    assert meta["format_version"] == 2 and meta["outcome"] is None
    assert _snapshot(ep) == before, "readers never write"


def test_below_the_readers_floor_the_upgrade_command_converts(
    tmp_path: Path, v2, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(episode_format, "EPISODE", formats.Format(
        "episode", 2, 2, None, formats.EPISODE.too_old, EpisodeVersionError))
    ep = _episode(tmp_path, "old")
    with pytest.raises(EpisodeVersionError, match="deskmimic episodes upgrade"):
        read_meta(ep)
    assert main(["episodes", "upgrade", str(ep)]) == 0
    assert read_meta(ep)["format_version"] == 2
    assert json.loads((ep / "meta.json.v1.bak").read_text())["format_version"] == 1


# ---- the upgrade command -----------------------------------------------------------------
def test_a_current_episode_is_left_alone(tmp_path: Path, capsys):
    ep = _episode(tmp_path, "cur")
    before = _snapshot(ep)
    assert main(["episodes", "upgrade", str(ep)]) == 0
    assert "already current (format 1)" in capsys.readouterr().out
    assert _snapshot(ep) == before, "an up-to-date meta.json keeps its bytes and mtime"


def test_missing_defaulted_fields_are_written(tmp_path: Path, capsys):
    ep = _episode(tmp_path, "early", instruction=None, extra=None)
    original = (ep / "meta.json").read_bytes()
    assert main(["episodes", "upgrade", str(ep)]) == 0
    out = capsys.readouterr().out
    assert "upgraded (added instruction, extra)" in out
    meta = json.loads((ep / "meta.json").read_text())
    assert meta["instruction"] == "" and meta["extra"] == {} and meta["task"] == "click_button"
    assert (ep / "meta.json.v1.bak").read_bytes() == original
    for name in ("meta.json", "meta.json.v1.bak"):
        assert stat.S_IMODE((ep / name).stat().st_mode) == 0o600, name
    assert not list(ep.glob(".meta.json.*.tmp"))
    assert main(["episodes", "upgrade", str(ep)]) == 0  # idempotent
    assert "already current" in capsys.readouterr().out


def test_an_older_supported_version_is_rewritten(tmp_path: Path, v2):
    ep = _episode(tmp_path, "old")
    report = upgrade_episode(ep)
    assert (report.from_version, report.to_version, report.changed) == (1, 2, True)
    meta = json.loads((ep / "meta.json").read_text())
    assert meta["format_version"] == 2 and "outcome" in meta
    assert upgrade_episode(ep).changed is False


def test_dry_run_writes_nothing(tmp_path: Path, capsys):
    ep = _episode(tmp_path, "early", task=None)
    before = _snapshot(ep)
    assert main(["episodes", "upgrade", "--dry-run", str(ep)]) == 0
    assert "would upgrade (added task)" in capsys.readouterr().out
    assert _snapshot(ep) == before


@pytest.mark.parametrize("changes, needle", [
    ({"format_version": 7}, "format_version 7 is newer than this deskmimic understands"),
    ({"format_version": 0}, "format_version 0 is invalid"),
    ({"geometry": None}, "required field 'geometry' is missing"),
])
def test_a_refused_episode_is_never_rewritten(tmp_path: Path, changes: dict, needle: str):
    ep = _episode(tmp_path, "bad", instruction=None, **changes)
    before = _snapshot(ep)
    res = run_cli("episodes", "upgrade", str(ep))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert str(ep / "meta.json") in res.stderr and needle in res.stderr, res.stderr
    assert _snapshot(ep) == before


def test_all_upgrades_the_rest_and_fails_for_the_refused(tmp_path: Path, capsys):
    root = tmp_path / "episodes"
    cur = _episode(root, "a-current")
    early = _episode(root, "b-early", extra=None)
    newer = _episode(root, "c-newer", format_version=5)
    (root / "not-an-episode").mkdir()
    before_cur, before_newer = _snapshot(cur), _snapshot(newer)
    assert main(["episodes", "--dir", str(root), "upgrade", "--all", "--json"]) == 2
    captured = capsys.readouterr()
    rows = {Path(r["path"]).name: r for r in json.loads(captured.out)}
    assert sorted(rows) == ["a-current", "b-early", "c-newer"]
    assert rows["a-current"]["changed"] is False and rows["b-early"]["added"] == ["extra"]
    assert "upgrade deskmimic" in rows["c-newer"]["error"] and "c-newer" in captured.err
    assert _snapshot(cur) == before_cur and _snapshot(newer) == before_newer
    assert json.loads((early / "meta.json").read_text())["extra"] == {}


def test_all_and_names_exclude_each_other(tmp_path: Path, capsys):
    ep = _episode(tmp_path, "x")
    assert main(["episodes", "upgrade", "--all", str(ep)]) == 2
    assert main(["episodes", "upgrade"]) == 2
    assert "name episodes or pass --all" in capsys.readouterr().err
