"""Smoke test of bench/record_bench.py: a 2-second run at one small resolution.

Runs the script as a subprocess (it starts its own Xvfb, content window and XTEST
injector), so this also checks that stdout carries exactly one JSON object.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "record_bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("record_bench_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(90)
def test_record_bench_short_run_prints_sane_json(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--resolutions", "640x400", "--duration", "2",
         "--events", "200", "--rate", "250", "--trials", "2", "--keep", str(tmp_path / "eps")],
        capture_output=True, text=True, timeout=80, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # nothing but the JSON object on stdout
    assert set(result) >= {"results", "targets", "pass", "all_pass", "config", "host"}
    r = result["results"]["640x400"]

    steady = r["steady"]
    assert steady["frames"] > 0
    assert 10 <= steady["fps_steady"] <= 31  # capture is paced at 30 fps: never above
    assert steady["dropped_frames"] >= 0
    assert 0 < steady["cpu"]["recorder_cores"] < 2.5  # at most the machine's cores
    threads = steady["cpu"]["recorder_threads_cores"]
    assert {"deskmimic-capture", "deskmimic-encode", "pynput-mouse"} <= set(threads)
    assert steady["cpu"]["recorder_cores_at_target_fps"] > 0
    assert 0 < steady["mb_per_min"] < 500
    assert (tmp_path / "eps" / "steady-640x400" / "meta.json").is_file()

    events = r["events"]
    assert events["injected"] == 200
    assert events["matched"] + events["lost"] == 200
    assert events["matched"] >= 190  # the target is zero lost; allow a loaded machine a little
    assert events["inject_to_event_ms"]["median"] < 200

    lat = r["latency"]
    assert lat["trials_injected"] == 2 and lat["presses_recorded"] == 2
    assert lat["changes_found"] >= 1
    med = lat["event_to_frame_latency_ms"]["median"]
    assert -40 < med < 1000  # a frame can be grabbed just before the listener stamps the event
    assert all(isinstance(v, bool) for k, v in result["pass"].items() if k != "judged_at")
    assert result["pass"]["judged_at"] == "640x400"


def test_verdict_judges_the_target_resolution() -> None:
    bench = _load_bench()

    def res(fps: float, cores: float, lost: int, mb: float) -> dict:
        cpu = {"recorder_cores": cores, "recorder_cores_at_target_fps": cores * 30 / fps}
        return {"steady": {"fps_steady": fps, "mb_per_min": mb, "cpu": cpu},
                "events": {"lost": lost}}

    v = bench.verdict({"1280x800": res(30.0, 0.3, 0, 4.0), "1920x1080": res(29.0, 0.8, 1, 12.0)})
    assert v["judged_at"] == "1920x1080"
    assert v["fps_30"] is False and v["under_1_core"] is True and v["under_goal_0_5_core"] is False
    assert v["zero_lost_events"] is False and v["under_10_mb_per_min"] is False
    v = bench.verdict({"1280x800": res(30.0, 0.3, 0, 4.0)})
    assert v["judged_at"] == "1280x800" and all(
        v[k] for k in ("fps_30", "under_1_core", "under_goal_0_5_core", "zero_lost_events",
                       "under_10_mb_per_min"))
    # Starved of CPU the recorder captures fewer frames and uses less: judge the cost per
    # frame scaled to 30 fps, not the raw cores.
    v = bench.verdict({"1920x1080": res(12.0, 0.45, 0, 4.0)})
    assert v["under_1_core"] is False and v["values"]["recorder_cores_at_target_fps"] > 1.0
