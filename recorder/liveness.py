"""Whether the process recording an episode still runs.

An episode's meta.json says ``status: "recording"`` from its first frame until the
recorder finalizes it; a recorder (or a replay recording itself) killed with SIGKILL never
does. So the recorder also writes who it is (``process``: pid, the kernel's start time of
that pid, boot id, host): a reader finds out whether that very process still runs, and
tells a live recording from an interrupted one that `deskmimic episodes recover` fixes.
A pid alone is not enough: pids are reused, so its start time must match too.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22)."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its end.
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _boot_id() -> str | None:
    boot = _read("/proc/sys/kernel/random/boot_id")
    return boot.strip() if boot else None


def this_process() -> dict:
    """meta.json's ``process``: what identifies the recording process."""
    pid = os.getpid()
    return {"pid": pid, "start_ticks": _start_ticks(pid), "boot_id": _boot_id(),
            "host": socket.gethostname()}


def recorder_alive(meta: dict) -> bool | None:
    """True while the process that records this episode runs; False once it is gone
    (killed, crashed, or the machine rebooted); None when that cannot be known (no
    ``process`` in meta.json, another host, no /proc)."""
    proc = meta.get("process")
    if not isinstance(proc, dict) or proc.get("host") != socket.gethostname():
        return None
    pid, ticks, boot = proc.get("pid"), proc.get("start_ticks"), proc.get("boot_id")
    if not isinstance(pid, int) or isinstance(pid, bool) or ticks is None or boot is None:
        return None
    now_boot = _boot_id()
    if now_boot is None:
        return None
    if now_boot != boot:
        return False
    return _start_ticks(pid) == ticks


def listed_status(meta: dict, name: str) -> tuple[str, str]:
    """(status, what to do about it) as the episode lists show it (`episodes list` and the
    GUI's list, so they never disagree): a ``recording`` whose process is gone is
    ``interrupted``, a finished episode without a frame ``empty``; ``name`` is the
    episode's folder name, for the command the message suggests."""
    status = str(meta.get("status", ""))
    counters = meta.get("counters") or {}
    if status == "recording":
        if recorder_alive(meta) is False:
            # Killed (SIGKILL, a crash, a reboot): it will never finish by itself.
            return "interrupted", (f"the recording process is gone: run `deskmimic episodes "
                                   f"recover {name}`")
    elif counters.get("frames") == 0:
        # Finished (or recovered) without a single frame: nothing to train on or replay.
        return "empty", f"no frames: delete it with `deskmimic episodes delete {name}`"
    return status, ""
