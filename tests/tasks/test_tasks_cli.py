"""`deskmimic tasks list | run` in a fresh interpreter on the test display."""

from __future__ import annotations

import json
import re

from tests.conftest import run_cli


def test_tasks_list_names_all_tasks() -> None:
    proc = run_cli("tasks", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    names = [row["name"] for row in rows]
    assert names[0] == "click_button" and "workflow" in names
    by_toolkit: dict[str, list[str]] = {}
    for r in rows:
        by_toolkit.setdefault(r["toolkit"], []).append(r["name"])
    assert len(by_toolkit["qt"]) == 8
    kinds = ["click_button", "click_sequence", "checkboxes", "type_field", "pick_list"]
    for toolkit in ("tk", "gtk", "web"):
        assert by_toolkit[toolkit] == [f"{toolkit}_{k}" for k in kinds], (toolkit, by_toolkit)
    plain = run_cli("tasks", "list")
    assert plain.returncode == 0 and "scroll_find" in plain.stdout
    assert re.search(r"^tk_type_field +tk   Tk: ", plain.stdout, re.M), plain.stdout
    assert re.search(r"^gtk_type_field +gtk  GTK: ", plain.stdout, re.M), plain.stdout


def test_tasks_run_with_expert_prints_json_result() -> None:
    proc = run_cli("tasks", "run", "checkboxes", "--seed", "3", "--expert", "--speed", "2")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["success"] is True and result["task"] == "checkboxes" and result["seed"] == 3
    assert result["steps"] >= 2


def test_tasks_run_timeout_fails_with_exit_1() -> None:
    proc = run_cli("tasks", "run", "click_button", "--seed", "1", "--timeout", "0.5")
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["success"] is False and result["reason"] == "timeout after 0.5 s"


def test_tasks_run_bad_input_is_one_clear_line() -> None:
    proc = run_cli("tasks", "run", "nope")
    assert proc.returncode == 2
    assert "unknown task 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("tasks", "run", "click_button", "--seed", "-3")
    assert proc.returncode == 2 and "--seed -3" in proc.stderr
    proc = run_cli("tasks", "run", "click_button", env={"DISPLAY": None})
    assert proc.returncode == 2 and "DISPLAY is not set" in proc.stderr


def test_tasks_demos_records_labelled_episodes(tmp_path) -> None:
    out = tmp_path / "demos"
    proc = run_cli("tasks", "demos", "click_button", "--episodes", "2", "--seeds", "5-9",
                   "--out", str(out), "--speed", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    demos = json.loads(proc.stdout)
    assert [d["seed"] for d in demos] == [5, 6] and all(d["success"] for d in demos)
    for d in demos:
        meta = json.loads((tmp_path / d["path"] / "meta.json").read_text())
        assert meta["task"] == "click_button" and meta["instruction"].startswith("Click")
        assert meta["extra"]["seed"] == d["seed"] and meta["extra"]["success"] is True
        check = run_cli("episodes", "check", d["path"])
        assert check.returncode == 0, check.stdout + check.stderr


def test_tasks_demos_bad_input_is_one_clear_line(tmp_path) -> None:
    proc = run_cli("tasks", "demos", "click_button", "--episodes", "5", "--seeds", "1-2",
                   "--out", str(tmp_path))
    assert proc.returncode == 2 and "holds only 2 seeds" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("tasks", "demos", "nope", "--out", str(tmp_path))
    assert proc.returncode == 2 and "unknown task 'nope'" in proc.stderr
    assert list(tmp_path.iterdir()) == []
