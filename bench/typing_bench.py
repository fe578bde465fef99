"""Typed-text benchmark (issue 22, item 2): exact-match rate of the typed text on
instructions never seen in training, by length and for compositions.

    .venv/bin/python bench/typing_bench.py [--per-template 20] [--eval 50] [--seed 0]
        [--head program|span] [--quick] [--out DIR]

Trains one policy the way `deskmimic train` does (the step count sized from the data,
`schedule.planned_steps`; its batch, learning rate and augmentation) on ``--per-template``
synthetic one-step demonstrations of each template of
`deskmimic.models.data.synthetic_typing` (values, paths, sentences of 100-200
characters, a path in two parts, an e-mail address, a fixed greeting around a name), then
decodes ``--eval`` new instructions per template (other values, same wording) with the
decoding replay uses (`decode_actions`). Prints ONE JSON object on stdout:

- ``exact``: typed text == demonstrated text, by the text's length (``le20``: 1-20
  characters, ``le80``: 21-80, ``le200``: 81-200) and for ``compositions`` (two copies and a literal, or a greeting around
  a copy), each {"n", "rate", "ci95"}; ``by_template`` too;
- ``confidence``: mean decoded confidence of the right and the wrong texts;
- ``wrong``: up to 10 examples (demonstrated -> typed);
- ``train_s``, ``steps``, ``samples``, ``max_text_len``, ``literals``.

``--head span`` trains the one-span head of checkpoints from before the program, for
comparison. ``--quick``: 4 demonstrations per template, 40 steps, 4 evaluations each
(a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from deskmimic.models.data.dataset import split_samples
from deskmimic.models.data.synthetic_typing import TEMPLATES, typing_samples
from deskmimic.models.net.decode import decode_actions
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.runs import CHECKPOINTS_DIR, LAST
from deskmimic.models.training import build
from deskmimic.models.training.checkpoint import load_checkpoint
from deskmimic.models.training.config import TrainConfig
from deskmimic.models.training.train import run_training

EVAL_SEED = 1_000_003  # held-out values: another random stream than any training seed
BUCKETS = (("le20", 20), ("le80", 80), ("le200", 200))


def _rate(ok: list[bool]) -> dict:
    """Rate with a Wilson 95 % interval."""
    n, k = len(ok), sum(ok)
    if not n:
        return {"n": 0}
    p, z = k / n, 1.96
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"n": n, "rate": round(p, 4), "ci95": [round(mid - half, 4), round(mid + half, 4)]}


def train_policy(args: argparse.Namespace, root: Path) -> tuple[Path, float, dict]:
    train = typing_samples(args.per_template, seed=args.seed)
    cfg = TrainConfig(
        name="typing", runs_dir=root / "runs", cache_dir=root / "cache",
        input_height=64, input_width=64, num_threads=args.threads, device=args.device,
        val_fraction=0.0, seed=args.seed, text_match=False,  # plain frames: nothing to match
        steps=args.steps, log_every=10_000,
    )
    if args.head == "span":
        build.PROGRAM_SLOTS = 0  # the one-span head of checkpoints from before the program
    t0 = time.time()
    done = run_training(cfg, split_samples(train, 0.0, args.seed))
    return cfg.run_dir, time.time() - t0, done


@torch.no_grad()
def evaluate(run_dir: Path, per_template: int, seed: int) -> dict:
    spec, net, _ = load_checkpoint(run_dir / CHECKPOINTS_DIR / LAST)
    net.eval()
    tok = CharTokenizer.from_config(spec.tokenizer)
    test = typing_samples(per_template, seed=seed)
    results = []
    for i in range(0, len(test), 32):
        rows = test[i : i + 32]
        out = net(
            torch.from_numpy(np.stack([s.image for s in rows])),
            torch.from_numpy(np.stack([tok.encode(s.instruction) for s in rows])),
            torch.from_numpy(np.stack([spec.space.history_tokens([]) for _ in rows])),
        )
        acts = decode_actions(out, spec.space, [s.instruction for s in rows],
                              [(s.width, s.height) for s in rows])
        results += [(s, a) for s, a in zip(rows, acts, strict=True)]
    group = lambda s: s.episode.split("-")[2]  # noqa: E731 (typing-<seed>-<template>-<i>)
    ok = [(s, a.kind == "type" and a.text == s.action.text, a) for s, a in results]
    lo = dict(zip((n for n, _ in BUCKETS), (0, *(hi for _, hi in BUCKETS)), strict=False))
    exact = {
        name: _rate([o for s, o, _ in ok if lo[name] < len(s.action.text) <= hi
                     and TEMPLATES[group(s)][0] != "compose"])
        for name, hi in BUCKETS
    }
    exact["compositions"] = _rate([o for s, o, _ in ok if TEMPLATES[group(s)][0] == "compose"])
    exact["all"] = _rate([o for _, o, _ in ok])
    conf = lambda right: [a.confidence for _, o, a in ok if o == right]  # noqa: E731
    return {
        "exact": exact,
        "by_template": {t: _rate([o for s, o, _ in ok if group(s) == t]) for t in TEMPLATES},
        "confidence": {
            "right_mean": round(float(np.mean(conf(True))), 4) if conf(True) else None,
            "wrong_mean": round(float(np.mean(conf(False))), 4) if conf(False) else None,
        },
        "wrong": [
            {"template": group(s), "demonstrated": s.action.text, "typed": a.text,
             "kind": a.kind, "confidence": round(a.confidence, 4)}
            for s, o, a in ok if not o
        ][:10],
        "max_text_len": tok.max_len,
        "literals": list(spec.space.literals),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--per-template", type=int, default=20)
    p.add_argument("--eval", type=int, default=50, help="held-out instructions per template")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="default: the planned schedule")
    p.add_argument("--head", choices=("program", "span"), default="program")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None, help="keep the run here")
    args = p.parse_args(argv)
    if args.quick:
        args.per_template, args.steps, args.eval = 4, 40, 4
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="typing-bench-") as tmp:
        root = args.out or Path(tmp)
        run_dir, train_s, done = train_policy(args, root)
        result = evaluate(run_dir, args.eval, EVAL_SEED + args.seed)
    result.update(
        bench="typing", head=args.head, per_template=args.per_template, samples=args.per_template * len(TEMPLATES),
        steps=int(done.get("step", 0)), train_s=round(train_s, 1), quick=args.quick,
        templates=sorted(TEMPLATES),
    )
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
