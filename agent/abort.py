"""Aborting a replay from outside: the abort hotkey's chord and SIGTERM/SIGINT.

`Guards` (deskmimic.agent.guards) listens for the chord parsed here and aborts; the
signal handlers installed here call `Guards.abort` too.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING

from deskmimic.core.errors import ConfigError
from deskmimic.core.keys import MODIFIER_ALIASES
from deskmimic.recorder.hotkey import key_token

if TYPE_CHECKING:
    from deskmimic.agent.guards import Guards

logger = logging.getLogger(__name__)

DEFAULT_ABORT_HOTKEY = "<ctrl>+<alt>+<shift>+q"
_CHAR_TOKENS = {" ": "space", "\n": "enter", "\r": "enter", "\t": "tab", "\b": "backspace"}


def parse_abort_hotkey(text: str) -> frozenset[str]:
    """``'<ctrl>+<alt>+<shift>+q'`` or ``'ctrl+alt+shift+q'`` -> canonical key tokens."""
    parts = [p.strip().strip("<>").lower() for p in text.split("+")]
    if any(not p for p in parts):
        raise ConfigError(f"--abort-hotkey {text!r}: write keys joined by '+', e.g. ctrl+alt+shift+q")
    tokens = frozenset(key_token(p) for p in parts)
    if len(tokens) < 2 or not tokens & set(MODIFIER_ALIASES.values()):
        raise ConfigError(f"--abort-hotkey {text!r}: use a chord of a modifier and a key, "
                          "so that ordinary typing cannot abort by accident")
    return tokens


def tokens_for_text(text: str) -> set[str]:
    """Key tokens the listener reports while ``text`` is typed (shift included)."""
    return {_CHAR_TOKENS.get(c) or key_token(c) for c in text} | {"shift"}


def pynput_hotkey(text: str) -> str:
    """Any accepted abort-hotkey spelling -> pynput syntax for the replay recorder."""
    parts = [p.strip().strip("<>").lower() for p in text.split("+")]
    return "+".join(f"<{p}>" if len(p) > 1 else p for p in parts)


def install_abort_signals(guards: Guards, injector=None) -> dict[int, object]:
    """Make SIGTERM and SIGINT abort the run cleanly; returns the previous handlers.

    Only from the main thread (elsewhere returns ``{}``: signals are the caller's job).
    With ``injector``, its own handler runs first and releases held input at once, even
    in the middle of a request. Restore with `restore_signals` after closing the injector.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}

    def on_signal(signum: int, _frame: object) -> None:
        # The main thread may be inside an injector call right now: abort (whose
        # callbacks take the injector's lock) from a thread of its own.
        guards.signal_received = signum
        name = signal.Signals(signum).name
        threading.Thread(target=guards.abort, args=("signal", f"received {name}: stopped"),
                         name="deskmimic-signal-abort", daemon=True).start()

    prev = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    if injector is not None:
        injector.install_signal_release()  # chains to on_signal; close() puts it back
    return prev


def restore_signals(prev: dict[int, object]) -> None:
    """Put back handlers saved by `install_abort_signals`."""
    for sig, handler in prev.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, TypeError):
            logger.exception("could not restore the handler of signal %s", sig)


__all__ = ["DEFAULT_ABORT_HOTKEY", "parse_abort_hotkey", "tokens_for_text", "pynput_hotkey",
           "install_abort_signals", "restore_signals"]
