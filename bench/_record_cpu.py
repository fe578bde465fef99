"""record_bench's measurements: CPU snapshots (per thread, other processes, the machine)
and millisecond statistics."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import psutil

NATIVE = "native threads (x264 and others)"


def stats_ms(values_ns: list[int] | np.ndarray) -> dict:
    """n, median, p95, max and min of nanosecond values, in ms."""
    a = np.asarray(values_ns, dtype=np.float64) / 1e6
    if a.size == 0:
        return {"n": 0}
    return {"n": int(a.size), "median": round(float(np.median(a)), 2),
            "p95": round(float(np.percentile(a, 95)), 2), "max": round(float(a.max()), 2),
            "min": round(float(a.min()), 2)}


def thread_names() -> dict[int, str]:
    """Native thread id -> name of this process's Python threads (pynput's by device)."""
    names = {}
    for th in threading.enumerate():
        name = th.name
        # pynput's listeners (or the recorder's subclasses of them) are named by device
        mods = [c.__module__ for c in type(th).__mro__ if c.__module__.startswith("pynput.")]
        if mods:
            name = "pynput-" + mods[0].split(".")[1]
        if th.native_id is not None:
            names[th.native_id] = name
    return names


class Snapshot:
    """CPU counters of this process (per thread), Xvfb, the content window, and the machine."""

    def __init__(self, others: dict[str, int]):
        self.t = time.monotonic_ns()
        me = psutil.Process()
        ct = me.cpu_times()
        self.cpu = ct.user + ct.system
        names = thread_names()
        self.threads: dict[str, float] = {}
        for th in me.threads():
            key = names.get(th.id, NATIVE)
            self.threads[key] = self.threads.get(key, 0.0) + th.user_time + th.system_time
        self.others = {}
        for label, pid in others.items():
            ot = psutil.Process(pid).cpu_times()
            self.others[label] = ot.user + ot.system
        st = psutil.cpu_times()
        self.busy = sum(st) - st.idle - getattr(st, "iowait", 0.0)


def cpu_between(a: Snapshot, b: Snapshot, frames: int, fps: float) -> dict:
    """CPU use between two snapshots over ``frames`` captured frames (target rate ``fps``)."""
    wall = (b.t - a.t) / 1e9
    cores = (b.cpu - a.cpu) / wall
    # Python threads live as long as the recording; native ones (x264's) come and go with
    # each segment, so their share is the process total minus the named threads.
    threads = {k: round((b.threads.get(k, 0.0) - a.threads.get(k, 0.0)) / wall, 3)
               for k in sorted(set(a.threads) | set(b.threads)) if k != NATIVE}
    threads[NATIVE] = round(cores - sum(threads.values()), 3)
    per_frame = {k: round(v * wall / max(frames, 1) * 1000, 2) for k, v in threads.items()}
    ms_per_frame = cores * wall / max(frames, 1) * 1000
    return {
        "wall_s": round(wall, 3),
        "recorder_cores": round(cores, 3),
        "recorder_cpu_ms_per_frame": round(ms_per_frame, 2),
        # What the recorder would use at the full target rate: on a contended machine it
        # may capture fewer frames, and then recorder_cores understates the cost.
        "recorder_cores_at_target_fps": round(ms_per_frame * fps / 1000, 3),
        "recorder_threads_cores": threads,
        "recorder_threads_cpu_ms_per_frame": per_frame,
        "other_processes_cores": {k: round((b.others[k] - a.others[k]) / wall, 3) for k in a.others},
        "machine_busy_cores": round((b.busy - a.busy) / wall, 3),
        # Other work on the machine competed for the CPU: timings are then pessimistic.
        "contended": (b.busy - a.busy) / wall > 0.9 * (os.cpu_count() or 1),
    }


__all__ = ["NATIVE", "Snapshot", "cpu_between", "stats_ms", "thread_names"]
