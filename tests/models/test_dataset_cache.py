"""The dataset cache is keyed on declared rule versions, not on the text of the code:
reused while nothing declared changed, rebuilt when a rule's version (or the episode)
changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.models.data import dataset, keys, preprocess, steps
from deskmimic.models.data.dataset import cache_key, load_episode_samples, rules_versions
from deskmimic.recorder.record import Recorder

H, W = 64, 96


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short real recording (no input: its one step is ``done``)."""
    out = tmp_path_factory.mktemp("eps") / "ep"
    rec = Recorder(RecordConfig(out=out, region=Rect(0, 0, 160, 96), fps=10, max_duration=0.6,
                                segment_seconds=0.5))
    rec.start()
    rec.wait(10)
    rec.stop()
    return out


def test_the_key_names_each_rule_version():
    assert rules_versions() == {"steps": steps.RULES_VERSION, "keys": keys.RULES_VERSION,
                                "preprocess": preprocess.RULES_VERSION}


def test_editing_the_code_text_keeps_the_key(episode: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch):
    before = cache_key(episode, H, W)
    edited = tmp_path / "steps.py"
    edited.write_text(Path(steps.__file__).read_text() + "\n# a comment\n")
    monkeypatch.setattr(steps, "__file__", str(edited))
    assert cache_key(episode, H, W) == before


@pytest.mark.parametrize("module, name", [(steps, "RULES_VERSION"), (keys, "RULES_VERSION"),
                                          (preprocess, "RULES_VERSION"),
                                          (dataset, "CACHE_VERSION")])
def test_a_bumped_version_changes_the_key(episode: Path, monkeypatch: pytest.MonkeyPatch,
                                          module, name: str):
    before = cache_key(episode, H, W)
    monkeypatch.setattr(module, name, getattr(module, name) + 1)
    assert cache_key(episode, H, W) != before


def test_reused_until_a_rule_version_changes(episode: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch):
    calls = []

    def counting_steps(ep):
        calls.append(ep.id)
        return steps.steps_for_episode(ep)

    cache = tmp_path / "cache"
    _, first = load_episode_samples(episode, H, W, cache, steps_fn=counting_steps)
    _, again = load_episode_samples(episode, H, W, cache, steps_fn=counting_steps)
    assert len(calls) == 1, "nothing declared changed: the entry is reused"
    assert [s.action for s in again] == [s.action for s in first]
    assert len(list(cache.glob("*.json"))) == 1

    monkeypatch.setattr(steps, "RULES_VERSION", steps.RULES_VERSION + 1)
    _, rebuilt = load_episode_samples(episode, H, W, cache, steps_fn=counting_steps)
    assert len(calls) == 2, "a bumped rule version rebuilds the entry"
    assert [s.action for s in rebuilt] == [s.action for s in first]
    assert len(list(cache.glob("*.json"))) == 2
