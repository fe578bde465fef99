"""A private Xvfb display for demos, evaluation and benchmarks: pick a free number, start, stop.

Display numbers are taken from ``first`` upward; a number is skipped when its lock file or
socket exists, and Xvfb itself refuses one that another process took in the meantime, in
which case the next number is tried. The server counts as ours only once the lock file holds
its pid: two benches started together both picked the same number, the loser's socket check
saw the winner's socket, and its run died when the winner's Xvfb stopped.

GLX is on by default: GTK popup menus (ARGB windows) come out solid black in a root-window
capture on Xvfb without it (docs/architecture.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deskmimic.core.errors import DisplayError

logger = logging.getLogger(__name__)

DEFAULT_ARGS = ("-nolisten", "tcp", "-noreset", "-extension", "GLX")


def display_owner(n: int) -> int | None:
    """The pid written in display ``:n``'s lock file (None: no lock or unreadable)."""
    try:
        return int(Path(f"/tmp/.X{n}-lock").read_text().strip())
    except (OSError, ValueError):
        return None


def _in_use(n: int) -> bool:
    return Path(f"/tmp/.X{n}-lock").exists() or Path(f"/tmp/.X11-unix/X{n}").exists()


class Xvfb:
    """One Xvfb server; a context manager. ``display`` is ':N' once started.

    Args:
        width, height, depth: the screen (``-screen 0 WxHxD``).
        first: the lowest display number to try.
        extra_args: more Xvfb arguments, after `DEFAULT_ARGS`.
    """

    def __init__(self, width: int = 1280, height: int = 800, depth: int = 24,
                 first: int = 150, extra_args: list[str] | None = None):
        self.width, self.height, self.depth = width, height, depth
        self.first = first
        self.extra_args = list(extra_args or [])
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.display: str | None = None

    def start(self, tries: int = 40, timeout: float = 10.0) -> str:
        """Start the server on the first free number; returns ':N'. Raises `DisplayError`."""
        exe = shutil.which("Xvfb")
        if exe is None:
            raise DisplayError("Xvfb is not installed: run `bash scripts/setup.sh` "
                               "(apt-get install xvfb)")
        n = self.first
        for _ in range(tries):
            while _in_use(n):
                n += 1
            cmd = [exe, f":{n}", "-screen", "0", f"{self.width}x{self.height}x{self.depth}",
                   *DEFAULT_ARGS, *self.extra_args]
            # stderr to a file, not a pipe: a pipe nobody reads would block the server.
            log = tempfile.TemporaryFile()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=log)
            sock = Path(f"/tmp/.X11-unix/X{n}")
            deadline = time.monotonic() + timeout
            mine = False
            while time.monotonic() < deadline and proc.poll() is None and not mine:
                mine = sock.exists() and display_owner(n) == proc.pid
                time.sleep(0.02)
            if proc.poll() is None and mine:
                self.proc, self.display, self._log = proc, f":{n}", log
                logger.info("Xvfb %s started (%dx%dx%d)", self.display, self.width, self.height,
                            self.depth)
                return self.display
            if proc.poll() is None:
                proc.kill()
            proc.wait(5)
            log.seek(0)
            err = log.read().decode(errors="replace").strip()[-200:]
            log.close()
            logger.info("Xvfb :%d did not start (%s); trying the next number", n, err)
            n += 1
        raise DisplayError(f"no free X display from :{self.first} after {tries} tries")

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise DisplayError("Xvfb is not running")
        return self.proc.pid

    def env(self) -> dict[str, str]:
        """os.environ with DISPLAY pointing at this server (for subprocesses)."""
        env = dict(os.environ)
        env["DISPLAY"] = self.display or ""
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def stop(self) -> None:
        """Stop the server; safe to call twice."""
        if self.proc is None:
            return
        _terminate(self.proc)
        self._log.close()
        self.proc = None

    def __enter__(self) -> Xvfb:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextmanager
def virtual_display(width: int = 1280, height: int = 800, force: bool = False,
                    window_manager: bool = False) -> Iterator[str]:
    """Yield a DISPLAY to use: the current one, or a new `Xvfb` (``force`` or none set).

    The Xvfb (and openbox, if ``window_manager``) is stopped on exit and DISPLAY restored.
    """
    if os.environ.get("DISPLAY") and not force:
        yield os.environ["DISPLAY"]
        return
    old = os.environ.get("DISPLAY")
    wm = None
    with Xvfb(width, height, first=90) as xvfb:
        try:
            os.environ["DISPLAY"] = xvfb.display
            if window_manager and shutil.which("openbox"):
                from deskmimic.recorder.windows_x11 import wait_for_window_manager

                wm = subprocess.Popen(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
                if not wait_for_window_manager():
                    logger.warning("openbox did not start managing windows on %s", xvfb.display)
            yield xvfb.display
        finally:
            if wm is not None:
                _terminate(wm)
            if old is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = old
