"""The closed-loop replay agent: capture -> settle -> policy -> guards -> inject -> repeat.

```python
from deskmimic.agent.runner import ReplayConfig, ReplayRunner
runner = ReplayRunner(policy, ReplayConfig(instruction="Click Save", window="Editor"))
result = runner.run()        # blocks; runner.resume() / runner.stop() from other threads
result.stop_reason, result.steps, result.actions, result.episode
```

Every exit path (done, a limit, abort, exception, SIGTERM, Ctrl+C) releases every
key and button the agent holds and whatever the X server still has down, and
finalizes the replay's own recording (an ordinary episode; ``replay.jsonl`` in it
lists each decision with its confidence and what became of it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from deskmimic.agent.abort import install_abort_signals, restore_signals
from deskmimic.agent.actuate import Actuator, MotionConfig
from deskmimic.agent.annotate import annotate, write_png
from deskmimic.agent.guards import GuardConfig, Guards, PausedInterrupt, StopRequested
from deskmimic.agent.policy_protocol import AgentAction, PolicyLike, to_agent_action
from deskmimic.agent.refusals import judge_action, reserved_chords
from deskmimic.agent.region import RegionTracker, WindowLost
from deskmimic.agent.replay_recording import (
    check_replay_hotkeys,
    open_replay_recorder,
    wait_while_recording_paused,
)
from deskmimic.agent.settle import SettleConfig, wait_until_settled
from deskmimic.core.config import DEFAULT_PAUSE_HOTKEY, DEFAULT_SECRET_HOTKEY
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect
from deskmimic.core.paths import data_home, make_private_dir, new_episode_id

logger = logging.getLogger(__name__)

REPLAY_LOG = "replay.jsonl"
ANNOTATED_DIR = "annotated"
Confirm = Callable[[int, AgentAction, np.ndarray], bool]


@dataclass(frozen=True)
class ReplayConfig:
    """What a replay does and how carefully.

    Attributes:
        instruction: the task's instruction text, given to the policy.
        region: screen rectangle to work in; ``None`` with no window = first monitor.
        window: title of the window to work in (re-located before every step).
        follow: with ``window``, pixels around it seen and acted in too (`RecordConfig`).
        max_steps: most policy decisions before stopping.
        max_duration_s: deadline for the whole run, pauses included.
        min_confidence: stop and say why below this confidence.
        dry_run: inject nothing; write an annotated screenshot per decision.
        step: ask the ``confirm`` callback before each action.
        record: record the replay as an episode (frames + events) for review.
        out: folder to create for the replay's episode/output (default: a new id under
            ``episodes_dir``, or under ``$DESKMIMIC_HOME/replays`` without ``record``).
        episodes_dir: parent of new replay episodes.
        fps: frame rate of the replay recording.
        task: task label of the replay episode.
        pause_hotkey, secret_hotkey: the recording's privacy chords, as in `RecordConfig`
            (``None``: off); while its recording is paused the agent waits too.
        guards, motion, settle: safety, motion and settling settings.
    """

    instruction: str = ""
    region: Rect | None = None
    window: str | None = None
    follow: int = 0
    max_steps: int = 30
    max_duration_s: float = 300.0
    min_confidence: float = 0.3
    dry_run: bool = False
    step: bool = False
    record: bool = True
    out: Path | None = None
    episodes_dir: Path | None = None
    fps: float = 10.0
    task: str = "replay"
    pause_hotkey: str | None = DEFAULT_PAUSE_HOTKEY
    secret_hotkey: str | None = DEFAULT_SECRET_HOTKEY
    guards: GuardConfig = field(default_factory=GuardConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    settle: SettleConfig = field(default_factory=SettleConfig)

    def __post_init__(self) -> None:
        if self.region is not None and self.window is not None:
            raise ConfigError("--region and --window are exclusive: give one of them")
        if self.follow < 0 or (self.follow and self.window is None):
            raise ConfigError(f"--follow {self.follow}: a margin >= 0 around --window "
                              "(it needs --window)")
        if self.max_steps < 1:
            raise ConfigError(f"--max-steps {self.max_steps}: must be >= 1")
        if self.max_duration_s <= 0:
            raise ConfigError(f"--max-duration {self.max_duration_s}: must be > 0 seconds")
        if not (0.0 <= self.min_confidence <= 1.0):
            raise ConfigError(f"--min-confidence {self.min_confidence}: must be in [0, 1]")
        if not (0 < self.fps <= 60):
            raise ConfigError(f"--fps {self.fps}: must be in (0, 60]")
        if self.out is not None and self.out.exists():
            raise ConfigError(f"--out {self.out}: already exists; choose a new folder")
        if self.record:
            check_replay_hotkeys(self.guards.abort_hotkey, self.pause_hotkey, self.secret_hotkey)


@dataclass
class ReplayResult:
    """How a replay ended. ``actions``: one dict per decision (see replay.jsonl)."""

    stop_reason: str
    message: str
    steps: int
    duration_s: float
    actions: list[dict]
    out: Path | None = None
    episode: Path | None = None
    annotated: list[Path] = field(default_factory=list)
    pauses: list[dict] = field(default_factory=list)
    input_after_abort_s: float | None = None  # how long input went on after an abort

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("out", "episode"):
            d[k] = str(d[k]) if d[k] is not None else None
        d["annotated"] = [str(p) for p in self.annotated]
        return d


class ReplayRunner:
    """One replay of ``policy``. Call `run` once (from the main thread to catch signals).

    Args:
        policy: any object with ``reset()`` and ``act(observation) -> action``.
        cfg: the settings.
        confirm: step mode's ``confirm(step, action, preview_rgb) -> bool``.
        on_event: progress callback receiving dicts (``{"event": "step", ...}``,
            ``"pause"``, ``"resume"``, ``"abort"`` for the takeover pause and aborts,
            ``"recording_paused"``, ``"recording_resumed"`` while the agent waits on its
            recording's pause hotkey), from any thread.
        injector: an open `Injector` to use (default: opens and closes its own).
    """

    def __init__(self, policy: PolicyLike, cfg: ReplayConfig | None = None, *,
                 confirm: Confirm | None = None,
                 on_event: Callable[[dict], None] | None = None, injector: Any = None) -> None:
        self.policy = policy
        self.cfg = cfg or ReplayConfig()
        ahead = getattr(policy, "prefetch", None)  # optional: `PolicyLike`
        self._read_ahead = None if not callable(ahead) else (
            lambda image: ahead({"image": image, "instruction": self.cfg.instruction}))
        if self.cfg.step and confirm is None:
            raise ConfigError("step mode needs a confirm callback that asks before each action")
        gcfg = self.cfg.guards
        if self.cfg.dry_run:  # nothing to take over from; the abort controls stay
            gcfg = replace(gcfg, pause_on_user_input=False)
        self.guards = Guards(gcfg)
        # With or without this replay's recording: a `deskmimic record` of the person's own
        # may be running, with the same default chords.
        self._reserved = reserved_chords(gcfg.abort_hotkey, self.cfg.pause_hotkey,
                                         self.cfg.secret_hotkey)
        self._confirm = confirm
        self._on_event = on_event or (lambda e: None)
        self.injector = injector
        self._own_injector = injector is None
        self._log = None
        self._recorder = None
        self._ran = False
        self.out: Path | None = None
        self.guards.subscribe(lambda state, reason: self._on_event({"event": state, "reason": reason}))

    def resume(self) -> bool:
        """Resume after a pause (the person hands control back)."""
        return self.guards.resume("resume_call")

    def stop(self, reason: str = "stop_api", message: str = "stopped on request") -> None:
        """Stop the run from another thread (thread-safe)."""
        self.guards.abort(reason, message)

    # ---- the run ----------------------------------------------------------------------
    def run(self) -> ReplayResult:
        """Run until done, a limit, an abort or an error; always cleans up."""
        if self._ran:
            raise ConfigError("a ReplayRunner runs once; make a new one")
        self._ran = True
        from deskmimic.agent.input_state import release_stuck_input
        from deskmimic.recorder.capture import open_capture

        cfg = self.cfg
        t0 = time.monotonic()
        self.actions: list[dict] = []
        self.annotated: list[Path] = []
        stop = ["error", "an exception ended the run"]
        recorder = capture = tracker = None
        prev_signals: dict[int, Any] = {}
        actuator: Actuator | None = None
        try:
            if not cfg.dry_run:
                release_stuck_input()
            capture = open_capture(draw_cursor=True)
            tracker = RegionTracker.resolve(capture, cfg.region, cfg.window, cfg.follow)
            recorder, out = self._open_output(tracker.region)
            self.guards.start()
            if not cfg.dry_run:
                if self.injector is None:
                    from deskmimic.agent.inject import open_injector

                    self.injector = open_injector()
                self.guards.on_abort(lambda _r: self._release())
                actuator = Actuator(self.injector, self.guards, cfg.motion)
            prev_signals = install_abort_signals(
                self.guards, self.injector if self._own_injector else None)
            self.policy.reset()
            stop = list(self._loop(capture, tracker, actuator, out, t0))
        except StopRequested as exc:
            stop = [exc.reason, str(exc)]
        except BaseException as exc:
            stop = ["error", f"{type(exc).__name__}: {exc}"]
            raise
        finally:
            self._cleanup(actuator, prev_signals)
            if not cfg.dry_run:
                with _logged("releasing stuck input after the run"):
                    release_stuck_input()
            if self.guards.aborted and stop[0] not in ("error",):
                stop = [self.guards.abort_reason or stop[0], self.guards.abort_message]
            result = ReplayResult(
                stop_reason=stop[0], message=stop[1], steps=len(self.actions),
                duration_s=round(time.monotonic() - t0, 3), actions=self.actions,
                annotated=self.annotated, pauses=self._pauses(t0),
                input_after_abort_s=self._input_after_abort(actuator))
            self._finish_output(recorder, result, tracker)
            if capture is not None:
                capture.close()
        logger.info("replay ended: %s (%s) after %d steps", result.stop_reason, result.message,
                    result.steps)
        return result

    def _loop(self, capture, tracker: RegionTracker, actuator: Actuator | None, out: Path,
              t0: float) -> tuple[str, str]:
        cfg, g = self.cfg, self.guards
        deadline = t0 + cfg.max_duration_s
        while True:
            if g.aborted:
                return g.abort_reason or "abort", g.abort_message
            if time.monotonic() >= deadline:
                return "deadline", f"--max-duration {cfg.max_duration_s:g} s reached"
            if g.paused:
                if not g.wait_resumed(timeout=max(0.0, deadline - time.monotonic())):
                    continue  # aborted or past the deadline: the checks above say which
            if wait_while_recording_paused(self._recorder, g, deadline, self._on_event):
                continue  # the person may have taken over meanwhile: check everything again
            if len(self.actions) >= cfg.max_steps:
                return "max_steps", f"--max-steps {cfg.max_steps} reached without 'done'"
            try:
                region = tracker.update()
            except WindowLost as exc:
                return "window_lost", str(exc)
            settled = wait_until_settled(capture, region, cfg.settle, stop=g.interrupt_event,
                                         on_calm=self._read_ahead)
            if g.aborted or g.paused or self._recording_paused():
                continue  # a screen seen while the recording is paused is never used
            n = len(self.actions)
            raw = self.policy.act({"image": settled.image, "instruction": cfg.instruction})
            action = to_agent_action(raw)
            entry = {"step": n, "t_s": round(time.monotonic() - t0, 3), "region": region.to_dict(),
                     "settled": settled.settled, "settle_s": round(settled.waited_s, 3),
                     "action": action.to_dict(), "status": "", "message": ""}
            self.actions.append(entry)
            verdict = judge_action(action, region, cfg.min_confidence, cfg.guards.failsafe_px,
                                   self._reserved)
            if verdict is not None:
                entry["status"], entry["message"] = verdict
                self._emit_step(entry, out)
                return verdict
            if cfg.dry_run or cfg.step:
                # people count steps from 1 (the log and the overlay say the same number)
                preview = annotate(settled.image, action, f"step {n + 1}")
                if cfg.dry_run:
                    path = write_png(out / ANNOTATED_DIR / f"step_{n:03d}.png", preview)
                    self.annotated.append(path)
                    entry["status"], entry["annotated"] = "dry_run", path.name
                    self._emit_step(entry, out)
                    continue
                if not self._confirm(n, action, preview):
                    entry["status"] = "declined"
                    self._emit_step(entry, out)
                    return "declined", f"step {n + 1} ({action.describe()}) declined"
                if g.paused:  # the person moved to confirm: they hand control back
                    g.resume("confirmed")
            try:
                actuator.perform(action, region)
                entry["status"] = "executed"
            except PausedInterrupt as exc:
                self._release()
                entry["status"], entry["message"] = "interrupted", exc.reason
            except StopRequested as exc:
                entry["status"], entry["message"] = "aborted", str(exc)
                self._emit_step(entry, out)
                raise
            self._emit_step(entry, out)

    # ---- output ---------------------------------------------------------------------------
    def _open_output(self, region: Rect):
        cfg = self.cfg
        if cfg.record:
            rec = self._recorder = open_replay_recorder(cfg, region, _describe(self.policy))
            out = rec.path
        else:
            rec = None
            out = make_private_dir(cfg.out or data_home() / "replays" / new_episode_id())
        fd = os.open(out / REPLAY_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._log = os.fdopen(fd, "a", encoding="utf-8")
        self.out = out
        return rec, out

    def _recording_paused(self) -> bool:
        return self._recorder is not None and self._recorder.paused

    def _emit_step(self, entry: dict, out: Path) -> None:
        if self._log is not None:
            self._log.write(json.dumps(entry) + "\n")
            self._log.flush()
        self._on_event({"event": "step", **entry})

    def _finish_output(self, recorder, result: ReplayResult, tracker: RegionTracker | None) -> None:
        if self._log is not None:
            with _logged("closing replay.jsonl"):
                self._log.close()
        result.out = self.out
        if recorder is not None:
            summary = {k: v for k, v in result.to_dict().items() if k not in ("actions", "annotated")}
            summary["region_moves"] = tracker.moves if tracker else []
            summary["instruction"] = self.cfg.instruction
            summary["dry_run"] = self.cfg.dry_run
            summary["policy"] = _describe(self.policy)
            with _logged("finalizing the replay recording"):
                recorder.stop(extra_meta={"replay": summary, "agent_actions": result.actions})
                result.episode = recorder.path

    # ---- cleanup ------------------------------------------------------------------------
    def _release(self) -> None:
        inj = self.injector
        if inj is not None and not inj.closed:
            with _logged("releasing held input"):
                inj.release_all()

    def _cleanup(self, actuator: Actuator | None, prev_signals: dict[int, Any]) -> None:
        self._release()
        if self._own_injector and self.injector is not None:
            with _logged("closing the injector"):
                self.injector.close()
        self.guards.stop()
        restore_signals(prev_signals)

    def _pauses(self, t0: float) -> list[dict]:
        return [{"reason": p["reason"], "paused_at_s": round(p["paused_at"] - t0, 3),
                 "resumed_at_s": None if p["resumed_at"] is None else round(p["resumed_at"] - t0, 3),
                 "resumed_by": p["resumed_by"]} for p in self.guards.pauses]

    def _input_after_abort(self, actuator: Actuator | None) -> float | None:
        g = self.guards
        if g.abort_at is None or actuator is None:
            return None
        last = actuator.last_input_at
        return 0.0 if last is None else round(max(0.0, last - g.abort_at), 4)


def run_replay(policy: PolicyLike, cfg: ReplayConfig | None = None, **kwargs: Any) -> ReplayResult:
    """Convenience: ``ReplayRunner(policy, cfg, **kwargs).run()``."""
    return ReplayRunner(policy, cfg, **kwargs).run()


def _describe(policy: object) -> str:
    return getattr(policy, "name", None) or type(policy).__name__


@contextlib.contextmanager
def _logged(what: str):
    """Cleanup steps must all run: log a failure instead of skipping the rest."""
    try:
        yield
    except Exception:
        logger.exception("%s failed", what)


__all__ = ["ReplayConfig", "ReplayResult", "ReplayRunner", "run_replay"]
