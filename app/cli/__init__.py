"""`deskmimic VERB ...`: parses arguments, builds a config, calls the library.

Each verb lives in its own module ``deskmimic.app.cli.<verb>`` exposing
``add_parser(subparsers)``; the parser it adds sets ``func(args) -> int``.
Errors deskmimic raises on purpose, and OS errors (a file it may not read, a full
disk), are printed as one clear line naming the file, exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from deskmimic import __version__
from deskmimic.core.errors import DeskmimicError, describe_error

# Verb modules, imported lazily so `deskmimic --help` stays fast and a verb
# that needs torch does not slow down one that does not.
VERBS = ["record", "episodes", "train", "replay", "macro", "eval", "tasks", "demo", "gui"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskmimic",
        description="Learn a desktop workflow by watching a person do it.",
    )
    parser.add_argument("--version", action="version", version=f"deskmimic {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for verb in VERBS:
        importlib.import_module(f"deskmimic.app.cli.{verb}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except DeskmimicError as exc:
        print(f"deskmimic {args.verb}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        # The last net under the readers' own messages: a file or folder the OS refused
        # (permissions, a full disk) is one line naming it, never a traceback.
        logging.getLogger(__name__).debug("%s failed", args.verb, exc_info=True)
        print(f"deskmimic {args.verb}: error: {describe_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deskmimic {args.verb}: interrupted", file=sys.stderr)
        return 130

