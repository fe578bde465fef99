"""`deskmimic episodes list | show | check | recover | delete | steps`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.core.paths import default_episodes_dir


def add_parser(sub) -> None:
    p = sub.add_parser("episodes", help="list, inspect, check, recover and delete recorded episodes",
                       description="Manage recorded episodes. EPISODE is a folder path or an id "
                                   "inside --dir.")
    p.add_argument("--dir", type=Path, help="episodes folder (default: $DESKMIMIC_HOME/episodes)")
    verbs = p.add_subparsers(dest="action", metavar="ACTION")
    verbs.required = True

    ls = verbs.add_parser("list", help="one line per episode")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    for name, fn, help_ in (("show", cmd_show, "print an episode's metadata and counters"),
                            ("check", cmd_check, "validate an episode and name every problem"),
                            ("recover", cmd_recover, "make an episode cut off by a crash readable again"),
                            ("steps", cmd_steps, "print the episode reduced to steps")):
        v = verbs.add_parser(name, help=help_, description=help_)
        v.add_argument("episode", nargs="+" if name in ("check", "recover") else None,
                       help="episode folder or id")
        v.add_argument("--json", action="store_true")
        if name == "check":
            v.add_argument("--decode", action="store_true", help="also decode every frame (slower)")
        v.set_defaults(func=fn)

    rm = verbs.add_parser("delete", help="delete episodes (asks first unless --yes)")
    rm.add_argument("episode", nargs="+")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(func=cmd_delete)


def _root(args) -> Path:
    return args.dir or default_episodes_dir()


def resolve(args, ref: str) -> Path:
    p = Path(ref)
    if p.is_dir():
        return p
    cand = _root(args) / ref
    if cand.is_dir():
        return cand
    raise EpisodeFormatError(f"episode {ref!r}: no such folder, and no episode with that id in {_root(args)}")


def _row(path: Path) -> dict:
    from deskmimic.recorder.episode_format import read_meta

    try:
        m = read_meta(path)
    except EpisodeFormatError as exc:
        return {"id": path.name, "status": "unreadable", "task": "", "error": str(exc)}
    c = m.get("counters", {})
    return {"id": m.get("id", path.name), "status": m["status"], "task": m.get("task", ""),
            "created": m.get("created", ""), "duration_s": c.get("duration_s", 0),
            "frames": c.get("frames", 0), "events": c.get("events", 0),
            "mb": round((c.get("bytes") or 0) / 1e6, 2),
            "success": (m.get("extra") or {}).get("success")}


def cmd_list(args) -> int:
    root = _root(args)
    rows = [_row(p) for p in sorted(root.iterdir()) if p.is_dir()] if root.is_dir() else []
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"no episodes in {root}")
        return 0
    print(f"{'id':28} {'status':10} {'task':16} {'dur s':>7} {'frames':>7} {'events':>7} {'MB':>7}")
    for r in rows:
        print(f"{r['id']:28} {r['status']:10} {str(r.get('task', ''))[:16]:16} "
              f"{r.get('duration_s', 0):7.1f} {r.get('frames', 0):7d} {r.get('events', 0):7d} "
              f"{r.get('mb', 0):7.2f}")
    return 0


def cmd_show(args) -> int:
    from deskmimic.recorder.episode_format import read_meta

    meta = read_meta(resolve(args, args.episode))
    print(json.dumps(meta, indent=1))
    return 0


def cmd_check(args) -> int:
    from deskmimic.recorder.check import check_episode

    bad = 0
    results = {}
    for ref in args.episode:
        try:
            path = resolve(args, ref)
            problems = check_episode(path, decode=args.decode)
        except EpisodeFormatError as exc:
            path, problems = Path(ref), [str(exc)]
        results[str(path)] = problems
        bad += bool(problems)
        if not args.json:
            if problems:
                print(f"{path}: {len(problems)} problem(s)")
                for pr in problems:
                    print(f"  - {pr}")
            else:
                print(f"{path}: ok")
    if args.json:
        print(json.dumps(results))
    return 1 if bad else 0


def cmd_recover(args) -> int:
    from deskmimic.recorder.recover import recover_episode

    for ref in args.episode:
        report = recover_episode(resolve(args, ref))
        if args.json:
            print(json.dumps(report.to_dict()))
        elif report.already_complete and not report.moved_aside:
            print(f"{report.path}: already complete, nothing to do")
        else:
            print(f"{report.path}: recovered {report.frames_kept} frames "
                  f"({report.frames_dropped} unreadable), {report.events_kept} events"
                  + (f"; moved aside: {', '.join(report.moved_aside)}" if report.moved_aside else ""))
    return 0


def cmd_delete(args) -> int:
    from deskmimic.recorder.episode_format import META

    paths = [resolve(args, ref) for ref in args.episode]
    for p in paths:
        if not (p / META).exists():
            raise EpisodeFormatError(f"{p}: has no {META}; refusing to delete a folder that is not an episode")
    if not args.yes:
        if not sys.stdin.isatty():
            raise EpisodeFormatError("refusing to delete without confirmation: add --yes")
        answer = input(f"Delete {len(paths)} episode(s)? {', '.join(p.name for p in paths)} [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    for p in paths:
        shutil.rmtree(p)
        print(f"deleted {p}")
    return 0


def cmd_steps(args) -> int:
    from deskmimic.models.data.steps import format_steps_table, steps_for_episode, steps_to_jsonable
    from deskmimic.recorder.episode import Episode

    with Episode.open(resolve(args, args.episode)) as ep:
        steps = steps_for_episode(ep)
    if args.json:
        print(json.dumps(steps_to_jsonable(steps)))
    else:
        print(format_steps_table(steps))
    return 0
