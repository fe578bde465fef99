"""Fixtures for the GUI tests: a small real episode (recorded once per session from a
Qt window driven by xdotool), per-test copies of it, and a UI-thread watchdog."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtTest import QTest

from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.recorder.record import Recorder
from tests.fixtures.reaction_window import ReactionWindow

SAMPLE_ID = "20260101T120000000Z-a1b2"


def spin(ms: int) -> None:
    """Run the Qt event loop for ``ms``. (QTest.qWait keeps the GIL while it waits,
    which starves the recorder's threads; a QEventLoop releases it.)"""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def xdotool(*args: str) -> None:
    """Real X input (XTEST); the Qt loop keeps running while it works."""
    proc = subprocess.Popen(["xdotool", *args])
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        spin(10)
    assert proc.returncode == 0, f"xdotool {args} failed"


@pytest.fixture(scope="session")
def recorded_sample(qapp, tmp_path_factory) -> Path:
    """One ~1.5 s episode of a window being clicked and typed into (240x180 px, 15 fps)."""
    out = tmp_path_factory.mktemp("sample") / SAMPLE_ID
    w = ReactionWindow("deskmimic gui sample")
    w.move(820, 420)
    w.show()
    QTest.qWaitForWindowExposed(w)
    spin(200)
    tl = w.mapToGlobal(w.rect().topLeft())
    region = Rect(tl.x(), tl.y(), 240, 180)
    rec = Recorder(RecordConfig(out=out, region=region, fps=15, task="press_go",
                                instruction="Press Go")).start()
    try:
        btn = w.button.mapToGlobal(w.button.rect().center())
        for x, y in ((tl.x() + 20, tl.y() + 20), (tl.x() + 60, tl.y() + 40), (btn.x(), btn.y())):
            xdotool("mousemove", str(x), str(y))
            spin(60)
        spin(250)
        xdotool("mousedown", "1")
        xdotool("mouseup", "1")
        spin(300)
        xdotool("mousemove", str(tl.x() + 120), str(tl.y() + 150))
        spin(400)
    finally:
        rec.stop()
        w.close()
    return out


@pytest.fixture
def episodes_dir(tmp_home, recorded_sample) -> Path:
    """An episodes folder holding a fresh copy of the sample episode."""
    root = tmp_home / "data" / "episodes"
    root.mkdir(parents=True)
    shutil.copytree(recorded_sample, root / SAMPLE_ID)
    return root


def _schedstat(path: str) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one) of one thread."""
    try:
        with open(path) as f:
            run, wait = f.read().split()[:2]
        return int(run), int(wait)
    except (OSError, ValueError):
        return 0, 0


def _steal_ms() -> list[float]:
    """Per CPU: time the host ran something else on it (/proc/stat's steal column). This
    machine is a VM whose host takes a vCPU away for ~100 ms at a time under load; the
    guest sees no thread of its own waiting then, just time going by."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    try:
        with open("/proc/stat") as f:
            return [int(line.split()[8]) * tick_ms for line in f
                    if line.startswith("cpu") and line[3] != " "]
    except (OSError, IndexError, ValueError):
        return []


def _others_wait_ns(own_tid: int) -> dict[int, int]:
    """Runqueue wait of each of this process's other threads."""
    waits = {}
    for task in os.listdir("/proc/self/task"):
        if int(task) != own_tid:
            waits[int(task)] = _schedstat(f"/proc/self/task/{task}/schedstat")[1]
    return waits


class Watchdog:
    """A 10 ms timer on the UI thread. ``max_gap_ms`` is the longest the UI went
    without running it. ``max_block_ms`` is the same gap less what load alone explains:
    on this 2-core machine shared with other jobs the scheduler can stall any thread for
    ~100 ms, and that is not the GUI blocking. Discounted: the time the UI thread was
    runnable but waiting for a CPU, and, from the time it slept, the longer of the time
    the host took a vCPU away (steal) and the longest any other thread of the process
    waited for a CPU (a worker preempted while it holds the GIL keeps the UI thread asleep
    that long). Work done on the UI thread always counts, and so do waits (locks, the
    GIL, I/O) that load does not explain."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.tid = threading.get_native_id()
        self.start_values()

    def _sample(self) -> tuple[float, int, int, dict[int, int], list[float]]:
        run, wait = _schedstat("/proc/thread-self/schedstat")
        return time.perf_counter(), run, wait, _others_wait_ns(self.tid), _steal_ms()

    def start_values(self) -> None:
        self.ticks = 0
        self.max_gap_ms = self.max_block_ms = 0.0
        self.gaps: list[tuple[float, float, float, float]] = []
        self.gc_pauses: list[tuple[float, int, float]] = []
        self.pending: list[tuple] = []
        self.last = self._sample()
        self.t0 = self._gc_start = self.last[0]

    def on_gc(self, phase: str, info: dict) -> None:
        """`gc.callbacks` hook: collections over 20 ms go into the report (any thread's
        collection holds the GIL, so it stalls the UI thread as well)."""
        now = time.perf_counter()
        if phase == "start":
            self._gc_start = now
        elif (ms := (now - self._gc_start) * 1000) > 20:
            self.gc_pauses.append((round(now - self.t0, 3), info["generation"], round(ms, 1)))

    def _tick(self) -> None:
        sample = self._sample()
        if self.ticks:
            gap = (sample[0] - self.last[0]) * 1000
            ran, waited = ((a - b) / 1e6 for a, b in zip(sample[1:3], self.last[1:3], strict=True))
            # one preempted GIL holder explains the sleep, not the sum over every thread
            others = max((w - self.last[3].get(t, 0) for t, w in sample[3].items()), default=0) / 1e6
            self.pending.append((sample[0], gap, ran, max(0.0, gap - ran - waited), others,
                                 self.last[4]))
            self._settle(sample[0], sample[4])
        self.last = sample
        self.ticks += 1

    def _settle(self, now: float, steal_now: list[float], final: bool = False) -> None:
        """Judge gaps 50 ms after they ended: the kernel books a vCPU's steal only at that
        CPU's next tick, which on an idle CPU comes late."""
        while self.pending and (final or now - self.pending[0][0] >= 0.05):
            end, gap, ran, slept, others, steal_before = self.pending.pop(0)
            stolen = max((a - b for a, b in zip(steal_now, steal_before, strict=False)),
                         default=0.0)
            block = ran + max(0.0, slept - max(others, stolen))
            if gap > 30:
                self.gaps.append((round(end - self.t0, 3), round(gap, 1), round(block, 1),
                                  round(stolen)))
            self.max_gap_ms = max(self.max_gap_ms, gap)
            self.max_block_ms = max(self.max_block_ms, block)

    def start(self) -> Watchdog:
        self.start_values()
        self.timer.start()
        return self

    def stop(self) -> float:
        """Stop; returns ``max_block_ms``."""
        self.timer.stop()
        self._settle(time.perf_counter(), _steal_ms(), final=True)
        assert self.ticks >= 3, "the watchdog timer did not run"
        return self.max_block_ms

    def report(self) -> str:
        return (f"largest UI-thread gap {self.max_gap_ms:.0f} ms, of it blocked "
                f"{self.max_block_ms:.0f} ms; gaps > 30 ms (t s, gap ms, blocked ms, host steal ms): {self.gaps}; "
                f"collections > 20 ms (t s, generation, ms): {self.gc_pauses}")


@pytest.fixture
def watchdog():
    # As `app/gui/main.py: main` does once the window is up, keep what is alive out of the
    # collector's full passes; in the test process that is every earlier test's leftovers.
    gc.collect()
    gc.freeze()
    w = Watchdog()
    gc.callbacks.append(w.on_gc)
    yield w
    gc.callbacks.remove(w.on_gc)
    w.timer.stop()
    gc.unfreeze()


# ---- expert demonstrations and a tiny trained run (Train and Replay pages) ----------------
DEMO_TASK = "click_button"


@pytest.fixture(scope="session")
def demo_episodes(qapp, tmp_path_factory) -> Path:
    """A folder of 3 real expert demonstrations of click_button (recorded once, ~5 s)."""
    from deskmimic.tasks.demos import record_demos

    out = tmp_path_factory.mktemp("demos")
    demos = record_demos(DEMO_TASK, [0, 1, 2], out, fps=10, speed=2.0)
    assert all(d.success for d in demos), [d.to_dict() for d in demos]
    return out


@pytest.fixture
def demos_dir(tmp_home, demo_episodes) -> Path:
    """An episodes folder holding fresh copies of the demonstrations."""
    root = tmp_home / "data" / "episodes"
    shutil.copytree(demo_episodes, root)
    return root


@pytest.fixture(scope="session")
def tiny_run(demo_episodes, tmp_path_factory) -> Path:
    """A run trained on the demonstrations (64x96 input, a few seconds): checkpoints only
    need to load and decide, not to be good."""
    from deskmimic.models.training.config import TrainConfig
    from deskmimic.models.training.train import run_training

    runs = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(episodes=(demo_episodes,), name="tiny", runs_dir=runs, epochs=8,
                      batch_size=8, input_height=64, input_width=96, allow_mixed_sizes=True,
                      warmup_steps=0, num_threads=2)
    run_training(cfg)
    assert (runs / "tiny" / "checkpoints" / "last").exists()
    return runs / "tiny"
