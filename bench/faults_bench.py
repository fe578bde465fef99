"""Fault injection over episode and run files: every damage kind x every command that reads the file.

Prints one JSON object: for episode files, cases tried, tracebacks (must be 0), read-only commands that
changed a byte (0), recoveries that made an episode less readable (0), deletes that
removed a file deskmimic did not write (0), the failing cases named, and ``kills``: the
median/max seconds a SIGKILL of the recorder lost (at random times, the first second and
just after segment boundaries included; the promise is <= 0.25 s); under ``runs``, the same
for a trained run's files (bench/_faults_runs.py: replay --dry-run, eval, train --resume and
the GUI's runs list; unclear or silent failures counted too); under ``disk_full``, a full
disk at the start of and in the middle of ``deskmimic record`` (bench/_faults_disk.py:
clean stops, episodes readable after, tracebacks).

    python bench/faults_bench.py [--quick] [--kills N] [--no-runs] [--no-disk]

Runs the CLI in this process (``deskmimic.app.cli.main``) on small episodes made by the
real recorder; starts its own Xvfb when DISPLAY is unset. ``tests/test_faults_matrix.py``
and ``tests/test_faults_runs.py`` run the same cases (the suite's share of these matrices).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/ holds scripts, not a package: its helper modules are imported by file name.
import _faults_disk  # noqa: E402
import _faults_runs  # noqa: E402
from _faults_runs import without_root_reads  # noqa: E402

# Each damage takes the file's bytes and returns the new bytes (None = delete the file).
_GARBAGE = bytes((i * 37 + 11) % 256 for i in range(16))


def _garbage(b: bytes) -> bytes:
    mid = len(b) // 2
    return b[:mid] + _GARBAGE + b[mid + len(_GARBAGE):]


def _non_utf8(b: bytes) -> bytes:
    cut = b.find(b"\n", len(b) // 2) + 1 or len(b)
    return b[:cut] + b"\xff\xfe\x80\n" + b[cut:]


def _wrong_type(b: bytes) -> bytes:
    try:
        data = json.loads(b)
    except ValueError:  # a line-based file: a JSON value of the wrong kind as a line
        return b + b"[1, 2, 3]\n"
    if isinstance(data, dict):  # meta.json: every field the wrong type, one at a time is in the tests
        data.update(fps="fast", counters=[1], geometry="none")
    return json.dumps(data).encode()


DAMAGES: dict[str, Callable[[bytes], bytes | None]] = {
    "truncate": lambda b: b[: len(b) // 2],
    "garbage": _garbage,
    "non_utf8": _non_utf8,
    "wrong_type": _wrong_type,
    "missing": lambda b: None,
    "empty": lambda b: b"",
}
# The episode matrix's kinds: the byte damages above and "unreadable" (mode 0, every
# command run as a user whom the permissions apply to, root or not). DAMAGES keeps the
# byte damages only: the run matrix (_faults_runs) adds "unreadable" to them itself.
KINDS: tuple[str, ...] = (*DAMAGES, "unreadable")
FILES = {"meta": "meta.json", "frames": "frames.csv", "events": "events.jsonl",
         "video": "video/000001.mkv"}
READ_ONLY = (["list"], ["show"], ["check"], ["check", "--decode"], ["steps"])


def make_episode(out: Path) -> Path:
    """A 1.5-s, 320x240 episode of three segments from the real recorder."""
    from deskmimic.core.config import RecordConfig
    from deskmimic.core.geometry import Rect
    from deskmimic.recorder.record import Recorder

    rec = Recorder(RecordConfig(out=out, region=Rect(0, 0, 320, 240), fps=20, max_duration=1.5,
                                segment_seconds=0.5))
    rec.start()
    rec.wait(10)
    rec.stop()
    return out


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except PermissionError:  # an "unreadable" case when the bench itself is not root
        st = path.stat()
        return f"unreadable {st.st_size} {st.st_mtime_ns}"


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``deskmimic ARGV`` in-process: (exit code, stdout + stderr). An exception escaping
    ``main`` is printed as a traceback, which the caller counts."""
    from deskmimic.app.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # counted as a traceback: that is what a user would see
            traceback.print_exc()
            rc = 1
    return rc, buf.getvalue()


def damage(ep: Path, file: str, kind: str) -> None:
    path = ep / FILES[file]
    if kind == "unreadable":
        os.chmod(path, 0)
        return
    new = DAMAGES[kind](path.read_bytes())
    if new is None:
        path.unlink()
    else:
        path.write_bytes(new)


