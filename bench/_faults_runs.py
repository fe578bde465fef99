"""Fault injection over a trained run's files: every damage kind x every reader of the file.

The second matrix of ``bench/faults_bench.py`` (which imports this): a tiny run trained
on three real expert demonstrations, then, for each file of it (the run's config.json and
metrics.jsonl; the best checkpoint's config.json and weights; the last checkpoint's
training state; the best/last links) and each damage kind, every command that reads that
file runs in-process: ``replay --dry-run``, ``eval``, ``train --resume`` and the GUI's
runs list (`deskmimic.models.runs.read_run`, what the Train and Replay pages show).

A command passes when it prints no traceback; when it fails, it says so in one
``error:`` line naming the damaged file; the read-only ones (replay, eval, the runs
list) change no byte of the run; and it does not carry on as if nothing were wrong
(``silent``), except where carrying on is the documented behaviour (`EXPECTED_OK`).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

RUN_NAME = "tiny"
# The tiny run's best checkpoint is also its last (asserted by make_run), so the files of
# "the checkpoint" are read by replay and eval (best) and by --resume (last) alike.
RUN_FILES = {
    "run_config": "config.json",
    "metrics": "metrics.jsonl",
    "ckpt_config": "checkpoints/{step}/config.json",
    "weights": "checkpoints/{step}/model.safetensors",
    "state": "checkpoints/{step}/training_state/state.json",
    "optimizer": "checkpoints/{step}/training_state/optimizer.safetensors",
    "best_link": "checkpoints/best",
    "last_link": "checkpoints/last",
}
READERS = {
    "run_config": ("resume", "runs"),
    "metrics": ("runs",),
    "ckpt_config": ("replay", "eval", "resume"),
    "weights": ("replay", "eval", "resume"),
    "state": ("resume",),
    "optimizer": ("resume",),
    "best_link": ("replay", "eval", "runs"),
    "last_link": ("resume", "runs"),
}
READ_ONLY = ("replay", "eval", "runs")
# (file, damage) -> readers for which going on is right: a run that never had a best link
# (no validation yet) is replayed from its last checkpoint; a torn last line of
# metrics.jsonl is the epoch being written right now.
EXPECTED_OK = {("best_link", "missing"): ("replay", "eval", "runs"),
               ("metrics", "truncate"): ("runs",)}


def _wrong_types(value: object) -> object:
    """Every field of a JSON object a value of another type (what a hand edit or another
    program's file does), but the ones naming the format: those are checked first, and
    the damage is meant for the readers behind that check. A line-based file gets this
    per line."""
    if isinstance(value, dict):
        swap = {str: [1], bool: "yes", int: "fast", float: "fast", list: 7, dict: "x"}
        keep = ("format_version", "policy_type")
        return {k: v if k in keep else swap.get(type(v), {"a": 1}) for k, v in value.items()}
    return [1, 2, 3]


def _wrong_type(b: bytes) -> bytes:
    try:
        return json.dumps(_wrong_types(json.loads(b))).encode()
    except ValueError:
        pass
    if b.startswith(b"{") and b"\n" in b.rstrip(b"\n"):  # JSON lines
        lines = [json.dumps(_wrong_types(json.loads(ln))) for ln in b.splitlines() if ln.strip()]
        return ("\n".join(lines) + "\n").encode()
    # safetensors: an 8-byte header length, then a JSON header; give it a list for a dict
    n = int.from_bytes(b[:8], "little")
    head = json.dumps([1, 2, 3]).encode().ljust(n)
    return b[:8] + head + b[8 + n:]


def _damages() -> dict[str, Callable[[bytes], bytes | None]]:
    from faults_bench import DAMAGES  # bench/ is on sys.path: faults_bench puts it there

    return {**DAMAGES, "wrong_type": _wrong_type}


# What each damage kind means for a link inside checkpoints/: a target that is not there,
# a regular file in its place (copies made by tools that do not keep links), and so on.
LINK_DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncate": lambda p: _relink(p, os.readlink(p)[:3]),
    "garbage": lambda p: _relink(p, "\x01\x7f#%"),
    "non_utf8": lambda p: _relink(p, os.fsdecode(b"\xff\xfe\x80")),
    "wrong_type": lambda p: _as_file(p, os.readlink(p).encode()),
    "missing": lambda p: p.unlink(),
    "empty": lambda p: _as_file(p, b""),
}


def _relink(link: Path, target: str) -> None:
    link.unlink()
    os.symlink(target, link)


def _as_file(link: Path, data: bytes) -> None:
    link.unlink()
    link.write_bytes(data)


def damage_kinds(file: str = "") -> list[str]:
    """The damages that apply to ``file`` (a link has no bytes or permissions of its own)."""
    return list(LINK_DAMAGES) if file.endswith("_link") else [*_damages(), "unreadable"]


def make_run(work: Path) -> tuple[Path, Path]:
    """(demonstrations, run folder): 3 expert demos of click_button and 2 optimizer steps
    at 64x96 (~15 s on 2 busy cores); the run's sample cache sits in ``work/cache``."""
    from deskmimic.models.runs import BEST, CHECKPOINTS_DIR, LAST
    from deskmimic.models.training.config import TrainConfig
    from deskmimic.models.training.train import run_training
    from deskmimic.tasks.demos import record_demos

    demos = work / "demos"
    recorded = record_demos("click_button", [0, 1, 2], demos, fps=10, speed=2.0)
    assert all(d.success for d in recorded), [d.to_dict() for d in recorded]
    cfg = TrainConfig(episodes=(demos,), name=RUN_NAME, runs_dir=work / "runs", epochs=2,
                      batch_size=8, input_height=64, input_width=96, allow_mixed_sizes=True,
                      warmup_steps=0, num_threads=1, max_steps_per_epoch=1,
                      cache_dir=work / "cache")
    run_training(cfg)
    ck = cfg.run_dir / CHECKPOINTS_DIR
    if os.readlink(ck / BEST) != os.readlink(ck / LAST):
        # Two steps on three demos: which epoch validates better is chance. The matrix
        # damages each link on its own and wants both to name one checkpoint.
        (ck / BEST).unlink()
        os.symlink(os.readlink(ck / LAST), ck / BEST)
    return demos, cfg.run_dir


def run_file(run: Path, file: str) -> Path:
    from deskmimic.models.runs import CHECKPOINTS_DIR, LAST

    step = os.readlink(run / CHECKPOINTS_DIR / LAST)
    return run / RUN_FILES[file].format(step=step)


def damage_run(run: Path, file: str, kind: str) -> None:
    path = run_file(run, file)
    if kind == "unreadable":
        os.chmod(path, 0)
    elif file.endswith("_link"):
        LINK_DAMAGES[kind](path)
    else:
        new = _damages()[kind](path.read_bytes())
        if new is None:
            path.unlink()
        else:
            path.write_bytes(new)


def snapshot(run: Path) -> dict[str, str]:
    """Every file's hash and every link's target (rglob does not follow links)."""
    out = {}
    for p in sorted(run.rglob("*")):
        key = str(p.relative_to(run))
        if p.is_symlink():
            out[key] = "-> " + os.readlink(p)
        elif p.is_file():
            out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ---- "unreadable" without being root: drop the capabilities that let root read anything ---
_CAP_DAC = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


@contextlib.contextmanager
def without_root_reads() -> Iterator[None]:
    """This thread reads files as their permissions say, root or not (as ``setpriv
    --inh-caps -dac_override,...`` does for a child), in-process so no torch import is
    repeated. Capabilities are per thread: the readers here run on the calling thread."""
    libc = ctypes.CDLL(None, use_errno=True)
    head, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(head), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    saved = data[0].effective
    data[0].effective = saved & ~_CAP_DAC
    if libc.capset(ctypes.byref(head), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    try:
        yield
    finally:
        data[0].effective = saved
        libc.capset(ctypes.byref(head), data)


# ---- the readers -----------------------------------------------------------------------
def _argv(reader: str, run: Path, demos: Path, out: Path) -> list[str]:
    if reader == "replay":
        return ["replay", "--policy", str(run), "--dry-run", "--region", "320x240+0+0",
                "--max-steps", "1", "--max-duration", "30", "--min-confidence", "0", "--no-record",
                "--out", str(out)]
    if reader == "eval":
        return ["eval", "--task", "click_button", "--policy", str(run), "--seeds", "1000000",
                "--max-steps", "1", "--episode-timeout", "30", "--keep", "none",
                "--display", "current", "--out", str(out)]
    # the run is finished (2 of 2 epochs): resuming loads everything and trains no step
    return ["train", str(demos), "--name", run.name, "--runs-dir", str(run.parent), "--resume",
            "--input-size", "64x96", "--allow-mixed-sizes", "--threads", "1",
            "--cache-dir", str(demos.parent / "cache")]


def _runs_list(run: Path) -> tuple[int, str]:
    """The GUI's runs list as an exit code and text: 1 + the row's problem, or 0."""
    from deskmimic.models.runs import scan_run_infos

    rows = [r for r in scan_run_infos(run.parent) if r.path == run]
    problem = " ".join(x for r in rows for x in (r.error, r.warning) if x)
    if not rows:
        problem = f"{run}: not listed"
    return (1 if problem else 0), (f"runs list: error: {problem}" if problem else "")


def read(reader: str, run: Path, demos: Path, out: Path) -> tuple[int, str]:
    from faults_bench import run_cli

    if reader == "runs":
        try:
            return _runs_list(run)
        except Exception as exc:  # the GUI's worker would show this as a failed refresh
            return 1, f"Traceback (the runs list raised {exc!r})"
    return run_cli(_argv(reader, run, demos, out))


def judge(rc: int, text: str, name: str, must_fail: bool) -> str:
    """'' when the output is right; else what is wrong with it."""
    if "Traceback" in text:
        return "traceback"
    lines = [ln for ln in text.splitlines() if "error:" in ln]
    if rc == 0:
        return "silent" if must_fail else ""
    if len(lines) != 1 or name not in lines[0]:
        return "unclear"
    return ""


def run_case(demos: Path, good: Path, work: Path, file: str, kind: str,
             readers: tuple[str, ...] | None = None) -> dict:
    """One file x one damage x each reader (a fresh copy of the run for each)."""
    out = {"case": f"{file}/{kind}", "tried": 0, "failing": {}, "changed_by": []}
    for reader in readers or READERS[file]:
        where = work / f"{file}-{kind}-{reader}"
        run = where / "runs" / good.name
        shutil.copytree(good, run, symlinks=True)
        damage_run(run, file, kind)
        name = Path(RUN_FILES[file]).name
        before = snapshot(run)
        ctx = without_root_reads() if kind == "unreadable" else contextlib.nullcontext()
        with ctx:
            rc, text = read(reader, run, demos, where / "out")
        out["tried"] += 1
        ok = reader in EXPECTED_OK.get((file, kind), ())
        verdict = judge(rc, text, name, must_fail=not ok)
        if verdict:
            out["failing"][reader] = f"{verdict}: rc {rc}: {text.strip()[-300:]}"
        if reader in READ_ONLY and snapshot(run) != before:
            out["changed_by"].append(reader)
        shutil.rmtree(where)
    return out


def control(demos: Path, good: Path, work: Path) -> dict:
    """Every reader on the intact run: each must succeed (else the matrix proves nothing)."""
    out = {}
    for reader in ("replay", "eval", "resume", "runs"):
        where = work / f"control-{reader}"
        run = where / "runs" / good.name
        shutil.copytree(good, run, symlinks=True)
        rc, text = read(reader, run, demos, where / "out")
        if rc != 0:
            out[reader] = text.strip()[-300:]
        shutil.rmtree(where)
    return out


def run_matrix(demos: Path, good: Path, work: Path, files=RUN_FILES,
               kinds: list[str] | None = None) -> dict:
    t0 = time.monotonic()
    failed_control = control(demos, good, work)
    cases = [run_case(demos, good, work, f, k) for f in files for k in (kinds or damage_kinds(f))]
    return {
        "cases": len(cases),
        "commands_tried": sum(c["tried"] for c in cases),
        "control_failures": failed_control,
        "tracebacks": sum(v.startswith("traceback") for c in cases for v in c["failing"].values()),
        "unclear_or_silent": sum(not v.startswith("traceback")
                                 for c in cases for v in c["failing"].values()),
        "bytes_changed_by_read_only": sum(len(c["changed_by"]) for c in cases),
        "failing": [c for c in cases if c["failing"] or c["changed_by"]],
        "seconds": round(time.monotonic() - t0, 1),
    }
