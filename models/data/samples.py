"""State-action samples, how an episode becomes them, and the torch Dataset over them.

A `Sample` is one demonstrated step: the downscaled frame the expert saw, the
instruction, the kinds of the steps before it and the `Action` taken. `SampleSet`
turns a list of samples into stacked tensors once `ActionSpace` is known (it is built
from the training split only, so validation strings unseen in training count as misses).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.models.actions import POINTER_KINDS, Action, action_from_step
from deskmimic.models.data.preprocess import input_image
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.perception.match_stream import WordMatchStream
from deskmimic.models.perception.terms import MAX_WORDS, word_span_array

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """One training example.

    Attributes:
        image: (H, W, 3) uint8 RGB, already resized to the network's input size.
        action: the demonstrated action, captured-area pixels.
        instruction: the episode's instruction text.
        history: kinds of the previous steps in the episode, oldest first.
        width, height: captured-area size in pixels.
        box: target element (x0, y0, x1, y1) in captured-area pixels, if known.
        episode: episode id (the train/validation split is by episode).
    """

    image: np.ndarray
    action: Action
    instruction: str
    history: tuple[str, ...]
    width: int
    height: int
    box: tuple[float, float, float, float] | None = None
    episode: str = ""


class SampleSet(Dataset):
    """Stacked tensors for a list of samples; items are dicts that `default_collate` stacks."""

    def __init__(self, samples: list[Sample], space: ActionSpace, tokenizer: CharTokenizer) -> None:
        self.space = space
        self.tokenizer = tokenizer
        self.actions = [s.action for s in samples]
        self.instructions = [s.instruction for s in samples]
        self.sizes = [(s.width, s.height) for s in samples]
        self.episodes = sorted({s.episode for s in samples})
        n = len(samples)
        if n:
            self.images = torch.from_numpy(np.stack([s.image for s in samples]))
        else:
            self.images = torch.zeros((0, 1, 1, 3), dtype=torch.uint8)
        token_cache: dict[str, np.ndarray] = {}
        tokens = [
            token_cache.setdefault(s.instruction, tokenizer.encode(s.instruction)) for s in samples
        ]
        self.tokens = (
            torch.from_numpy(np.stack(tokens))
            if n
            else torch.zeros((0, tokenizer.max_len), dtype=torch.long)
        )
        span_cache: dict[str, np.ndarray] = {}
        self.words = torch.from_numpy(
            np.stack(
                [
                    span_cache.setdefault(
                        s.instruction, word_span_array(s.instruction, tokenizer.max_len)
                    )
                    for s in samples
                ]
            )
            if n
            else np.zeros((0, MAX_WORDS, 2), np.int64)
        )
        self.history = torch.from_numpy(
            np.stack([space.history_tokens(list(s.history)) for s in samples])
            if n
            else np.zeros((0, space.history_len), np.int64)
        )
        encoded = [
            space.encode(s.action, s.instruction, tokenizer, s.width, s.height, s.box)
            for s in samples
        ]
        keys = ("kind", "point", "end", "span", "copy", "string", "chord", "scroll", "box",
                "prog")
        self.targets = (
            {k: torch.from_numpy(np.stack([e[k] for e in encoded])) for k in keys} if n else {}
        )
        self.size_tensor = torch.tensor(self.sizes, dtype=torch.float32).view(-1, 2)

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.rows(i)

    def rows(self, idx: int | torch.Tensor) -> dict[str, torch.Tensor]:
        """Sample ``idx`` (an int) or a batch of them (a 1-D index tensor); ``index`` holds
        the sample indices."""
        item = {k: v[idx] for k, v in self.targets.items()}
        item.update(
            image=self.images[idx],
            tokens=self.tokens[idx],
            history=self.history[idx],
            words=self.words[idx],
            size=self.size_tensor[idx],
            index=torch.as_tensor(idx),
        )
        return item

    def kind_counts(self) -> Counter[str]:
        return Counter(a.kind for a in self.actions)

    def kind_weights(self) -> torch.Tensor:
        """Loss weights that lift rare kinds: (N / (K * n_k)) ** 0.5, 1 for absent kinds.

        The square root keeps a kind seen once from dominating the loss.
        """
        counts = self.kind_counts()
        present = [k for k in self.space.kinds if counts[k]]
        n = sum(counts.values())
        w = [
            (n / (len(present) * counts[k])) ** 0.5 if counts[k] else 1.0 for k in self.space.kinds
        ]
        return torch.tensor(w, dtype=torch.float32)


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
        word_maps: with ``text_match``, one map per content word (`perception.match_maps.word_maps`).
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
    # One reader for the episode: text it recognized on one frame (the instruction
    # banner, labels that stayed put) is not recognized again on the next.
    stream = WordMatchStream(instruction) if instruction is not None and words else None
    if len(wanted) * 8 < ep.frame_count:
        return {
            i: input_image(ep.frame(i), height, width, instruction, words, stream)
            for i in indices
        }
    out = {}
    for i, _t, rgb in ep.iter_frames():
        if i in wanted:
            out[i] = input_image(rgb, height, width, instruction, words, stream)
            if len(out) == len(wanted):
                break
    missing = wanted - set(out)
    if missing:
        raise EpisodeFormatError(
            f"episode {ep.id}: frames {sorted(missing)[:5]} could not be decoded"
        )
    return out
