"""SIGKILL of a recording process costs at most a quarter second of frames (the first
second and segment boundaries included), and a kill before any frame leaves an empty
episode that every command names in one line."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("faults_bench", ROOT / "bench" / "faults_bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

PROMISED_S = 0.25  # docs/episode-format.md, "Crash recovery"
SEGMENT_S = 1.0  # short segments: boundaries come early, the test stays fast


@pytest.mark.parametrize("at_s", [0.3, SEGMENT_S + 0.04, 2 * SEGMENT_S + 0.12, 1.7],
                         ids=["first-second", "after-boundary-1", "after-boundary-2", "mid-segment"])
def test_sigkill_loses_at_most_a_quarter_second(tmp_path: Path, at_s: float):
    run = bench.kill_and_measure(tmp_path / "ep", at_s, SEGMENT_S)
    assert not run["traceback"], run
    assert run["recover_rc"] == 0, run
    assert run["frames"] > 0, run
    # lost_s: kill time minus the last recovered frame's capture time, both on the
    # machine's monotonic clock (meta.json's clock origin + the frames.csv time).
    assert run["lost_s"] <= PROMISED_S, run


# A recorder whose capture never delivers a frame: the kill comes "before any frame"
# deterministically, not by racing the first capture.
_STALLED_CHILD = """
import sys, time
from pathlib import Path
from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.recorder.capture import CaptureBackend
from deskmimic.recorder.record import Recorder

class Stalled(CaptureBackend):
    def monitors(self):
        return [Rect(0, 0, 640, 480), Rect(0, 0, 640, 480)]
    def grab(self, region):
        time.sleep(3600)

rec = Recorder(RecordConfig(out=Path(sys.argv[1]), region=Rect(0, 0, 320, 240), fps=30,
                            listen_input=False), capture=Stalled())
rec.start()
time.sleep(3600)
"""


def test_kill_before_any_frame_is_an_empty_episode_everywhere(tmp_path: Path):
    out = tmp_path / "ep"
    proc = subprocess.Popen([sys.executable, "-c", _STALLED_CHILD, str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        bench.clock_origin(out, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
        proc.stderr.close()

    rc, text = bench.run_cli(["episodes", "recover", str(out)])
    assert rc != 0, text
    assert "Traceback" not in text, text
    assert "the episode is empty" in text, text
    for argv in (["episodes", "check", str(out)], ["episodes", "--dir", str(tmp_path), "list"],
                 ["episodes", "show", str(out)]):
        rc, text = bench.run_cli(argv)
        assert "Traceback" not in text, (argv, text)
    rc, text = bench.run_cli(["episodes", "check", str(out)])
    assert rc != 0 and "frames.csv: no frames" in text, text
    # A second recover says the same, rather than "nothing to do".
    rc, text = bench.run_cli(["episodes", "recover", str(out)])
    assert rc != 0 and "the episode is empty" in text, text
