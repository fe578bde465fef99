"""`deskmimic replay`: let a trained policy (or an action script) drive the desktop, safely."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from deskmimic.app.cli.record import optional_hotkey, privacy_help
from deskmimic.core.config import DEFAULT_PAUSE_HOTKEY, DEFAULT_SECRET_HOTKEY
from deskmimic.core.errors import ConfigError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.app_windows import FOLLOW_MARGIN

if TYPE_CHECKING:
    from deskmimic.agent.runner import ReplayConfig

ACTION_SCRIPT_SUFFIXES = (".jsonl", ".json")


def add_parser(sub) -> None:
    from deskmimic.agent.abort import DEFAULT_ABORT_HOTKEY

    p = sub.add_parser(
        "replay", help="let a trained policy carry out the task on the live desktop",
        description="Closed loop: capture the screen, wait until it settles, ask the policy, "
                    "check the guards, inject the action, repeat until the policy says done, "
                    "--max-steps or --max-duration. Abort at any time with the abort hotkey or "
                    "by moving the pointer into the screen's top-left corner; moving the mouse "
                    "or typing pauses the agent (it resumes after you are idle for "
                    "--resume-idle seconds). The replay is recorded as an episode for review, "
                    f"with the privacy hotkeys of `deskmimic record`: {DEFAULT_PAUSE_HOTKEY} "
                    "pauses and resumes the recording (the agent waits meanwhile) and "
                    f"{DEFAULT_SECRET_HOTKEY} turns secret typing on and off (keys are "
                    "written masked). The agent itself never presses these or the abort hotkey.",
    )
    p.add_argument("--policy", required=True, type=Path,
                   help="run folder or checkpoint folder of a trained policy, or an action "
                        "script (.jsonl: one action object a line) to replay as is")
    p.add_argument("--instruction", default="", help="the task's instruction text (the policy reads it)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--region", type=Rect.parse, help="work in this rectangle: WxH+X+Y or X,Y,W,H")
    where.add_argument("--window", help="work in the window whose title contains this text "
                                        "(followed when it moves)")
    p.add_argument("--follow", type=int, nargs="?", const=FOLLOW_MARGIN, default=0, metavar="PX",
                   help="with --window: also see and act on the app's dialogs and menus within PX pixels "
                        f"around the window (--follow alone: {FOLLOW_MARGIN}; default 0: the "
                        "window alone); as the demonstrations were recorded")
    p.add_argument("--dry-run", action="store_true",
                   help="inject nothing; write an annotated screenshot of each decision")
    p.add_argument("--step", action="store_true", help="ask for confirmation before each action")
    p.add_argument("--max-steps", type=int, default=30, help="most decisions (default 30)")
    p.add_argument("--max-duration", type=float, default=300.0, help="deadline in seconds (default 300)")
    p.add_argument("--min-confidence", type=float, default=0.3,
                   help="stop and say why below this confidence (default 0.3)")
    p.add_argument("--abort-hotkey", default=DEFAULT_ABORT_HOTKEY,
                   help=f"chord that aborts at once (default {DEFAULT_ABORT_HOTKEY})")
    p.add_argument("--pause-hotkey", default=DEFAULT_PAUSE_HOTKEY, type=_privacy_hotkey,
                   help=f"chord that pauses and resumes the replay's recording: no frames, no "
                        f"input while paused, and the agent waits (default {DEFAULT_PAUSE_HOTKEY}; "
                        "'off' for none)")
    p.add_argument("--secret-hotkey", default=DEFAULT_SECRET_HOTKEY, type=_privacy_hotkey,
                   help=f"chord that turns secret typing on and off: keys typed meanwhile are "
                        f"recorded masked (default {DEFAULT_SECRET_HOTKEY}; 'off' for none)")
    p.add_argument("--resume-idle", default="2",
                   help="after you take over, resume once you are idle this many seconds; "
                        "'never' keeps it paused (default 2)")
    p.add_argument("--move-duration", type=float, default=0.25,
                   help="seconds per pointer move (default 0.25)")
    p.add_argument("--drag-duration", type=float, default=0.5,
                   help="seconds for the pressed part of a drag (default 0.5)")
    p.add_argument("--out", type=Path, help="folder to create for the replay episode")
    p.add_argument("--episodes-dir", type=Path, help="parent folder of the replay episode")
    p.add_argument("--no-record", action="store_true", help="do not record the replay as an episode")
    p.add_argument("--device", default="cpu", help="torch device for the policy (default cpu)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def load_any_policy(path: Path, device: str = "cpu"):
    """An action script (.jsonl/.json file) or a trained policy (run/checkpoint folder)."""
    from deskmimic.agent.policy_protocol import load_action_script

    if path.is_file() and path.suffix in ACTION_SCRIPT_SUFFIXES:
        return load_action_script(path)
    if not path.exists():
        raise ConfigError(f"--policy {path}: no such run, checkpoint or action script")
    try:
        from deskmimic.models.policy import load_policy
    except ImportError as exc:
        raise ConfigError(
            f"--policy {path}: loading a trained policy needs deskmimic.models.policy and torch, "
            f"which are not available here ({exc}); an action script (.jsonl) still works"
        ) from exc
    return load_policy(path, device=device)


def _resume_idle(text: str) -> float | None:
    if text.strip().lower() in ("never", "none", "off"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"--resume-idle {text!r}: a number of seconds or 'never'") from None


def _privacy_hotkey(text: str) -> str | None:
    """`deskmimic record`'s spelling (``<ctrl>+<alt>+<shift>+p``, 'off'), and also the plain
    one this verb's --abort-hotkey takes (``ctrl+alt+shift+p``)."""
    from deskmimic.agent.abort import pynput_hotkey

    chord = optional_hotkey(text)
    return chord if chord is None or "<" in chord else pynput_hotkey(chord)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _progress(event: dict) -> None:
    kind = event.get("event")
    if kind == "step":
        from deskmimic.agent.policy_protocol import AgentAction

        a = event["action"]
        desc = AgentAction(**{**a, "keys": tuple(a["keys"])}).describe()
        extra = f"  {event['message']}" if event.get("message") else ""
        _say(f"  step {event['step']:3d}  {desc:<48} {event['status']}{extra}")
    elif kind == "pause":
        _say(f"  || paused: {event['reason'].replace('_', ' ')} (you have control)")
    elif kind == "resume":
        _say(f"  >> resumed ({event['reason'].replace('_', ' ')})")
    elif kind == "abort":
        _say(f"  XX abort: {event['reason'].replace('_', ' ')}")
    elif kind == "recording_paused":
        _say(f"  || recording paused ({event.get('hotkey')}): nothing is recorded, so the "
             "agent waits; press it again to resume")
    elif kind == "recording_resumed":
        _say(f"  >> recording resumed (after {event.get('waited_s', 0):.1f} s)")


