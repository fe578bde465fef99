"""Evaluation results and the report: per-episode outcomes, summaries, the JSON report.

```python
report = build_report(cfg, outcomes, seconds)   # success rate (Wilson 95 % interval),
path = write_report(report, out)                # mean steps/time, stop reasons, failures
```
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from deskmimic.agent.evaluate import EvalConfig

REPORT_FILE = "report.json"


@dataclass
class EpisodeOutcome:
    """One evaluated episode: the task's verdict and how the agent's run ended."""

    seed: int
    success: bool
    reason: str
    steps: int
    time_s: float
    stop_reason: str
    message: str = ""
    episode: str | None = None
    mean_confidence: float | None = None
    decide_ms: list[float] = field(default_factory=list)
    # Every decision's confidence in order, and how many of them lead up to the last one
    # carried out on the screen: what closed-loop calibration judges (gate_report.py).
    confidences: list[float] = field(default_factory=list)
    acted: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("decide_ms")
        return d


# Decision statuses in replay.jsonl whose action reached the screen (an abort or a pause
# can cut one short, but it has begun); the others ended the run before it acted.
ACTED_STATUSES = ("executed", "aborted", "interrupted")


def read_decisions(episode: Path | str | None) -> tuple[list[float], int]:
    """The decisions of a replay episode: each one's confidence (in order) and the number
    up to and including the last one carried out (0: none). ``([], 0)`` without a log."""
    from deskmimic.agent.runner import REPLAY_LOG

    if episode is None:
        return [], 0
    conf: list[float] = []
    acted = 0
    try:
        lines = (Path(episode) / REPLAY_LOG).read_text(encoding="utf-8").splitlines()
    except OSError:
        return [], 0
    for line in lines:
        try:
            entry = json.loads(line)
            c = entry["action"]["confidence"]
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line, or an agent without confidences
        if c is None:
            continue
        conf.append(round(float(c), 4))
        if entry.get("status") in ACTED_STATUSES:
            acted = len(conf)
    return conf, acted


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a success rate (sound for small n and rates near 0/1)."""
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def summarize(outcomes: Sequence[EpisodeOutcome]) -> dict[str, Any]:
    """Success rate (with its 95 % interval), mean steps and time per episode, stop reasons."""
    n = len(outcomes)
    ok = sum(o.success for o in outcomes)
    ms = [m for o in outcomes for m in o.decide_ms]
    return {
        "episodes": n,
        "successes": ok,
        "success_rate": round(ok / n, 4) if n else 0.0,
        "success_ci95": list(wilson_interval(ok, n)),
        "mean_steps": round(float(np.mean([o.steps for o in outcomes])), 3) if n else 0.0,
        "mean_time_s": round(float(np.mean([o.time_s for o in outcomes])), 3) if n else 0.0,
        "decide_ms_p50": round(float(np.percentile(ms, 50)), 3) if ms else None,
        "decide_ms_p95": round(float(np.percentile(ms, 95)), 3) if ms else None,
        "stop_reasons": dict(Counter(o.stop_reason for o in outcomes)),
        "task_reasons": dict(Counter(o.reason for o in outcomes).most_common(8)),
        "outcomes": dict(Counter(reason_pattern(o.reason) for o in outcomes).most_common(8)),
    }


_NAMES = re.compile(r"'[^']*'|\"[^\"]*\"|\b[A-Z][\w-]*(?: [A-Z][\w-]*)*\b|\d+(?:\.\d+)?")


def reason_pattern(reason: str) -> str:
    """A task's verdict with its names and numbers blanked, so verdicts group:
    "clicked Fern instead of Oak" -> "clicked _ instead of _"."""
    return _NAMES.sub("_", reason)


def build_report(cfg: EvalConfig, outcomes: Sequence[EpisodeOutcome], seconds: float) -> dict:
    """The JSON report of an evaluation."""
    return {
        "task": cfg.task,
        "agent": cfg.label,
        "policy": str(cfg.policy) if cfg.agent == "policy" else None,
        "demo": str(cfg.demo) if cfg.agent == "macro" else None,
        "seeds": list(cfg.seeds),
        "heldout": all(s >= 1_000_000 for s in cfg.seeds),
        **summarize(outcomes),
        "seconds": round(seconds, 1),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": cfg.to_json(),
        "results": [o.to_dict() for o in outcomes],
        "failures_kept": [o.episode for o in outcomes if not o.success and o.episode],
    }


def write_report(report: dict, out: Path) -> Path:
    """Write ``report`` as ``out/report.json`` (user-only, like every recording)."""
    from deskmimic.core.paths import make_private_dir, write_private_bytes

    make_private_dir(out)
    return write_private_bytes(out / REPORT_FILE, (json.dumps(report, indent=2) + "\n").encode())


def keep_or_drop(episode: Path | None, success: bool, keep: str) -> str | None:
    """Apply the keep policy to one replay episode; returns its path if kept."""
    if episode is None or not Path(episode).exists():
        return None
    if keep == "all" or (keep == "failures" and not success):
        return str(episode)
    shutil.rmtree(episode, ignore_errors=True)
    return None


__all__ = ["REPORT_FILE", "ACTED_STATUSES", "EpisodeOutcome", "read_decisions",
           "wilson_interval", "summarize", "reason_pattern", "build_report", "write_report",
           "keep_or_drop"]
