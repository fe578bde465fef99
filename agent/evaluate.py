"""Evaluation: the configuration and the agents that play one episode in a screen region.

Qt-free. The practice-desktop side (showing a task window per seed, judging it by
the task's own result) is `deskmimic.tasks.evaluate`; it calls the agents here from
a worker thread while the Qt event loop runs on the main thread. The random baseline's
policy is `deskmimic.agent.random_policy`; outcomes, summaries and the JSON report are
`deskmimic.agent.eval_report`.

```python
agent = make_agent(EvalConfig(task="click_button", seeds=(1_000_000,), agent="policy",
                              policy=Path("runs/demo")))
outcome = agent.run(region, "Click Save", out=None)   # blocks; agent.stop() from another thread
report = build_report(cfg, outcomes, seconds)          # eval_report: success rate, steps, failures
```

Three agents: ``policy`` (a trained policy run closed-loop by `ReplayRunner`, which
records every episode), ``random`` (`RandomPolicy` through the same runner: random
kinds at random points of the region, typing random words) and ``macro`` (literal
replay of one recorded demonstration with `MacroPlayer`, shifted to the new window).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from deskmimic.agent.actuate import MotionConfig
from deskmimic.agent.guards import GuardConfig
from deskmimic.agent.policy_protocol import PolicyLike
from deskmimic.agent.random_policy import RandomPolicy
from deskmimic.agent.settle import SettleConfig
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect

logger = logging.getLogger(__name__)

AGENTS = ("policy", "random", "macro")
KEEP = ("failures", "all", "none")


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation: an agent on a practice task over a list of layout seeds.

    Attributes:
        task: practice task name.
        seeds: layout seeds (>= 1,000,000 are held out from every training seed).
        agent: ``policy`` (needs ``policy``), ``random`` or ``macro`` (needs ``demo``).
        policy: run or checkpoint folder of a trained policy.
        demo: the recorded demonstration the macro baseline replays.
        max_steps: most decisions per episode.
        episode_timeout_s: deadline per episode.
        min_confidence: the runner stops below this confidence (0 = never).
        keep: replay episodes to keep: ``failures`` (default), ``all`` or ``none``.
        out: folder for the report and kept episodes (must not exist yet).
        move_duration_s: pointer move time per action.
        macro_speed: playback speed of the macro baseline.
        words: vocabulary of the random baseline's typing.
        device: torch device of the policy.
    """

    task: str
    seeds: tuple[int, ...]
    agent: str = "policy"
    policy: Path | None = None
    demo: Path | None = None
    max_steps: int = 10
    episode_timeout_s: float = 60.0
    min_confidence: float = 0.0
    keep: str = "failures"
    out: Path | None = None
    move_duration_s: float = 0.1
    macro_speed: float = 1.0
    words: tuple[str, ...] = ()
    device: str = "cpu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if self.agent not in AGENTS:
            raise ConfigError(f"--baseline/agent {self.agent!r}: expected one of {', '.join(AGENTS)}")
        if not self.seeds or min(self.seeds) < 0:
            raise ConfigError("--seeds: give at least one seed >= 0")
        if self.agent == "policy" and self.policy is None:
            raise ConfigError("--policy: a trained run or checkpoint folder is needed")
        if self.agent == "policy" and not Path(self.policy).exists():
            raise ConfigError(f"--policy {self.policy}: no such run or checkpoint folder")
        if self.agent == "macro":
            if self.demo is None:
                raise ConfigError("--baseline macro needs --demo EPISODE (a recorded demonstration)")
            if not (Path(self.demo) / "meta.json").is_file():
                raise ConfigError(f"--demo {self.demo}: not an episode folder (no meta.json)")
        if self.max_steps < 1:
            raise ConfigError(f"--max-steps {self.max_steps}: must be at least 1")
        if self.episode_timeout_s <= 0:
            raise ConfigError(f"--episode-timeout {self.episode_timeout_s}: must be > 0 seconds")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ConfigError(f"--min-confidence {self.min_confidence}: must be in [0, 1]")
        if self.keep not in KEEP:
            raise ConfigError(f"--keep {self.keep!r}: expected one of {', '.join(KEEP)}")
        if self.out is not None and Path(self.out).exists():
            raise ConfigError(f"--out {self.out}: already exists; choose a new folder")
        if self.move_duration_s < 0 or not 0.05 <= self.macro_speed <= 20:
            raise ConfigError("--move-duration must be >= 0 and --macro-speed in [0.05, 20]")

    @property
    def label(self) -> str:
        """What is evaluated, for tables: 'policy', 'random' or 'macro'."""
        return self.agent

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("policy", "demo", "out"):
            d[k] = str(d[k]) if d[k] is not None else None
        d["seeds"] = list(self.seeds)
        d.pop("words")
        return d


