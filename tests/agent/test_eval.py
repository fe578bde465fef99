"""Evaluation on the practice desktop (pytest-xvfb display): real task windows, real
capture, real XTEST input through the replay runner, the task's own verdict.

Agents here are real objects with known behaviour: an oracle that clicks the target
button (computed from the seed's layout), one that clicks a wrong button, the random
baseline, and literal macro replay of a recorded expert demonstration.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deskmimic.agent.eval_report import summarize, wilson_interval
from deskmimic.agent.evaluate import EvalConfig, PolicyAgent
from deskmimic.agent.policy_protocol import AgentAction, ScriptedPolicy
from deskmimic.agent.random_policy import RANDOM_HOTKEYS, RandomPolicy
from deskmimic.core.errors import ConfigError
from deskmimic.recorder.episode import Episode
from tests.conftest import run_cli

TASK = "click_button"


def button_point(seed: int, label: str | None = None) -> tuple[int, int]:
    """Centre of the target (or the named) button of ``click_button`` with ``seed``, in
    client-area pixels: the layout is a pure function of the seed."""
    from deskmimic.tasks.runner import make_task

    task = make_task(TASK, seed)
    try:
        rect = task.buttons[label or task.target].geometry()
        return rect.center().x(), rect.center().y() + task.banner_height
    finally:
        task.deleteLater()


def wrong_label(seed: int) -> str:
    from deskmimic.tasks.runner import make_task

    task = make_task(TASK, seed)
    try:
        return next(lab for lab in task.labels if lab != task.target)
    finally:
        task.deleteLater()


# ---- pure parts -----------------------------------------------------------------------------
def test_random_policy_stays_in_the_image_is_reproducible_and_types_its_words():
    image = np.zeros((300, 400, 3), np.uint8)
    obs = {"image": image, "instruction": "Click Save"}
    a, b = RandomPolicy(7, ["alpha", "beta"]), RandomPolicy(7, ["alpha", "beta"])
    acts = [a.act(obs) for _ in range(400)]
    assert [x.to_dict() for x in acts] == [b.act(obs).to_dict() for _ in range(400)]
    kinds = {x.kind for x in acts}
    assert {"click", "drag", "scroll", "type", "hotkey", "done"} <= kinds
    for x in acts:
        for px, py in x.points():
            assert 0 <= px < 400 and 0 <= py < 300
        if x.kind == "type":
            assert set(x.text.split()) <= {"alpha", "beta"}
        if x.kind == "hotkey":
            assert x.keys in RANDOM_HOTKEYS  # nothing that closes or switches windows
    a.reset()
    assert a.act(obs).to_dict() == acts[0].to_dict()
    with pytest.raises(ConfigError, match="random kinds"):
        RandomPolicy(kinds={"teleport": 1.0})


def test_summary_numbers_and_wilson_interval():
    from deskmimic.agent.eval_report import EpisodeOutcome

    outs = [EpisodeOutcome(s, s % 2 == 0, f"clicked B{s} instead of Oak", s, float(s), "done",
                           decide_ms=[1.0, 3.0]) for s in range(4)]
    s = summarize(outs)
    assert (s["episodes"], s["successes"], s["success_rate"]) == (4, 2, 0.5)
    assert s["mean_steps"] == 1.5 and s["mean_time_s"] == 1.5
    assert s["decide_ms_p50"] == 2.0 and s["stop_reasons"] == {"done": 4}
    assert s["outcomes"] == {"clicked _ instead of _": 4}  # verdicts grouped by their pattern
    assert wilson_interval(0, 10)[0] == 0.0 and 0.2 < wilson_interval(0, 10)[1] < 0.35
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(10, 10)[0] > 0.65
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_eval_config_names_the_bad_setting(tmp_path: Path):
    with pytest.raises(ConfigError, match="--policy"):
        EvalConfig(task=TASK, seeds=(1,), agent="policy")
    with pytest.raises(ConfigError, match="no such run"):
        EvalConfig(task=TASK, seeds=(1,), policy=tmp_path / "missing")
    with pytest.raises(ConfigError, match="--demo"):
        EvalConfig(task=TASK, seeds=(1,), agent="macro")
    with pytest.raises(ConfigError, match="not an episode"):
        EvalConfig(task=TASK, seeds=(1,), agent="macro", demo=tmp_path)
    with pytest.raises(ConfigError, match="--out .* already exists"):
        EvalConfig(task=TASK, seeds=(1,), agent="random", out=tmp_path)
    with pytest.raises(ConfigError, match="--keep"):
        EvalConfig(task=TASK, seeds=(1,), agent="random", keep="some")
    with pytest.raises(ConfigError, match="--seeds"):
        EvalConfig(task=TASK, seeds=(), agent="random")


# ---- on the display -------------------------------------------------------------------------
def _scripted_agent(points: dict[int, tuple[int, int]], name: str) -> PolicyAgent:
    return PolicyAgent(lambda seed: ScriptedPolicy([AgentAction("click", *points[seed])]), name,
                       max_steps=3, max_duration_s=20)


def test_oracle_succeeds_wrong_button_fails_and_only_failures_are_kept(tmp_home: Path,
                                                                        tmp_path: Path):
    from deskmimic.tasks.evaluate import evaluate, run_evaluation

    seeds = (1_000_003, 1_000_004)
    oracle = _scripted_agent({s: button_point(s) for s in seeds}, "oracle")
    report = run_evaluation(EvalConfig(task=TASK, seeds=seeds, agent="random", out=tmp_path / "ok"),
                            agent=oracle)
    assert report["success_rate"] == 1.0 and report["heldout"] is True
    assert report["mean_steps"] == 1.0 and report["stop_reasons"] == {"task_ended": 2}
    assert report["failures_kept"] == [] and not (tmp_path / "ok" / "episodes").exists()
    assert json.loads((tmp_path / "ok" / "report.json").read_text())["successes"] == 2

    wrong = _scripted_agent({s: button_point(s, wrong_label(s)) for s in seeds}, "wrong")
    events = list(evaluate(EvalConfig(task=TASK, seeds=seeds, agent="random",
                                      out=tmp_path / "bad"), agent=wrong))
    assert [e["event"] for e in events] == ["start", "episode", "episode", "done"]
    report = events[-1]["report"]
    assert report["success_rate"] == 0.0
    assert all("instead of" in r["reason"] for r in report["results"])
    kept = [Path(p) for p in report["failures_kept"]]
    assert len(kept) == 2
    for path in kept:  # each failure is an ordinary episode with the agent's decisions
        ep = Episode.open(path)
        assert ep.meta["status"] == "complete" and ep.meta["task"] == "eval:wrong"
        log = [json.loads(line) for line in (path / "replay.jsonl").read_text().splitlines()]
        assert log[0]["action"]["kind"] == "click" and log[0]["status"] == "executed"


def test_a_stop_arriving_after_an_episode_ended_does_not_end_the_next(tmp_home: Path,
                                                                     tmp_path: Path):
    from deskmimic.tasks.evaluate import run_evaluation

    seed = 1_000_005
    oracle = _scripted_agent({seed: button_point(seed)}, "oracle")
    oracle.stop("task_ended", "the previous task ended")  # raced past its episode's end
    report = run_evaluation(EvalConfig(task=TASK, seeds=(seed,), agent="random", keep="none",
                                       out=tmp_path / "late"), agent=oracle)
    assert report["success_rate"] == 1.0, report["results"]


def test_an_agent_that_stops_first_fails_the_task(tmp_home: Path, tmp_path: Path):
    from deskmimic.tasks.evaluate import run_evaluation

    quitter = PolicyAgent(lambda seed: ScriptedPolicy([]), "quitter", max_steps=3)
    report = run_evaluation(EvalConfig(task=TASK, seeds=(5,), agent="random", keep="none",
                                       out=tmp_path / "q"), agent=quitter)
    r = report["results"][0]
    assert r["success"] is False and r["stop_reason"] == "done"
    assert r["reason"].startswith("agent stopped (done)") and r["episode"] is None


def test_macro_replay_solves_its_own_layout_and_survives_a_region_past_the_edge(tmp_home: Path, tmp_path: Path):
    from deskmimic.tasks.demos import record_demo
    from deskmimic.tasks.evaluate import run_evaluation

    demo = record_demo(TASK, 11, tmp_path / "demos", speed=2.0)
    assert demo.success
    # A held-out window so low that the recording's (taller) region, moved onto it,
    # hangs past the screen's bottom edge: the replay must still run and be judged.
    height = Episode.open(demo.path).region.height
    low = next(s for s in range(1_000_000, 1_002_000) if _window_top(s) + height > 800)
    report = run_evaluation(EvalConfig(task=TASK, seeds=(11, low), agent="macro",
                                       demo=demo.path, macro_speed=2.0, out=tmp_path / "m"))
    own, moved = report["results"]
    assert own["success"] is True, own
    assert moved["stop_reason"] != "error" and moved["reason"], moved
    assert report["agent"] == "macro" and report["demo"] == str(demo.path)


def _window_top(seed: int) -> int:
    from deskmimic.tasks.runner import make_task

    task = make_task(TASK, seed)
    try:
        return task.y()  # no window manager: the client area starts there
    finally:
        task.deleteLater()


def test_cli_random_baseline_json_report(tmp_home: Path, tmp_path: Path):
    res = run_cli("eval", "--task", TASK, "--seeds", "1000000-1000002", "--baseline", "random",
                  "--display", "current", "--max-steps", "4", "--out", str(tmp_path / "r"),
                  "--json", timeout=120)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["agent"] == "random" and report["episodes"] == 3
    assert report["seeds"] == [1_000_000, 1_000_001, 1_000_002]
    assert all(r["steps"] <= 4 for r in report["results"])
    assert (tmp_path / "r" / "report.json").is_file()
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("args, message", [
    (["--seeds", "1-2"], "give --policy RUN"),
    (["--seeds", "2-1", "--baseline", "random"], "--seeds '2-1'"),
    (["--seeds", "1", "--baseline", "random", "--policy", "x"], "exclusive"),
    (["--seeds", "1", "--baseline", "macro"], "--demo EPISODE"),
    (["--seeds", "1", "--policy", "/nonexistent/run"], "no such run"),
    (["--seeds", "1", "--baseline", "random", "--max-steps", "-1"], "--max-steps -1"),
    (["--task", "nope", "--seeds", "1", "--baseline", "random"], "--task 'nope': unknown"),
])
def test_cli_bad_input_is_one_clear_line(args: list[str], message: str):
    res = run_cli("eval", "--task", TASK, *args, "--display", "current", timeout=60)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
