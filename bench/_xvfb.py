"""A private Xvfb display for benchmarks: pick a free display number, start, stop.

Display numbers are taken from ``first`` upward (150 by default, above the 50..99
range people use by hand); a number is skipped when its lock file or socket
exists, and Xvfb itself refuses one that another process took in the meantime,
in which case the next number is tried. The server counts as ours only once the lock
file holds its pid: two benches started together both picked :150, the loser's socket
check saw the winner's socket, and its run died when the winner's Xvfb stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from deskmimic.app.virtual_display import display_owner

logger = logging.getLogger(__name__)


class XvfbError(RuntimeError):
    """Xvfb is missing or would not start."""


def _in_use(n: int) -> bool:
    return Path(f"/tmp/.X{n}-lock").exists() or Path(f"/tmp/.X11-unix/X{n}").exists()


class Xvfb:
    """One Xvfb server; a context manager. ``display`` is ':N' once started.

    Args:
        width, height, depth: the screen (``-screen 0 WxHxD``).
        first: the lowest display number to try.
        extra_args: more Xvfb arguments (e.g. ``["-extension", "GLX"]``).
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
        exe = shutil.which("Xvfb")
        if exe is None:
            raise XvfbError("Xvfb is not installed (apt-get install xvfb)")
        n = self.first
        for _ in range(tries):
            while _in_use(n):
                n += 1
            cmd = [exe, f":{n}", "-screen", "0", f"{self.width}x{self.height}x{self.depth}",
                   "-nolisten", "tcp", "-noreset", *self.extra_args]
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
        raise XvfbError(f"no free X display from :{self.first} after {tries} tries")

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise XvfbError("Xvfb is not running")
        return self.proc.pid

    def env(self) -> dict[str, str]:
        """os.environ with DISPLAY pointing at this server (for subprocesses)."""
        env = dict(os.environ)
        env["DISPLAY"] = self.display or ""
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()
        self.proc = None

    def __enter__(self) -> Xvfb:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
