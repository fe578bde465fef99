"""Episodes on disk -> cached, split state-action samples.

Each episode is reduced to steps (`steps_for_episode`), each learnable step paired with
its settled frame, the frame resized to the network's input size, and the result cached
under ``cache_dir`` as ``<episode id>-<key>.npy`` + ``.json``. With ``text_match`` (the
default) each image gets a 4th channel, the instruction match map (`text_match`). The
key hashes the episode's files (names, sizes, mtimes), the input size, the match-channel
setting and version, the cache format and the declared versions of the rules
(`rules_versions`: each rule module's ``RULES_VERSION``), so editing an episode or bumping
a rule's version rebuilds it and nothing else. The train/validation split is by episode, seeded.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deskmimic.core.errors import ConfigError
from deskmimic.core.paths import make_private_dir, write_private_bytes
from deskmimic.models.actions import Action
from deskmimic.models.data import keys, preprocess, steps
from deskmimic.models.data.samples import Sample, episode_samples
from deskmimic.models.perception.match_maps import VERSION as TEXT_MATCH_VERSION
from deskmimic.models.perception.match_maps import word_maps_signature

logger = logging.getLogger(__name__)

# Bump when the entries' layout, or how steps become samples (`episode_samples`,
# `actions.action_from_step`), changes: every entry is rebuilt.
CACHE_VERSION = 1
META_FILE = "meta.json"
# Files only an episode folder holds (docs/episode-format.md).
EPISODE_FILES = ("frames.csv", "events.jsonl", "video")


def find_episode_dirs(paths: Sequence[Path | str]) -> list[Path]:
    """Episode folders among ``paths``: each is an episode (has meta.json) or a folder of them."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if (p / META_FILE).is_file():
            found.append(p)
        elif p.is_dir():
            inside = sorted(c for c in p.iterdir() if (c / META_FILE).is_file())
            if not inside:
                # Named on purpose, so never skipped without a word.
                if any((p / f).exists() for f in EPISODE_FILES):
                    raise ConfigError(f"episodes: {p} looks like an episode but has no "
                                      "meta.json: `deskmimic episodes recover` may rebuild it")
                raise ConfigError(
                    f"no episodes found in {p}: it is neither an episode (no meta.json) nor a "
                    "folder of episodes; record some with `deskmimic record`"
                )
            found.extend(inside)
        else:
            raise ConfigError(
                f"episodes: {p} does not exist: give episode folders or a folder of them"
            )
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise ConfigError(
            "no episodes found in "
            + ", ".join(str(p) for p in paths)
            + ": record some with `deskmimic record` or point at the episodes folder"
        )
    return unique


def rules_versions() -> dict[str, int]:
    """The declared versions of every rule whose output a cache entry holds.

    Each module bumps its own ``RULES_VERSION`` when its output changes (docs/formats.md);
    editing a comment or refactoring rebuilds nothing. The match maps have their own
    (``match_maps.VERSION``, ``word_maps_signature()``), added in `cache_key` when used.
    """
    return {
        "steps": steps.RULES_VERSION,  # events -> steps
        "keys": keys.RULES_VERSION,  # key events -> characters and chords, used by steps
        "preprocess": preprocess.RULES_VERSION,  # frame -> network input
    }


