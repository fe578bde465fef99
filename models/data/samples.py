"""State-action samples and the torch Dataset over them.

A `Sample` is one demonstrated step: the downscaled frame the expert saw, the
instruction, the kinds of the steps before it and the `Action` taken. `SampleSet`
turns a list of samples into stacked tensors once `ActionSpace` is known (it is built
from the training split only, so validation strings unseen in training count as misses).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from deskmimic.models.actions import Action
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.perception.text_match import MAX_WORDS, word_span_array


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
        keys = ("kind", "point", "end", "span", "copy", "string", "chord", "scroll", "box")
        self.targets = (
            {k: torch.from_numpy(np.stack([e[k] for e in encoded])) for k in keys} if n else {}
        )
        self.size_tensor = torch.tensor(self.sizes, dtype=torch.float32).view(-1, 2)

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = {k: v[i] for k, v in self.targets.items()}
        item.update(
            image=self.images[i],
            tokens=self.tokens[i],
            history=self.history[i],
            words=self.words[i],
            size=self.size_tensor[i],
            index=torch.tensor(i),
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
