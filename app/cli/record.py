"""`deskmimic record`: record the screen and all input until the stop hotkey, Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from deskmimic.core.config import (
    DEFAULT_PAUSE_HOTKEY,
    DEFAULT_SECRET_HOTKEY,
    DEFAULT_STOP_HOTKEY,
    RecordConfig,
)
from deskmimic.core.geometry import Rect
from deskmimic.recorder.app_windows import FOLLOW_MARGIN


def add_parser(sub) -> None:
    p = sub.add_parser(
        "record", help="record the screen and every keyboard/mouse event into an episode",
        description="Record the screen (lossless video, cursor drawn in) and every keyboard and "
                    "mouse event into a new episode folder. Stops on the stop hotkey, Ctrl+C, "
                    "SIGTERM or --max-duration, and always finalizes the episode. "
                    f"While recording, {DEFAULT_PAUSE_HOTKEY} pauses and resumes (nothing is "
                    f"captured while paused) and {DEFAULT_SECRET_HOTKEY} turns secret typing on "
                    "and off (keys are written masked: use it for passwords).",
    )
    p.add_argument("--out", type=Path, help="episode folder to create (default: EPISODES_DIR/<new id>)")
    p.add_argument("--episodes-dir", type=Path, help="parent folder for new episodes "
                   "(default: $DESKMIMIC_HOME/episodes)")
    p.add_argument("--fps", type=float, default=30.0, help="target frames per second (default 30)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--region", type=Rect.parse, help="rectangle WxH+X+Y or X,Y,W,H in screen pixels")
    where.add_argument("--monitor", type=int, default=1, help="monitor number (default 1; 0 = all)")
    where.add_argument("--window", help="capture the window whose title contains this text")
    p.add_argument("--follow", type=int, nargs="?", const=FOLLOW_MARGIN, default=0, metavar="PX",
                   help="with --window: also capture the app's dialogs and menus within PX pixels "
                        f"around the window (--follow alone: {FOLLOW_MARGIN}; default 0: the "
                        "window alone)")
    p.add_argument("--task", default="", help="task label stored with the episode")
    p.add_argument("--instruction", default="", help="what the person is asked to do (the policy reads it)")
    p.add_argument("--max-duration", type=float, help="stop after this many seconds")
    p.add_argument("--stop-hotkey", default=DEFAULT_STOP_HOTKEY,
                   help=f"chord that stops the recording (default {DEFAULT_STOP_HOTKEY})")
    p.add_argument("--pause-hotkey", default=DEFAULT_PAUSE_HOTKEY, type=optional_hotkey,
                   help=f"chord that pauses and resumes capture: no frames, no input while paused "
                        f"(default {DEFAULT_PAUSE_HOTKEY}; 'off' for none)")
    p.add_argument("--secret-hotkey", default=DEFAULT_SECRET_HOTKEY, type=optional_hotkey,
                   help=f"chord that turns secret typing on and off: keys typed meanwhile are "
                        f"written masked (default {DEFAULT_SECRET_HOTKEY}; 'off' for none)")
    p.add_argument("--no-cursor", action="store_true", help="do not draw the pointer into frames")
    p.add_argument("--no-input", action="store_true", help="record the screen only")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def optional_hotkey(text: str) -> str | None:
    """A privacy hotkey flag's value: the chord as given, or None for 'off' / 'none'
    (shared with `deskmimic replay`, whose recording has the same hotkeys)."""
    return None if text.strip().lower() in ("off", "none") else text


def run(args: argparse.Namespace) -> int:
    from deskmimic.recorder.environment import require_x_display
    from deskmimic.recorder.record import Recorder

    require_x_display()
    cfg = RecordConfig(
        out=args.out, episodes_dir=args.episodes_dir, fps=args.fps, region=args.region,
        monitor=args.monitor, window=args.window, follow=args.follow, task=args.task, instruction=args.instruction,
        max_duration=args.max_duration, stop_hotkey=args.stop_hotkey,
        pause_hotkey=args.pause_hotkey, secret_hotkey=args.secret_hotkey,
        draw_cursor=not args.no_cursor, listen_input=not args.no_input,
    )
    rec = Recorder(cfg)
    # Signals only ask for a stop; the main loop below finalizes the episode.
    previous = {s: signal.signal(s, lambda *_: rec.request_stop("stop_signal"))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        rec.start()
        r = rec.region
        print(f"● REC  capturing {r.width}x{r.height}+{r.left}+{r.top} at {cfg.fps:g} fps "
              f"(input: {'on' if cfg.listen_input else 'off'}) into {rec.path}\n"
              f"       stop with {cfg.stop_hotkey}, Ctrl+C or SIGTERM{_privacy_banner(cfg)}",
              file=sys.stderr, flush=True)
        tty = sys.stderr.isatty()
        while not rec.wait(0.5):
            if tty:
                st = rec.stats()
                print(f"\r  {st['elapsed_s']:7.1f} s  {st['frames']:6d} frames  "
                      f"{st['dropped_frames']:4d} dropped  {st['events']:6d} events"
                      f"{'  PAUSED' if st['paused'] else ''}{'  SECRET' if st['secret'] else ''}   ",
                      end="", file=sys.stderr, flush=True)
        if tty:
            print(file=sys.stderr)
    finally:
        summary = rec.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    d = summary.to_dict()
    if args.json:
        print(json.dumps(d))
    else:
        print(f"episode   {d['path']}\nstatus    {d['status']} ({d['stop_reason']})\n"
              f"duration  {d['duration_s']:.1f} s\nframes    {d['frames']} "
              f"({d['fps_achieved']:.1f} fps, {d['dropped_frames']} dropped)\n"
              f"events    {d['events']}\nsize      {d['bytes'] / 1e6:.2f} MB")
    if summary.stop_reason == "window_closed":  # the app was closed: a normal end, said
        print(f"deskmimic record: {summary.error}", file=sys.stderr)
        return 0
    if summary.error:  # stopped early (a full disk, a failed thread): say why, exit != 0
        print(f"deskmimic record: error: {summary.error}", file=sys.stderr)
        return 2
    return 0


def _privacy_banner(cfg: RecordConfig) -> str:
    # On the banner's second line: scripts read the banner as two lines.
    if not cfg.listen_input:
        return ""
    return privacy_help(cfg.pause_hotkey, cfg.secret_hotkey)


def privacy_help(pause_hotkey: str | None, secret_hotkey: str | None) -> str:
    """'; pause/resume CHORD; secret typing on/off CHORD' for the hotkeys that are on
    (shared with `deskmimic replay`'s start-up line)."""
    return ((f"; pause/resume {pause_hotkey}" if pause_hotkey else "")
            + (f"; secret typing on/off {secret_hotkey}" if secret_hotkey else ""))
