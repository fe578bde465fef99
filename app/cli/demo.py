"""`deskmimic demo`: the whole loop on the built-in practice desktop, on a virtual display.

expert demonstrations through the real recorder -> train a policy -> replay it on
held-out seeds (labels never seen in training) next to the baselines -> success table.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from deskmimic.core.errors import ConfigError
from deskmimic.core.paths import data_home

HELDOUT = 1_000_000
TOOLKITS = ("qt", "tk", "gtk", "web")


def task_in_toolkit(task: str, toolkit: str | None) -> str:
    """The task name of kind ``task`` drawn by ``toolkit`` (None: ``task`` as named)."""
    if toolkit is None:
        return task
    from deskmimic.tasks import all_tasks

    known = all_tasks()
    kind = task.split("_", 1)[1] if task.split("_", 1)[0] in TOOLKITS[1:] else task
    name = kind if toolkit == "qt" else f"{toolkit}_{kind}"
    if name not in known or getattr(known[name], "toolkit", "qt") != toolkit:
        has = sorted(n for n, c in known.items() if getattr(c, "toolkit", "qt") == toolkit)
        raise ConfigError(f"--task {task} --toolkit {toolkit}: no such task in {toolkit}; "
                          f"{toolkit} has {', '.join(has)}")
    return name


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo", help="run the whole loop on the practice desktop (virtual display)",
        description="On a private virtual display (Xvfb): record expert demonstrations of a "
                    "practice task through the real recorder, train a policy on them, let it "
                    "drive fresh task windows on held-out seeds (labels never seen in "
                    "training), run the literal-macro and random baselines on the same seeds, "
                    "and print the success table. Defaults finish in a few minutes on 2 CPU "
                    "cores.",
    )
    p.add_argument("--task", default="click_button",
                   help="practice task (default click_button; see `deskmimic tasks list`)")
    p.add_argument("--toolkit", choices=TOOLKITS, default=None,
                   help="draw the task in this toolkit: Qt windows, Tk or GTK 3 windows, or web "
                        "pages in Chromium (--task names the kind, e.g. --task checkboxes "
                        "--toolkit web runs web_checkboxes; default: the task as named)")
    p.add_argument("--demos", type=int, default=20, help="number of expert demonstrations (default 20)")
    p.add_argument("--eval-seeds", type=int, default=20,
                   help="held-out seeds each agent is evaluated on (default 20)")
    p.add_argument("--steps", type=int, default=400, help="training steps (default 400)")
    p.add_argument("--input", default="128x160",
                   help="network input HxW, multiples of 32 (default 128x160)")
    p.add_argument("--max-steps", type=int, default=0,
                   help="decisions per evaluated episode (default: about twice the expert's)")
    p.add_argument("--no-macro", action="store_true", help="skip the macro-replay baseline")
    p.add_argument("--record-only", action="store_true",
                   help="only record the demonstrations (no training, no evaluation)")
    p.add_argument("--out", type=Path, help="folder for this demo's episodes, run and reports "
                   "(default: $DESKMIMIC_HOME/demo/<time>)")
    p.add_argument("--display", choices=["virtual", "current"], default="virtual",
                   help="use a private Xvfb (default) or the current DISPLAY")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def _input_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--input {text!r}: expected HxW, e.g. 128x160") from None
    if min(h, w) < 64 or h % 32 or w % 32:
        raise ConfigError(f"--input {text}: height and width must be multiples of 32, at least 64")
    return h, w


def run(args: argparse.Namespace) -> int:
    from deskmimic.recorder.virtual_display import virtual_display

    # Before torch is imported: OpenMP threads that spin while waiting for each other
    # slow training and inference several-fold on a busy machine (docs/learning.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    if args.demos < 1:
        raise ConfigError(f"--demos {args.demos}: must be at least 1")
    if args.eval_seeds < 1 or args.steps < 1:
        raise ConfigError("--eval-seeds and --steps must be at least 1")
    if args.max_steps < 0:
        raise ConfigError(f"--max-steps {args.max_steps}: must be >= 0 (0: per task)")
    _input_size(args.input)
    args.task = task_in_toolkit(args.task, args.toolkit)
    out = args.out or data_home() / "demo" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out}: exists and is not empty; choose a new folder")
    if not logging.getLogger().isEnabledFor(logging.INFO):
        # Ending an episode stops the agent through its abort path (which warns), and
        # the macro baseline diverges from its recording by design: the table says so.
        for name in ("deskmimic.agent.guards", "deskmimic.agent.macro", "deskmimic.models.training.train"):
            logging.getLogger(name).setLevel(logging.ERROR)
    t0 = time.monotonic()
    with virtual_display(force=args.display == "virtual") as display:
        print(f"deskmimic demo: practice desktop on DISPLAY={display}, task {args.task}, "
              f"{args.demos} demonstrations -> {out}", file=sys.stderr)
        summary = _run_on_display(args, out)
    summary["seconds"] = round(time.monotonic() - t0, 1)
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return 0 if summary["demos"]["success_rate"] == 1.0 else 1


def _bar(total: int, desc: str, unit: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=True)


def _run_on_display(args: argparse.Namespace, out: Path) -> dict:
    from deskmimic.tasks.runner import ensure_app, make_task

    ensure_app()
    make_task(args.task, 0).deleteLater()  # fail early on an unknown task name
    summary = {"task": args.task, "out": str(out), "demos": _record(args, out)}
    if args.record_only:
        return summary
    ok = [Path(e["path"]) for e in summary["demos"]["episodes"] if e["success"]]
    if not ok:
        raise ConfigError("no expert demonstration succeeded: nothing to train on")
    run_dir, summary["training"] = _train(args, ok, out)
    summary["evaluation"] = _evaluate_all(args, run_dir, ok[0], out)
    return summary


def _record(args: argparse.Namespace, out: Path) -> dict:
    from deskmimic.tasks.learn import record_task_demos

    t0 = time.monotonic()
    bar = _bar(args.demos, "1/3 expert demonstrations", "demo")
    try:
        demos = record_task_demos(args.task, range(args.demos), out / "episodes", speed=1.0,
                                  progress=lambda d: bar.update(1))
    finally:
        bar.close()
    return {
        "count": len(demos), "success_rate": sum(d.success for d in demos) / len(demos),
        "frames": sum(d.frames for d in demos), "events": sum(d.events for d in demos),
        "seconds": round(time.monotonic() - t0, 1),
        "episodes": [d.to_dict() for d in demos],
    }


def _train(args: argparse.Namespace, episodes: list[Path], out: Path) -> tuple[Path, dict]:
    from deskmimic.tasks.learn import QuickTrain, train_task_policy

    h, w = _input_size(args.input)
    cfg = QuickTrain(steps=args.steps, epochs=4, input_height=h, input_width=w)
    t0 = time.monotonic()
    bar = _bar(args.steps, "2/3 training", "step")
    last: dict = {}
    metrics: dict = {}
    try:
        for event in train_task_policy(episodes, out / "runs", f"{args.task}-{len(episodes)}", cfg):
            if event["event"] in ("step", "epoch"):
                bar.update(event["step"] - bar.n)
                bar.set_postfix_str(f"loss {event['loss']:.2f}")
            if event["event"] == "epoch":
                metrics = event["metrics"]
            last = event
    finally:
        bar.close()
    run_dir = Path(last["run_dir"])
    return run_dir, {"run": str(run_dir), "steps": last.get("step"),
                     "seconds": round(time.monotonic() - t0, 1),
                     "fit": {k: round(v, 3) for k, v in metrics.items()
                             if k in ("kind_acc", "click_in_target", "pixel_error")}}


def _evaluate_all(args: argparse.Namespace, run_dir: Path, demo: Path, out: Path) -> dict:
    from deskmimic.agent.evaluate import EvalConfig
    from deskmimic.tasks import all_tasks

    max_steps = args.max_steps or all_tasks()[args.task].max_steps
    seeds = tuple(range(HELDOUT, HELDOUT + args.eval_seeds))
    agents = [("policy", {"policy": run_dir})]
    if not args.no_macro:
        agents.append(("macro", {"demo": demo}))
    agents.append(("random", {}))
    reports = {}
    for i, (agent, extra) in enumerate(agents, start=1):
        cfg = EvalConfig(task=args.task, seeds=seeds, agent=agent, max_steps=max_steps,
                         out=out / f"eval-{agent}", **extra)
        reports[agent] = _evaluate(cfg, f"3/3 eval {i}/{len(agents)}: {agent}")
    return {k: {f: r[f] for f in ("success_rate", "success_ci95", "successes", "episodes",
                                  "mean_steps", "mean_time_s", "decide_ms_p50", "outcomes",
                                  "failures_kept")} | {"report": r["report_path"]}
            for k, r in reports.items()}


def _evaluate(cfg, desc: str) -> dict:
    from deskmimic.tasks.evaluate import evaluate

    bar = _bar(len(cfg.seeds), desc, "ep")
    ok = 0
    report: dict = {}
    try:
        for event in evaluate(cfg):
            if event["event"] == "episode":
                ok += bool(event["success"])
                bar.set_postfix_str(f"{ok} solved")
                bar.update(1)
            elif event["event"] == "done":
                report = {**event["report"], "report_path": event["report_path"]}
    finally:
        bar.close()
    return report


NAMES = {"policy": "learned policy", "macro": "macro replay of 1 demo", "random": "random actions"}


def _print_summary(s: dict) -> None:
    d = s["demos"]
    print(f"\nRecorded {d['count']} expert demonstrations of '{s['task']}' in {d['seconds']} s "
          f"({d['frames']} frames, {d['events']} input events; expert success "
          f"{d['success_rate']:.0%}) into {s['out']}/episodes")
    if "training" not in s:
        for e in d["episodes"]:
            print(f"  seed {e['seed']:4d}  {'ok' if e['success'] else 'FAILED'}  {Path(e['path']).name}")
        return
    t = s["training"]
    fit = ", ".join(f"{k} {v}" for k, v in t["fit"].items())
    print(f"Trained {t['steps']} steps in {t['seconds']} s -> {t['run']}  (on the demos: {fit})")
    ev = s["evaluation"]
    n = next(iter(ev.values()))["episodes"]
    print(f"\nSuccess on {n} held-out seeds (layouts and labels never seen in training):\n")
    print(f"  {'agent':<24} {'success':<14}  {'95% interval':<14}  {'steps':>5}  {'s/episode':>9}")
    for agent, r in ev.items():
        lo, hi = r["success_ci95"]
        ratio = f"{r['successes']}/{r['episodes']}"
        print(f"  {NAMES[agent]:<24} {ratio:>6} {r['success_rate']:>6.0%} "
              f"  {f'{lo:.0%} - {hi:.0%}':<14}  {r['mean_steps']:>5.1f}  {r['mean_time_s']:>9.2f}")
    print("\nWhat happened (the task's verdicts, names blanked):")
    pol = ev["policy"]
    for agent, r in ev.items():
        top = "; ".join(f"{k}x {reason}" for reason, k in list(r["outcomes"].items())[:3])
        print(f"  {NAMES[agent]}: {top}")
    if pol["failures_kept"]:
        print(f"  its failed episodes are kept for review under {Path(pol['failures_kept'][0]).parent}"
              " (deskmimic gui, or deskmimic episodes show)")
    print(f"\nTotal {s['seconds']} s. Reports: {', '.join(r['report'] for r in ev.values())}")
