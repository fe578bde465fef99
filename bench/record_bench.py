"""Recorder benchmark (issue 3): fps, CPU, dropped frames, lost events, MB/min, event-to-frame time.

    .venv/bin/python bench/record_bench.py [--duration 12] [--resolutions 1280x800,1920x1080]

Prints one JSON object on stdout (progress on stderr). For each resolution it starts
a private Xvfb, a full-screen content window that repaints 4 times a second
(PySide6, its own process so its CPU is not counted) and records with the real
`deskmimic.recorder.record.Recorder` three times:

- steady: the window animates, nobody touches the input. Achieved fps, dropped
  frames, the recorder process's CPU in cores (user+sys time / wall time, split by
  thread), Xvfb's CPU (the X server does the grab copy), MB per minute.
- events: an XTEST process injects pointer motions to distinct pixels at a steady
  rate; every injected motion is looked up among the recorded `move` events.
- latency: clicks and key presses (alternating) each switch the colour of a
  patch in the window; the first frame showing the new colour is found by decoding
  the episode. `event_to_frame_latency_ms` = that frame's `t_ns` minus the recorded
  event's `t`: how long after an event's timestamp its effect is first in a frame
  (application repaint + wait for the next capture tick).

The script re-runs itself as `_content` (the window) and `_inject` (XTEST input); those
live in bench/_record_children.py, the CPU snapshots in bench/_record_cpu.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/ holds scripts, not a package: its helper modules are imported by file name.
from _encoder_sweep import encoder_sweep  # noqa: E402
from _record_children import (  # noqa: E402
    CONTENT_HZ,
    INDICATOR,
    PALETTE,
    SETUP_XY,
    content_main,
    inject_main,
)
from _record_cpu import Snapshot, cpu_between, stats_ms  # noqa: E402

from deskmimic.recorder.virtual_display import Xvfb  # noqa: E402

logger = logging.getLogger("record_bench")

FPS = 30.0
TARGETS = {"fps": FPS, "fps_min_ok": 29.5, "resolution": "1920x1080", "max_cores": 1.0,
           "goal_cores": 0.5, "max_lost_events": 0, "max_mb_per_min": 10.0}


# ---- the recorder and the injector process ------------------------------------------------
def _recorder(path: Path, width: int, height: int):
    from deskmimic.core.config import RecordConfig
    from deskmimic.core.geometry import Rect
    from deskmimic.recorder.record import Recorder

    return Recorder(RecordConfig(out=path, region=Rect(0, 0, width, height), fps=FPS,
                                 task="bench", instruction="benchmark"))


def _inject(env: dict, *args: object, timeout: float = 120) -> list:
    proc = subprocess.run([sys.executable, __file__, "_inject", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"injector failed ({proc.returncode}): {proc.stderr[-800:]}")
    return json.loads(proc.stdout)


# ---- the three recordings -----------------------------------------------------------------
def bench_steady(path: Path, width: int, height: int, duration: float, others: dict) -> dict:
    """Record `duration` s of animated content; fps, drops, CPU and size."""
    from deskmimic.recorder.episode import Episode

    rec = _recorder(path, width, height)
    rec.start()
    try:
        time.sleep(0.5)  # past the first segment's setup
        a, f0 = Snapshot(others), rec.frames_captured
        time.sleep(duration)
        b, f1 = Snapshot(others), rec.frames_captured
    finally:
        t_stop = time.monotonic()
        summary = rec.stop()
        stop_s = time.monotonic() - t_stop
    ep = Episode.open(summary.path)
    origin = ep.meta["clock"]["origin_monotonic_ns"]
    times = ep.frame_times
    inside = int(np.count_nonzero((times >= a.t - origin) & (times < b.t - origin)))
    gaps = np.diff(times)
    period_ns = 1e9 / FPS
    return {
        "duration_s": summary.duration_s,
        "frames": summary.frames,
        "dropped_frames": summary.dropped_frames,
        "fps_achieved": round(summary.fps_achieved, 2),
        "fps_steady": round(inside / ((b.t - a.t) / 1e9), 2),
        "frames_captured_steady": f1 - f0,
        "frame_interval_ms": stats_ms(gaps),
        "late_frames": int(np.count_nonzero(gaps > 1.5 * period_ns)),
        # Frames the capture thread still took after stop() read the clock: the summary's
        # fps (frames / duration_s) counts them, fps_steady does not.
        "frames_after_duration_end": int(np.count_nonzero(times > summary.duration_s * 1e9)),
        "bytes": summary.bytes,
        "mb_per_min": round(summary.bytes / max(summary.duration_s, 1e-9) * 60 / 1e6, 3),
        "stop_s": round(stop_s, 3),
        "cpu": cpu_between(a, b, f1 - f0, FPS),
    }


def bench_events(path: Path, width: int, height: int, n: int, rate: float, env: dict,
                 others: dict) -> dict:
    """Inject n distinct pointer motions at `rate`/s while recording; count what was recorded."""
    from deskmimic.recorder.episode import Episode

    rec = _recorder(path, width, height)
    rec.start()
    try:
        a, f0 = Snapshot(others), rec.frames_captured
        injected = _inject(env, "moves", n, rate, width, height, timeout=n / rate * 3 + 30)
        b, f1 = Snapshot(others), rec.frames_captured
        time.sleep(0.5)  # let the listener and the event writer drain
    finally:
        summary = rec.stop()
    ep = Episode.open(summary.path)
    origin = ep.meta["clock"]["origin_monotonic_ns"]
    moves = [e for e in ep.read_events() if e["type"] == "move" and (e["x"], e["y"]) != SETUP_XY]
    seen: dict[tuple[int, int], int] = {}
    for e in moves:
        seen.setdefault((e["x"], e["y"]), e["t"])
    delays, order = [], []
    for t_inj, x, y in injected:
        t_ev = seen.get((x, y))  # region is at (0, 0): screen pixels == captured-area pixels
        if t_ev is not None:
            delays.append(t_ev - (t_inj - origin))
            order.append(t_ev)
    span = (injected[-1][0] - injected[0][0]) / 1e9 if len(injected) > 1 else 0.0
    recorded = len(delays)
    return {
        "injected": len(injected),
        "injected_rate_per_s": round((len(injected) - 1) / span, 1) if span else None,
        "recorded_moves": len(moves),
        "matched": recorded,
        "lost": len(injected) - recorded,
        "extra": len(moves) - recorded,
        "in_order": bool(all(x <= y for x, y in zip(order, order[1:], strict=False))),
        "inject_to_event_ms": stats_ms(delays),
        "dropped_frames": summary.dropped_frames,
        "fps_achieved": round(summary.fps_achieved, 2),
        "cpu": cpu_between(a, b, f1 - f0, FPS),
    }


def _patch_class(rgb: np.ndarray) -> int:
    x, y, w, h = INDICATOR
    c = rgb[y + h // 4: y + 3 * h // 4, x + w // 4: x + 3 * w // 4].reshape(-1, 3).mean(0)
    d = np.abs(np.asarray(PALETTE, dtype=np.float64) - c).max(1)
    return int(d.argmin()) if d.min() < 12 else -1


def bench_latency(path: Path, width: int, height: int, trials: int, env: dict) -> dict:
    """Alternate clicks and key presses that recolour a patch; time event -> first frame showing it."""
    from deskmimic.recorder.episode import Episode

    rec = _recorder(path, width, height)
    rec.start()
    try:
        time.sleep(0.3)
        injected = _inject(env, "presses", trials, 0.5, width // 2, height // 2)
        time.sleep(0.5)
    finally:
        summary = rec.stop()
    ep = Episode.open(summary.path)
    origin = ep.meta["clock"]["origin_monotonic_ns"]
    presses = [e for e in ep.read_events()
               if e["type"] == "button_down" or (e["type"] == "key_down" and e.get("key") == "space")]
    classes = np.array([_patch_class(rgb) for _, _, rgb in ep.iter_frames()])
    times = ep.frame_times
    rows, j = [], 0
    for k, ev in enumerate(presses, start=1):
        hits = np.nonzero(classes[j:] == k % len(PALETTE))[0]
        if hits.size == 0:
            rows.append({"kind": ev["type"], "found": False})
            continue
        j += int(hits[0])
        row = {"kind": ev["type"], "found": True,
               "event_to_frame_ns": int(times[j] - ev["t"]),
               "event_to_previous_frame_ns": int(times[j - 1] - ev["t"]) if j else None,
               "frames_after_event": j - ep.frame_index_at(ev["t"])}
        if k - 1 < len(injected):
            row["inject_to_event_ns"] = int(ev["t"] - (injected[k - 1][0] - origin))
        rows.append(row)
    found = [r for r in rows if r["found"]]

    def col(key: str, kind: str | None = None) -> list[int]:
        return [r[key] for r in found if r.get(key) is not None and kind in (None, r["kind"])]

    return {
        "definition": "t_ns of the first frame whose patch shows the press's colour minus the "
                      "recorded button_down/key_down event's t (same episode clock)",
        "trials_injected": len(injected),
        "presses_recorded": len(presses),
        "changes_found": len(found),
        "event_to_frame_latency_ms": stats_ms(col("event_to_frame_ns")),
        "event_to_frame_latency_ms_click": stats_ms(col("event_to_frame_ns", "button_down")),
        "event_to_frame_latency_ms_key": stats_ms(col("event_to_frame_ns", "key_down")),
        "event_to_previous_frame_ms": stats_ms(col("event_to_previous_frame_ns")),
        "frames_after_event": [r["frames_after_event"] for r in found],
        "inject_to_event_ms": stats_ms(col("inject_to_event_ns")),
        "frame_period_ms": round(1000 / FPS, 2),
    }


def bench_resolution(width: int, height: int, workdir: Path, duration: float, events: int,
                     rate: float, trials: int, sweep_frames: int = 0) -> dict:
    """All three recordings on a fresh Xvfb of width x height."""
    old_display = os.environ.get("DISPLAY")
    with Xvfb(width, height, 24) as xv:
        env = xv.env()
        env["QT_QPA_PLATFORM"] = "xcb"
        os.environ["DISPLAY"] = xv.display
        content = subprocess.Popen([sys.executable, __file__, "_content", str(width), str(height)],
                                   env=env, stdout=subprocess.PIPE, text=True)
        try:
            if content.stdout.readline().strip() != "ready":
                raise RuntimeError("the content window did not start (see stderr)")
            others = {"xvfb": xv.pid, "content_window": content.pid}
            out = {"display": xv.display}
            logger.info("%dx%d steady recording, %.0f s", width, height, duration)
            out["steady"] = bench_steady(workdir / f"steady-{width}x{height}", width, height,
                                         duration, others)
            logger.info("%dx%d events: %d motions at %.0f/s", width, height, events, rate)
            out["events"] = bench_events(workdir / f"events-{width}x{height}", width, height,
                                         events, rate, env, others)
            logger.info("%dx%d latency: %d presses", width, height, trials)
            out["latency"] = bench_latency(workdir / f"latency-{width}x{height}", width, height,
                                           trials, env)
        finally:
            content.terminate()
            try:
                content.wait(5)
            except subprocess.TimeoutExpired:
                content.kill()
            if old_display is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = old_display
    if sweep_frames:
        logger.info("%dx%d encoder sweep over %d frames", width, height, sweep_frames)
        out["encoder_sweep"] = encoder_sweep(workdir / f"steady-{width}x{height}", sweep_frames)
    return out


def verdict(results: dict) -> dict:
    """Pass/fail against TARGETS, judged at TARGETS['resolution'] (or the largest measured)."""
    key = TARGETS["resolution"] if TARGETS["resolution"] in results else max(
        results, key=lambda r: int(r.split("x")[0]) * int(r.split("x")[1]))
    r = results[key]
    cpu = r["steady"]["cpu"]
    cores = max(cpu["recorder_cores"], cpu["recorder_cores_at_target_fps"])
    lost = sum(v["events"]["lost"] for v in results.values())
    mb = max(v["steady"]["mb_per_min"] for v in results.values())
    return {
        "judged_at": key,
        "fps_30": r["steady"]["fps_steady"] >= TARGETS["fps_min_ok"],
        "under_1_core": cores < TARGETS["max_cores"],
        "under_goal_0_5_core": cores < TARGETS["goal_cores"],
        "zero_lost_events": lost <= TARGETS["max_lost_events"],
        "under_10_mb_per_min": mb < TARGETS["max_mb_per_min"],
        "values": {"fps_steady": r["steady"]["fps_steady"],
                   "recorder_cores_at_target_fps": cores,
                   "contended": cpu.get("contended"),
                   "lost_events_all_resolutions": lost, "max_mb_per_min": mb},
    }


def run_bench(resolutions: list[tuple[int, int]], duration: float = 12.0, events: int = 2000,
              rate: float = 250.0, trials: int = 10, workdir: Path | None = None,
              sweep_frames: int = 0) -> dict:
    """Run everything; returns the JSON-ready result."""
    started = time.time()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="record-bench-") as tmp:
        base = workdir or Path(tmp)
        results = {f"{w}x{h}": bench_resolution(w, h, base, duration, events, rate, trials,
                                                  sweep_frames)
                   for w, h in resolutions}
    v = verdict(results)
    return {
        "bench": "record", "schema": 1,
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "loadavg_start": [round(x, 2) for x in load0],
                 "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
        "config": {"fps": FPS, "duration_s": duration, "events": events, "event_rate_per_s": rate,
                   "latency_trials": trials, "content_changes_per_s": CONTENT_HZ,
                   "sweep_frames": sweep_frames,
                   "mb": "1e6 bytes", "cores": "CPU seconds (user+sys) per wall second"},
        "targets": TARGETS,
        "results": results,
        "pass": {k: val for k, val in v.items() if k != "values"},
        "all_pass": all(val for k, val in v.items() if isinstance(val, bool)),
        "verdict_values": v["values"],
        "elapsed_s": round(time.time() - started, 1),
    }


def _resolution(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_content":
        content_main(int(argv[1]), int(argv[2]))
        return 0
    if argv and argv[0] == "_inject":
        inject_main(argv[1], int(argv[2]), float(argv[3]), int(argv[4]), int(argv[5]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resolutions", default="1280x800,1920x1080")
    ap.add_argument("--duration", type=float, default=12.0, help="steady recording seconds")
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=250.0, help="injected motions per second")
    ap.add_argument("--trials", type=int, default=10, help="latency presses")
    ap.add_argument("--keep", type=Path, help="keep the episodes in this (new) folder")
    ap.add_argument("--sweep", type=int, default=0, metavar="FRAMES",
                    help="also re-encode FRAMES steady frames with other encoder settings")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    # Only the JSON goes to stdout: anything else written to fd 1 (libraries, C code) goes
    # to stderr while the bench runs.
    json_out = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    result = run_bench([_resolution(r) for r in args.resolutions.split(",")], args.duration,
                       args.events, args.rate, args.trials, args.keep, args.sweep)
    json_out.write(json.dumps(result, indent=1) + "\n")
    json_out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
