"""Literal macro replay: an episode's recorded input played back with its timing.

This is the baseline the learned policy has to beat. It replays every move, button,
wheel and key event at its recorded time (divided by ``speed``), in the episode's
region (shifted by an offset, or following the recorded window by title). At each
*step* — a button press, the start of a key group, the start of a wheel burst — it
compares the live screen with the recorded frame at that moment and reports whether
they matched; with ``wait_match`` it first waits (up to ``match_timeout_s``) for the
screen to match. The same safety guards as the agent's apply (abort hotkey,
failsafe corner, pause when the person takes over: after a pause the macro
continues at the next step).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deskmimic.agent.abort import install_abort_signals, restore_signals
from deskmimic.agent.guards import GuardConfig, Guards, PausedInterrupt, StopRequested
from deskmimic.agent.region import RegionTracker, WindowLost
from deskmimic.agent.settle import frame_diff, grab_rgb
from deskmimic.core.errors import ConfigError, InputError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.episode import Episode

logger = logging.getLogger(__name__)

INPUT_TYPES = frozenset({"move", "button_down", "button_up", "scroll", "key_down", "key_up"})
_BUTTONS = frozenset({"left", "right", "middle", "x1", "x2"})


@dataclass(frozen=True)
class MacroConfig:
    """How to replay an episode literally.

    Attributes:
        speed: playback speed factor (2.0 = twice as fast).
        wait_match: before each step, wait until the live screen matches the recording.
        match_threshold: mean absolute gray-level difference (0..255, compared
            downscaled) at or below which the screens match.
        match_timeout_s: longest wait for a match; then the step counts as diverged.
        stop_on_diverge: stop at the first diverged step instead of playing on.
        region_offset: shift (dx, dy) in screen pixels from the recorded region;
            ``None`` follows the recorded window by title when there was one.
        max_gap_s: shorten pauses between events longer than this (s); ``None`` keeps them.
        dry_run: inject nothing; only list the steps.
        guards: abort hotkey, failsafe corner, pause on the person's input.
    """

    speed: float = 1.0
    wait_match: bool = False
    match_threshold: float = 6.0
    match_timeout_s: float = 3.0
    stop_on_diverge: bool = False
    region_offset: tuple[int, int] | None = None
    max_gap_s: float | None = None
    dry_run: bool = False
    guards: GuardConfig = field(default_factory=GuardConfig)

    def __post_init__(self) -> None:
        if not (0.05 <= self.speed <= 20):
            raise ConfigError(f"--speed {self.speed}: must be in [0.05, 20]")
        if self.match_threshold < 0:
            raise ConfigError(f"--match-threshold {self.match_threshold}: must be >= 0")
        if self.match_timeout_s < 0:
            raise ConfigError(f"--match-timeout {self.match_timeout_s}: must be >= 0")
        if self.max_gap_s is not None and self.max_gap_s <= 0:
            raise ConfigError(f"--max-gap {self.max_gap_s}: must be > 0")


@dataclass
class MacroStep:
    """One step of the replay and how the live screen compared with the recording."""

    index: int
    event: int  # index into the episode's input events
    t_s: float  # recorded time since the first input event
    kind: str  # "click left", "key ctrl", "scroll"
    x: int | None
    y: int | None
    frame: int  # recorded frame compared against
    diff: float | None = None
    matched: bool | None = None
    waited_s: float = 0.0
    status: str = "pending"  # replayed | skipped | refused | pending


@dataclass
class MacroResult:
    stop_reason: str  # finished | diverged | refused | abort_hotkey | failsafe_corner | ...
    message: str
    steps: list[MacroStep]
    events_replayed: int
    events_skipped: int
    duration_s: float
    region: Rect
    first_divergence: int | None = None
    pauses: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["region"] = self.region.to_dict()
        return d


def input_events(ep: Episode) -> list[dict]:
    """The episode's input events (markers dropped), in recorded order."""
    return [e for e in ep.read_events() if e.get("type") in INPUT_TYPES]


def plan_steps(ep: Episode, events: list[dict]) -> list[MacroStep]:
    """Steps: each button press, the first key down of a key group, each wheel burst."""
    steps: list[MacroStep] = []
    t0 = events[0]["t"] if events else 0
    keys_down: set = set()
    prev_type = None
    for i, e in enumerate(events):
        kind = None
        if e["type"] == "button_down":
            kind = f"click {e.get('button')}"
        elif e["type"] == "key_down":
            if not keys_down:
                kind = f"key {e.get('key')}"
            keys_down.add(e.get("keycode") or e.get("key"))
        elif e["type"] == "key_up":
            keys_down.discard(e.get("keycode") or e.get("key"))
        elif e["type"] == "scroll" and prev_type != "scroll":
            kind = "scroll"
        prev_type = e["type"]
        if kind:
            steps.append(MacroStep(len(steps), i, round((e["t"] - t0) / 1e9, 3), kind,
                                   e.get("x"), e.get("y"), ep.frame_index_at(e["t"])))
    return steps


