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

    @property
    def has_checkpoint(self) -> bool:
        return bool(self.checkpoints)

    def checkpoint_path(self, which: str) -> Path:
        """``best``, ``last`` or a step folder name -> its folder."""
        return self.path / CHECKPOINTS_DIR / which


def read_metrics(run_dir: Path) -> list[dict]:
    """The run's per-epoch records (``metrics.jsonl``); a torn last line is skipped."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line being written right now, or a crash mid-line
        if isinstance(rec, dict):
            out.append(rec)
    return out


def _checkpoints(run_dir: Path) -> tuple[tuple[str, ...], dict]:
    ck = run_dir / CHECKPOINTS_DIR
    if not ck.is_dir():
        return (), {}
    steps = sorted((c.name for c in ck.iterdir()
                    if c.is_dir() and not c.is_symlink() and c.name.isdigit()), key=int)
    links = {}
    for name in LINKS:
        link = ck / name
        if link.exists():
            links[name] = link.resolve().name
    return tuple(steps), links


def read_run(run_dir: Path) -> RunInfo:
    run_dir = Path(run_dir)
    modified = run_dir.stat().st_mtime
    steps, links = _checkpoints(run_dir)
    base = {"path": run_dir, "name": run_dir.name, "modified": modified,
            "checkpoints": steps, "links": links}
    try:
        cfg = json.loads((run_dir / RUN_CONFIG).read_text(encoding="utf-8"))
        if not isinstance(cfg, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return RunInfo(**base, error=f"{run_dir / RUN_CONFIG}: unreadable ({exc})")
    try:
        check_version(RUN, cfg, run_dir / RUN_CONFIG)
    except RunVersionError as exc:  # a run from a newer deskmimic: list it, say why not read
        return RunInfo(**base, error=str(exc))
    metrics = read_metrics(run_dir)
    best: dict = {}
    for rec in metrics:
        val = rec.get("val") or {}
        if "score" in val and (not best or val["score"] > best.get("score", -1)):
            best = {**val, "epoch": rec.get("epoch"), "step": rec.get("step")}
    last_loss = None
    if metrics:
        last_loss = (metrics[-1].get("train") or {}).get("loss")
    return RunInfo(**base, epochs=int(cfg.get("epochs") or 0), epochs_done=len(metrics),
                   episodes=len(cfg.get("episodes") or ()),
                   input_size=f"{cfg.get('input_width')}×{cfg.get('input_height')}",
                   best=best, last_loss=last_loss)


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
