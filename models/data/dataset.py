"""Episodes on disk -> cached, split state-action samples.

Each episode is reduced to steps (`steps_for_episode`), each learnable step paired with
its settled frame, the frame resized to the network's input size, and the result cached
under ``cache_dir`` as ``<episode id>-<key>.npy`` + ``.json``. With ``text_match`` (the
default) each image gets a 4th channel, the instruction match map (`text_match`). The
key hashes the episode's files (names, sizes, mtimes), the input size, the match-channel
setting and version, the cache format and the source of the step-reduction rules, so editing an episode or the rules rebuilds it
and nothing else. The train/validation split is by episode, seeded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deskmimic.core.errors import ConfigError, EpisodeFormatError
from deskmimic.models.actions import POINTER_KINDS, Action, action_from_step
from deskmimic.models.data.preprocess import input_image
from deskmimic.models.data.samples import Sample
from deskmimic.models.perception.text_match import VERSION as TEXT_MATCH_VERSION
from deskmimic.models.perception.text_match import word_maps_signature

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
META_FILE = "meta.json"


def find_episode_dirs(paths: Sequence[Path | str]) -> list[Path]:
    """Episode folders among ``paths``: each is an episode (has meta.json) or a folder of them."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if (p / META_FILE).is_file():
            found.append(p)
        elif p.is_dir():
            found.extend(sorted(c for c in p.iterdir() if (c / META_FILE).is_file()))
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


def element_boxes(extra: dict) -> list[tuple[float, float, float, float]]:
    """Element boxes from meta ``extra['boxes']`` as (x0, y0, x1, y1) captured-area pixels.

    ``extra['boxes']`` maps element names to ``[left, top, width, height]`` in captured-area
    pixels (what `deskmimic.tasks.demos` writes) or ``{left, top, width, height}`` dicts;
    a list of rects works too. Anything else is ignored.
    """
    raw = extra.get("boxes") if isinstance(extra, dict) else None
    items = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    boxes = []
    for r in items:
        try:
            if isinstance(r, dict):
                lx, ty, w, h = (float(r[k]) for k in ("left", "top", "width", "height"))
            else:
                lx, ty, w, h = (float(v) for v in r)
        except (KeyError, TypeError, ValueError):
            continue
        if w > 0 and h > 0:
            boxes.append((lx, ty, lx + w, ty + h))
    return boxes


def _target_box(action: Action, boxes: list) -> tuple[float, float, float, float] | None:
    """The smallest element box containing the demonstrated point (the element clicked)."""
    if action.x is None or not boxes:
        return None
    hits = [b for b in boxes if b[0] <= action.x < b[2] and b[1] <= action.y < b[3]]
    return min(hits, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])) if hits else None


def episode_samples(
    ep: Any,
    steps: Sequence[Any],
    height: int,
    width: int,
    text_match: bool = False,
    word_maps: bool = False,
) -> list[Sample]:
    """Samples of one episode: each learnable step with its settled frame (resized).

    Args:
        ep: an open `Episode` (or anything with its reader API).
        steps: its steps (`steps_for_episode(ep)`).
        height, width: network input size.
        text_match: add the instruction match map as a 4th image channel.
        word_maps: with ``text_match``, one map per content word (`text_match.word_maps`).
    """
    region = ep.region
    w0, h0 = region.width, region.height
    boxes = element_boxes(ep.extra)
    plan: list[tuple[int, Action, tuple[str, ...]]] = []
    history: list[str] = []
    for step in steps:
        action = action_from_step(step)
        if action is None:
            continue
        points = (
            [(action.x, action.y), (action.x2, action.y2)] if action.kind in POINTER_KINDS else []
        )
        if any(x is not None and not (0 <= x < w0 and 0 <= y < h0) for x, y in points):
            logger.warning(
                "episode %s step %s: %s outside the captured area, skipped",
                ep.id,
                step.index,
                action.kind,
            )
            history.append(action.kind)
            continue
        fi = step.frame_index if step.frame_index is not None else ep.frame_index_at(step.t_start)
        plan.append((int(fi), action, tuple(history)))
        history.append(action.kind)
    instruction = (ep.instruction or "") if text_match else None
    frames = _read_frames(
        ep, sorted({fi for fi, _, _ in plan}), height, width, instruction, word_maps
    )
    return [
        Sample(frames[fi], a, ep.instruction or "", hist, w0, h0, _target_box(a, boxes), ep.id)
        for fi, a, hist in plan
    ]


