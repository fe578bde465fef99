"""Fixtures for the GUI tests: a small real episode (recorded once per session from a
Qt window driven by xdotool), per-test copies of it, and a UI-thread watchdog."""

from __future__ import annotations

import gc
import shutil
import subprocess
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


def _runqueue_wait_ns() -> int:
    """Time the calling thread spent runnable but not running (CPU taken by others)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


class Watchdog:
    """A 10 ms timer on the UI thread. ``max_gap_ms`` is the longest the UI went
    without running it. ``max_block_ms`` is the same gap minus the time the UI thread
    was runnable but waiting for a CPU (``/proc/thread-self/schedstat``): on this
    2-core machine shared with other jobs, the scheduler alone can stall any thread
    for 100 ms, and that is not the GUI blocking. Work done on, or waits (locks, the
    GIL, I/O) entered by, the UI thread all still count."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.start_values()

    def start_values(self) -> None:
        self.ticks = 0
        self.max_gap_ms = self.max_block_ms = 0.0
        self.gaps: list[tuple[float, float, float]] = []
        self.gc_pauses: list[tuple[float, int, float]] = []
        self.t0 = self.last = self._gc_start = time.perf_counter()
        self.last_wait = _runqueue_wait_ns()

    def on_gc(self, phase: str, info: dict) -> None:
        """`gc.callbacks` hook: collections over 20 ms go into the report (any thread's
        collection holds the GIL, so it stalls the UI thread as well)."""
        now = time.perf_counter()
        if phase == "start":
            self._gc_start = now
        elif (ms := (now - self._gc_start) * 1000) > 20:
            self.gc_pauses.append((round(now - self.t0, 3), info["generation"], round(ms, 1)))

    def _tick(self) -> None:
        now, wait = time.perf_counter(), _runqueue_wait_ns()
        if self.ticks:
            gap = (now - self.last) * 1000
            block = gap - (wait - self.last_wait) / 1e6
            if gap > 30:
                self.gaps.append((round(now - self.t0, 3), round(gap, 1), round(block, 1)))
            self.max_gap_ms = max(self.max_gap_ms, gap)
            self.max_block_ms = max(self.max_block_ms, block)
        self.last, self.last_wait = now, wait
        self.ticks += 1

    def start(self) -> Watchdog:
        self.start_values()
        self.timer.start()
        return self

    def stop(self) -> float:
        """Stop; returns ``max_block_ms``."""
        self.timer.stop()
        assert self.ticks >= 3, "the watchdog timer did not run"
        return self.max_block_ms

    def report(self) -> str:
        return (f"largest UI-thread gap {self.max_gap_ms:.0f} ms, of it blocked "
                f"{self.max_block_ms:.0f} ms; gaps > 30 ms (t s, gap ms, blocked ms): {self.gaps}; "
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
