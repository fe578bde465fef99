"""Learning benchmark (issue 4): success on held-out seeds of the learned policy with 10, 20
and 50 demonstrations, of literal macro replay of one demonstration, and of random actions;
plus the agent's decision latency and steps per second.

    .venv/bin/python bench/learning_bench.py [--tasks click_button,type_field] [--demos 10,20,50]
        [--eval-seeds 50] [--steps N] [--epochs 4] [--input 128x160] [--no-macro] [--out DIR]

Starts a private Xvfb (1280x800x24). Per task: records ``max(--demos)`` expert
demonstrations through the real recorder (seeds 0..N-1), trains one policy per demo
count on the first N of them (`deskmimic.tasks.learn`), and evaluates every agent on
the same held-out seeds 1,000,000.. (labels and text never seen in training) with real
capture and input (`deskmimic.tasks.evaluate`). Prints ONE JSON object on stdout
(progress on stderr):

- ``tasks.<name>.policy.<n>``: success rate (+95 % interval), mean steps, mean time,
  training seconds, for the policy trained on n demonstrations;
- ``tasks.<name>.policy.<n>.closed_loop_confidence``: the evaluation's own decisions
  judged by its episodes' verdicts (all of a success right, the failing one of a failure
  wrong): ECE, and what a gate would have stopped, per decision and per episode
  (`deskmimic.models.training.gate_report.closed_loop_report`); the same over every
  task at the top;
- ``tasks.<name>.policy.<n>.recorded_confidence``: on ``--calib-demos`` expert
  demonstrations of held-out seeds, every step decided with the demonstration's own
  history (the behaviour-cloning view): right or not (the demonstrated kind, element,
  text), and right or an answer the training demonstrations give after the same history
  (``equivalent``), ECE, and what the default gate stops
  (`deskmimic.models.training.calibration.judge_recorded`); the same over every task at
  the top, with a sweep of gate values;
- ``tasks.<name>.plain.<n>`` (``--plain``): the same for a policy trained the way plain
  `deskmimic train DIR --name X` trains (its defaults: validation split, input size,
  batch, the step count sized from the data), beside the recipe's;
- ``tasks.<name>.macro`` / ``random``: the baselines on the same seeds;
- ``latency``: one decision = capture of the task window + preprocess + policy
  (p50/p95 ms, over ``--latency-samples`` decisions within an episode, the pointer moved
  between them), capture and policy alone, ``decisions_per_s``, and the first decision of
  an episode (``first_decision_ms``: the instruction's words matched over the whole
  frame); ``closed_loop_steps_per_s``: executed steps per second of
  episode time (settling and human-like motion included).

The full run (8 tasks x 50 demos x 50 seeds) takes hours on 2 cores; shrink it with
the options. After each task the results so far are also written to
``OUT/partial.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from deskmimic.recorder.virtual_display import Xvfb

HELDOUT = 1_000_000
# Expert demonstrations on held-out seeds that judge each decision's confidence (the
# closed loop only knows whether a whole episode succeeded): seeds past the eval's.
CALIB_SEEDS = HELDOUT + 500


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _size(text: str) -> tuple[int, int]:
    h, w = (int(v) for v in text.lower().split("x"))
    return h, w


def _eval(task: str, seeds: list[int], out: Path, max_steps: int, loop: list | None = None,
          **agent) -> dict:
    """One evaluation's summary; a policy's judged closed-loop confidence too, its per-seed
    rows added to ``loop`` (for the summary over every task)."""
    from deskmimic.agent.evaluate import EvalConfig
    from deskmimic.models.training.gate_report import closed_loop_report
    from deskmimic.tasks.evaluate import run_evaluation

    cfg = EvalConfig(task=task, seeds=tuple(seeds), max_steps=max_steps, keep="none", out=out,
                     **agent)
    r = run_evaluation(cfg)
    row = {k: r[k] for k in ("success_rate", "success_ci95", "successes", "episodes",
                             "mean_steps", "mean_time_s", "stop_reasons", "outcomes")}
    row["_steps_time"] = (sum(x["steps"] for x in r["results"]),
                          sum(x["time_s"] for x in r["results"]))
    if agent.get("agent") == "policy":
        row["closed_loop_confidence"] = cl = closed_loop_report(r["results"])
        if loop is not None:
            loop.extend(r["results"])
        log(f"  closed loop: ECE {cl['ece']}, gate {cl['gate']} stops "
            f"{cl['episode_gate']['successes_stopped']}/{cl['successes']} successes, "
            f"{cl['episode_gate']['failures_stopped']}/{cl['episodes'] - cl['successes']} "
            "failures")
    log(f"  {task} {agent.get('agent')}: {r['successes']}/{r['episodes']} "
        f"({r['seconds']:.0f} s)")
    return row


def _latency(task: str, run_dir: Path, samples: int) -> dict:
    """Decision latency on a live task window: grab + preprocess + policy, per decision.

    ``decision_ms``: decisions within an episode, the pointer moved between them (it is
    drawn into the frame, so every frame differs; the policy re-matches the instruction's
    words only where the screen changed). ``first_decision_ms``: the first decision after
    `Policy.reset`, which matches the whole frame.
    """
    import random

    from deskmimic.agent.inject import open_injector
    from deskmimic.agent.settle import grab_rgb
    from deskmimic.models.perception.terms import instruction_words
    from deskmimic.models.policy import load_policy
    from deskmimic.recorder.capture import open_capture
    from deskmimic.tasks.runner import close_task, make_task, show_task

    policy = load_policy(run_dir, which="last")
    task = show_task(make_task(task, HELDOUT))
    capture = open_capture(draw_cursor=True)
    rng = random.Random(0)
    grab_ms, act_ms, total, first = [], [], [], []
    try:
        region, instruction = task.region(), task.instruction
        with open_injector() as inj:
            for i in range(2 * samples + 3):
                fresh = i % 2 == 0
                if fresh:
                    policy.reset()
                inj.move(region.left + rng.randrange(region.width),
                         region.top + rng.randrange(region.height))
                time.sleep(0.02)  # let the server draw the pointer before the grab
                t0 = time.perf_counter()
                image = grab_rgb(capture, region)
                t1 = time.perf_counter()
                policy.act({"image": image, "instruction": instruction})
                t2 = time.perf_counter()
                if i < 3:  # the first calls warm up torch
                    continue
                if fresh:
                    first.append((t2 - t0) * 1e3)
                    continue
                grab_ms.append((t1 - t0) * 1e3)
                act_ms.append((t2 - t1) * 1e3)
                total.append((t2 - t0) * 1e3)
    finally:
        capture.close()
        close_task(task)

    def pct(v: list[float], q: float) -> float:
        return round(float(np.percentile(v, q)), 2)

    return {"decision_ms_p50": pct(total, 50), "decision_ms_p95": pct(total, 95),
            "capture_ms_p50": pct(grab_ms, 50), "policy_ms_p50": pct(act_ms, 50),
            "policy_ms_p95": pct(act_ms, 95), "decisions_per_s": round(1000 / pct(total, 50), 1),
            "first_decision_ms_p50": pct(first, 50), "first_decision_ms_p95": pct(first, 95),
            "instruction_words": len(instruction_words(instruction)),
            "samples": len(total), "region": [region.width, region.height]}


def _confidence(run_dir: Path, demos: list[Path], cache: Path, which: str,
                pairs: list, trained_on: list[Path]) -> dict:
    """Calibration figures of one policy on recorded held-out demonstrations."""
    from deskmimic.models.training.calibration import judge_recorded, split_fit

    r = judge_recorded(run_dir, demos, cache, which=which, train_episodes=trained_on)
    got = r.pop("pairs")
    if r["calibrated"] is not None:  # fitted on the run's own validation episodes
        conf, shown = got["calibrated"], r["calibrated"]
        conf_eq = conf  # that scaling was fitted on the demonstrated-step sense
    else:  # the recipe holds none out: fit on half these demonstrations, judge the other
        fitted = split_fit(got)
        conf = fitted.pop("pairs")
        r["split_fit"] = shown = fitted
        # a scaling for the other sense of right is fitted on that sense
        r["equivalent"]["split_fit"] = fitted_eq = split_fit(got, right_key="right_equiv")
        conf_eq = fitted_eq.pop("pairs")
    pairs.extend(zip(conf, got["right"], conf_eq, got["right_equiv"], strict=True))
    log(f"  confidence: ECE {shown['ece']} (raw {r['raw']['ece']}), gate {shown['gate']} "
        f"stops {shown['right_stopped']}/{shown['right']} right, lets "
        f"{shown['wrong_let_through']}/{shown['wrong']} wrong through")
    return r


def _confidence_summary(pairs: list) -> dict:
    """Every task's recorded decisions together, right as demonstrated and right or
    equivalent: ECE, the default gate, and a sweep of gates."""
    from deskmimic.models.training.calibration import calibration_report
    from deskmimic.models.training.gate_report import decision_sweep

    out: dict = {}
    for name, col in (("demonstrated", 0), ("equivalent", 2)):
        conf = np.array([p[col] for p in pairs], np.float64)
        right = np.array([p[col + 1] for p in pairs], bool)
        out[name] = {**calibration_report(conf, right), "sweep": decision_sweep(conf, right)}
    return out


def _train_plain(paths: list[Path], runs: Path, name: str, threads: int,
                 steps: int) -> tuple[Path, int, float]:
    """A run trained as `deskmimic train DIR --name NAME --allow-mixed-sizes` trains it
    (``--steps`` too when the bench was given one)."""
    from deskmimic.app.cli import build_parser
    from deskmimic.app.cli.train import build_config
    from deskmimic.models.training.train import train

    args = build_parser().parse_args(["train", *map(str, paths), "--name", name, "--runs-dir",
                                      str(runs), "--allow-mixed-sizes", "--threads", str(threads),
                                      *(["--steps", str(steps)] if steps else [])])
    t0 = time.monotonic()
    events = list(train(build_config(args)))
    return Path(events[-1]["run_dir"]), events[0]["total_steps"], round(time.monotonic() - t0, 1)


def run(args: argparse.Namespace) -> dict:
    import torch

    from deskmimic.tasks import TASKS, all_tasks
    from deskmimic.tasks.learn import QuickTrain, record_task_demos, train_task_policy
    from deskmimic.tasks.runner import ensure_app

    torch.set_num_threads(args.threads)
    known = all_tasks()  # by name, Tk tasks too; the default stays the Qt set
    names = args.tasks.split(",") if args.tasks else sorted(TASKS)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"--tasks: unknown {unknown}; known: {', '.join(sorted(known))}")
    counts = sorted({int(n) for n in args.demos.split(",")})
    h, w = _size(args.input)
    seeds = list(range(HELDOUT, HELDOUT + args.eval_seeds))
    qt = QuickTrain(steps=args.steps or None, epochs=args.epochs, batch_size=args.batch_size,
                    input_height=h, input_width=w, threads=args.threads,
                    word_select=args.word_select)
    ensure_app()
    out = args.out
    result: dict = {"tasks": {}}
    steps_time = [0, 0.0]
    pairs: list = []
    loop: list = []  # every policy evaluation's per-seed rows
    last_run: tuple[str, Path] | None = None
    for name in names:
        t_task = time.monotonic()
        ms = args.max_steps or known[name].max_steps
        row: dict = {"max_steps": ms, "policy": {}}
        ep_dir = out / name / "episodes"
        log(f"{name}: recording {max(counts)} expert demonstrations")
        demos = record_task_demos(name, range(max(counts)), ep_dir, speed=args.speed)
        row["expert_success_rate"] = round(sum(d.success for d in demos) / len(demos), 3)
        ok_paths = [d.path for d in demos if d.success]
        calib: list[Path] = []
        if args.calib_demos:
            log(f"{name}: recording {args.calib_demos} held-out demonstrations for confidence")
            calib = [d.path for d in record_task_demos(
                name, range(CALIB_SEEDS, CALIB_SEEDS + args.calib_demos),
                out / name / "heldout-episodes", speed=args.speed) if d.success]
        for n in counts:
            t0 = time.monotonic()
            run_name = f"{name}-{n}"
            events = list(train_task_policy(ok_paths[:n], out / name / "runs", run_name, qt))
            row["train_steps"] = events[0]["total_steps"]  # of the last count (sized per count)
            train_s = round(time.monotonic() - t0, 1)
            run_dir = Path(events[-1]["run_dir"])
            metrics = next((e["metrics"] for e in reversed(events) if e["event"] == "epoch"), {})
            log(f"  trained on {min(n, len(ok_paths))} demos in {train_s} s: {metrics}")
            ev = _eval(name, seeds, out / name / f"eval-policy-{n}", ms, loop, agent="policy",
                       policy=run_dir)
            steps_time[0] += ev["_steps_time"][0]
            steps_time[1] += ev["_steps_time"][1]
            ev.pop("_steps_time")
            ev.update(train_seconds=train_s, train_steps=events[0]["total_steps"], train_fit={k: round(v, 3) for k, v in metrics.items()
                                                        if k in ("kind_acc", "click_in_target",
                                                                 "pixel_error", "loss")})
            if calib:
                ev["recorded_confidence"] = _confidence(run_dir, calib, out / "judge-cache",
                                                        "last", pairs, ok_paths[:n])
            row["policy"][str(n)] = ev
            last_run = (name, run_dir)
            if args.plain:
                plain_dir, plain_steps, plain_s = _train_plain(
                    ok_paths[:n], out / name / "runs", f"plain-{name}-{n}", args.threads,
                    args.steps)
                pv = _eval(name, seeds, out / name / f"eval-plain-{n}", ms, agent="policy",
                           policy=plain_dir)
                pv.pop("_steps_time")
                pv.update(train_seconds=plain_s, train_steps=plain_steps)
                if calib:
                    pv["recorded_confidence"] = _confidence(
                        plain_dir, calib, out / "judge-cache", "best", [], ok_paths[:n])
                row.setdefault("plain", {})[str(n)] = pv
        if not args.no_macro and ok_paths:
            row["macro"] = _eval(name, seeds, out / name / "eval-macro", ms, agent="macro",
                                 demo=ok_paths[0], macro_speed=args.speed)
            row["macro"].pop("_steps_time")
        if not args.no_random:
            row["random"] = _eval(name, seeds, out / name / "eval-random", ms, agent="random")
            row["random"].pop("_steps_time")
        row["seconds"] = round(time.monotonic() - t_task, 1)
        result["tasks"][name] = row
        # A long run can be stopped between tasks and still leave its numbers.
        (out / "partial.json").write_text(json.dumps(result) + "\n")
    if last_run is not None:
        result["latency"] = _latency(last_run[0], last_run[1], args.latency_samples)
        result["latency"]["policy_run"] = last_run[0]
    if pairs:
        result["recorded_confidence"] = _confidence_summary(pairs)
    if loop:
        from deskmimic.models.training.gate_report import closed_loop_report

        result["closed_loop_confidence"] = closed_loop_report(loop)
        result["closed_loop_confidence"].pop("failed")  # listed per task, where seeds mean one
    result["closed_loop_steps_per_s"] = (round(steps_time[0] / steps_time[1], 2)
                                         if steps_time[1] else None)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", help="comma list (default: every practice task)")
    p.add_argument("--demos", default="10,20,50", help="demo counts to train with (default 10,20,50)")
    p.add_argument("--eval-seeds", type=int, default=50, help="held-out seeds per agent (default 50)")
    p.add_argument("--steps", type=int, default=0,
                   help="optimizer steps per training (default 0: sized from the number of "
                        "samples, models/training/schedule.py)")
    p.add_argument("--epochs", type=int, default=4, help="checkpoints per training (default 4)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--input", default="128x160", help="network input HxW (default 128x160)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--speed", type=float, default=2.0, help="expert and macro speed (default 2)")
    p.add_argument("--max-steps", type=int, default=0, help="decisions per episode (0: per task)")
    p.add_argument("--latency-samples", type=int, default=50)
    p.add_argument("--no-macro", action="store_true", help="skip the macro baseline")
    p.add_argument("--no-random", action="store_true", help="skip the random baseline")
    p.add_argument("--calib-demos", type=int, default=None,
                   help="held-out expert demonstrations per task that judge the confidence "
                        "(default: as many as --eval-seeds, at most 20; 0: skip)")
    p.add_argument("--plain", action="store_true",
                   help="also train and evaluate the way plain `deskmimic train` does")
    p.add_argument("--no-word-select", dest="word_select", action="store_false",
                   help="one match channel for all instruction words (the earlier policy)")
    p.add_argument("--out", type=Path, help="keep demos, runs and reports here (default: temporary)")
    args = p.parse_args()
    if args.calib_demos is None:
        args.calib_demos = min(20, args.eval_seeds)
    if args.eval_seeds < 1 or args.steps < 0 or args.epochs < 1 or args.calib_demos < 0:
        p.error("--eval-seeds and --epochs must be at least 1, --steps and --calib-demos at "
                "least 0")
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    tmp = None
    if args.out is None:
        tmp = Path(tempfile.mkdtemp(prefix="deskmimic-learning-bench-"))
        args.out = tmp
    elif args.out.exists() and any(args.out.iterdir()):
        p.error(f"--out {args.out}: exists and is not empty")
    os.environ["DESKMIMIC_HOME"] = str(args.out / "home")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see app/cli/train.py
    t0 = time.monotonic()
    try:
        with Xvfb() as x:
            os.environ["DISPLAY"] = x.display
            os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
            result = run(args)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "bench": "learning",
        "settings": {"demos": args.demos, "eval_seeds": args.eval_seeds, "steps": args.steps or "from the data (train_steps)",
                     "calib_demos": args.calib_demos, "plain": args.plain,
                     "epochs": args.epochs, "batch_size": args.batch_size, "input": args.input,
                     "threads": args.threads, "speed": args.speed,
                     "word_select": args.word_select,
                     "heldout_seeds": f"{HELDOUT}-{HELDOUT + args.eval_seeds - 1}"},
        **result,
        "seconds": round(time.monotonic() - t0, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
