"""`deskmimic demo` end to end with tiny settings: record -> train -> evaluate the policy
and both baselines on held-out seeds -> the success table (on the pytest-xvfb display)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.timeout(200)
def test_demo_runs_the_whole_loop_and_prints_the_table(tmp_home: Path, tmp_path: Path):
    out = tmp_path / "demo"
    args = ["demo", "--task", "click_button", "--demos", "2", "--eval-seeds", "1",
            "--steps", "4", "--input", "64x96", "--display", "current", "--out", str(out)]
    res = run_cli(*args, "--json", timeout=190)
    assert res.returncode == 0, res.stderr[-3000:]
    s = json.loads(res.stdout)
    assert s["demos"]["count"] == 2 and s["demos"]["success_rate"] == 1.0
    assert s["training"]["steps"] == 4 and Path(s["training"]["run"]).is_dir()
    assert set(s["evaluation"]) == {"policy", "macro", "random"}
    for r in s["evaluation"].values():
        assert r["episodes"] == 1 and Path(r["report"]).is_file()
        report = json.loads(Path(r["report"]).read_text())
        assert report["heldout"] and report["seeds"] == [1_000_000]
    # progress bars on stderr for each stage
    for stage in ("1/3 expert demonstrations", "2/3 training", "3/3 eval 1/3: policy"):
        assert stage in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("args, message", [
    (["--demos", "0"], "--demos 0"),
    (["--input", "100x100"], "--input 100x100"),
    (["--eval-seeds", "0"], "--eval-seeds"),
    (["--task", "nope", "--demos", "1"], "unknown task 'nope'"),
    (["--task", "drag_item", "--toolkit", "tk"], "no such task in tk; tk has tk_checkboxes"),
])
def test_demo_bad_input_is_one_clear_line(tmp_home: Path, args: list[str], message: str):
    res = run_cli("demo", *args, "--display", "current", timeout=60)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.timeout(200)
@pytest.mark.parametrize("toolkit", ["gtk", "web"])
def test_demo_runs_a_kind_in_another_toolkit(tmp_home: Path, tmp_path: Path, toolkit: str):
    out = tmp_path / "demo"
    res = run_cli("demo", "--task", "click_button", "--toolkit", toolkit, "--demos", "1",
                  "--record-only", "--display", "current", "--out", str(out), "--json",
                  timeout=190)
    assert res.returncode == 0, res.stderr[-3000:]
    s = json.loads(res.stdout)
    assert s["task"] == f"{toolkit}_click_button" and s["demos"]["success_rate"] == 1.0
    (episode,) = (out / "episodes").iterdir()
    assert json.loads((episode / "meta.json").read_text())["task"] == f"{toolkit}_click_button"
