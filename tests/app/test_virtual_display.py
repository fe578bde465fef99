"""The private Xvfb that `deskmimic demo` and the benches start: two started at once must
not end up sharing one server (the loser's run died when the winner's Xvfb stopped)."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from deskmimic.app.virtual_display import _start_xvfb, display_owner


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_xvfbs_started_together_each_get_their_own_display():
    exe = shutil.which("Xvfb")
    with ThreadPoolExecutor(4) as pool:
        started = list(pool.map(lambda _: _start_xvfb(exe, 320, 240), range(4)))
    try:
        numbers = [n for _, n in started]
        assert len(set(numbers)) == 4, numbers
        for proc, n in started:
            assert proc.poll() is None, f":{n} exited"
            assert display_owner(n) == proc.pid
    finally:
        for proc, _ in started:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


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
