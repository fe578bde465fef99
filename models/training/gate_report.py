"""Closed-loop judging of confidence: which decisions of an evaluation were right, and what
a replay gate would have done to its episodes.

An evaluation (`deskmimic eval`, the learning bench) records for every episode each
decision's confidence and how many of them lead up to the last one carried out on the
screen (``confidences``, ``acted`` in the report's ``results``). From the task's verdict:

- in a **successful** episode every decision carried out is right;
- in a **failed** episode the decision that ended it is wrong, and those before it are
  not counted either way (the closed loop cannot tell which of them went astray): where
  the task ended it (``stop_reason`` ``task_ended``: it clicked the wrong row, submitted
  the wrong text) the last decision carried out; where the agent stopped first (a
  premature ``done``, a refusal, the step limit) its last decision.

A gate ``g`` (the replay's ``--min-confidence``) stops an episode at its first decision
below ``g``. It stops a successful episode when any decision carried out is below ``g``
(that success is lost) and a failed one when a decision up to and including the failing
one is below ``g`` (the wrong action is not done; the episode still fails, but harmlessly).
Decision-level figures (ECE, `calibration.gate_report`) come from the same labels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from deskmimic.models.training.calibration import (
    DEFAULT_GATE,
    ECE_BINS,
    calibration_report,
    gate_report,
    split_fit,
)

SWEEP_GATES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def judged_steps(result: Mapping[str, Any]) -> tuple[list[float], bool] | None:
    """One episode's judged decisions: the confidences up to the one that decided it, and
    whether it succeeded (then all are right; else only the last counts, as wrong).
    ``None`` when the episode has no confidences (an agent error, a baseline)."""
    conf = [float(c) for c in result.get("confidences") or ()]
    if not conf:
        return None
    success = bool(result.get("success"))
    acted = int(result.get("acted") or 0)
    # Decisions after the task's verdict (made before the agent heard of it) judge nothing;
    # an agent that stopped first was stopped by its last decision, carried out or not.
    by_task = success or result.get("stop_reason") == "task_ended"
    upto = min(acted, len(conf)) if acted > 0 and by_task else len(conf)
    return conf[:upto], success


def closed_loop_decisions(results: Iterable[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, right) of every judged decision of ``results`` (an evaluation report's
    per-seed rows): all of a successful episode's, the failing one of a failed episode."""
    conf: list[float] = []
    right: list[bool] = []
    for r in results:
        got = judged_steps(r)
        if got is None:
            continue
        steps, success = got
        if success:
            conf.extend(steps)
            right.extend([True] * len(steps))
        else:
            conf.append(steps[-1])
            right.append(False)
    return np.asarray(conf, np.float64), np.asarray(right, bool)


def episode_gate(results: Sequence[Mapping[str, Any]], gate: float) -> dict:
    """What a gate at ``gate`` does to whole episodes: successes it would have stopped,
    failures it would have stopped before or at their failing decision."""
    ok_stopped = bad_stopped = n_ok = n_bad = 0
    for r in results:
        got = judged_steps(r)
        if got is None:
            continue
        steps, success = got
        stopped = min(steps) < gate
        n_ok += success
        n_bad += not success
        ok_stopped += success and stopped
        bad_stopped += (not success) and stopped
    return {
        "gate": gate,
        "successes_stopped": ok_stopped,
        "failures_stopped": bad_stopped,
        "successes_stopped_rate": round(ok_stopped / n_ok, 4) if n_ok else None,
        "failures_stopped_rate": round(bad_stopped / n_bad, 4) if n_bad else None,
    }


def decision_sweep(conf: np.ndarray, right: np.ndarray,
                   gates: Sequence[float] = SWEEP_GATES) -> list[dict]:
    """Per gate: the share of right decisions it stops and of wrong ones."""
    keep = ("gate", "right_stopped_rate", "wrong_stopped_rate")
    return [{k: v for k, v in gate_report(conf, right, g).items() if k in keep} for g in gates]


def closed_loop_report(results: Sequence[Mapping[str, Any]], gate: float = DEFAULT_GATE,
                       gates: Sequence[float] = SWEEP_GATES, bins: int = ECE_BINS) -> dict:
    """Calibration of an evaluation's decisions judged by its episodes' verdicts: ECE and
    the default gate per decision, a sweep of gates per decision and per episode, and the
    failing decision of each failed episode (seed, task verdict, how the agent stopped,
    step, confidence)."""
    rows = [r for r in results if judged_steps(r) is not None]
    conf, right = closed_loop_decisions(rows)
    sweep = []
    for g, per_decision in zip(gates, decision_sweep(conf, right, gates), strict=True):
        sweep.append({**per_decision, **episode_gate(rows, g)})
    failed = []
    seeds: list = []  # the episode of each judged decision, for the split fit
    for r in rows:
        steps, success = judged_steps(r)  # type: ignore[misc]
        seeds.extend([r.get("seed")] * (len(steps) if success else 1))
        if not success:
            failed.append({"seed": r.get("seed"), "reason": r.get("reason"),
                           "stop_reason": r.get("stop_reason"), "step": len(steps) - 1,
                           "confidence": steps[-1], "min_before": min(steps[:-1], default=None)})
    return {
        "episodes": len(rows),
        "successes": sum(bool(r.get("success")) for r in rows),
        "failures_by_stop_reason": dict(Counter(f["stop_reason"] for f in failed)),
        **calibration_report(conf, right, gate, bins),
        "episode_gate": episode_gate(rows, gate),
        # What a scaling fitted on these labels would reach (half the episodes fit it,
        # the other half judge it, and back): whether the ECE target is one refit away.
        "split_fit_ece": (split_fit({"raw": conf, "right": right, "episode": seeds}, gate)["ece"]
                          if len(set(seeds)) > 1 else None),
        "sweep": sweep,
        "failed": failed,
    }


__all__ = ["SWEEP_GATES", "judged_steps", "closed_loop_decisions", "episode_gate",
           "decision_sweep", "closed_loop_report"]
