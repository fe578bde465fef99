"""An evaluation keeps every decision's confidence per seed, so its decisions can be
judged closed loop (`deskmimic.models.training.gate_report`)."""

from __future__ import annotations

import json
from pathlib import Path

from deskmimic.agent.eval_report import read_decisions
from deskmimic.agent.evaluate import EvalConfig, PolicyAgent
from deskmimic.agent.policy_protocol import AgentAction, ScriptedPolicy
from deskmimic.models.training.gate_report import closed_loop_report
from tests.agent.test_eval import TASK, button_point, wrong_label


def _log(path: Path, entries: list[tuple[float | None, str]]) -> Path:
    path.mkdir()
    lines = [json.dumps({"step": i, "action": {"kind": "click", "confidence": c}, "status": s})
             for i, (c, s) in enumerate(entries)]
    (path / "replay.jsonl").write_text("\n".join(lines) + '\n{"step": 9, "act')  # torn tail
    return path


def test_decisions_up_to_the_last_one_carried_out(tmp_path: Path):
    ep = _log(tmp_path / "a", [(0.9, "executed"), (0.5, "interrupted"), (0.7, "executed"),
                               (0.2, "done")])
    assert read_decisions(ep) == ([0.9, 0.5, 0.7, 0.2], 3)
    ep = _log(tmp_path / "b", [(0.12345678, "refused")])
    assert read_decisions(ep) == ([0.1235], 0)
    ep = _log(tmp_path / "c", [(None, "executed")])  # an agent without confidences
    assert read_decisions(ep) == ([], 0)
    assert read_decisions(None) == ([], 0) and read_decisions(tmp_path / "none") == ([], 0)


def test_each_seed_carries_its_confidences(tmp_home: Path, tmp_path: Path):
    from deskmimic.tasks.evaluate import run_evaluation

    right, wrong = 1_000_003, 1_000_004
    points = {right: (button_point(right), 0.8), wrong: (button_point(wrong, wrong_label(wrong)), 0.6)}
    agent = PolicyAgent(lambda s: ScriptedPolicy([AgentAction("click", *points[s][0],
                                                              confidence=points[s][1])]),
                        "scripted", max_steps=3, max_duration_s=20)
    report = run_evaluation(EvalConfig(task=TASK, seeds=(right, wrong), agent="random",
                                       keep="none", out=tmp_path / "ev"), agent=agent)
    rows = {r["seed"]: r for r in report["results"]}
    assert rows[right]["success"] and not rows[wrong]["success"]
    # the click that decided each episode; nothing decided after the task ended counts
    assert rows[right]["confidences"][:1] == [0.8] and rows[right]["acted"] == 1
    assert rows[wrong]["confidences"][:1] == [0.6] and rows[wrong]["acted"] == 1
    cl = closed_loop_report(report["results"], gate=0.7)
    assert (cl["right"], cl["wrong"], cl["wrong_let_through"]) == (1, 1, 0)
    assert cl["failed"][0]["seed"] == wrong and cl["failed"][0]["confidence"] == 0.6