def _problems(ep: Path) -> int:
    from deskmimic.core.errors import EpisodeFormatError
    from deskmimic.recorder.check import check_episode

    try:
        return len(check_episode(ep))
    except EpisodeFormatError:
        return 10**6


def _as_user(kind: str) -> contextlib.AbstractContextManager:
    """Where deskmimic's commands run: as root they would read an unreadable file anyway."""
    return without_root_reads() if kind == "unreadable" else contextlib.nullcontext()


def _gui_row(ep: Path, file: str, out: dict) -> bool:
    """The GUI's episode list reads meta.json only: its row for a damaged one must say
    ``unreadable`` and why, never raise. Returns True when the row hides the damage."""
    from deskmimic.app.gui.state import read_row

    before = snapshot(ep)
    out["tried"] += 1
    try:
        row = read_row(ep)
    except Exception:  # the GUI's scan worker would fail: the whole list would stay empty
        out["tracebacks"].append("gui list")
        return False
    if snapshot(ep) != before:
        out["changed_by"].append("gui list")
    return file == "meta" and (row.status != "unreadable" or FILES[file] not in row.error)


def run_case(good: Path, work: Path, file: str, kind: str) -> dict:
    """One file x one damage: every read-only command and the GUI's list, then recover,
    then delete. The bench's own reads (hashes) run as root."""
    ep = work / f"{file}-{kind}"
    shutil.copytree(good, ep)
    damage(ep, file, kind)
    out = {"case": f"{file}/{kind}", "tracebacks": [], "changed_by": [], "less_readable": False,
           "foreign_deleted": False, "gui_silent": False, "tried": 0}
    for verb in READ_ONLY:
        before = snapshot(ep)
        argv = ["episodes", "--dir", str(work), *verb] + ([] if verb == ["list"] else [str(ep)])
        with _as_user(kind):
            rc, text = run_cli(argv)
        out["tried"] += 1
        if "Traceback" in text:
            out["tracebacks"].append(" ".join(verb))
        if snapshot(ep) != before:
            out["changed_by"].append(" ".join(verb))
    with _as_user(kind):
        out["gui_silent"] = _gui_row(ep, file, out)
        problems = _problems(ep)
    before = snapshot(ep)
    with _as_user(kind):
        rc, text = run_cli(["episodes", "recover", str(ep)])
        less = _problems(ep) > problems
    out["tried"] += 1
    if "Traceback" in text:
        out["tracebacks"].append("recover")
    after = snapshot(ep)
    # recover may only add files: every original byte lives on under its name or a backup
    # (meta.json excepted: recovery rewrites it atomically, recording what it did in it)
    kept = {h for n, h in before.items() if n != "meta.json"} <= set(after.values())
    out["less_readable"] = less or not kept
    (ep / "user-notes.txt").write_text("not deskmimic's")
    with _as_user(kind):
        rc, text = run_cli(["episodes", "delete", "--yes", "--force", str(ep)])
    out["tried"] += 1
    if "Traceback" in text:
        out["tracebacks"].append("delete")
    out["foreign_deleted"] = not (ep / "user-notes.txt").exists()
    return out


def run_matrix(good: Path, work: Path, files=FILES, kinds=KINDS) -> dict:
    t0 = time.monotonic()
    cases = [run_case(good, work, f, k) for f in files for k in kinds]
    bad = [c for c in cases if c["tracebacks"] or c["changed_by"] or c["less_readable"]
           or c["foreign_deleted"] or c["gui_silent"]]
    return {
        "cases": len(cases),
        "commands_tried": sum(c["tried"] for c in cases),
        "tracebacks": sum(len(c["tracebacks"]) for c in cases),
        "bytes_changed_by_read_only": sum(len(c["changed_by"]) for c in cases),
        "less_readable_after_recover": sum(c["less_readable"] for c in cases),
        "foreign_files_deleted": sum(c["foreign_deleted"] for c in cases),
        "gui_rows_hiding_damage": sum(c["gui_silent"] for c in cases),
        "failing": bad,
        "seconds": round(time.monotonic() - t0, 1),
    }


# The recorder as its own process, as `deskmimic record` runs it (the CLI has no segment
# length option; tests want short segments): argv = OUT SEGMENT_SECONDS LISTEN_INPUT.
RECORD_CHILD = """
import sys, time
from pathlib import Path
from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.recorder.record import Recorder
Recorder(RecordConfig(out=Path(sys.argv[1]), region=Rect(0, 0, 640, 480), fps=30,
                      segment_seconds=float(sys.argv[2]), listen_input=sys.argv[3] == "1")).start()
time.sleep(3600)
"""


