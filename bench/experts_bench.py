"""Scripted-expert benchmark (issue 7): success, episode time and steps per practice task.

    .venv/bin/python bench/experts_bench.py [--seeds 50] [--first-seed 0] [--tasks a,b]
                                            [--toolkit qt|tk|gtk|web] [--speed 1.0] [--heldout]
                                            [--wm] [--looks default|varied|heldout]

Starts a private Xvfb (1280x800x24; with ``--wm`` also openbox), then for every task
shows the window for each seed and lets its scripted expert solve it with real X
input (XTEST), exactly as `deskmimic tasks run NAME --seed N --expert` does. Prints
one JSON object on stdout (progress on stderr):

- ``success_rate``: fraction of seeds the task reported as solved (must be 1.0);
- ``mean_duration_s``: time from the window appearing to the task's verdict;
- ``mean_steps``: the steps the task counted (clicks, typed texts, keys, drags,
  scroll bursts; the reducer's thresholds);
- ``failures``: seed and reason of every failed episode.

Tasks of every toolkit run (``toolkit`` says which: qt, or tk / gtk for the Tk / GTK 3
windows that run in a child process each); ``--toolkit tk`` runs the Tk ones only
(tk_click_button, tk_click_sequence, tk_checkboxes, tk_type_field, tk_pick_list),
``--toolkit gtk`` the GTK ones (gtk_ and the same names), ``--toolkit web`` the web pages
in Chromium (web_ and the same names; ``chromium`` then gives its start-up seconds and
memory), ``--tasks`` names some.
``--heldout`` uses seeds from 1,000,000 up (the held-out vocabulary). ``--looks`` draws
each window in the look that mode gives its seed (docs/tasks.md: styles, fonts, sizes,
scales, palettes); ``looks_seen`` then counts the looks per task.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

from deskmimic.recorder.virtual_display import Xvfb


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict:
    from deskmimic.tasks import all_tasks, run_task
    from deskmimic.tasks.runner import ensure_app
    from deskmimic.tasks.vocab import HELDOUT_SEED_START

    tasks = all_tasks()
    names = args.tasks.split(",") if args.tasks else list(tasks)
    unknown = [n for n in names if n not in tasks]
    if unknown:
        raise SystemExit(f"--tasks: unknown {unknown}; known: {', '.join(tasks)}")
    if args.toolkit:
        names = [n for n in names if tasks[n].toolkit == args.toolkit]
        if not names:
            raise SystemExit(f"--toolkit {args.toolkit}: none of the tasks is drawn by it")
    first = args.first_seed + (HELDOUT_SEED_START if args.heldout else 0)
    seeds = list(range(first, first + args.seeds))
    ensure_app()
    out: dict = {}
    t_all = time.monotonic()
    for name in names:
        rows = []
        t0 = time.monotonic()
        for seed in seeds:
            r = run_task(name, seed, expert=True, timeout=args.timeout, speed=args.speed,
                         linger=0.0, looks=args.looks)
            rows.append(r)
            if not r.get("success"):
                log(f"  {name} seed {seed}: FAILED: {r.get('reason')} (look {r.get('look')})")
        ok = [r for r in rows if r.get("success")]
        durations = [r["duration_s"] for r in rows]
        steps = [r["steps"] for r in rows]
        out[name] = {
            "toolkit": tasks[name].toolkit,
            "episodes": len(rows),
            "success_rate": round(len(ok) / len(rows), 4),
            "mean_duration_s": round(statistics.mean(durations), 3),
            "max_duration_s": round(max(durations), 3),
            "mean_steps": round(statistics.mean(steps), 2),
            "min_steps": min(steps),
            "max_steps": max(steps),
            "failures": [{"seed": r["seed"], "reason": r.get("reason"), "look": r.get("look")}
                         for r in rows if not r.get("success")],
            "looks_seen": _looks_seen(rows),
            "wall_s": round(time.monotonic() - t0, 1),
        }
        log(f"{name}: success {out[name]['success_rate']:.2f}, "
            f"{out[name]['mean_duration_s']:.2f} s, {out[name]['mean_steps']:.2f} steps")
    rates = [v["success_rate"] for v in out.values()]
    extra = {}
    if any(tasks[n].toolkit == "web" for n in names):
        from deskmimic.tasks.web_browser import browser_stats

        extra["chromium"] = browser_stats()
    return {
        **extra,
        "bench": "experts",
        "seeds": [seeds[0], seeds[-1]],
        "seeds_per_task": len(seeds),
        "heldout_vocabulary": bool(args.heldout),
        "speed": args.speed,
        "window_manager": "openbox" if args.wm else None,
        "looks": args.looks,
        "toolkit": args.toolkit,
        "all_solved": all(r == 1.0 for r in rates),
        "tasks": out,
        "wall_s": round(time.monotonic() - t_all, 1),
        "platform": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }


def _looks_seen(rows: list[dict]) -> dict:
    """How often each style, font, size, scale and palette was drawn."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        for key, value in (r.get("look") or {}).items():
            if key != "mode":
                counts = out.setdefault(key, {})
                counts[str(value)] = counts.get(str(value), 0) + 1
    return {k: dict(sorted(v.items())) for k, v in out.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=50, help="seeds per task (default 50)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    p.add_argument("--toolkit", choices=["qt", "tk", "gtk", "web"], default=None,
                   help="only the tasks this toolkit draws (default: every toolkit)")
    p.add_argument("--speed", type=float, default=1.0, help="expert pace factor (default 1)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per episode")
    p.add_argument("--heldout", action="store_true", help="seeds from 1,000,000 up")
    p.add_argument("--wm", action="store_true", help="run openbox on the display")
    p.add_argument("--looks", choices=["default", "varied", "heldout"], default="default",
                   help="how the windows are drawn (default: the single default look)")
    p.add_argument("--use-display", action="store_true",
                   help="use $DISPLAY instead of starting a private Xvfb")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    xvfb = None if args.use_display else Xvfb()
    wm = None
    try:
        if xvfb is not None:
            os.environ["DISPLAY"] = xvfb.start()
            os.environ.pop("WAYLAND_DISPLAY", None)
        if args.wm:
            exe = shutil.which("openbox")
            if exe is None:
                log("openbox is not installed")
                return 2
            wm = subprocess.Popen([exe, "--sm-disable"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        log(f"display {os.environ.get('DISPLAY')}")
        result = run(args)
    finally:
        if wm is not None:
            wm.terminate()
            wm.wait(5)
        if xvfb is not None:
            xvfb.stop()
    print(json.dumps(result, indent=2))
    return 0 if result["all_solved"] else 1


if __name__ == "__main__":
    sys.exit(main())