@dataclass
class AgentOutcome:
    """How an agent's run of one episode ended (the task's own verdict comes separately)."""

    stop_reason: str
    message: str
    steps: int
    duration_s: float
    episode: Path | None = None
    mean_confidence: float | None = None
    decide_ms: list[float] = field(default_factory=list)


class EpisodeAgent(Protocol):
    """Plays one episode in a screen region; `stop` may be called from any thread."""

    name: str

    def run(self, region: Rect, instruction: str, out: Path | None, seed: int) -> AgentOutcome: ...

    def stop(self, reason: str = "task_ended", message: str = "the task ended") -> None: ...


class _Timed:
    """Wraps a policy to time each decision (preprocess + network + decode), in ms."""

    def __init__(self, policy: PolicyLike) -> None:
        self.policy = policy
        self.name = getattr(policy, "name", None) or type(policy).__name__
        self.ms: list[float] = []
        self.confidences: list[float] = []

    def reset(self) -> None:
        self.ms.clear()
        self.confidences.clear()
        self.policy.reset()

    def prefetch(self, observation: dict[str, Any]) -> None:
        # The runner offers the screen ahead (`PolicyLike`); the wrapper must not hide it.
        ahead = getattr(self.policy, "prefetch", None)
        if callable(ahead):
            ahead(observation)

    def act(self, observation: dict[str, Any]) -> Any:
        t0 = time.perf_counter()
        action = self.policy.act(observation)
        self.ms.append((time.perf_counter() - t0) * 1000)
        conf = getattr(action, "confidence", None)
        if conf is not None:
            self.confidences.append(float(conf))
        return action


class PolicyAgent:
    """A policy run closed-loop by `ReplayRunner` in the given region (one runner per episode).

    Args:
        make_policy: seed -> policy (a trained policy ignores the seed; the random one uses it).
        name: label in reports.
        max_steps, max_duration_s, min_confidence: the runner's limits.
        motion: pointer speed and typing pace.
        guards: the safety guards (all on by default, as in a live replay).
    """

    def __init__(self, make_policy: Callable[[int], PolicyLike], name: str, *, max_steps: int = 10,
                 max_duration_s: float = 60.0, min_confidence: float = 0.0,
                 motion: MotionConfig | None = None, guards: GuardConfig | None = None,
                 settle: SettleConfig | None = None, record: bool = True) -> None:
        self.make_policy = make_policy
        self.record = record
        self.name = name
        self.max_steps = max_steps
        self.max_duration_s = max_duration_s
        self.min_confidence = min_confidence
        self.motion = motion or MotionConfig(move_duration_s=0.1)
        self.guards = guards or GuardConfig()
        self.settle = settle or SettleConfig(timeout_s=1.5)
        self._lock = threading.Lock()
        self._runner: Any = None
        self._stop: tuple[str, str] | None = None

    def run(self, region: Rect, instruction: str, out: Path | None, seed: int) -> AgentOutcome:
        from deskmimic.agent.runner import ReplayConfig, ReplayRunner

        with self._lock:
            # A stop that came in after the previous episode had ended must not end this one.
            self._stop = None
        policy = _Timed(self.make_policy(seed))
        cfg = ReplayConfig(instruction=instruction, region=region, max_steps=self.max_steps,
                           max_duration_s=self.max_duration_s, min_confidence=self.min_confidence,
                           record=self.record and out is not None, out=out,
                           task=f"eval:{self.name}",
                           guards=self.guards, motion=self.motion, settle=self.settle)
        runner = ReplayRunner(policy, cfg)
        with self._lock:
            self._runner, stop = runner, self._stop
        if stop is not None:  # stopped before the runner existed
            runner.stop(*stop)
        try:
            result = runner.run()
        finally:
            with self._lock:
                self._runner, self._stop = None, None
        conf = policy.confidences
        return AgentOutcome(result.stop_reason, result.message, result.steps, result.duration_s,
                            result.episode or result.out, round(float(np.mean(conf)), 4) if conf else None,
                            [round(m, 3) for m in policy.ms])

    def stop(self, reason: str = "task_ended", message: str = "the task ended") -> None:
        with self._lock:
            self._stop = (reason, message)
            runner = self._runner
        if runner is not None:
            runner.stop(reason, message)