def start_recorder(out: Path, segment_seconds: float, listen_input: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RECORD_CHILD, str(out), str(segment_seconds),
                             "1" if listen_input else "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def clock_origin(out: Path, proc: subprocess.Popen, timeout: float = 60) -> int:
    """The recording's clock origin (monotonic ns, this machine's clock too), from meta.json."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            origin = json.loads((out / "meta.json").read_text())["clock"].get("origin_monotonic_ns")
        except (OSError, ValueError, KeyError):
            origin = None
        if origin:
            return int(origin)
        if proc.poll() is not None:
            raise RuntimeError(f"the recorder exited early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.001)  # polling a file another process writes: as tight as is cheap
    raise RuntimeError(f"{out}: no clock origin in meta.json within {timeout} s")


def kill_and_measure(out: Path, at_s: float, segment_seconds: float, listen_input: bool = True) -> dict:
    """SIGKILL a recorder ``at_s`` seconds after its clock origin, recover, and measure the
    seconds between the kill and the last recovered frame (all of them when none is)."""
    from deskmimic.recorder.episode import read_frame_index

    proc = start_recorder(out, segment_seconds, listen_input)
    try:
        origin = clock_origin(out, proc)
        delay = origin + int(at_s * 1e9) - time.monotonic_ns()
        if delay > 0:
            time.sleep(delay / 1e9)
        killed = time.monotonic_ns()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
        proc.stderr.close()
    rc, text = run_cli(["episodes", "recover", str(out)])
    index = read_frame_index(out / "frames.csv")
    last = origin + int(index[-1, 1]) if len(index) else origin
    return {"at_s": round((killed - origin) / 1e9, 3), "lost_s": round((killed - last) / 1e9, 3),
            "frames": len(index), "recover_rc": rc, "traceback": "Traceback" in text}


def kill_times(n: int, segment_seconds: float, rng: random.Random) -> list[float]:
    """A third in the first second, a third just after a segment boundary, the rest anywhere."""
    k = n // 3
    first = [rng.uniform(0.0, 1.0) for _ in range(k)]
    after = [segment_seconds * rng.randint(1, 2) + rng.uniform(0.0, 0.3) for _ in range(k)]
    anywhere = [rng.uniform(0.0, 2.5 * segment_seconds) for _ in range(n - 2 * k)]
    return first + after + anywhere


def run_kills(work: Path, n: int, segment_seconds: float = 4.0, seed: int = 0) -> dict:
    runs = [kill_and_measure(work / f"kill-{i}", at, segment_seconds)
            for i, at in enumerate(kill_times(n, segment_seconds, random.Random(seed)))]
    lost = [r["lost_s"] for r in runs]
    return {"kills": n, "segment_seconds": segment_seconds,
            "median_s_lost": round(statistics.median(lost), 3) if lost else None,
            "max_s_lost": max(lost, default=None),
            "over_0_25_s": [r for r in runs if r["lost_s"] > 0.25],
            "tracebacks": sum(r["traceback"] for r in runs)}


def _run_files_matrix(work: Path, quick: bool) -> dict:
    work.mkdir()
    demos, good = _faults_runs.make_run(work / "made")
    quick_files = ("run_config", "weights", "best_link")
    files = {k: v for k, v in _faults_runs.RUN_FILES.items() if not quick or k in quick_files}
    return _faults_runs.run_matrix(demos, good, work, files)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="meta and events; of a run, its config, weights and best link only")
    p.add_argument("--no-runs", action="store_true", help="no run files")
    p.add_argument("--no-disk", action="store_true", help="no full-disk recordings")
    p.add_argument("--kills", type=int, default=12, help="SIGKILLs of the recorder to measure (0: none)")
    p.add_argument("--segment-seconds", type=float, default=4.0, help="segment length of the killed recordings")
    args = p.parse_args(argv)
    display = None
    if not os.environ.get("DISPLAY"):
        from deskmimic.recorder.virtual_display import Xvfb

        display = Xvfb()
        os.environ["DISPLAY"] = display.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            good = make_episode(Path(tmp) / "good")
            files = {k: FILES[k] for k in ("meta", "events")} if args.quick else FILES
            work = Path(tmp) / "work"
            work.mkdir()
            result = run_matrix(good, work, files)
            if args.kills:
                kills = Path(tmp) / "kills"
                kills.mkdir()
                result["kills"] = run_kills(kills, args.kills, args.segment_seconds)
            if not args.no_disk:
                result["disk_full"] = _faults_disk.run_disk_full(Path(tmp) / "disk", args.quick)
            if not args.no_runs:
                result["runs"] = _run_files_matrix(Path(tmp) / "runs", args.quick)
            print(json.dumps(result))
    finally:
        if display is not None:
            display.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
