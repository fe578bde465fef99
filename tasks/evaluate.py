"""Evaluation on the practice desktop: one task window per seed, an agent acting on it.

```python
from deskmimic.agent.evaluate import EvalConfig
from deskmimic.tasks.evaluate import evaluate
for event in evaluate(EvalConfig(task="click_button", seeds=range(1_000_000, 1_000_020),
                                 agent="policy", policy=Path("runs/demo"), out=Path("eval"))):
    ...   # {"event": "start"|"episode"|"done", ...}; "done" carries the report
```

Runs on the thread that owns the `QApplication` (the main thread): it shows the task
window and keeps the Qt event loop spinning, while the agent (`deskmimic.agent.evaluate`)
captures, decides and injects real input from a worker thread. The task's own result
is the verdict; once the task has ended the agent is stopped, and an agent that stops
first (done, step limit, low confidence) leaves the task failed.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from deskmimic.agent.eval_report import (
    EpisodeOutcome,
    build_report,
    keep_or_drop,
    read_decisions,
    write_report,
)
from deskmimic.agent.evaluate import AgentOutcome, EpisodeAgent, EvalConfig, make_agent
from deskmimic.core.errors import DeskmimicError, TaskError
from deskmimic.core.paths import data_home, make_private_dir
from deskmimic.tasks.runner import close_task, ensure_app, make_task, show_task, spin, spin_until
from deskmimic.tasks.vocab import Vocab

logger = logging.getLogger(__name__)

STOP_WAIT_S = 10.0  # an agent stops within ~100 ms; this only bounds a wedged one


def training_words() -> tuple[str, ...]:
    """Words the random baseline types: the training part of the task vocabularies."""
    vocab = Vocab(random.Random(0), heldout=False)
    return vocab.pool("text") + vocab.pool("labels") + vocab.pool("fields")


def _park_pointer(task: Any) -> None:
    """Put the pointer on the instruction banner's right end before the agent starts:
    every episode then starts from the same kind of screen (no control hovered)."""
    from deskmimic.agent.inject import open_injector

    region = task.region()
    inj = open_injector()
    try:
        inj.move(region.left + region.width - 12, region.top + 12)
    finally:
        inj.close()


def run_task_episode(name: str, seed: int, agent: EpisodeAgent, *, out: Path | None = None,
                     timeout: float = 60.0, interrupted: threading.Event | None = None,
                     linger: float = 0.1, looks: str = "default") -> EpisodeOutcome:
    """Show task ``name`` with ``seed``, let ``agent`` act on its window, return the verdict.

    Args:
        name, seed: the task and its layout seed.
        agent: plays the episode from a worker thread (`EpisodeAgent`).
        out: folder for the replay episode (``None``: not recorded).
        timeout: seconds before the task ends as a failure.
        interrupted: set from a signal handler to stop at once.
        linger: seconds the finished window stays up.
        looks: looks mode the window is drawn in (`deskmimic.tasks.looks`).
    """
    ensure_app()
    task = make_task(name, seed, looks)
    box: dict[str, Any] = {}
    worker: threading.Thread | None = None
    t0 = time.monotonic()
    try:
        show_task(task)
        _park_pointer(task)
        spin(0.05)
        region, instruction = task.region(), task.instruction

        def play() -> None:
            try:
                box["outcome"] = agent.run(region, instruction, out, seed)
            except BaseException as exc:  # handed to the GUI thread below
                box["error"] = exc

        worker = threading.Thread(target=play, name="deskmimic-eval-agent", daemon=True)
        worker.start()
        deadline = t0 + timeout

        def over() -> bool:
            return (task.is_done() or not worker.is_alive()
                    or (interrupted is not None and interrupted.is_set()))

        spin_until(over, max(0.0, deadline - time.monotonic()), poll=0.01)
        if worker.is_alive():
            if task.is_done():
                agent.stop("task_ended", "the task reported its result")
            elif interrupted is not None and interrupted.is_set():
                agent.stop("interrupted", "evaluation interrupted")
            else:
                agent.stop("timeout", f"episode timeout after {timeout:g} s")
            if not spin_until(lambda: not worker.is_alive(), STOP_WAIT_S, poll=0.01):
                raise TaskError(f"the agent did not stop within {STOP_WAIT_S:g} s of being asked")
        error = box.get("error")
        if error is not None and not isinstance(error, DeskmimicError):
            raise error  # a bug: stop the evaluation
        if error is not None:
            # A failure of the agent's own (a grab, an injection, a bad action) fails
            # this episode, not the whole evaluation.
            logger.warning("task %s seed %d: the agent failed: %s", name, seed, error)
            outcome: AgentOutcome = AgentOutcome("error", f"{type(error).__name__}: {error}", 0,
                                                 round(time.monotonic() - t0, 3))
        else:
            outcome = box["outcome"]
        spin(0.05)  # the last click's effect reaches the task
        if not task.is_done():
            task.abort(f"agent stopped ({outcome.stop_reason}): {outcome.message}")
        spin(linger)
        result = task.result() or {}
        confidences, acted = read_decisions(outcome.episode)
        return EpisodeOutcome(
            seed=seed, success=bool(result.get("success")), reason=str(result.get("reason", "")),
            steps=outcome.steps, time_s=round(time.monotonic() - t0, 3),
            stop_reason=outcome.stop_reason, message=outcome.message,
            episode=str(outcome.episode) if outcome.episode else None,
            mean_confidence=outcome.mean_confidence, decide_ms=outcome.decide_ms,
            confidences=confidences, acted=acted)
    finally:
        if worker is not None and worker.is_alive():
            agent.stop("error", "the evaluation host failed")
            spin_until(lambda: not worker.is_alive(), STOP_WAIT_S, poll=0.01)
        close_task(task)


class _Interrupts:
    """SIGINT/SIGTERM set an event (the agent runs off the main thread, so its own
    signal guards are not installed); the loop then stops the agent and raises."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        self._prev: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._prev[s] = signal.signal(s, self._on)
        return self

    def _on(self, signum: int, _frame: object) -> None:
        self.signum = signum
        self.event.set()

    def __exit__(self, *exc: object) -> None:
        for s, h in self._prev.items():
            signal.signal(s, h)