def _confirm_on_terminal(runner_ref: list):
    def confirm(step: int, action, preview) -> bool:
        from deskmimic.agent.annotate import write_png

        runner = runner_ref[0]
        folder = runner.out if runner.out is not None else Path(tempfile.gettempdir())
        path = write_png(folder / "annotated" / f"step_{step:03d}_preview.png", preview)
        _say(f"  step {step + 1}: {action.describe()}   (preview: {path})")
        print("  do it? [Enter = yes, n = stop] ", end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline()
        return answer != "" and answer.strip().lower() in ("", "y", "yes")
    return confirm


def build_config(args: argparse.Namespace) -> ReplayConfig:
    """The `ReplayConfig` of parsed ``deskmimic replay`` arguments (validated)."""
    from deskmimic.agent.actuate import MotionConfig
    from deskmimic.agent.guards import GuardConfig
    from deskmimic.agent.runner import ReplayConfig

    return ReplayConfig(
        instruction=args.instruction, region=args.region, window=args.window,
        follow=args.follow,
        max_steps=args.max_steps, max_duration_s=args.max_duration,
        min_confidence=args.min_confidence, dry_run=args.dry_run, step=args.step,
        record=not args.no_record, out=args.out, episodes_dir=args.episodes_dir,
        pause_hotkey=args.pause_hotkey, secret_hotkey=args.secret_hotkey,
        guards=GuardConfig(abort_hotkey=args.abort_hotkey, resume_idle_s=_resume_idle(args.resume_idle)),
        motion=MotionConfig(move_duration_s=args.move_duration,
                            drag_duration_s=args.drag_duration),
    )


def start_banner(cfg: ReplayConfig) -> str:
    """What the replay says before it starts: the mode, how to stop it and, when it
    records, the privacy hotkeys its recording honours."""
    mode = "dry run (nothing is injected)" if cfg.dry_run else "LIVE: the agent drives the desktop"
    text = (f"deskmimic replay: {mode}\n  abort: {cfg.guards.abort_hotkey} or pointer to the "
            "top-left corner; moving the mouse or typing pauses")
    if cfg.record:
        text += f"\n  recording the replay{privacy_help(cfg.pause_hotkey, cfg.secret_hotkey)}"
    return text


def run(args: argparse.Namespace) -> int:
    from deskmimic.agent.runner import ReplayRunner
    from deskmimic.recorder.environment import require_x_display

    require_x_display()
    cfg = build_config(args)
    policy = load_any_policy(args.policy, args.device)
    ref: list = []
    runner = ReplayRunner(policy, cfg, on_event=_progress,
                          confirm=_confirm_on_terminal(ref) if args.step else None)
    ref.append(runner)
    _say(start_banner(cfg))
    result = runner.run()
    d = result.to_dict()
    if args.json:
        print(json.dumps(d))
    else:
        print(f"stopped   {d['stop_reason']}: {d['message']}\nsteps     {d['steps']}\n"
              f"duration  {d['duration_s']:.1f} s\noutput    {d['out']}")
        if d["annotated"]:
            print(f"annotated {len(d['annotated'])} screenshots in {Path(d['annotated'][0]).parent}")
    if runner.guards.signal_received is not None:
        return 128 + int(runner.guards.signal_received)
    ok = result.stop_reason == "done" or (cfg.dry_run and result.stop_reason == "max_steps")
    return 0 if ok else 1