class MacroPlayer:
    """Replays one episode. ``on_step(step)`` is called after each step is compared."""

    def __init__(self, episode: Path | str | Episode, cfg: MacroConfig | None = None, *,
                 on_step: Callable[[MacroStep], None] | None = None, injector=None) -> None:
        self.ep = episode if isinstance(episode, Episode) else Episode.open(episode)
        self.cfg = cfg or MacroConfig()
        self.events = input_events(self.ep)
        self.steps = plan_steps(self.ep, self.events)
        self.guards = Guards(self.cfg.guards)
        self._on_step = on_step or (lambda s: None)
        self.injector = injector
        self._own_injector = injector is None
        self._held_keys: dict = {}  # recorded keycode -> key name pressed

    def _tracker(self, capture) -> RegionTracker:
        region = self.ep.region
        screen = capture.monitors()[0]
        if self.cfg.region_offset is not None:
            dx, dy = self.cfg.region_offset
            return RegionTracker(Rect(region.left + dx, region.top + dy, region.width,
                                      region.height), screen=screen)
        window = (self.ep.meta.get("geometry") or {}).get("window") or {}
        return RegionTracker.for_recording(region, window, screen)

    def run(self) -> MacroResult:
        """Replay (or, in a dry run, plan) the episode; always releases what it pressed."""
        from deskmimic.agent.input_state import release_stuck_input
        from deskmimic.recorder.capture import open_capture

        t_start = time.monotonic()
        if not self.events:
            raise ConfigError(f"{self.ep.path}: the episode has no input events to replay")
        capture = open_capture(draw_cursor=True)
        replayed = skipped = 0
        reason, message = "finished", "all events replayed"
        region = self.ep.region
        prev_signals: dict = {}
        try:
            tracker = self._tracker(capture)
            region = tracker.update()
            if self.cfg.dry_run:
                for s in self.steps:
                    s.status = "planned"
                    self._on_step(s)
                return self._result("dry_run", "nothing injected (dry run)", 0, 0, region, t_start)
            release_stuck_input()
            self.guards.start()
            if self.injector is None:
                from deskmimic.agent.inject import open_injector

                self.injector = open_injector()
            self.guards.on_abort(lambda _r: self._release())
            prev_signals = install_abort_signals(self.guards,
                                                 self.injector if self._own_injector else None)
            step_at = {s.event: s for s in self.steps}
            t0_ev = self.events[0]["t"]
            clock = time.monotonic()  # when event 0 is due
            prev_t = t0_ev
            i = 0
            while i < len(self.events):
                e = self.events[i]
                gap = (e["t"] - prev_t) / 1e9
                if self.cfg.max_gap_s is not None and gap > self.cfg.max_gap_s:
                    clock -= (gap - self.cfg.max_gap_s) / self.cfg.speed
                prev_t = e["t"]
                due = clock + (e["t"] - t0_ev) / 1e9 / self.cfg.speed
                try:
                    self.guards.sleep(due - time.monotonic())
                    step = step_at.get(i)
                    if step is not None:
                        region = tracker.update()
                        waited = self._compare(capture, region, step)
                        clock += waited
                        if step.matched is False and self.cfg.stop_on_diverge:
                            reason, message = "diverged", f"the screen diverged at step {step.index}"
                            break
                        refusal = self._refuse(e, region)
                        if refusal:
                            step.status = "refused"
                            reason, message = "refused", refusal
                            break
                        step.status = "replayed"
                    if self._inject(e, region):
                        replayed += 1
                    else:
                        skipped += 1
                    i += 1
                except PausedInterrupt:
                    self._release()
                    if not self.guards.wait_resumed():
                        break
                    # continue at the next step, as if it were due now
                    nxt = next((s for s in self.steps if s.event > i), None)
                    if nxt is None:
                        break
                    skipped += nxt.event - i
                    i = nxt.event
                    prev_t = self.events[i]["t"]
                    clock = time.monotonic() - (prev_t - t0_ev) / 1e9 / self.cfg.speed
        except StopRequested as exc:
            reason, message = exc.reason, str(exc)
        except WindowLost as exc:
            reason, message = "window_lost", str(exc)
        finally:
            self._release()
            if self._own_injector and self.injector is not None:
                self.injector.close()
            self.guards.stop()
            restore_signals(prev_signals)
            if not self.cfg.dry_run:
                release_stuck_input()
            capture.close()
        if self.guards.aborted:
            reason, message = self.guards.abort_reason or reason, self.guards.abort_message
        return self._result(reason, message, replayed, skipped, region, t_start)

    def _result(self, reason: str, message: str, replayed: int, skipped: int, region: Rect,
                t_start: float) -> MacroResult:
        first = next((s.index for s in self.steps if s.matched is False), None)
        pauses = [{k: p[k] for k in ("reason", "resumed_by")} for p in self.guards.pauses]
        return MacroResult(reason, message, self.steps, replayed, skipped,
                           round(time.monotonic() - t_start, 3), region, first, pauses)

    def _compare(self, capture, region: Rect, step: MacroStep) -> float:
        """Diff the live screen with the recorded frame; with wait_match, wait for a match.
        Returns the time waited (s)."""
        recorded = self.ep.frame(step.frame)
        # A shifted region can hang past the screen's edge (a grab there is an X error):
        # compare only the visible part, with the same part of the recording.
        visible = region.intersect(capture.monitors()[0]) or region
        ox, oy = visible.left - region.left, visible.top - region.top
        recorded = recorded[oy:oy + visible.height, ox:ox + visible.width]
        t0 = time.monotonic()
        deadline = t0 + (self.cfg.match_timeout_s if self.cfg.wait_match else 0.0)
        while True:
            diff = frame_diff(recorded, grab_rgb(capture, visible))
            if diff <= self.cfg.match_threshold or time.monotonic() >= deadline:
                break
            self.guards.sleep(0.05)
        step.diff = round(diff, 2)
        step.matched = diff <= self.cfg.match_threshold
        step.waited_s = round(time.monotonic() - t0, 3)
        if not step.matched:
            logger.warning("step %d (%s): screen diverged from the recording (diff %.1f > %.1f)",
                           step.index, step.kind, diff, self.cfg.match_threshold)
        self._on_step(step)
        return step.waited_s

    def _refuse(self, e: dict, region: Rect) -> str | None:
        if e["type"] in ("button_down", "scroll"):
            x, y = e.get("x"), e.get("y")
            if x is None or not (0 <= x < region.width and 0 <= y < region.height):
                return (f"refused: the recorded {e['type']} at ({x}, {y}) lies outside the "
                        f"{region.width}x{region.height} region (confinement)")
        return None

    def _move(self, e: dict, region: Rect) -> None:
        # Moves outside the region are clamped to its edge: replay never wanders off it.
        x = min(max(int(e["x"]), 0), region.width - 1)
        y = min(max(int(e["y"]), 0), region.height - 1)
        sx, sy = region.left + x, region.top + y
        self.guards.note_pointer(self.injector.position())
        self.guards.check()
        self.guards.expect_pointer(sx, sy)
        self.injector.move(sx, sy)

    def _inject(self, e: dict, region: Rect) -> bool:
        """Inject one recorded event; False when it cannot be (logged, skipped)."""
        inj, kind = self.injector, e["type"]
        self.guards.check()
        if kind == "move":
            self._move(e, region)
        elif kind in ("button_down", "button_up"):
            if e.get("button") not in _BUTTONS:
                logger.warning("skipping %s of unknown button %r", kind, e.get("button"))
                return False
            if e.get("x") is not None:
                self._move(e, region)
            (inj.button_down if kind == "button_down" else inj.button_up)(e["button"])
        elif kind == "scroll":
            self._move(e, region)
            inj.scroll(dy=int(e.get("dy") or 0), dx=int(e.get("dx") or 0))
        else:
            return self._key(e)
        return True

    def _key(self, e: dict) -> bool:
        ident = e.get("keycode") or e.get("key")
        name = e.get("key")
        if e["type"] == "key_up":
            name = self._held_keys.pop(ident, name)  # release what was pressed ('H' not 'h')
        try:
            with self.guards.injecting_keys([name]):
                if e["type"] == "key_down":
                    self.injector.key_down(name)
                    self._held_keys[ident] = name
                else:
                    self.injector.key_up(name)
        except InputError as exc:
            logger.warning("skipping %s %r: %s", e["type"], name, exc)
            return False
        return True

    def _release(self) -> None:
        self._held_keys.clear()
        if self.injector is not None and not self.injector.closed:
            try:
                self.injector.release_all()
            except Exception:
                logger.exception("releasing held input failed")
