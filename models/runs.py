"""Training run folders: the names of their files (the one home of them) and Qt-free
reading for the Train and Replay pages: the runs folder with each run's settings, best
validation metrics and checkpoints, and one run's metric history.

Reads only JSON files the trainer writes (``config.json``, ``metrics.jsonl``, checkpoint
folders); never imports torch, so listing runs stays instant. The trainer and
`deskmimic.models.training.checkpoint` import the names below; nothing restates them.

Layout::

    runs/<name>/config.json                               the run's TrainConfig (format: core.formats.RUN)
    runs/<name>/metrics.jsonl                             one JSON line per epoch
    runs/<name>/tensorboard/                              scalars for TensorBoard
    runs/<name>/checkpoints/<step>/model.safetensors      weights (+ the spec hash in its metadata)
    runs/<name>/checkpoints/<step>/config.json            what inference needs (format: core.formats.CHECKPOINT)
    runs/<name>/checkpoints/<step>/training_state/        optimizer.safetensors + state.json (resume)
    runs/<name>/checkpoints/last -> <step>                relative symlinks
    runs/<name>/checkpoints/best -> <step>                (best validation score)
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from deskmimic.core.errors import RunVersionError
from deskmimic.core.formats import RUN, check_version

logger = logging.getLogger(__name__)

# A run folder.
RUN_CONFIG = "config.json"
METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"
CHECKPOINTS_DIR = "checkpoints"
# A checkpoint folder, checkpoints/<step_dir_name(step)>/.
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TRAINING_STATE_DIR = "training_state"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
# Links inside checkpoints/ to a step folder.
LAST = "last"
BEST = "best"
LINKS = (BEST, LAST)


def step_dir_name(step: int) -> str:
    """The folder of the checkpoint saved after ``step`` optimizer steps (sorts by name)."""
    return f"{step:06d}"


@dataclass(frozen=True)
class RunInfo:
    """One folder of the runs directory.

    Attributes:
        epochs_done: epochs with a metrics line; ``epochs`` the planned number (0: unknown).
        best: the validation metrics of the epoch with the best score (empty: none yet).
        checkpoints: step folders, oldest first; ``links`` maps best/last to a step.
        error: why the run could not be read (the rest is then mostly empty).
        warning: what is wrong in a run that was read (damaged metrics lines, a link to
            a checkpoint that is not there); empty when nothing is.
    """

    path: Path
    name: str
    modified: float
    epochs: int = 0
    epochs_done: int = 0
    episodes: int = 0
    input_size: str = ""
    best: dict = field(default_factory=dict)
    last_loss: float | None = None
    checkpoints: tuple[str, ...] = ()
    links: dict = field(default_factory=dict)
    error: str = ""
    warning: str = ""
    tasks: tuple[str, ...] = ()  # the task labels of its episodes that are still there

    @property
    def has_checkpoint(self) -> bool:
        return bool(self.checkpoints)

    def checkpoint_path(self, which: str) -> Path:
        """``best``, ``last`` or a step folder name -> its folder."""
        return self.path / CHECKPOINTS_DIR / which


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _metrics_record(rec: object) -> bool:
    """A record the charts and the runs list can use: numbers where numbers go."""
    if not isinstance(rec, dict):
        return False
    if any(k in rec and not _number(rec[k]) for k in ("epoch", "step")):
        return False
    parts = [rec.get(k) for k in ("train", "val") if rec.get(k) is not None]
    return all(isinstance(p, dict) and all(_number(v) for v in p.values()) for p in parts)


def read_metrics_checked(run_dir: Path) -> tuple[list[dict], list[str]]:
    """The run's per-epoch records (``metrics.jsonl``) and what was wrong with the file.

    A torn last line (the epoch being written, or a crash mid-line) is skipped without a
    word; any other line that is not a record, and a file the OS refuses, are named in
    the problems: a chart with holes must say why.
    """
    path = Path(run_dir) / METRICS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"{path}: cannot be read ({exc.strerror or exc})"]
    lines = raw.split(b"\n")
    torn = bool(lines[-1].strip())  # no newline after the last line: still being written
    out, bad = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError included
            rec = None
        if _metrics_record(rec):
            out.append(rec)
        elif not (torn and n == len(lines)):
            bad.append(n)
    problems = [f"{path}: line{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad[:5]))}"
                f"{' ...' if len(bad) > 5 else ''} not a metrics record (skipped)"] if bad else []
    return out, problems


def read_metrics(run_dir: Path) -> list[dict]:
    """The run's per-epoch records (``metrics.jsonl``); damaged lines are skipped
    (`read_metrics_checked` names them), a file that cannot be read gives none."""
    return read_metrics_checked(run_dir)[0]


def _checkpoints(run_dir: Path) -> tuple[tuple[str, ...], dict, list[str]]:
    """Step folders, the links that name one, and what is wrong with the links."""
    ck = run_dir / CHECKPOINTS_DIR
    if not ck.is_dir():
        return (), {}, []
    steps = sorted((c.name for c in ck.iterdir()
                    if c.is_dir() and not c.is_symlink() and c.name.isdigit()), key=int)
    links, problems = {}, []
    for name in LINKS:
        link = ck / name
        target = link.resolve()
        if link.is_symlink() and target.parent == ck.resolve() and target.name in steps:
            links[name] = target.name
        elif link.is_symlink():
            problems.append(f"{link} points at {os.readlink(link)!r}, not a checkpoint of "
                            "this run")
        elif (link / CONFIG_FILE).is_file() and (link / MODEL_FILE).is_file():
            # A run copied without its links (shutil.copytree, a file manager) holds the
            # checkpoint itself here, and loading takes it as it is.
            links[name] = name
        elif link.exists():
            problems.append(f"{link} is not a link to a checkpoint (copied without links?)")
        elif name == LAST and steps:  # best may be missing (no validation), last may not
            problems.append(f"{link} is missing (checkpoints {', '.join(steps[-3:])} are there)")
    return tuple(steps), links, problems


# The run config's fields the runs list shows, and the JSON types it reads them as.
_CONFIG_TYPES = {"epochs": (int, type(None)), "episodes": (list,),
                 "input_width": (int,), "input_height": (int,)}


def _config_problem(cfg: dict, path: Path) -> str:
    for name, types in _CONFIG_TYPES.items():
        v = cfg.get(name)
        if name in cfg and (isinstance(v, bool) or not isinstance(v, types)):
            return (f"{path}: field '{name}' is {v!r}, expected "
                    f"{types[0].__name__}: not a readable training config")
    return ""


def read_run(run_dir: Path) -> RunInfo:
    """One row of the runs list; never raises for what is inside the folder (``error`` and
    ``warning`` say what is wrong)."""
    run_dir = Path(run_dir)
    modified = run_dir.stat().st_mtime
    steps, links, problems = _checkpoints(run_dir)
    base = {"path": run_dir, "name": run_dir.name, "modified": modified,
            "checkpoints": steps, "links": links, "warning": "; ".join(problems)}
    cfg_path = run_dir / RUN_CONFIG
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        if not isinstance(cfg, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return RunInfo(**base, error=f"{cfg_path}: unreadable ({exc})")
    try:
        check_version(RUN, cfg, cfg_path)
    except RunVersionError as exc:  # a run from a newer deskmimic: list it, say why not read
        return RunInfo(**base, error=str(exc))
    if problem := _config_problem(cfg, cfg_path):
        return RunInfo(**base, error=problem)
    metrics, bad = read_metrics_checked(run_dir)
    if steps and not metrics and not bad:
        bad = [f"{run_dir / METRICS_FILE}: no epoch recorded although checkpoints exist "
               "(missing or emptied): the run's history is lost"]
    best: dict = {}
    for rec in metrics:
        val = rec.get("val") or {}
        if "score" in val and (not best or val["score"] > best.get("score", -1)):
            best = {**val, "epoch": rec.get("epoch"), "step": rec.get("step")}
    last_loss = (metrics[-1].get("train") or {}).get("loss") if metrics else None
    return RunInfo(**{**base, "warning": "; ".join(problems + bad)},
                   epochs=int(cfg.get("epochs") or 0), epochs_done=len(metrics),
                   episodes=len(cfg.get("episodes") or ()),
                   input_size=f"{cfg.get('input_width')}×{cfg.get('input_height')}",
                   best=best, last_loss=last_loss, tasks=_episode_tasks(cfg.get("episodes")))


def _episode_tasks(episodes: object, limit: int = 500) -> tuple[str, ...]:
    """The task labels in the meta.json of a run's episodes (those still readable): what
    the run was trained to do, for choosing where to replay it."""
    metas: list[Path] = []
    for entry in episodes if isinstance(episodes, list) else ():
        folder = Path(str(entry))
        try:  # an episode folder, or a folder of episodes (as `train DIR` takes them)
            metas += [folder / "meta.json"] if (folder / "meta.json").is_file() \
                else sorted(folder.glob("*/meta.json"))[:limit]
        except OSError:
            continue
    tasks: set[str] = set()
    for meta in metas[:limit]:
        try:
            task = json.loads(meta.read_text(encoding="utf-8")).get("task")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(task, str) and task:
            tasks.add(task)
    return tuple(sorted(tasks))


def scan_run_infos(root: Path) -> list[RunInfo]:
    """Run folders under ``root`` (those with a config.json or checkpoints), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    rows = []
    for p in root.iterdir():
        if not p.is_dir() or p.name.startswith("."):
            continue
        if not (p / RUN_CONFIG).exists() and not (p / CHECKPOINTS_DIR).exists():
            continue
        rows.append(read_run(p))
    return sorted(rows, key=lambda r: r.modified, reverse=True)


def next_run_name(root: Path, stem: str = "run") -> str:
    """``stem-1``, ``stem-2``, … : the first name with no folder under ``root``."""
    root = Path(root)
    i = 1
    while (root / f"{stem}-{i}").exists():
        i += 1
    return f"{stem}-{i}"
