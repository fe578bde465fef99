"""`deskmimic tasks list | run`: the practice desktop from the command line."""

from __future__ import annotations

import json
import sys

from deskmimic.core.errors import ConfigError


def add_parser(sub) -> None:
    p = sub.add_parser("tasks", help="list and run the practice tasks (optionally with their experts)",
                       description="The practice desktop: small randomized Qt task windows "
                                   "with scripted experts. See docs/tasks.md.")
    verbs = p.add_subparsers(dest="action", metavar="ACTION")
    verbs.required = True

    ls = verbs.add_parser("list", help="one line per task")
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
    run.set_defaults(func=cmd_run)


def cmd_list(args) -> int:
    from deskmimic.tasks import TASKS

    rows = [{"name": n, "description": c.description} for n, c in TASKS.items()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['description']}")
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

    result = run_task(args.name, args.seed, expert=args.expert, timeout=timeout, speed=args.speed)
    print(json.dumps(result))
    sys.stdout.flush()
    return 0 if result.get("success") else 1
