"""Recording after recording in one process (a benchmark, the GUI) must not pile up X
connections: each stopped input listener used to keep two until the next key press, and
after a few hundred recordings the server refused new clients."""

from __future__ import annotations

import os
from pathlib import Path

from deskmimic.core.geometry import Rect
from deskmimic.recorder.record import RecordConfig, Recorder


def _open_sockets() -> int:
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:  # closed while listing
            pass
    return n


def test_stopped_recordings_leave_no_x_connection_open(tmp_path: Path):
    def record(i: int) -> None:
        rec = Recorder(RecordConfig(out=tmp_path / f"ep{i}", region=Rect(0, 0, 160, 120),
                                    fps=10)).start()
        rec.stop()

    record(0)  # the first one loads pynput and the capture backend
    before = _open_sockets()
    for i in range(1, 5):
        record(i)
    # Nothing pressed a key meanwhile: before the fix, 2 connections a recording stayed.
    assert _open_sockets() - before <= 1
