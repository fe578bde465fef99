"""Looks benchmark (issue 21): does a policy work on looks and toolkits it never saw?

    .venv/bin/python bench/looks_bench.py --out DIR [--toolkits qt,tk] [--tasks click_button,...]
        [--modes per_task,multi,loto] [--demos 20] [--eval-seeds 50] [--look-aug] [--resume]

For each practice task of each toolkit: 20 demonstrations recorded in the training looks
(`--looks varied`: fonts, sizes, scales and styles of `tasks.looks.TRAIN`), and success on
50 held-out seeds drawn in held-out looks (`heldout`: font families, sizes and the dark
palette no training look has) with held-out words. Three ways to train:

- ``per_task``: one policy per task on its own demonstrations;
- ``multi``: one policy on every selected task of every selected toolkit;
- ``loto`` (leave one toolkit out): for each toolkit, one policy on the other toolkits'
  demonstrations of every task, evaluated on this toolkit's tasks.

The full run takes hours on 2 cores, so it runs in shards: every unit of work (a task's
demonstrations, a training, an evaluation) writes ``DIR/shards/<unit>.json`` when done and
``--resume`` skips the units already there (a run killed mid-way loses one unit). The
JSON printed at the end (also ``DIR/looks.json``) sums up the shards there, whichever run
made them. A task's kind is its name less the toolkit prefix (``tk_checkboxes`` is
``checkboxes`` in Tk).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from deskmimic.recorder.virtual_display import Xvfb

HELDOUT = 1_000_000
MODES = ("per_task", "multi", "loto")
# The look augmentation `--look-aug` turns on (models/data/augment.py).
LOOK_AUG = {"zoom": 0.5, "dark": 0.3}


def log(msg: str) -> None:
    print(f"[looks_bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Shards:
    """Units of work done, one JSON file each under ``root/shards``."""

    def __init__(self, root: Path, resume: bool) -> None:
        self.dir = root / "shards"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.resume = resume

    def get(self, unit: str) -> dict | None:
        path = self.dir / f"{unit}.json"
        return json.loads(path.read_text()) if self.resume and path.is_file() else None

    def put(self, unit: str, value: dict) -> dict:
        tmp = self.dir / f".{unit}.tmp"
        tmp.write_text(json.dumps(value))
        os.replace(tmp, self.dir / f"{unit}.json")
        return value

    def all(self) -> dict[str, dict]:
        return {p.stem: json.loads(p.read_text()) for p in sorted(self.dir.glob("*.json"))}


def kind_of(name: str, toolkit: str) -> str:
    prefix = f"{toolkit}_"
    return name[len(prefix):] if toolkit != "qt" and name.startswith(prefix) else name


def select_tasks(toolkits: list[str], kinds: list[str] | None) -> dict[str, tuple[str, str]]:
    """Task name -> (toolkit, kind) for the chosen toolkits and kinds."""
    from deskmimic.tasks import all_tasks

    out = {}
    for name, cls in sorted(all_tasks().items()):
        toolkit = getattr(cls, "toolkit", "qt")
        kind = kind_of(name, toolkit)
        if toolkit in toolkits and (kinds is None or kind in kinds):
            out[name] = (toolkit, kind)
    return out


def demos_for(name: str, args: argparse.Namespace, shards: Shards) -> list[str]:
    """The task's successful training demonstrations (recorded once, in training looks)."""
    from deskmimic.tasks.learn import record_task_demos

    unit = f"demos-{name}"
    done = shards.get(unit)
    if done is not None:
        return done["paths"]
    log(f"{name}: recording {args.demos} demonstrations in the training looks")
    demos = record_task_demos(name, range(args.demos), args.out / "demos" / name,
                              speed=args.speed, looks="varied")
    paths = [str(d.path) for d in demos if d.success]
    return shards.put(unit, {"paths": paths, "expert_success": len(paths) / len(demos)})["paths"]


def train_unit(unit: str, paths: list[str], args: argparse.Namespace, shards: Shards) -> str:
    """A policy trained on ``paths`` with the project's recipe; its run folder."""
    from deskmimic.tasks.learn import QuickTrain, train_task_policy

    done = shards.get(unit)
    if done is not None:
        return done["run_dir"]
    aug = LOOK_AUG if args.look_aug else {}
    h, w = (int(v) for v in args.input.split("x"))
    qt = QuickTrain(steps=args.steps or None, threads=args.threads, input_height=h,
                    input_width=w, **aug)
    partial = args.out / "runs" / unit
    if partial.exists():  # a training killed before its shard was written starts again
        shutil.rmtree(partial)
    t0 = time.monotonic()
    log(f"{unit}: training on {len(paths)} demonstrations")
    events = list(train_task_policy([Path(p) for p in paths], args.out / "runs", unit, qt))
    return shards.put(unit, {"run_dir": events[-1]["run_dir"], "demos": len(paths),
                             "steps": events[0]["total_steps"],
                             "train_s": round(time.monotonic() - t0, 1)})["run_dir"]


def eval_unit(unit: str, name: str, run_dir: str, args: argparse.Namespace,
              shards: Shards) -> dict:
    """Success of ``run_dir`` on ``name``'s held-out seeds in held-out looks."""
    from deskmimic.agent.evaluate import EvalConfig
    from deskmimic.tasks import all_tasks
    from deskmimic.tasks.evaluate import evaluate

    done = shards.get(unit)
    if done is not None:
        return done
    seeds = tuple(range(HELDOUT, HELDOUT + args.eval_seeds))
    cfg = EvalConfig(task=name, seeds=seeds, max_steps=all_tasks()[name].max_steps,
                     keep="none", out=args.out / "evals" / unit, agent="policy",
                     policy=Path(run_dir), min_confidence=0.0)
    report: dict = {}
    for event in evaluate(cfg, looks="heldout"):
        if event["event"] == "done":
            report = event["report"]
    res = report["results"]
    row = {k: report[k] for k in ("successes", "episodes", "success_rate", "success_ci95",
                                  "mean_steps", "outcomes")}
    row["steps"] = sum(r["steps"] for r in res)
    row["time_s"] = round(sum(r["time_s"] for r in res), 2)
    log(f"{unit}: {row['successes']}/{row['episodes']}")
    return shards.put(unit, row)


