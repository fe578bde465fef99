"""`deskmimic tasks list | run | demos`: the practice desktop from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from deskmimic.core.errors import ConfigError

LOOKS_HELP = ("how each window is drawn: default (one look: Fusion, 10.5 pt, light, scale 1), "
              "varied (training looks: style, font, size, scale) or heldout (fonts, sizes and "
              "the dark palette varied never uses); see docs/tasks.md")


def add_parser(sub) -> None:
    p = sub.add_parser("tasks", help="list and run the practice tasks (optionally with their experts)",
                       description="The practice desktop: small randomized Qt and Tk task windows "
                                   "with scripted experts. See docs/tasks.md.")
    verbs = p.add_subparsers(dest="action", metavar="ACTION")
    verbs.required = True

    ls = verbs.add_parser("list", help="one line per task (toolkit, looks, description)")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=cmd_list)

    run = verbs.add_parser(
        "run", help="show a task window; prints the result as JSON",
        description="Show task NAME laid out by --seed and wait until it ends (solved, a wrong "
                    "control used, or --timeout). With --expert its scripted expert solves it "
                    "with real X input. Prints the result as one JSON object; exit code 0 when "
                    "the task succeeded, 1 when it failed.")
    run.add_argument("name", help="task name (see `deskmimic tasks list`)")
    run.add_argument("--seed", type=int, default=0,
                     help="layout seed (>= 1000000 draws held-out words; default 0)")
    run.add_argument("--expert", action="store_true", help="let the scripted expert solve it")
    run.add_argument("--timeout", type=float, default=None,
                     help="seconds before the task fails (default: 30 with --expert, else 300)")
    run.add_argument("--speed", type=float, default=1.0,
                     help="expert pace factor (2 = twice as fast; default 1)")
    run.add_argument("--looks", choices=["default", "varied", "heldout"], default="default",
                     help=LOOKS_HELP)
    run.set_defaults(func=cmd_run)

    demos = verbs.add_parser(
        "demos", help="record expert demonstrations through the real recorder",
        description="For each seed: show task NAME, start the real recorder on the task window, "
                    "let the scripted expert solve it with real X input, stop, and label the "
                    "episode with task, seed, instruction, element boxes and success. Prints one "
                    "line per demonstration (or JSON); exit code 1 if any demonstration failed.")
    demos.add_argument("name", help="task name (see `deskmimic tasks list`)")
    demos.add_argument("--episodes", type=int, default=None,
                       help="number of demonstrations (default: one per seed in --seeds, else 10)")
    demos.add_argument("--seeds", default=None,
                       help="seeds as A-B or a comma list (default: 0..EPISODES-1); "
                            "seeds >= 1000000 draw held-out words")
    demos.add_argument("--out", type=Path, default=None,
                       help="folder for the episodes (default: $DESKMIMIC_HOME/episodes)")
    demos.add_argument("--fps", type=float, default=None, help="recording frame rate (default 20)")
    demos.add_argument("--speed", type=float, default=1.0,
                       help="expert pace factor (2 = twice as fast; default 1)")
    demos.add_argument("--looks", choices=["default", "varied", "heldout"], default="default",
                       help=LOOKS_HELP + " (recorded in each episode as extra.look)")
    demos.add_argument("--json", action="store_true", help="print a JSON list of the episodes")
    demos.set_defaults(func=cmd_demos)


def cmd_list(args) -> int:
    from deskmimic.tasks import all_tasks
    from deskmimic.tasks.looks import LOOK_MODES

    rows = [{"name": n, "toolkit": c.toolkit, "looks": list(LOOK_MODES), "description": c.description}
            for n, c in all_tasks().items()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['toolkit']:<3}  {r['description']}")
        print(f"looks: --looks {' | '.join(LOOK_MODES)} (default: default; see docs/tasks.md)")
    return 0


def cmd_run(args) -> int:
    if args.seed < 0:
        raise ConfigError(f"--seed {args.seed}: must be >= 0")
    timeout = args.timeout if args.timeout is not None else (30.0 if args.expert else 300.0)
    if timeout <= 0:
        raise ConfigError(f"--timeout {timeout}: must be positive")
    if not 0.1 <= args.speed <= 10:
        raise ConfigError(f"--speed {args.speed}: must be in [0.1, 10]")
    from deskmimic.tasks import run_task

    result = run_task(args.name, args.seed, expert=args.expert, timeout=timeout, speed=args.speed,
                      looks=args.looks)
    print(json.dumps(result))
    sys.stdout.flush()
    return 0 if result.get("success") else 1


def _demo_seeds(args) -> list[int]:
    from deskmimic.tasks.demos import parse_seeds

    if args.episodes is not None and args.episodes < 1:
        raise ConfigError(f"--episodes {args.episodes}: must be at least 1")
    if args.seeds is None:
        return list(range(args.episodes or 10))
    seeds = parse_seeds(args.seeds)
    if args.episodes is not None:
        if args.episodes > len(seeds):
            raise ConfigError(f"--episodes {args.episodes}: --seeds {args.seeds!r} "
                              f"holds only {len(seeds)} seeds")
        seeds = seeds[: args.episodes]
    return seeds


def cmd_demos(args) -> int:
    from deskmimic.core.paths import default_episodes_dir
    from deskmimic.recorder.environment import require_x_display
    from deskmimic.tasks import all_tasks
    from deskmimic.tasks.demos import DEMO_FPS, record_demos

    if args.name not in all_tasks():
        raise ConfigError(f"unknown task {args.name!r}: one of {', '.join(all_tasks())}")
    seeds = _demo_seeds(args)
    fps = args.fps if args.fps is not None else DEMO_FPS
    if not 1 <= fps <= 60:
        raise ConfigError(f"--fps {fps}: must be in [1, 60]")
    if not 0.1 <= args.speed <= 10:
        raise ConfigError(f"--speed {args.speed}: must be in [0.1, 10]")
    require_x_display()
    out = args.out if args.out is not None else default_episodes_dir()
    from tqdm import tqdm

    bar = tqdm(total=len(seeds), desc=f"{args.name} demonstrations", unit="demo",
               file=sys.stderr, disable=None)

    def progress(demo) -> None:
        bar.update(1)
        if not args.json:
            mark = "ok  " if demo.success else "FAIL"
            bar.write(f"{mark} seed {demo.seed:>7}  {demo.frames:>4} frames  {demo.events:>4} events  "
                      f"{demo.duration_s:5.1f} s  {demo.path}", file=sys.stdout)

    try:
        demos = record_demos(args.name, seeds, out, fps=fps, speed=args.speed, progress=progress,
                             looks=args.looks)
    finally:
        bar.close()
    ok = sum(d.success for d in demos)
    if args.json:
        print(json.dumps([d.to_dict() for d in demos], indent=2))
    else:
        print(f"{ok}/{len(demos)} demonstrations succeeded -> {out}")
    return 0 if ok == len(demos) else 1
