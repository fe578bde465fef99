"""`deskmimic macro`: replay an episode's recorded input literally (the baseline)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from deskmimic.core.errors import ConfigError


def _offset(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(-?\d+)\s*,\s*(-?\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: expected DX,DY in pixels, e.g. 40,-12")
    return int(m.group(1)), int(m.group(2))


def add_parser(sub) -> None:
    from deskmimic.agent.abort import DEFAULT_ABORT_HOTKEY

    p = sub.add_parser(
        "macro", help="replay an episode's recorded input with its timing (literal macro)",
        description="Replay every recorded move, click, wheel and key event of EPISODE with its "
                    "timing, in the recorded region (or the recorded window, found again by "
                    "title). At each step (a click, a key group, a wheel burst) the live screen "
                    "is compared with the recorded frame and the report says where they "
                    "diverged. Abort with the abort hotkey or the top-left screen corner.",
    )
    p.add_argument("episode", type=Path, help="episode folder")
    p.add_argument("--speed", type=float, default=1.0, help="playback speed factor (default 1.0)")
    p.add_argument("--wait-match", action="store_true",
                   help="before each step, wait until the screen matches the recording")
    p.add_argument("--match-threshold", type=float, default=6.0,
                   help="mean gray-level difference (0-255) that still matches (default 6)")
    p.add_argument("--match-timeout", type=float, default=3.0,
                   help="seconds to wait for a match before calling it diverged (default 3)")
    p.add_argument("--stop-on-diverge", action="store_true", help="stop at the first divergence")
    p.add_argument("--dry-run", action="store_true", help="list the steps; inject nothing")
    p.add_argument("--region-offset", type=_offset, metavar="DX,DY",
                   help="shift the recorded region by DX,DY screen pixels")
    p.add_argument("--max-gap", type=float, help="shorten idle gaps longer than this (seconds)")
    p.add_argument("--abort-hotkey", default=DEFAULT_ABORT_HOTKEY,
                   help=f"chord that aborts at once (default {DEFAULT_ABORT_HOTKEY})")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from deskmimic.agent.guards import GuardConfig
    from deskmimic.agent.macro import MacroConfig, MacroPlayer, MacroStep
    from deskmimic.recorder.environment import require_x_display

    if not args.episode.is_dir():
        raise ConfigError(f"{args.episode}: no such episode folder")
    cfg = MacroConfig(
        speed=args.speed, wait_match=args.wait_match, match_threshold=args.match_threshold,
        match_timeout_s=args.match_timeout, stop_on_diverge=args.stop_on_diverge,
        region_offset=args.region_offset, max_gap_s=args.max_gap, dry_run=args.dry_run,
        guards=GuardConfig(abort_hotkey=args.abort_hotkey),
    )
    require_x_display()
    total: list[int] = [0]

    def on_step(s: MacroStep) -> None:
        where = f" at ({s.x}, {s.y})" if s.x is not None else ""
        if s.matched is None:
            state = s.status
        else:
            state = f"{'matched ' if s.matched else 'DIVERGED'} (diff {s.diff:.1f}"
            state += f", waited {s.waited_s:.1f} s)" if s.waited_s >= 0.05 else ")"
        _say(f"  step {s.index + 1:3d}/{total[0]}  t={s.t_s:6.2f} s  {s.kind}{where:<16} {state}")

    player = MacroPlayer(args.episode, cfg, on_step=on_step)
    total[0] = len(player.steps)
    mode = "dry run (nothing is injected)" if cfg.dry_run else "LIVE"
    _say(f"deskmimic macro: {mode}: {len(player.events)} events, {total[0]} steps at "
         f"{cfg.speed:g}x\n  abort: {cfg.guards.abort_hotkey} or pointer to the top-left corner")
    result = player.run()
    d = result.to_dict()
    if args.json:
        print(json.dumps(d))
    else:
        diverged = [s for s in result.steps if s.matched is False]
        print(f"stopped   {d['stop_reason']}: {d['message']}\n"
              f"events    {d['events_replayed']} replayed, {d['events_skipped']} skipped\n"
              f"steps     {len(result.steps)}, diverged at "
              f"{', '.join(str(s.index + 1) for s in diverged) or 'none'}\n"
              f"duration  {d['duration_s']:.1f} s")
    if player.guards.signal_received is not None:
        return 128 + int(player.guards.signal_received)
    return 0 if result.stop_reason in ("finished", "dry_run") else 1
