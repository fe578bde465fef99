"""The logs rank 0 keeps in a run folder: ``config.json`` (the run's settings),
``metrics.jsonl`` (one JSON line per epoch, read by `deskmimic.models.runs` and the GUI)
and TensorBoard scalars under ``tensorboard/`` (``tensorboard --logdir runs/`` reads them).

TensorBoard files are written by tensorboardX (pure Python and protobuf): the
``tensorboard`` package that ``torch.utils.tensorboard`` needs is large and only the
viewer needs it.
"""

from __future__ import annotations

import json
import logging
import os
import time

from tensorboardX import SummaryWriter

from deskmimic.core.paths import make_private_dir
from deskmimic.models.runs import METRICS_FILE, RUN_CONFIG, TENSORBOARD_DIR
from deskmimic.models.training.config import TrainConfig

logger = logging.getLogger(__name__)

# tensorboardX writes from a background thread and flush() does not wait for it: this
# bounds how far the files on disk (what a live `tensorboard` shows) trail the training.
_TB_FLUSH_SECONDS = 5


class RunLog:
    """Creates the run folder with its ``config.json`` and appends each epoch's metrics.

    Args:
        cfg: the run; its folder is created if missing.
        start_step: the step the run starts (or resumes) at.
    """

    def __init__(self, cfg: TrainConfig, start_step: int = 0) -> None:
        # A run holds what was learnt from someone's screen: user-only, like episodes.
        self.run_dir = make_private_dir(cfg.run_dir)
        (self.run_dir / RUN_CONFIG).write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
        os.chmod(self.run_dir / RUN_CONFIG, 0o600)
        # Event files are named by the second they are opened in, and tensorboardX truncates
        # an existing one: a resume opened within the same second as a short earlier session
        # would erase that session's scalars without its own suffix.
        suffix = f".resumed-at-{start_step}" if cfg.resume else ""
        self._tb = SummaryWriter(
            logdir=str(self.run_dir / TENSORBOARD_DIR),
            flush_secs=_TB_FLUSH_SECONDS,
            filename_suffix=suffix,
        )

    def epoch(
        self,
        *,
        epoch: int,
        step: int,
        lr: float,
        train_loss: float,
        seconds: float,
        metrics: dict[str, float],
    ) -> None:
        """Log the end of ``epoch`` (1-based) at optimizer step ``step``."""
        line = {
            "epoch": epoch,
            "step": step,
            "time": time.time(),
            "lr": lr,
            "train": {"loss": train_loss, "seconds": seconds},
            "val": metrics,
        }
        with open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        self._tb.add_scalar("train/loss", train_loss, step)
        self._tb.add_scalar("train/lr", lr, step)
        for k, v in metrics.items():
            self._tb.add_scalar(f"val/{k}", v, step)
        self._tb.flush()

    def close(self) -> None:
        """Write out the pending TensorBoard events and stop the writer's thread."""
        self._tb.close()
