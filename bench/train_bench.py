"""Training benchmark: learn practice tasks from real demonstrations, print ONE JSON object.

Starts a private Xvfb (1280x800x24), records expert demonstrations of each task through
the real recorder (training seeds from 0, validation seeds from the held-out range
>= 1,000,000, whose labels and strings never occur in training seeds), trains one
multi-task policy on them on the CPU, and reports:

- training throughput (samples/s, steps/s) and time per epoch on this machine;
- per task, the validation metrics after every epoch, the best ones, and the training
  minutes taken to reach them (click-in-target for ``click_button``; typed-text accuracy
  on unseen strings for ``type_field``);
- inference latency of `BCPolicy.act` at batch 1 (p50/p95) at the default input size.

Issue 6 targets: >= 95 % click-in-target within 10 minutes on 2 cores, >= 90 % typed-text
accuracy on unseen strings, inference p50 <= 10 ms. Progress goes to stderr. The policy
gets the instruction match channel (`deskmimic.models.perception.text_match`) unless
``--no-text-match`` (the baseline).

    .venv/bin/python bench/train_bench.py                      # the full run (< 10 min)
    .venv/bin/python bench/train_bench.py --click-demos 2 --type-demos 2 --val-demos 1 --epochs 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from deskmimic.recorder.virtual_display import Xvfb

if TYPE_CHECKING:  # annotations only: the functions import the models after the display is up
    from deskmimic.models.data.dataset import DatasetSplit
    from deskmimic.models.training.config import TrainConfig

DEFAULT_SIZE = (160, 256)
VAL_SEED_START = 100_000  # validation seeds in the training vocabulary, far from 0..N


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _record(task: str, seeds: list[int], out: Path) -> tuple[list[Path], float, int]:
    from deskmimic.tasks.demos import record_demos

    if out.is_dir() and len(list(out.iterdir())) == len(seeds):  # --keep: reuse a recording
        return sorted(out.iterdir()), 0.0, 0
    t0 = time.monotonic()
    demos = record_demos(task, seeds, out)
    ok = [d.path for d in demos if d.success]
    return ok, time.monotonic() - t0, len(demos) - len(ok)


def _samples(paths: list[Path], h: int, w: int, text_match: bool, words: bool) -> list:
    from deskmimic.models.data.dataset import load_episode_samples

    out = []
    for p in paths:
        out.extend(load_episode_samples(p, h, w, cache_dir=None, text_match=text_match,
                                        word_maps=text_match and words)[1])
    return out


def _boxes(path: Path) -> dict:
    return json.loads((path / "meta.json").read_text()).get("extra", {}).get("boxes", {})


def _per_task_metrics(ckpt: str, val_sets: dict, device) -> dict:
    from deskmimic.models.training.checkpoint import load_checkpoint
    from deskmimic.models.training.validate import evaluate

    _, net, _ = load_checkpoint(ckpt)
    return {task: evaluate(net, ds, device) for task, ds in val_sets.items()}


def _latency(run_dir: Path, trained_size: tuple[int, int], image, instruction: str,
             calls: int) -> dict:
    import torch

    from deskmimic.models.net.policy_net import NetConfig
    from deskmimic.models.policy import BCPolicy, load_policy
    from deskmimic.models.training.checkpoint import PolicySpec

    policy = load_policy(run_dir, which="last")
    if trained_size != DEFAULT_SIZE:  # same heads, default input size (weights do not matter)
        s = policy.spec
        net_cfg = NetConfig(**{**s.net.to_dict(), "input_height": DEFAULT_SIZE[0],
                               "input_width": DEFAULT_SIZE[1], "channels": tuple(s.net.channels),
                               "decoder_channels": tuple(s.net.decoder_channels),
                               "mean": tuple(s.net.mean), "std": tuple(s.net.std)})
        spec = PolicySpec(net_cfg, s.space, s.tokenizer, s.screen, s.info)
        policy = BCPolicy(spec.build_net(), spec)
    obs = {"image": image, "instruction": instruction}
    for _ in range(10):
        policy.act(obs)
    times, cpu = [], []
    deadline = time.monotonic() + 30.0  # a busy machine must not stretch the benchmark
    for _ in range(calls):
        t0, c0 = time.perf_counter(), time.process_time()
        policy.act(obs)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        if time.monotonic() > deadline:
            break

    def pct(values: list[float], q: float) -> float:
        v = sorted(values)
        return round(v[min(len(v) - 1, int(len(v) * q))], 2)

    return {"input_size": list(DEFAULT_SIZE), "threads": torch.get_num_threads(),
            "calls": len(times), "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95),
            "cpu_p50_ms": pct(cpu, 0.5),
            "frame_size": [int(image.shape[1]), int(image.shape[0])]}


def _record_all(args: argparse.Namespace, tasks: dict[str, int],
                work: Path) -> tuple[dict, dict[str, list[Path]], dict[str, list[Path]]]:
    """Record every task's training and validation demos: (per-task record figures,
    training episodes by task, validation episodes by set name)."""
    from deskmimic.tasks.vocab import HELDOUT_SEED_START

    rec: dict = {}
    train_eps: dict[str, list[Path]] = {}
    val_eps: dict[str, list[Path]] = {}
    for task, n in tasks.items():
        tr, t_tr, f_tr = _record(task, list(range(n)), work / "eps" / task / "train")
        # Two validation sets: unseen seeds drawing from the training vocabulary, and
        # held-out seeds whose labels / strings never occur in any training seed.
        vs, t_vs, f_vs = _record(task, list(range(VAL_SEED_START, VAL_SEED_START +
                                                  args.val_demos)), work / "eps" / task / "val")
        va, t_va, f_va = _record(task, list(range(HELDOUT_SEED_START,
                                                  HELDOUT_SEED_START + args.val_demos)),
                                 work / "eps" / task / "heldout")
        train_eps[task], val_eps[task], val_eps[f"{task}@heldout"] = tr, vs, va
        seconds = t_tr + t_vs + t_va
        rec[task] = {"train_episodes": len(tr), "val_episodes": len(vs),
                     "heldout_episodes": len(va), "failed_demos": f_tr + f_vs + f_va,
                     "record_seconds": round(seconds, 1)}
        log(f"{task}: recorded {len(tr)} training + {len(vs)} + {len(va)} validation demos "
            f"in {seconds:.0f} s")
    return rec, train_eps, val_eps


def _load_split(train_eps: dict[str, list[Path]], val_eps: dict[str, list[Path]], h: int,
                w: int, tm: bool, ws: bool) -> tuple[DatasetSplit, dict[str, list], float]:
    """The samples as one multi-task `DatasetSplit`, the validation samples by set, and
    the seconds loading took."""
    from deskmimic.models.data.dataset import DatasetSplit

    t0 = time.monotonic()
    train_samples = [s for t in train_eps for s in _samples(train_eps[t], h, w, tm, ws)]
    val_by_task = {t: _samples(paths, h, w, tm, ws) for t, paths in val_eps.items()}
    load_s = time.monotonic() - t0
    sizes = [(s.width, s.height) for s in train_samples]
    data = DatasetSplit(
        train=train_samples, val=[s for v in val_by_task.values() for s in v],
        screen={"width": int(statistics.median(x for x, _ in sizes)),
                "height": int(statistics.median(y for _, y in sizes)), "region": None},
        train_episodes=sorted({s.episode for s in train_samples}),
        val_episodes=sorted({s.episode for v in val_by_task.values() for s in v}))
    return data, val_by_task, load_s


def _train_tracked(args: argparse.Namespace, cfg: TrainConfig, data: DatasetSplit,
                   val_sets: dict) -> dict:
    """Train, evaluating every epoch's checkpoint on each validation set, until the
    planned epochs or the time cap: the per-epoch history and the timing figures."""
    import torch

    from deskmimic.models.training.train import train

    history: list[dict] = []
    train_s = 0.0  # training wall time, without this benchmark's own per-task evaluation
    epoch_s, loop_s, steps = [], [], 0
    t_epoch = time.monotonic()
    start: dict = {}
    for ev in train(cfg, data):
        if ev["event"] == "start":
            start = ev
            t_epoch = time.monotonic()
        elif ev["event"] == "epoch":
            dt = time.monotonic() - t_epoch
            train_s += dt
            epoch_s.append(dt)
            loop_s.append(ev["seconds"])
            steps = ev["step"]
            per_task = _per_task_metrics(ev["checkpoint"], val_sets, torch.device("cpu"))
            history.append({"epoch": ev["epoch"], "minutes": round(train_s / 60, 3),
                            "train_loss": round(ev["loss"], 4),
                            **{t: {k: round(v, 4) for k, v in m.items()
                                   if k in ("click_in_target", "text_acc", "kind_acc",
                                            "pixel_error")}
                               for t, m in per_task.items()}})
            log(f"epoch {ev['epoch']} ({train_s:.0f} s): loss {ev['loss']:.3f}  "
                + "  ".join(f"{t} {history[-1][t]}" for t in val_sets))
            if train_s > args.minutes * 60:
                log(f"time budget of {args.minutes} min reached: stopping")
                break
            t_epoch = time.monotonic()
    return {"history": history, "start": start, "train_s": train_s, "epoch_s": epoch_s,
            "loop_s": loop_s, "steps": steps}


def _best(history: list[dict], task: str, key: str) -> dict | None:
    """The best value of ``key`` on ``task``, the epoch and minutes it was first reached,
    and the final value."""
    rows = [r for r in history if key in r.get(task, {})]
    if not rows:
        return None
    top = max(r[task][key] for r in rows)
    first = next(r for r in rows if r[task][key] == top)
    final = rows[-1][task][key]
    return {"best": top, "epoch": first["epoch"], "minutes_to_best": first["minutes"],
            "final": final}


def _reach(history: list[dict], task: str, key: str, target: float) -> float | None:
    """Training minutes until ``key`` on ``task`` first reached ``target`` (None: never)."""
    return next((r["minutes"] for r in history if r.get(task, {}).get(key, -1) >= target),
                None)


def _task_results(history: list[dict], tasks: dict, val_eps: dict[str, list[Path]]) -> dict:
    results: dict = {}
    if "click_button" in tasks:
        # what clicking a random button would score: 1 / number of buttons, averaged
        chance = [1 / max(1, sum(k.startswith("button:") for k in _boxes(p))) for p in
                  val_eps["click_button"]]
        results["click_button"] = {
            "chance_click_in_target": round(statistics.mean(chance), 3) if chance else None,
            "click_in_target": _best(history, "click_button", "click_in_target"),
            "minutes_to_95": _reach(history, "click_button", "click_in_target", 0.95),
            "click_in_target_heldout_labels": _best(history, "click_button@heldout",
                                                    "click_in_target"),
            "kind_acc": _best(history, "click_button", "kind_acc")}
    if "type_field" in tasks:
        results["type_field"] = {
            "text_acc_unseen_strings": _best(history, "type_field@heldout", "text_acc"),
            "minutes_to_90": _reach(history, "type_field@heldout", "text_acc", 0.90),
            "text_acc_train_vocab": _best(history, "type_field", "text_acc"),
            "click_in_target": _best(history, "type_field", "click_in_target"),
            "click_in_target_heldout_fields": _best(history, "type_field@heldout",
                                                    "click_in_target"),
            "kind_acc": _best(history, "type_field", "kind_acc")}
    return results


def _throughput(n_train: int, t: dict) -> dict:
    loop_s, epoch_s, steps = t["loop_s"], t["epoch_s"], t["steps"]
    return {
        "train_samples_per_s": round(n_train * len(loop_s) / max(sum(loop_s), 1e-9), 1),
        "steps_per_s": round(steps / max(sum(loop_s), 1e-9), 2),
        "epoch_seconds": round(statistics.mean(epoch_s), 2) if epoch_s else None,
        "epoch_train_loop_seconds": round(statistics.mean(loop_s), 2) if loop_s else None,
        "epochs": len(epoch_s), "steps": steps,
        "training_minutes": round(t["train_s"] / 60, 2)}


def _targets(result: dict, tasks: dict) -> dict:
    results = result["results"]
    return {
        "click_in_target_ge_0.95_within_10_min": bool(
            "click_button" in tasks and results["click_button"]["minutes_to_95"]
            is not None and results["click_button"]["minutes_to_95"] <= 10),
        "typed_text_unseen_ge_0.90": bool(
            "type_field" in tasks and (results["type_field"]["text_acc_unseen_strings"]
                                       or {}).get("best", 0) >= 0.9),
        "inference_p50_le_10_ms": result["inference"]["p50_ms"] <= 10.0}


def run(args: argparse.Namespace, work: Path) -> dict:
    import torch

    from deskmimic.models.data.samples import SampleSet
    from deskmimic.models.training.build import space_and_tokenizer
    from deskmimic.models.training.config import TrainConfig
    from deskmimic.recorder.episode import Episode
    from deskmimic.tasks.runner import ensure_app

    torch.set_num_threads(args.threads)
    load_start = round(os.getloadavg()[0], 2)
    h, w = (int(v) for v in args.input_size.lower().split("x"))
    ensure_app()
    tasks = {"click_button": args.click_demos, "type_field": args.type_demos}
    tasks = {k: v for k, v in tasks.items() if v > 0}
    rec, train_eps, val_eps = _record_all(args, tasks, work)

    tm, ws = args.text_match, args.word_select
    data, val_by_task, load_s = _load_split(train_eps, val_eps, h, w, tm, ws)
    cfg = TrainConfig(name=time.strftime("bench-%Y%m%dT%H%M%S"), runs_dir=work / "runs", epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, seed=args.seed, device="cpu",
                      input_height=h, input_width=w, num_threads=args.threads,
                      log_every=10**9, allow_mixed_sizes=True, text_match=tm,
                      word_select=ws)
    # The run's own action space and tokenizer: the validation targets must be the net's.
    space, tok = space_and_tokenizer(cfg, data, None)
    val_sets = {t: SampleSet(v, space, tok) for t, v in val_by_task.items()}
    unseen = {t: sorted({s.action.text for s in v if s.action.kind == "type"}
                        - set(space.strings)) for t, v in val_by_task.items()}
    timing = _train_tracked(args, cfg, data, val_sets)
    n_train = timing["start"].get("train_samples", len(data.train))
    result: dict = {
        "bench": "train",
        "machine": {"cpus": os.cpu_count(), "torch_threads": args.threads,
                    # other work on the machine slows training: say how busy it was
                    "load_average_1min_at_start": load_start,
                    "load_average_1min_at_end": round(os.getloadavg()[0], 2),
                    "python": platform.python_version(), "torch": torch.__version__},
        "config": {"input_size": [h, w], "batch_size": args.batch_size, "lr": args.lr,
                   "epochs_planned": args.epochs, "minutes_cap": args.minutes,
                   "seed": args.seed, "text_match": tm,
                   "word_select": tm and ws},
        "data": {"tasks": rec, "train_samples": n_train,
                 "val_samples": {t: len(v) for t, v in val_by_task.items()},
                 "load_seconds": round(load_s, 1),
                 "unseen_val_strings": {t: len(u) for t, u in unseen.items() if u}},
        "throughput": _throughput(n_train, timing),
        "results": _task_results(timing["history"], tasks, val_eps),
        "history": timing["history"],
    }
    ep_path = next(iter(val_eps.values()))[0]
    with Episode.open(ep_path) as ep:
        image, instruction = ep.frame(0), ep.instruction
    result["inference"] = _latency(cfg.run_dir, (h, w), image, instruction, args.latency_calls)
    result["targets"] = _targets(result, tasks)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--click-demos", type=int, default=20, help="click_button training demos")
    p.add_argument("--type-demos", type=int, default=20, help="type_field training demos")
    p.add_argument("--val-demos", type=int, default=8,
                   help="validation demos per task and set (training / held-out vocabulary)")
    p.add_argument("--epochs", type=int, default=80, help="planned epochs (LR schedule)")
    p.add_argument("--minutes", type=float, default=4.5, help="training time cap")
    p.add_argument("--input-size", default="160x256", help="HxW (default 160x256)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--no-text-match", dest="text_match", action="store_false",
                   help="train without the instruction match channel (the baseline)")
    p.add_argument("--no-word-select", dest="word_select", action="store_false",
                   help="one match channel for all instruction words (no word selection)")
    p.add_argument("--latency-calls", type=int, default=200)
    p.add_argument("--keep", type=Path, help="keep demos and the run in this folder (demos "
                   "already there are reused; the run folder must not exist)")
    p.add_argument("--use-display", action="store_true",
                   help="use $DISPLAY instead of starting a private Xvfb")
    args = p.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see app/cli/train.py
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    xvfb = None if args.use_display else Xvfb()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="train_bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        try:
            if xvfb is not None:
                os.environ["DISPLAY"] = xvfb.start()
                os.environ.pop("WAYLAND_DISPLAY", None)
            log(f"display {os.environ.get('DISPLAY')}, work folder {work}")
            result = run(args, work)
        finally:
            if xvfb is not None:
                xvfb.stop()
    result["total_seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