class MacroAgent:
    """Literal replay of one recorded demonstration, shifted onto the new task window.

    The replay is recorded as an episode too (``out``), so a failed macro run can be
    reviewed like any replay.
    """

    def __init__(self, demo: Path, speed: float = 1.0, guards: GuardConfig | None = None,
                 record: bool = True) -> None:
        from deskmimic.recorder.episode import Episode

        self.demo = Path(demo)
        self.episode = Episode.open(self.demo)
        self.speed = speed
        self.guards = guards or GuardConfig()
        self.record = record
        self.name = "macro"
        self._lock = threading.Lock()
        self._player: Any = None
        self._stop: tuple[str, str] | None = None

    def run(self, region: Rect, instruction: str, out: Path | None, seed: int) -> AgentOutcome:
        from deskmimic.agent.macro import MacroConfig, MacroPlayer

        with self._lock:
            self._stop = None  # a late stop of the previous episode must not end this one
        rec = self.episode.region
        # The new window sits elsewhere: shift the recorded input by the move, keep its size.
        cfg = MacroConfig(speed=self.speed, region_offset=(region.left - rec.left, region.top - rec.top),
                          max_gap_s=1.0, guards=self.guards)
        player = MacroPlayer(self.episode, cfg)
        with self._lock:
            self._player, stop = player, self._stop
        if stop is not None:
            player.guards.abort(*stop)
        recorder = (_start_recorder(region, instruction, out, self.name)
                    if self.record and out is not None else None)
        try:
            result = player.run()
        finally:
            with self._lock:
                self._player, self._stop = None, None
            summary = recorder.stop() if recorder is not None else None
        steps = sum(s.status == "replayed" for s in result.steps)
        return AgentOutcome(result.stop_reason, result.message, steps, result.duration_s,
                            summary.path if summary is not None else None)

    def stop(self, reason: str = "task_ended", message: str = "the task ended") -> None:
        with self._lock:
            self._stop = (reason, message)
            player = self._player
        if player is not None:
            player.guards.abort(reason, message)


def _start_recorder(region: Rect, instruction: str, out: Path, name: str):
    from deskmimic.core.config import RecordConfig
    from deskmimic.recorder.record import Recorder

    cfg = RecordConfig(out=out, region=region, fps=10.0, task=f"eval:{name}",
                       instruction=instruction, listen_input=True)
    return Recorder(cfg).start()


def make_agent(cfg: EvalConfig) -> EpisodeAgent:
    """The agent ``cfg`` asks for (loads the trained policy once; needs torch for it)."""
    guards = GuardConfig()
    motion = MotionConfig(move_duration_s=cfg.move_duration_s)
    if cfg.agent == "macro":
        return MacroAgent(Path(cfg.demo), cfg.macro_speed, guards, record=cfg.keep != "none")
    common = dict(max_steps=cfg.max_steps, max_duration_s=cfg.episode_timeout_s,
                  min_confidence=cfg.min_confidence, motion=motion, guards=guards,
                  record=cfg.keep != "none")
    if cfg.agent == "random":
        words = cfg.words
        return PolicyAgent(lambda seed: RandomPolicy(seed, words), "random", **common)
    try:
        from deskmimic.models.policy import load_policy
    except ImportError as exc:
        raise ConfigError(f"--policy {cfg.policy}: evaluating a trained policy needs torch "
                          f"and deskmimic.models ({exc})") from exc
    policy = load_policy(Path(cfg.policy), device=cfg.device)
    return PolicyAgent(lambda _seed: policy, "policy", **common)


__all__ = ["AGENTS", "EvalConfig", "AgentOutcome", "EpisodeAgent", "PolicyAgent", "MacroAgent",
           "make_agent"]