def run(args: argparse.Namespace) -> None:
    tasks = select_tasks(args.toolkits, args.tasks)
    if not tasks:
        raise SystemExit(f"--toolkits {args.toolkits} --tasks {args.tasks}: no such task")
    shards = Shards(args.out, args.resume)
    demos = {name: demos_for(name, args, shards) for name in tasks}
    if "per_task" in args.modes:
        for name in tasks:
            run_dir = train_unit(f"train-per_task-{name}", demos[name], args, shards)
            eval_unit(f"eval-per_task-{name}", name, run_dir, args, shards)
    if "multi" in args.modes:
        run_dir = train_unit("train-multi", [p for n in tasks for p in demos[n]], args, shards)
        for name in tasks:
            eval_unit(f"eval-multi-{name}", name, run_dir, args, shards)
    if "loto" in args.modes:
        for left_out in args.toolkits:
            others = [p for n, (tk, _) in tasks.items() if tk != left_out for p in demos[n]]
            if not others:
                log(f"loto {left_out}: no other toolkit selected, skipped")
                continue
            run_dir = train_unit(f"train-loto-{left_out}", others, args, shards)
            for name, (tk, _) in tasks.items():
                if tk == left_out:
                    eval_unit(f"eval-loto-{name}", name, run_dir, args, shards)


def summary(shards: dict[str, dict], tasks: dict[str, tuple[str, str]]) -> dict:
    """Per toolkit and task: success per mode (rate, successes/episodes, 95 % interval);
    steps per second over every evaluation."""
    table: dict = {}
    steps = time_s = 0.0
    for name, (toolkit, kind) in tasks.items():
        row = {}
        for mode in MODES:
            ev = shards.get(f"eval-{mode}-{name}")
            if ev is None:
                continue
            row[mode] = {"success": f"{ev['successes']}/{ev['episodes']}",
                         "rate": ev["success_rate"], "ci95": ev["success_ci95"],
                         "outcomes": ev["outcomes"]}
            steps += ev["steps"]
            time_s += ev["time_s"]
        demo = shards.get(f"demos-{name}")
        if demo is not None:
            row["expert_success"] = demo["expert_success"]
        table.setdefault(toolkit, {})[kind] = row
    trained = {k[len("train-"):]: {"demos": v["demos"], "steps": v["steps"],
                                   "train_s": v["train_s"]}
               for k, v in shards.items() if k.startswith("train-")}
    return {"by_toolkit": table, "trained": trained,
            "steps_per_s": round(steps / time_s, 2) if time_s else None}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="results folder (shards, runs, evals)")
    p.add_argument("--toolkits", default="qt,tk", help="comma list of qt, tk, gtk, web")
    p.add_argument("--tasks", default=None,
                   help="comma list of task kinds (click_button, checkboxes...; default: all)")
    p.add_argument("--modes", default="per_task,multi,loto", help=f"comma list of {MODES}")
    p.add_argument("--demos", type=int, default=20, help="demonstrations per task")
    p.add_argument("--eval-seeds", type=int, default=50, help="held-out seeds per evaluation")
    p.add_argument("--look-aug", action="store_true",
                   help=f"train with look augmentation {LOOK_AUG}")
    p.add_argument("--resume", action="store_true", help="skip the units already in OUT/shards")
    p.add_argument("--steps", type=int, default=0,
                   help="optimizer steps per training (default 0: sized from the data)")
    p.add_argument("--input", default="128x160", help="network input HxW (default 128x160)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--speed", type=float, default=2.0, help="expert speed while recording")
    args = p.parse_args(argv)
    args.toolkits = [t for t in args.toolkits.split(",") if t]
    args.tasks = [t for t in args.tasks.split(",") if t] if args.tasks else None
    args.modes = [m for m in args.modes.split(",") if m]
    bad = [m for m in args.modes if m not in MODES]
    if bad:
        p.error(f"--modes: unknown {bad}; known: {', '.join(MODES)}")
    if args.demos < 1 or args.eval_seeds < 1 or args.steps < 0:
        p.error("--demos and --eval-seeds must be at least 1, --steps at least 0")
    if args.out.exists() and not args.resume and any(args.out.iterdir()):
        p.error(f"--out {args.out}: not empty; pass --resume to go on with it")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.monotonic()
    with Xvfb() as x:
        os.environ["DISPLAY"] = x.display
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        import torch

        from deskmimic.tasks.runner import ensure_app

        torch.set_num_threads(args.threads)
        ensure_app()
        run(args)
        tasks = select_tasks(args.toolkits, args.tasks)
    result = {
        "bench": "looks",
        "settings": {"toolkits": args.toolkits, "tasks": args.tasks or "all",
                     "modes": args.modes, "demos": args.demos, "train_looks": "varied",
                     "eval_looks": "heldout", "eval_seeds": f"{HELDOUT}-{HELDOUT + args.eval_seeds - 1}",
                     "look_aug": LOOK_AUG if args.look_aug else None,
                     "steps": args.steps or "from the data", "input": args.input},
        **summary(Shards(args.out, resume=True).all(), tasks),
        "seconds": round(time.monotonic() - t0, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    (args.out / "looks.json").write_text(json.dumps(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
