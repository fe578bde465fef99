"""`deskmimic demo`: the whole loop on the built-in practice desktop, on a virtual display."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from deskmimic.core.paths import data_home


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo", help="run the whole loop on the practice desktop (virtual display)",
        description="Record expert demonstrations of a practice task through the real recorder "
                    "on a private virtual display (Xvfb), then (when the learning parts are "
                    "installed) train a policy and replay it on held-out seeds.",
    )
    p.add_argument("--task", default="click_button", help="practice task (see `deskmimic tasks list`)")
    p.add_argument("--demos", type=int, default=20, help="number of expert demonstrations (default 20)")
    p.add_argument("--out", type=Path, help="folder for this demo's episodes and runs "
                   "(default: $DESKMIMIC_HOME/demo/<time>)")
    p.add_argument("--display", choices=["virtual", "current"], default="virtual",
                   help="use a private Xvfb (default) or the current DISPLAY")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from deskmimic.app.virtual_display import virtual_display
    from deskmimic.core.errors import ConfigError

    if args.demos < 1:
        raise ConfigError(f"--demos {args.demos}: must be at least 1")
    out = args.out or data_home() / "demo" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with virtual_display(force=args.display == "virtual") as display:
        print(f"deskmimic demo: practice desktop on DISPLAY={display}, task {args.task}, "
              f"{args.demos} demonstrations -> {out}", file=sys.stderr)
        summary = _run_on_display(args, out)
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return 0 if summary["demos"]["success_rate"] == 1.0 else 1


def _run_on_display(args: argparse.Namespace, out: Path) -> dict:
    from tqdm import tqdm

    from deskmimic.tasks.demos import record_demos
    from deskmimic.tasks.runner import ensure_app, make_task

    ensure_app()
    make_task(args.task, 0).deleteLater()  # fail early on an unknown task name
    t0 = time.monotonic()
    bar = tqdm(total=args.demos, desc="expert demonstrations", unit="demo", file=sys.stderr)
    demos = record_demos(args.task, range(args.demos), out / "episodes",
                         progress=lambda d: bar.update(1))
    bar.close()
    ok = sum(d.success for d in demos)
    return {
        "task": args.task,
        "out": str(out),
        "demos": {
            "count": len(demos), "success_rate": ok / len(demos),
            "frames": sum(d.frames for d in demos), "events": sum(d.events for d in demos),
            "seconds": round(time.monotonic() - t0, 1),
            "episodes": [d.to_dict() for d in demos],
        },
    }


def _print_summary(s: dict) -> None:
    d = s["demos"]
    print(f"\nRecorded {d['count']} expert demonstrations of '{s['task']}' in {d['seconds']} s "
          f"({d['frames']} frames, {d['events']} input events), into {s['out']}/episodes")
    print(f"{'seed':>5}  {'ok':3} {'frames':>6} {'events':>6} {'dur s':>6}  episode")
    for e in d["episodes"]:
        print(f"{e['seed']:5d}  {'yes' if e['success'] else 'NO':3} {e['frames']:6d} {e['events']:6d} "
              f"{e['duration_s']:6.2f}  {Path(e['path']).name}")
    print(f"expert success: {d['success_rate']:.0%}")