def cache_key(
    ep_dir: Path, height: int, width: int, text_match: bool = False, word_maps: bool = False
) -> str:
    """Hash of the episode's files (name, size, mtime), input size, match channel, cache
    version and the declared versions of the rules (`rules_versions`)."""
    stats = sorted(
        (str(p.relative_to(ep_dir)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in ep_dir.rglob("*")
        if p.is_file()
    )
    parts: list = [CACHE_VERSION, height, width, rules_versions(), stats]
    if text_match:  # appended only when on: entries without the channel keep their key
        parts.append(["text_match", TEXT_MATCH_VERSION])
        if word_maps:
            parts.append(["word_maps", word_maps_signature()])
    blob = json.dumps(parts)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _save_cache(stem: Path, samples: list[Sample]) -> None:
    images = np.stack([s.image for s in samples]) if samples else np.zeros((0, 1, 1, 3), np.uint8)
    records = [
        {
            "action": s.action.to_dict(),
            "instruction": s.instruction,
            "history": list(s.history),
            "width": s.width,
            "height": s.height,
            "box": s.box,
            "episode": s.episode,
        }
        for s in samples
    ]
    # Decoded frames and typed text of someone's screen: user-only, like the episode.
    buf = io.BytesIO()
    np.save(buf, images)
    write_private_bytes(stem.with_suffix(".npy"), buf.getvalue())
    # Written last: marks the entry complete.
    body = json.dumps({"version": CACHE_VERSION, "samples": records}).encode()
    write_private_bytes(stem.with_suffix(".json"), body)


def _load_cache(stem: Path) -> list[Sample] | None:
    try:
        data = json.loads(stem.with_suffix(".json").read_text())
        images = np.load(stem.with_suffix(".npy"))
        return [
            Sample(
                images[i],
                Action.from_dict(r["action"]),
                r["instruction"],
                tuple(r["history"]),
                r["width"],
                r["height"],
                tuple(r["box"]) if r["box"] else None,
                r["episode"],
            )
            for i, r in enumerate(data["samples"])
        ]
    except (OSError, ValueError, KeyError, IndexError, ConfigError):
        return None


@dataclass(frozen=True)
class EpisodeInfo:
    """What the dataset checks about an episode besides its samples."""

    id: str
    status: str
    width: int
    height: int
    region: dict
    success: bool | None


def load_episode_samples(
    ep_dir: Path,
    height: int,
    width: int,
    cache_dir: Path | None,
    steps_fn: Callable[[Any], list] | None = None,
    text_match: bool = False,
    word_maps: bool = False,
) -> tuple[EpisodeInfo, list[Sample]]:
    """Open one episode and return (info, samples), from the cache when it is current.

    ``text_match`` adds the instruction match channel to every image (`preprocess.input_image`),
    ``word_maps`` makes it one channel per content word.

    An unfinished episode (status ``recording``) gets no samples; the caller reports it.
    """
    from deskmimic.recorder.episode import Episode

    ep = Episode.open(ep_dir)
    try:
        success = ep.extra.get("success") if isinstance(ep.extra, dict) else None
        info = EpisodeInfo(
            ep.id,
            ep.status,
            ep.region.width,
            ep.region.height,
            ep.region.to_dict(),
            success if isinstance(success, bool) else None,
        )
        if info.status == "recording":
            return info, []
        stem = None
        if cache_dir is not None:
            make_private_dir(cache_dir)
            key = cache_key(ep_dir, height, width, text_match, word_maps)
            # The reader refuses ids that are not plain names; this keeps the cache in
            # its folder whatever a meta.json says.
            stem = cache_dir / f"{Path(ep.id).name}-{key}"
            cached = _load_cache(stem)
            if cached is not None:
                return info, cached
        if steps_fn is None:
            steps_fn = steps.steps_for_episode
        samples = episode_samples(ep, steps_fn(ep), height, width, text_match, word_maps)
        if stem is not None:
            _save_cache(stem, samples)
        return info, samples
    finally:
        ep.close()


def split_by_episode(
    ids: Sequence[str], val_fraction: float, seed: int
) -> tuple[list[str], list[str]]:
    """Seeded split of episode ids; at least one validation episode when there are two or more."""
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    n_val = round(len(order) * val_fraction)
    if val_fraction > 0 and len(order) >= 2:
        n_val = min(max(n_val, 1), len(order) - 1)
    return sorted(order[n_val:]), sorted(order[:n_val])


@dataclass
class DatasetSplit:
    """Samples split by episode plus what the checkpoint must remember about the data."""

    train: list[Sample]
    val: list[Sample]
    screen: dict = field(default_factory=dict)  # {"width", "height", "region"}
    train_episodes: list[str] = field(default_factory=list)
    val_episodes: list[str] = field(default_factory=list)


def split_samples(
    samples: list[Sample], val_fraction: float, seed: int, screen: dict | None = None
) -> DatasetSplit:
    """Split ready-made samples by their ``episode`` field."""
    tr, va = split_by_episode(sorted({s.episode for s in samples}), val_fraction, seed)
    va_set = set(va)
    if screen is None:
        s0 = samples[0]
        screen = {"width": s0.width, "height": s0.height, "region": None}
    return DatasetSplit(
        [s for s in samples if s.episode not in va_set],
        [s for s in samples if s.episode in va_set],
        screen,
        tr,
        va,
    )


@dataclass
class _Collected:
    """The usable samples of a set of episodes, and which episodes were skipped why."""

    samples: list[Sample] = field(default_factory=list)
    sizes: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # (w, h) -> ids
    region: dict | None = None  # the captured area of the first usable episode
    empty: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def report(self, n_dirs: int) -> None:
        """Refuse a set with no learnable step; otherwise warn about the skipped episodes."""
        if not self.samples:
            named = ", ".join((self.empty + self.incomplete + self.failed)[:3])
            raise ConfigError(
                f"none of the {n_dirs} episode(s) has a learnable step ({len(self.empty)} "
                f"without steps, {len(self.incomplete)} unfinished, {len(self.failed)} "
                f"unsuccessful; e.g. {named}): record demonstrations that do something"
            )
        # Only when training goes ahead: the error above already names the skipped ones.
        for ids, why in (
            (self.failed, "marked unsuccessful (extra.success = false)"),
            (self.incomplete, "still marked recording (run `deskmimic episodes recover`)"),
            (self.empty, "without any steps"),
        ):
            if ids:
                logger.warning("skipped %d episode(s) %s: %s", len(ids), why, ", ".join(ids[:5]))


def _collect(
    dirs: list[Path],
    progress: Callable[[int, int], None] | None,
    skip_failed: bool,
    load: Callable[[Path], tuple[EpisodeInfo, list[Sample]]],
) -> _Collected:
    """Load each episode (``load``) and keep the samples of the usable ones."""
    out = _Collected()
    for n, d in enumerate(dirs):
        if progress:
            progress(n, len(dirs))
        info, ep_samples = load(d)
        if info.status == "recording":
            out.incomplete.append(info.id)
        elif info.success is False and skip_failed:
            out.failed.append(info.id)
        elif not any(s.action.kind != "done" for s in ep_samples):
            out.empty.append(info.id)
        else:
            out.sizes.setdefault((info.width, info.height), []).append(info.id)
            out.region = out.region or info.region
            out.samples.extend(ep_samples)
    return out


def _common_size(sizes: dict[tuple[int, int], list[str]], allow_mixed: bool) -> tuple[int, int]:
    """The captured-area size most episodes share; several only with ``allow_mixed``."""
    if len(sizes) > 1 and not allow_mixed:
        listing = "; ".join(
            f"{w}x{h}: {len(ids)} (e.g. {ids[0]})" for (w, h), ids in list(sizes.items())[:3]
        ) + ("; ..." if len(sizes) > 3 else "")
        raise ConfigError(
            f"episodes have different captured-area sizes ({listing}): record the same region, "
            "train on one size at a time, or pass --allow-mixed-sizes"
        )
    (w0, h0), _ = max(sizes.items(), key=lambda kv: len(kv[1]))
    return w0, h0


def load_dataset(
    paths: Sequence[Path | str],
    *,
    height: int,
    width: int,
    val_fraction: float,
    seed: int,
    cache_dir: Path | None,
    allow_mixed_sizes: bool = False,
    skip_failed: bool = True,
    progress: Callable[[int, int], None] | None = None,
    text_match: bool = True,
    word_maps: bool = False,
) -> DatasetSplit:
    """Load, check and split the episodes under ``paths`` (see the module docstring).

    Episodes still marked ``recording``, marked unsuccessful (``extra.success`` false, when
    ``skip_failed``) or without any step but ``done`` are skipped with a warning.
    ``text_match`` (default on, as in `TrainConfig`) adds the instruction match channel;
    ``word_maps`` one per content word.

    Raises:
        ConfigError: no episodes, none usable, or different captured-area sizes.
        EpisodeFormatError: an episode folder is corrupt (names the file).
    """
    dirs = find_episode_dirs(paths)
    found = _collect(dirs, progress, skip_failed, lambda d: load_episode_samples(
        d, height, width, cache_dir, text_match=text_match, word_maps=word_maps))
    found.report(len(dirs))
    w0, h0 = _common_size(found.sizes, allow_mixed_sizes)
    split = split_samples(
        found.samples, val_fraction, seed, {"width": w0, "height": h0, "region": found.region}
    )
    logger.info(
        "dataset: %d train samples (%d episodes), %d validation samples (%d episodes)",
        len(split.train),
        len(split.train_episodes),
        len(split.val),
        len(split.val_episodes),
    )
    return split
