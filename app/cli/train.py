"""`deskmimic train EPISODES_OR_DIR... --name NAME`: behavior cloning from recorded episodes.

Parses arguments into a `TrainConfig` and runs `deskmimic.models.training.train.train`, showing a
progress bar. Under `torchrun` every process trains; only rank 0 prints and writes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from deskmimic.core.errors import ConfigError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a policy on recorded episodes",
        description="Train a behavior-cloning policy on recorded episodes. The run is written "
        "to RUNS_DIR/NAME (config.json, metrics.jsonl, checkpoints/<step>/ with 'last' and "
        "'best' links). Distributed: torchrun --nproc_per_node=N -m deskmimic.app.cli train ...",
    )
    p.add_argument(
        "episodes", nargs="*", type=Path, metavar="EPISODES_OR_DIR",
        help="episode folders or folders of episodes (default: $DESKMIMIC_HOME/episodes)",
    )
    p.add_argument("--name", required=True, help="run name (folder under --runs-dir)")
    p.add_argument("--runs-dir", type=Path, help="parent of runs (default: $DESKMIMIC_HOME/runs)")
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the data (default: the number of optimizer steps is sized "
                        "from the number of training samples; with --steps: checkpoints)")
    p.add_argument("--steps", type=int, default=None,
                   help="optimizer steps in all (default: sized from the number of samples)")
    p.add_argument("--batch-size", type=int, default=32, help="samples per step (default 32)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto (default: CUDA if present), cpu, cuda, cuda:N")
    p.add_argument("--resume", action="store_true", help="continue the run from its last checkpoint")
    p.add_argument("--smoke", action="store_true", help="a few iterations only, to check the setup")
    p.add_argument("--val-fraction", type=float, default=0.15,
                   help="share of episodes held out for validation (default 0.15)")
    p.add_argument("--input-size", default="160x256", metavar="HxW",
                   help="network input height x width, multiples of 32 (default 160x256)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads per process (default 2)")
    p.add_argument("--cache-dir", type=Path, help="preprocessed-sample cache (default: RUNS_DIR/.cache)")
    p.add_argument("--allow-mixed-sizes", action="store_true",
                   help="train on episodes whose captured areas differ in size")
    p.add_argument("--no-augment", action="store_true", help="disable shift / colour augmentation")
    p.add_argument("--no-text-match", action="store_true",
                   help="do not show the net where the instruction's words are written "
                        "(docs/learning.md 3a)")
    p.add_argument("--no-word-select", action="store_true",
                   help="one match map for all the instruction's words instead of one per "
                        "word, picked per step (docs/learning.md 3b)")
    p.add_argument("--keep-typed-text", action="store_true",
                   help="store the text typed in the demonstrations in the checkpoint (verbatim, "
                        "in its config.json) so the policy can type it again; by default it "
                        "types only what it copies from the instruction")
    p.add_argument("--keep-checkpoints", type=int, default=5, metavar="N",
                   help="keep the newest N checkpoints besides the best one (0: all; default 5)")
    p.add_argument("--json", action="store_true", help="print the final summary as JSON")
    p.set_defaults(func=run)


def _input_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise ConfigError(f"--input-size {text!r}: expected HxW, e.g. 160x256")
    return int(m.group(1)), int(m.group(2))


def build_config(args: argparse.Namespace):
    """The `TrainConfig` for parsed arguments (validated; errors name the flag)."""
    from deskmimic.core.paths import default_episodes_dir
    from deskmimic.models.training.config import TrainConfig

    h, w = _input_size(args.input_size)
    episodes = tuple(args.episodes) or (default_episodes_dir(),)
    return TrainConfig(
        episodes=episodes, name=args.name, runs_dir=args.runs_dir, epochs=args.epochs, steps=args.steps,
        batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device,
        resume=args.resume, smoke=args.smoke, val_fraction=args.val_fraction, input_height=h,
        input_width=w, num_threads=args.threads, cache_dir=args.cache_dir,
        allow_mixed_sizes=args.allow_mixed_sizes, augment=not args.no_augment,
        keep_checkpoints=args.keep_checkpoints, text_match=not args.no_text_match,
        word_select=not args.no_word_select, keep_typed_text=args.keep_typed_text,
    )


def _fmt_metrics(m: dict) -> str:
    keys = ("loss", "kind_acc", "click_in_target", "pixel_error", "text_acc", "chord_acc")
    return "  ".join(f"{k} {m[k]:.3g}" for k in keys if k in m)


def run(args: argparse.Namespace) -> int:
    # Must precede the first torch import (OpenMP reads it once). Spinning OpenMP threads
    # wait on each other when the cores are busy with other work: measured on a loaded
    # 2-core machine, a 2-thread training step took 3-6 s spinning, 0.5 s passive.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from tqdm import tqdm

    from deskmimic.models.training.train import train

    cfg = build_config(args)
    main = int(os.environ.get("RANK", "0")) == 0
    bar = None
    final: dict = {}
    for ev in train(cfg):
        kind = ev["event"]
        if not main:
            continue
        if kind == "start":
            total = ev["total_steps"]
            print(f"deskmimic train: {ev['train_samples']} training / {ev['val_samples']} validation "
                  f"samples on {ev['device']} (x{ev['world_size']}) -> {ev['run_dir']}", file=sys.stderr)
            bar = tqdm(total=total, initial=min(ev["step"], total), unit="step", file=sys.stderr,
                       desc=f"train {cfg.name}", disable=None)
        elif kind == "step" and bar is not None:
            bar.update(ev["step"] - bar.n)
            bar.set_postfix(loss=f"{ev['loss']:.3f}", epoch=ev["epoch"] + 1)
        elif kind == "epoch" and bar is not None:
            bar.update(ev["step"] - bar.n)
            mark = " *best*" if ev["best"] else ""
            bar.write(f"epoch {ev['epoch']}: train loss {ev['loss']:.3f}  val {_fmt_metrics(ev['metrics'])}{mark}")
        elif kind == "done":
            final = ev
    if bar is not None:
        bar.close()
    if not main:
        return 0
    if args.json:
        print(json.dumps(final))
    else:
        print(f"run: {final.get('run_dir')}  ({final.get('step')} steps, {final.get('epoch')} epochs)")
        best = final.get("best") or {}
        if best:
            print(f"best checkpoint: {Path(final['best_checkpoint']).resolve()} "
                  f"(epoch {best.get('epoch')}, score {best.get('score', 0):.3f})")
    return 0
