"""Expert demonstrations through the real recorder.

Each demonstration shows a task window, starts the real `Recorder` on the window's
client area, lets the scripted expert act with real X input, stops the recorder
once the task has reported its result, and labels the episode with the task, seed,
instruction, element boxes (at the start, and the one each pointer action aimed at:
``extra["targets"]``), the look it was drawn in (``extra["look"]``) and success. These are real recordings, not synthesized data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.core.paths import make_private_dir, new_episode_id
from deskmimic.recorder.record import Recorder
from deskmimic.tasks.runner import run_task

logger = logging.getLogger(__name__)

DEMO_FPS = 20.0


@dataclass
class Demo:
    path: Path
    task: str
    seed: int
    success: bool
    frames: int
    events: int
    duration_s: float
    result: dict

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "task": self.task, "seed": self.seed,
                "success": self.success, "frames": self.frames, "events": self.events,
                "duration_s": self.duration_s}


def local_boxes(boxes: dict[str, Rect], region: Rect) -> dict[str, list[int]]:
    """Screen-pixel boxes -> [left, top, width, height] in captured-area pixels."""
    return {k: [b.left - region.left, b.top - region.top, b.width, b.height] for k, b in boxes.items()}


def parse_seeds(text: str) -> list[int]:
    """``"0-9"`` / ``"3,5,8"`` / ``"0-4,100-104"`` -> seeds."""
    from deskmimic.core.errors import ConfigError

    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = part.split("-", 1)
                lo, hi = int(a), int(b)
                if hi < lo:
                    raise ValueError("range end before start")
                seeds.extend(range(lo, hi + 1))
            elif part:
                seeds.append(int(part))
    except ValueError as exc:
        raise ConfigError(f"--seeds {text!r}: expected A-B or a comma list of integers ({exc})") from exc
    if not seeds or min(seeds) < 0:
        raise ConfigError(f"--seeds {text!r}: give at least one seed >= 0")
    return seeds


def record_demo(name: str, seed: int, out_dir: Path, *, fps: float = DEMO_FPS, speed: float = 1.0,
                timeout: float = 60.0, looks: str = "default") -> Demo:
    """Record one expert demonstration of task ``name`` with seed ``seed`` into ``out_dir``,
    the window drawn in the look looks mode ``looks`` gives the seed."""
    make_private_dir(out_dir)
    state: dict[str, Any] = {}

    def on_ready(task) -> None:
        region = state["region"] = task.region()
        boxes = local_boxes(task.element_boxes(), region)
        cfg = RecordConfig(out=out_dir / new_episode_id(), region=region, fps=fps, task=name,
                           instruction=task.instruction,
                           extra_meta={"seed": seed, "source": "expert", "boxes": boxes,
                                       "next": task.next_targets(), "look": task.look.to_dict()})
        # Settle a moment so the first frames show the finished layout.
        state["rec"] = Recorder(cfg).start()

    def on_finish(task, result: dict) -> None:
        rec = state.pop("rec", None)
        region = state.get("region")
        # What each pointer action aimed at, in captured-area pixels, in step order.
        targets = [
            {k: ([v[0] - region.left, v[1] - region.top, v[2], v[3]] if k != "kind" else v)
             for k, v in t.items()}
            for t in result.pop("targets", [])
        ] if region is not None else []
        if rec is not None:
            state["summary"] = rec.stop(extra_meta={"success": bool(result.get("success")),
                                                    "result": result, "targets": targets})

    try:
        result = run_task(name, seed, expert=True, timeout=timeout, speed=speed,
                          on_ready=on_ready, on_finish=on_finish, looks=looks)
    finally:
        rec = state.pop("rec", None)
        if rec is not None:  # the host failed before on_finish: still finalize
            state["summary"] = rec.stop(extra_meta={"success": False, "result": {"reason": "host error"}})
    s = state["summary"]
    return Demo(path=s.path, task=name, seed=seed, success=bool(result.get("success")),
                frames=s.frames, events=s.events, duration_s=s.duration_s, result=result)


def record_demos(name: str, seeds: Iterable[int], out_dir: Path, *, fps: float = DEMO_FPS,
                 speed: float = 1.0, timeout: float = 60.0,
                 progress: Callable[[Demo], None] | None = None, looks: str = "default") -> list[Demo]:
    """Record one demonstration per seed; ``progress`` is called after each."""
    demos = []
    for seed in seeds:
        demo = record_demo(name, seed, out_dir, fps=fps, speed=speed, timeout=timeout, looks=looks)
        demos.append(demo)
        if progress is not None:
            progress(demo)
    return demos
