"""Fixtures for the learning tests: real expert demonstrations, recorded once per session.

The demonstrations go through the real recorder on the test display (pytest-xvfb), so
the training tests read the same episode files a user's recordings produce.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# Small input and few threads: the suite shares 2 CPU cores.
H, W = 96, 160
THREADS = 1


@pytest.fixture(scope="session")
def demo_root(qapp, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``root/click`` (3 click_button demos) and ``root/type`` (2 type_field demos)."""
    from deskmimic.tasks.demos import record_demos

    root = tmp_path_factory.mktemp("demos")
    demos = record_demos("click_button", [1, 2, 3], root / "click")
    demos += record_demos("type_field", [4, 5], root / "type")
    assert all(d.success for d in demos), [d.result for d in demos]
    return root


@pytest.fixture(autouse=True)
def _few_threads():
    prev = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(prev)


def small_config(tmp_path: Path, episodes, **kw):
    """A `TrainConfig` sized for tests (input 96x160, one thread, every step logged)."""
    from deskmimic.models.training.config import TrainConfig

    base = dict(episodes=tuple(episodes), name="t", runs_dir=tmp_path / "runs",
                cache_dir=tmp_path / "cache", input_height=H, input_width=W, num_threads=THREADS,
                batch_size=8, epochs=2, log_every=1, device="cpu", warmup_steps=2,
                allow_mixed_sizes=True)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="session")
def trained_run(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder with two checkpoints, trained briefly on the click demonstrations."""
    from deskmimic.models.training.train import run_training

    tmp = tmp_path_factory.mktemp("trained")
    cfg = small_config(tmp, [demo_root / "click"], name="tiny", epochs=2, batch_size=16)
    done = run_training(cfg)
    assert done["event"] == "done" and done["step"] == 2
    return cfg.run_dir


def episode_frames(ep_dir: Path) -> tuple[list, str]:
    """Every frame of a recorded episode (RGB arrays) and its instruction."""
    from deskmimic.recorder.episode import Episode

    with Episode.open(ep_dir) as ep:
        return [rgb for _, _, rgb in ep.iter_frames()], ep.instruction
