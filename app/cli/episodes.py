"""`deskmimic episodes list | show | check | recover | upgrade | delete | steps`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.core.paths import default_episodes_dir
from deskmimic.recorder.episode_format import unreadable


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

    up_help = "rewrite episodes' meta.json at the current format version (docs/formats.md)"
    up = verbs.add_parser("upgrade", help=up_help, description=up_help + "; the old file is "
                          "kept beside it as meta.json.v<N>.bak")
    up.add_argument("episode", nargs="*", help="episode folder or id")
    up.add_argument("--all", action="store_true", help="every episode in --dir")
    up.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    up.add_argument("--json", action="store_true")
    up.set_defaults(func=cmd_upgrade)

    rm = verbs.add_parser("delete", help="delete episodes (asks first unless --yes)")
    rm.add_argument("episode", nargs="+")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rm.add_argument("--force", action="store_true",
                    help="also delete an episode whose meta.json does not read (only the files "
                         "deskmimic writes are removed)")
    rm.set_defaults(func=cmd_delete)


def _root(args) -> Path:
    return args.dir or default_episodes_dir()


def _listed_root(args) -> Path | None:
    """The episodes folder to list; None when the default one does not exist yet (nothing
    recorded). A --dir the user named must exist: listing a typo as empty would mislead."""
    root = _root(args)
    if root.is_dir():
        return root
    if args.dir is not None:
        what = "is not a folder" if root.exists() else "no such folder"
        raise EpisodeFormatError(f"--dir {root}: {what}")
    return None


def _episode_dirs(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir())
    except OSError as exc:
        raise EpisodeFormatError(unreadable(root, exc)) from exc


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
    from deskmimic.recorder.liveness import listed_status

    try:
        m = read_meta(path)
    except EpisodeFormatError as exc:
        return {"id": path.name, "status": "unreadable", "task": "", "error": str(exc)}
    c = m.get("counters", {})
    row = {"id": m.get("id", path.name), "status": m["status"], "task": m.get("task", ""),
           "created": m.get("created", ""), "duration_s": c.get("duration_s", 0),
           "frames": c.get("frames", 0), "events": c.get("events", 0),
           "mb": round((c.get("bytes") or 0) / 1e6, 2),
           "success": (m.get("extra") or {}).get("success")}
    row["status"], error = listed_status(m, path.name)
    if error:
        row["error"] = error
    return row


def _flag_duplicates(rows: list[dict]) -> None:
    # Copied episode folders keep their id; tools keyed by id (caches, the GUI) would mix them.
    seen: dict[str, int] = {}
    for r in rows:
        seen[r["id"]] = seen.get(r["id"], 0) + 1
    for r in rows:
        if seen[r["id"]] > 1 and r["status"] != "unreadable":
            r["duplicate_id"] = True


def cmd_list(args) -> int:
    root = _listed_root(args)
    root_name = root or _root(args)
    rows = [_row(p) for p in _episode_dirs(root)] if root else []
    _flag_duplicates(rows)
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"no episodes in {root_name}")
        return 0
    print(f"{'id':28} {'status':10} {'task':16} {'dur s':>7} {'frames':>7} {'events':>7} {'MB':>7}")
    for r in rows:
        print(f"{r['id']:28} {r['status']:10} {str(r.get('task', ''))[:16]:16} "
              f"{r.get('duration_s', 0):7.1f} {r.get('frames', 0):7d} {r.get('events', 0):7d} "
              f"{r.get('mb', 0):7.2f}"
              + ("  (same id as another folder)" if r.get("duplicate_id") else "")
              + (f"  {r['error']}" if r.get("error") else ""))
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

    unfixed = 0
    for ref in args.episode:
        report = recover_episode(resolve(args, ref))
        unfixed += bool(report.remaining)
        if args.json:
            print(json.dumps(report.to_dict()))
            continue
        if not report.changed and not report.remaining:
            print(f"{report.path}: already complete, nothing to do")
        elif report.changed:
            print(f"{report.path}: recovered {report.frames_kept} frames "
                  f"({report.frames_dropped} unreadable), {report.events_kept} events"
                  + (f"; moved aside: {', '.join(report.moved_aside)}" if report.moved_aside else "")
                  + (f"; created: {', '.join(report.created)}" if report.created else ""))
        if report.remaining:
            print(f"{report.path}: {len(report.remaining)} problem(s) recover cannot fix:")
            for pr in report.remaining:
                print(f"  - {pr}")
    return 1 if unfixed else 0


def _upgrade_targets(args) -> list[Path]:
    if args.all == bool(args.episode):
        raise EpisodeFormatError("episodes upgrade: name episodes or pass --all (not both)")
    if not args.all:
        return [resolve(args, ref) for ref in args.episode]
    from deskmimic.recorder.episode_format import META

    root = _listed_root(args)
    return [p for p in _episode_dirs(root) if (p / META).is_file()] if root else []


def cmd_upgrade(args) -> int:
    """Upgrade each episode; a refused one is named and left untouched, the rest go on."""
    from deskmimic.recorder.episode_format import upgrade_episode

    paths = _upgrade_targets(args)
    if not paths and not args.json:
        print(f"no episodes in {_root(args)}")
    results, refused = [], 0
    for path in paths:
        try:
            report = upgrade_episode(path, dry_run=args.dry_run)
        except EpisodeFormatError as exc:
            refused += 1
            results.append({"path": str(path), "error": str(exc)})
            print(f"deskmimic episodes upgrade: error: {exc}", file=sys.stderr)
            continue
        results.append(report.to_dict())
        if args.json:
            continue
        if not report.changed:
            print(f"{path}: already current (format {report.to_version})")
            continue
        changes = []
        if report.from_version != report.to_version:
            changes.append(f"format {report.from_version} -> {report.to_version}")
        if report.added:
            changes.append(f"added {', '.join(report.added)}")
        what = ", ".join(changes)
        if args.dry_run:
            print(f"{path}: would upgrade ({what})")
        else:
            print(f"{path}: upgraded ({what}); the old meta.json is {report.backup.name}")
    if args.json:
        print(json.dumps(results))
    return 2 if refused else 0


def cmd_delete(args) -> int:
    from deskmimic.recorder.episode_edit import check_deletable, delete_episode

    paths = [resolve(args, ref) for ref in args.episode]
    for p in paths:  # every refusal before anything is deleted or asked
        check_deletable(p, args.force)
    if not args.yes:
        if not sys.stdin.isatty():
            raise EpisodeFormatError("refusing to delete without confirmation: add --yes")
        answer = input(f"Delete {len(paths)} episode(s)? {', '.join(p.name for p in paths)} [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    for p in paths:
        kept = delete_episode(p, force=args.force)
        if kept:
            print(f"deleted deskmimic's files in {p}; kept {len(kept)} other file(s): "
                  + ", ".join(str(k.relative_to(p)) for k in kept[:5]))
        else:
            print(f"deleted {p}")
    return 0


def cmd_steps(args) -> int:
    from deskmimic.models.data.steps import steps_for_episode
    from deskmimic.models.data.steps_format import format_steps_table, steps_to_jsonable
    from deskmimic.recorder.episode import Episode
    from deskmimic.recorder.episode_format import FRAMES

    with Episode.open(resolve(args, args.episode)) as ep:
        if ep.frame_count == 0:
            raise EpisodeFormatError(f"{ep.path}: the episode is empty ({FRAMES} lists no "
                                     "frames): it has no steps")
        steps = steps_for_episode(ep)
    if args.json:
        print(json.dumps(steps_to_jsonable(steps)))
    else:
        print(format_steps_table(steps))
    return 0
