"""`deskmimic eval`: success rate of a policy (or a baseline) on practice tasks, held-out seeds."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from deskmimic.core.errors import ConfigError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval", help="measure a policy's success rate on a practice task over seeds",
        description="For each seed, open the practice task's window, let the agent act on it "
                    "with real capture and real input (the closed-loop replay runner, guards "
                    "on), and judge success by the task's own result. Reports success rate "
                    "(with a 95 % interval), mean steps and time per episode; failed episodes "
                    "are kept as replay episodes for review. Seeds >= 1000000 use labels and "
                    "text never seen in training seeds. Runs on a private virtual display "
                    "unless --display current.",
    )
    p.add_argument("--task", required=True, help="practice task (see `deskmimic tasks list`)")
    p.add_argument("--seeds", required=True,
                   help="layout seeds: A-B or a comma list (held out: >= 1000000)")
    p.add_argument("--policy", type=Path, help="run folder or checkpoint folder of a trained policy")
    p.add_argument("--baseline", choices=["random", "macro"],
                   help="evaluate a baseline instead of --policy: random actions, or literal "
                        "macro replay of --demo")
    p.add_argument("--demo", type=Path, help="the recorded demonstration --baseline macro replays")
    p.add_argument("--max-steps", type=int, default=0,
                   help="most decisions per episode (default 0: the task's own, 3-20)")
    p.add_argument("--episode-timeout", type=float, default=60.0,
                   help="seconds per episode before it fails (default 60)")
    p.add_argument("--min-confidence", type=float, default=0.0,
                   help="stop an episode below this policy confidence (default 0: never)")
    p.add_argument("--keep", choices=["failures", "all", "none"], default="failures",
                   help="replay episodes to keep (default failures)")
    p.add_argument("--move-duration", type=float, default=0.1,
                   help="seconds per pointer move (default 0.1)")
    p.add_argument("--macro-speed", type=float, default=1.0, help="macro playback speed (default 1)")
    p.add_argument("--out", type=Path, help="folder for report.json and kept episodes "
                   "(default: $DESKMIMIC_HOME/evals/<time>-<task>-<agent>)")
    p.add_argument("--display", choices=["virtual", "current"], default="virtual",
                   help="use a private Xvfb (default) or the current DISPLAY")
    p.add_argument("--device", default="cpu", help="torch device for the policy (default cpu)")
    p.add_argument("--looks", choices=["default", "varied", "heldout"], default="default",
                   help="how each task window is drawn: default (the one look every figure so far "
                        "used), varied (training looks) or heldout (looks varied never draws); "
                        "see docs/tasks.md")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """`EvalConfig` from the parsed arguments (validates them; errors name the flag)."""
    from deskmimic.agent.evaluate import EvalConfig
    from deskmimic.tasks import all_tasks
    from deskmimic.tasks.demos import parse_seeds

    if args.max_steps < 0:
        raise ConfigError(f"--max-steps {args.max_steps}: must be >= 0 (0: the task's own)")
    tasks = all_tasks()
    if args.task not in tasks:
        raise ConfigError(f"--task {args.task!r}: unknown; one of {', '.join(tasks)}")

    if args.baseline and args.policy:
        raise ConfigError("--policy and --baseline are exclusive: evaluate one agent at a time")
    if not args.baseline and args.policy is None:
        raise ConfigError("give --policy RUN (a trained policy) or --baseline random|macro")
    if args.demo is not None and args.baseline != "macro":
        raise ConfigError("--demo is only used with --baseline macro")
    return EvalConfig(
        task=args.task, seeds=tuple(parse_seeds(args.seeds)), agent=args.baseline or "policy",
        policy=args.policy, demo=args.demo,
        max_steps=args.max_steps or tasks[args.task].max_steps,
        episode_timeout_s=args.episode_timeout, min_confidence=args.min_confidence,
        keep=args.keep, out=args.out, move_duration_s=args.move_duration,
        macro_speed=args.macro_speed, device=args.device)


def run(args: argparse.Namespace) -> int:
    from deskmimic.recorder.virtual_display import virtual_display

    # Before torch is imported: OpenMP threads that spin while waiting for each other
    # slow training and inference several-fold on a busy machine (docs/learning.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    cfg = config_from_args(args)
    with virtual_display(force=args.display == "virtual"):
        report = _evaluate(cfg, quiet=args.json, looks=args.looks)
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0


def _evaluate(cfg, quiet: bool = False, looks: str = "default") -> dict:
    from tqdm import tqdm

    from deskmimic.tasks.evaluate import evaluate

    if not logging.getLogger().isEnabledFor(logging.INFO):
        # Stopping the agent when the task ends goes through the guards' abort path,
        # which warns; here it is the normal end of an episode. A macro run on another
        # layout diverges from its recording by design: the report counts that.
        for name in ("deskmimic.agent.guards", "deskmimic.agent.macro"):
            logging.getLogger(name).setLevel(logging.ERROR)
    bar = None
    report: dict = {}
    ok = 0
    try:
        for event in evaluate(cfg, looks=looks):
            if event["event"] == "start":
                bar = tqdm(total=event["episodes"], desc=f"eval {cfg.task} ({cfg.label})",
                           unit="ep", file=sys.stderr, disable=None)
            elif event["event"] == "episode" and bar is not None:
                ok += bool(event["success"])
                bar.set_postfix_str(f"{ok} ok, seed {event['seed']}: {event['reason'][:40]}")
                bar.update(1)
            elif event["event"] == "done":
                report = event["report"]
                report["report_path"] = event["report_path"]
    finally:
        if bar is not None:
            bar.close()
    return report


def print_report(r: dict) -> None:
    lo, hi = r["success_ci95"]
    looks = "" if r.get("looks", "default") == "default" else f", {r['looks']} looks"
    print(f"task      {r['task']}  ({'held-out' if r['heldout'] else 'training'} seeds{looks})\n"
          f"agent     {r['agent']}" + (f"  {r['policy']}" if r.get("policy") else "")
          + (f"  {r['demo']}" if r.get("demo") else ""))
    print(f"success   {r['successes']}/{r['episodes']} = {r['success_rate']:.0%}  "
          f"(95% interval {lo:.0%}-{hi:.0%})")
    print(f"steps     {r['mean_steps']:.2f} per episode, {r['mean_time_s']:.2f} s per episode")
    if r.get("decide_ms_p50") is not None:
        print(f"decision  p50 {r['decide_ms_p50']:.1f} ms, p95 {r['decide_ms_p95']:.1f} ms (policy)")
    print("stopped   " + ", ".join(f"{k} {v}" for k, v in sorted(r["stop_reasons"].items())))
    verdicts = list(r.get("outcomes", {}).items())[:4]
    if verdicts:
        print("verdicts  " + "; ".join(f"{n}x {v}" for v, n in verdicts))
    if r["failures_kept"]:
        print(f"failures  {len(r['failures_kept'])} replay episodes kept under "
              f"{Path(r['failures_kept'][0]).parent}")
    print(f"report    {r.get('report_path', '')}")