def _read_frames(
    ep: Any,
    indices: list[int],
    height: int,
    width: int,
    instruction: str | None = None,
    words: bool = False,
) -> dict[int, np.ndarray]:
    # Random access costs a seek (~20 ms); decoding straight through is cheaper when a
    # good share of the frames is needed.
    wanted = set(indices)
    if len(wanted) * 8 < ep.frame_count:
        return {i: input_image(ep.frame(i), height, width, instruction, words) for i in indices}
    out = {}
    for i, _t, rgb in ep.iter_frames():
        if i in wanted:
            out[i] = input_image(rgb, height, width, instruction, words)
            if len(out) == len(wanted):
                break
    missing = wanted - set(out)
    if missing:
        raise EpisodeFormatError(
            f"episode {ep.id}: frames {sorted(missing)[:5]} could not be decoded"
        )
    return out


def _rules_fingerprint() -> str:
    import importlib

    h = hashlib.sha256()
    for name in ("deskmimic.models.data.steps", "deskmimic.models.actions"):
        mod = importlib.import_module(name)
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()


def cache_key(
    ep_dir: Path, height: int, width: int, text_match: bool = False, word_maps: bool = False
) -> str:
    """Hash of the episode's files (name, size, mtime), input size, match channel, cache
    version and rules."""
    stats = sorted(
        (str(p.relative_to(ep_dir)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in ep_dir.rglob("*")
        if p.is_file()
    )
    parts: list = [CACHE_VERSION, height, width, _rules_fingerprint(), stats]
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
    tmp_npy, tmp_json = stem.with_suffix(".npy.tmp"), stem.with_suffix(".json.tmp")
    with open(tmp_npy, "wb") as f:
        np.save(f, images)
    tmp_json.write_text(json.dumps({"version": CACHE_VERSION, "samples": records}))
    os.replace(tmp_npy, stem.with_suffix(".npy"))
    os.replace(tmp_json, stem.with_suffix(".json"))  # written last: marks the entry complete


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
            cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = cache_key(ep_dir, height, width, text_match, word_maps)
            stem = cache_dir / f"{ep.id}-{key}"
            cached = _load_cache(stem)
            if cached is not None:
                return info, cached
        if steps_fn is None:
            from deskmimic.models.data.steps import steps_for_episode as steps_fn
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
    samples: list[Sample] = []
    sizes: dict[tuple[int, int], list[str]] = {}
    empty, incomplete, region = [], [], None
    failed: list[str] = []
    for n, d in enumerate(dirs):
        if progress:
            progress(n, len(dirs))
        info, ep_samples = load_episode_samples(
            d, height, width, cache_dir, text_match=text_match, word_maps=word_maps
        )
        if info.status == "recording":
            incomplete.append(info.id)
            continue
        if info.success is False and skip_failed:
            failed.append(info.id)
            continue
        if not any(s.action.kind != "done" for s in ep_samples):
            empty.append(info.id)
            continue
        sizes.setdefault((info.width, info.height), []).append(info.id)
        region = region or info.region
        samples.extend(ep_samples)
    if not samples:
        named = ", ".join((empty + incomplete + failed)[:3])
        raise ConfigError(
            f"none of the {len(dirs)} episode(s) has a learnable step ({len(empty)} without steps, "
            f"{len(incomplete)} unfinished, {len(failed)} unsuccessful; e.g. {named}): "
            "record demonstrations that do something"
        )
    # Only when training goes ahead: the error above already names the skipped ones.
    if failed:
        logger.warning(
            "skipped %d episode(s) marked unsuccessful (extra.success = false): %s",
            len(failed),
            ", ".join(failed[:5]),
        )
    if incomplete:
        logger.warning(
            "skipped %d episode(s) still marked recording (run `deskmimic episodes recover`): %s",
            len(incomplete),
            ", ".join(incomplete[:5]),
        )
    if empty:
        logger.warning(
            "skipped %d episode(s) without any steps: %s", len(empty), ", ".join(empty[:5])
        )
    if len(sizes) > 1 and not allow_mixed_sizes:
        listing = "; ".join(
            f"{w}x{h}: {len(ids)} (e.g. {ids[0]})" for (w, h), ids in list(sizes.items())[:3]
        ) + ("; ..." if len(sizes) > 3 else "")
        raise ConfigError(
            f"episodes have different captured-area sizes ({listing}): record the same region, "
            "train on one size at a time, or pass --allow-mixed-sizes"
        )
    (w0, h0), _ = max(sizes.items(), key=lambda kv: len(kv[1]))
    split = split_samples(
        samples, val_fraction, seed, {"width": w0, "height": h0, "region": region}
    )
    logger.info(
        "dataset: %d train samples (%d episodes), %d validation samples (%d episodes)",
        len(split.train),
        len(split.train_episodes),
        len(split.val),
        len(split.val_episodes),
    )
    return split
