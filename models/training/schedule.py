"""How long a run trains: optimizer steps sized from the number of training samples.

The one home of the rule: `deskmimic train` without ``--epochs``/``--steps``, the GUI's
Train page and the practice-desktop recipe (`deskmimic.tasks.learn`) all call
`planned_steps`. A fixed epoch count made the step count follow the data: 30 epochs of
20 demonstrations (~60 samples, batch 32) were 90 optimizer steps, far too few, while
30 epochs of thousands of samples are more than needed. docs/learning.md ("How long")
has the measurements behind the numbers.
"""

from __future__ import annotations

import math

# Sample presentations (steps x batch) for a small data set: the recipe's 800 steps of
# 16, which on 20 demonstrations of a one-step task gave the clicks their last heatmap
# cell (400 steps lost 6-7 of 50 held-out type_field episodes).
BASE_PRESENTATIONS = 12_800
# Samples up to which BASE_PRESENTATIONS is enough; beyond it the presentations grow
# with the square root of the samples: 20 workflow demonstrations (~180 samples) get
# the 1200 steps of 16 the workflow needed, while a large data set still sees each
# sample tens of times rather than hundreds.
BASE_SAMPLES = 80
MIN_STEPS = 50
MAX_STEPS = 100_000
CHECKPOINTS = 8  # checkpoints (validation passes) along a planned run


def planned_presentations(samples: int) -> int:
    """Samples the whole run should show the network (with repetition) for ``samples``."""
    if samples < 1:
        return 0
    scale = math.sqrt(max(1.0, samples / BASE_SAMPLES))
    return int(round(BASE_PRESENTATIONS * scale))


def planned_steps(samples: int, batch_size: int) -> int:
    """Optimizer steps for ``samples`` training samples at ``batch_size`` per step.

    The same number of presentations whatever the batch size, within
    [`MIN_STEPS`, `MAX_STEPS`].
    """
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size}: must be at least 1")
    steps = math.ceil(planned_presentations(samples) / batch_size)
    return min(MAX_STEPS, max(MIN_STEPS, steps))


def plan(
    samples: int,
    batch_size: int,
    *,
    epochs: int | None = None,
    steps: int | None = None,
    checkpoints: int = CHECKPOINTS,
    max_steps: int | None = None,
    max_steps_per_epoch: int | None = None,
) -> tuple[int, int, int]:
    """The run's schedule: (epochs, optimizer steps per epoch, optimizer steps in all).

    Args:
        samples: training samples on this process.
        batch_size: samples per step.
        epochs: passes over the data (the schedule of old runs and ``--epochs``); with
            ``steps`` it is the number of checkpoints instead.
        steps: optimizer steps in all (``--steps``).
        checkpoints: checkpoints along a run planned by `planned_steps` or ``steps``.
        max_steps, max_steps_per_epoch: caps (smoke runs, tests).

    Neither ``epochs`` nor ``steps``: `planned_steps`. An "epoch" is then a stretch of
    steps between two checkpoints, which may cycle through the samples several times.
    """
    if steps is None and epochs is not None:
        per_epoch = max(1, math.ceil(samples / batch_size))
        if max_steps_per_epoch:
            per_epoch = min(per_epoch, max_steps_per_epoch)
        total = per_epoch * epochs
        if max_steps:
            total = min(total, max_steps)
        return epochs, per_epoch, total
    total = steps if steps is not None else planned_steps(samples, batch_size)
    if max_steps:
        total = min(total, max_steps)
    n_epochs = max(1, min(epochs or checkpoints, total))
    per_epoch = math.ceil(total / n_epochs)
    if max_steps_per_epoch:
        per_epoch = min(per_epoch, max_steps_per_epoch)
        total = min(total, per_epoch * n_epochs)
    return n_epochs, per_epoch, total
