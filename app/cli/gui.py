"""`deskmimic gui`: the Qt window to record, review and edit episodes."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "gui", help="open the deskmimic window (record, review, train and replay)",
        description="Open the deskmimic window: record demonstrations, browse and play "
                    "episodes frame by frame, label, trim and delete them, train a policy on "
                    "them with live plots, and dry-run or run it on a practice task or the "
                    "live desktop.",
    )
    p.add_argument("--episodes-dir", type=Path,
                   help="episodes folder for this session (default: the one in Settings, "
                        "else $DESKMIMIC_HOME/episodes)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Qt is imported only when the verb runs: `deskmimic --help` stays fast and
    # works without a display.
    from deskmimic.app.gui.main import main

    return main(episodes_dir=args.episodes_dir)
