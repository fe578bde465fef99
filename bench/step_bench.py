"""Step-by-step accuracy of a trained policy on held-out expert demonstrations.

    .venv/bin/python bench/step_bench.py --policy RUN_DIR --task workflow
        [--seeds 1000000-1000049] [--demos DIR] [--speed 2.0] [--which best|last]

Records one expert demonstration per seed on a private Xvfb (held-out seeds by default;
kept under ``--demos`` and reused when that folder already holds them), then gives the
policy each pointer step's state frame with the demonstration's own action history and
checks whether its point lies in the box the expert aimed at (``extra["targets"]``;
for a drag also the end). A closed-loop episode stops at its first mistake and hides
the steps after it; here every step is judged, so a multi-step task gets a figure per
step (the workflow's menu, entry, fields, option, OK) and each miss is listed with the
instruction term the policy picked. Prints one JSON object on stdout, progress on
stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from deskmimic.recorder.virtual_display import Xvfb


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def inside(box: list, x: int | None, y: int | None) -> bool:
    return x is not None and box[0] <= x < box[0] + box[2] and box[1] <= y < box[1] + box[3]


def episode_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if (p / "meta.json").is_file())


def judge(policy, ep, steps, terms_of) -> tuple[list[dict], str | None]:
    """Every pointer step of one episode: hit or miss, or why the episode was skipped."""
    from deskmimic.models.actions import POINTER_KINDS, action_from_step

    targets = ep.extra.get("targets") or []
    actions = [(s, a) for s in steps if (a := action_from_step(s)) is not None]
    pointer = [(s, a) for s, a in actions if a.kind in POINTER_KINDS and a.x is not None]
    if len(pointer) != len(targets):
        return [], f"{len(pointer)} pointer steps but {len(targets)} targets"
    if any(s.frame_index is None for s, _ in pointer):
        return [], "a pointer step started before the first frame"
    rows = []
    history: list[str] = []
    k = 0
    for s, a in actions:
        if a.kind in POINTER_KINDS and a.x is not None:
            target = targets[k]
            policy.set_history(history)
            out = policy.act({"image": ep.frame(s.frame_index), "instruction": ep.instruction})
            hit = inside(target["box"], out.x, out.y)
            if "end" in target:
                hit = hit and inside(target["end"], out.x2, out.y2)
            rows.append({"step": k, "kind": a.kind, "hit": hit, "kind_ok": out.kind == a.kind,
                         "demo": [a.x, a.y], "policy": [out.x, out.y],
                         **terms_of(ep.instruction or "")})
            k += 1
        history.append(a.kind)
    return rows, None


def run(args: argparse.Namespace) -> dict:
    import torch

    from deskmimic.models.data.steps import steps_for_episode
    from deskmimic.models.perception.terms import term_texts
    from deskmimic.models.policy import load_policy
    from deskmimic.recorder.episode import Episode
    from deskmimic.tasks.demos import parse_seeds, record_demos
    from deskmimic.tasks.runner import ensure_app

    seeds = parse_seeds(args.seeds)
    demo_dir = Path(args.demos) if args.demos else Path(args.policy) / f"step-bench-{args.task}"
    t0 = time.monotonic()
    if not demo_dir.is_dir() or not episode_dirs(demo_dir):
        ensure_app()
        log(f"recording {len(seeds)} expert demonstrations of {args.task} into {demo_dir}")
        record_demos(args.task, seeds, demo_dir, speed=args.speed,
                     progress=lambda d: log(f"  seed {d.seed}: {'ok' if d.success else 'FAILED'}"))
    record_s = time.monotonic() - t0

    policy = load_policy(Path(args.policy), which=args.which)
    outs: dict = {}
    policy.net.register_forward_hook(lambda m, i, o: outs.update(o=o) and None)
    def terms_of(instruction: str) -> dict:
        # The instruction term the point's selection picked (word-selecting policies).
        sel = outs.get("o", {}).get("select")
        if sel is None:
            return {}
        p = torch.softmax(sel[0, 0].float(), -1)
        j = int(p.argmax())
        terms = term_texts(instruction)
        return {"picked": terms[j] if j < len(terms) else "none", "picked_p": round(float(p[j]), 3)}

    per_step: dict[str, list[int]] = {}
    misses, skipped = [], []
    kinds_ok = n = episodes = 0
    t1 = time.monotonic()
    for path in episode_dirs(demo_dir):
        with Episode.open(path) as ep:
            seed = ep.extra.get("seed")
            if ep.task != args.task or not ep.extra.get("success") or seed not in seeds:
                continue
            policy.reset()
            rows, why = judge(policy, ep, steps_for_episode(ep), terms_of)
        if why:
            skipped.append({"seed": seed, "why": why})
            continue
        episodes += 1
        for r in rows:
            hit_total = per_step.setdefault(str(r["step"]), [0, 0])
            hit_total[0] += r["hit"]
            hit_total[1] += 1
            kinds_ok += r["kind_ok"]
            n += 1
            if not r["hit"]:
                misses.append({"seed": seed, **{k: v for k, v in r.items() if k != "hit"}})
    hits = sum(v[0] for v in per_step.values())
    return {
        "bench": "steps",
        "task": args.task,
        "policy": str(args.policy),
        "which": args.which,
        "seeds": args.seeds,
        "episodes": episodes,
        "pointer_steps": n,
        "hit_rate": round(hits / n, 4) if n else None,
        "hits": hits,
        "kind_acc": round(kinds_ok / n, 4) if n else None,
        "per_step": {k: {"hits": v[0], "steps": v[1]} for k, v in sorted(
            per_step.items(), key=lambda kv: int(kv[0]))},
        "misses": misses,
        "skipped": skipped,
        "record_seconds": round(record_s, 1),
        "judge_seconds": round(time.monotonic() - t1, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", required=True, help="training run folder (or a checkpoint)")
    ap.add_argument("--task", required=True, help="practice task the policy was trained on")
    ap.add_argument("--seeds", default="1000000-1000049",
                    help="seeds to demonstrate, A-B or a comma list (default: 50 held-out)")
    ap.add_argument("--demos", default="",
                    help="folder for the demonstrations (reused when it holds episodes; "
                         "default: step-bench-TASK inside the run folder)")
    ap.add_argument("--speed", type=float, default=2.0,
                    help="expert speed (learning_bench records at 2.0)")
    ap.add_argument("--which", default="best", choices=("last", "best"),
                    help="checkpoint of the run to judge (default: best, as replay uses)")
    args = ap.parse_args()
    if not Path(args.policy).exists():
        ap.error(f"--policy {args.policy}: no such run folder or checkpoint")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with Xvfb() as x:
        os.environ["DISPLAY"] = x.display
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        result = run(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
