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
    n = _free_display()
    name = f":{n}"
    proc = subprocess.Popen([exe, name, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
                             "-extension", "GLX"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wm = None
    old = os.environ.get("DISPLAY")
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise DisplayError(f"Xvfb {name} did not start")
            time.sleep(0.05)
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
