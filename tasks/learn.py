"""The learning loop on the practice desktop: expert demonstrations -> a trained policy.

Shared by `deskmimic demo`, ``bench/learning_bench.py`` and the end-to-end test, so
they measure the same thing:

```python
demos = record_task_demos("click_button", range(20), out / "episodes")
run_dir = None
for event in train_task_policy(out / "episodes", out / "runs", "click_button-20", QuickTrain()):
    run_dir = event.get("run_dir", run_dir)        # progress dicts of models.train
policy = load_policy(run_dir, which="last")
```

The run is planned by optimizer steps (`TrainConfig.steps`, ``epochs`` checkpoints along
the way), sized from the number of training samples unless `QuickTrain.steps` says
otherwise: the same rule `deskmimic train` uses (`models/training/schedule.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from deskmimic.core.errors import ConfigError
from deskmimic.tasks.demos import Demo, record_demos

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuickTrain:
    """Training settings sized for a few minutes of a 2-core CPU.

    Attributes:
        steps: optimizer steps in total (None: sized from the number of training samples,
            `deskmimic.models.training.schedule.planned_steps`).
        epochs: checkpoints (and metric passes) along the way.
        batch_size: samples per step.
        input_height, input_width: network input (multiples of 32).
        threads: torch CPU threads.
        seed: initialisation, shuffling and augmentation seed.
        device: torch device (``cpu`` by default: reproducible here).
        word_select: one match map per instruction word, picked per step (`TrainConfig`).
        zoom, dark: look augmentation (`TrainConfig`).
    """

    steps: int | None = None
    epochs: int = 4
    batch_size: int = 16
    input_height: int = 128
    input_width: int = 160
    threads: int = 2
    seed: int = 0
    device: str = "cpu"
    word_select: bool = True
    zoom: float = 0.0
    dark: float = 0.0

    def __post_init__(self) -> None:
        if (self.steps is not None and self.steps < 1) or self.epochs < 1 or self.batch_size < 1 or self.threads < 1:
            raise ConfigError("training steps, epochs, batch size and threads must be at least 1")


def record_task_demos(task: str, seeds: Iterable[int], out: Path, *, speed: float = 2.0,
                      progress: Callable[[Demo], None] | None = None,
                      looks: str = "default") -> list[Demo]:
    """Expert demonstrations through the real recorder (see `deskmimic.tasks.demos`), the
    windows drawn in looks mode ``looks`` (`deskmimic.tasks.looks`; recorded as ``extra.look``)."""
    return record_demos(task, seeds, out, speed=speed, progress=progress, looks=looks)


def train_task_policy(episodes: Path | Iterable[Path], runs_dir: Path, name: str,
                      cfg: QuickTrain | None = None) -> Iterator[dict]:
    """Train a policy on demonstrations; yields `deskmimic.models.training.train` progress events.

    Every demonstration trains (no validation split: with ten or twenty demonstrations
    each one counts; held-out seeds judge the result). The run is ``runs_dir/name``;
    load it with ``load_policy(run_dir, which="last")``.
    """
    from deskmimic.models.data.dataset import load_dataset
    from deskmimic.models.training.schedule import planned_steps
    from deskmimic.models.training.train import TrainConfig, train

    cfg = cfg or QuickTrain()
    paths = (episodes,) if isinstance(episodes, Path) else tuple(episodes)
    base = TrainConfig(
        episodes=paths, name=name, runs_dir=runs_dir, batch_size=cfg.batch_size, seed=cfg.seed,
        device=cfg.device, val_fraction=0.0, input_height=cfg.input_height,
        input_width=cfg.input_width, num_threads=cfg.threads,
        allow_mixed_sizes=True,  # every task window has its own size
        max_val_batches=1, word_select=cfg.word_select, zoom=cfg.zoom, dark=cfg.dark)
    data = load_dataset(paths, height=cfg.input_height, width=cfg.input_width, val_fraction=0.0,
                        seed=cfg.seed, cache_dir=base.resolved_cache_dir, allow_mixed_sizes=True,
                        text_match=base.text_match, word_maps=base.uses_word_maps)
    steps = cfg.steps or planned_steps(len(data.train), cfg.batch_size)
    tcfg = base.replace(steps=steps, epochs=cfg.epochs, warmup_steps=min(30, steps // 10),
                        log_every=max(1, steps // 50))
    yield from train(tcfg, data)


__all__ = ["QuickTrain", "record_task_demos", "train_task_policy"]