def evaluate(cfg: EvalConfig, agent: EpisodeAgent | None = None,
             looks: str = "default") -> Iterator[dict]:
    """Evaluate ``cfg`` episode by episode; yields progress events, writes ``report.json``.

    Events: ``{"event": "start", "task", "agent", "episodes", "out"}``, one
    ``{"event": "episode", "index", **outcome}`` per seed, and
    ``{"event": "done", "report", "report_path"}``.

    Raises:
        KeyboardInterrupt: on SIGINT/SIGTERM (after stopping the agent and writing the
            report of the episodes done so far).
        TaskError, ConfigError: unknown task, bad policy, a wedged agent.
    """
    ensure_app()
    make_task(cfg.task, cfg.seeds[0]).deleteLater()  # fail early on an unknown task
    if cfg.agent == "random" and not cfg.words:
        cfg = replace(cfg, words=training_words())
    agent = agent or make_agent(cfg)
    out = Path(cfg.out) if cfg.out is not None else (
        data_home() / "evals" / f"{time.strftime('%Y%m%dT%H%M%S')}-{cfg.task}-{cfg.agent}")
    episodes_dir = out / "episodes"
    t0 = time.monotonic()
    outcomes: list[EpisodeOutcome] = []
    yield {"event": "start", "task": cfg.task, "agent": cfg.label, "episodes": len(cfg.seeds),
           "out": str(out)}
    with _Interrupts() as stop:
        for i, seed in enumerate(cfg.seeds):
            # Every run writes there (replay.jsonl at least); the keep policy prunes it.
            make_private_dir(episodes_dir)
            ep_out = episodes_dir / f"{cfg.task}-{seed}-{cfg.agent}"
            o = run_task_episode(cfg.task, seed, agent, out=ep_out, timeout=cfg.episode_timeout_s,
                                 interrupted=stop.event, looks=looks)
            o.episode = keep_or_drop(Path(o.episode) if o.episode else None, o.success, cfg.keep)
            if stop.event.is_set():
                break
            outcomes.append(o)
            yield {"event": "episode", "index": i, **o.to_dict()}
    if episodes_dir.is_dir() and not any(episodes_dir.iterdir()):
        episodes_dir.rmdir()
    report = build_report(cfg, outcomes, time.monotonic() - t0)
    report["looks"] = looks
    if stop.event.is_set():
        report["interrupted"] = True
    path = write_report(report, out)
    if stop.event.is_set():
        raise KeyboardInterrupt(f"evaluation interrupted; partial report in {path}")
    yield {"event": "done", "report": report, "report_path": str(path)}


def run_evaluation(cfg: EvalConfig, agent: EpisodeAgent | None = None) -> dict:
    """Run `evaluate` to the end; returns the report."""
    report: dict = {}
    for event in evaluate(cfg, agent):
        if event["event"] == "done":
            report = event["report"]
    return report
