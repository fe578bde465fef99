"""Start a private Xvfb when there is no display (or when asked), for demos and benchmarks."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deskmimic.core.errors import DisplayError


def _free_display(start: int = 90) -> int:
    for n in range(start, start + 100):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise DisplayError("no free X display number between :90 and :189")


def display_owner(n: int) -> int | None:
    """The pid written in display ``:n``'s lock file (None: no lock or unreadable).

    Two programs that pick the same free number at once both start an Xvfb on it; the loser
    exits, but the winner's socket can appear before it does. Only the pid in the lock
    tells whose server the socket is.
    """
    try:
        return int(Path(f"/tmp/.X{n}-lock").read_text().strip())
    except (OSError, ValueError):
        return None


def _start_xvfb(exe: str, width: int, height: int, tries: int = 5) -> tuple[subprocess.Popen, int]:
    for _ in range(tries):
        n = _free_display()
        proc = subprocess.Popen(
            [exe, f":{n}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
             "-extension", "GLX"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            if Path(f"/tmp/.X11-unix/X{n}").exists() and display_owner(n) == proc.pid:
                return proc, n
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    raise DisplayError(f"Xvfb did not start after {tries} tries (the last on :{n})")


@contextmanager
def virtual_display(width: int = 1280, height: int = 800, force: bool = False,
                    window_manager: bool = False) -> Iterator[str]:
    """Yield a DISPLAY to use: the current one, or a new Xvfb (``force`` or none set).

    The Xvfb (and openbox, if ``window_manager``) is stopped on exit and DISPLAY restored.
    """
    if os.environ.get("DISPLAY") and not force:
        yield os.environ["DISPLAY"]
        return
    exe = shutil.which("Xvfb")
    if exe is None:
        raise DisplayError("Xvfb is not installed: run `bash scripts/setup.sh` (apt-get install xvfb)")
    proc, n = _start_xvfb(exe, width, height)
    name = f":{n}"
    wm = None
    old = os.environ.get("DISPLAY")
    try:
        os.environ["DISPLAY"] = name
        if window_manager and shutil.which("openbox"):
            wm = subprocess.Popen(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            time.sleep(0.3)
        yield name
    finally:
        for p in (wm, proc):
            if p is not None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
