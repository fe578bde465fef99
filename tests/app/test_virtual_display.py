"""The private Xvfb that `deskmimic demo` and the benches start: two started at once must
not end up sharing one server (the loser's run died when the winner's Xvfb stopped)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from deskmimic.recorder.virtual_display import Xvfb, display_owner


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_xvfbs_started_together_each_get_their_own_display():
    servers = [Xvfb(320, 240, first=90) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda x: x.start(), servers))
    try:
        numbers = [x.display for x in servers]
        assert len(set(numbers)) == 4, numbers
        for x in servers:
            assert x.proc.poll() is None, f"{x.display} exited"
            assert display_owner(int(x.display[1:])) == x.pid
    finally:
        for x in servers:
            x.stop()


def test_a_display_without_a_readable_lock_has_no_owner(tmp_path: Path):
    n = 4000 + next(i for i in range(1000) if not Path(f"/tmp/.X{4000 + i}-lock").exists())
    assert display_owner(n) is None
    lock = Path(f"/tmp/.X{n}-lock")
    lock.write_text("not a pid\n")
    try:
        assert display_owner(n) is None
        lock.write_text("      1234\n")
        assert display_owner(n) == 1234
    finally:
        lock.unlink()
