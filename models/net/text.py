"""Instruction text: a fixed character tokenizer and a small convolutional encoder.

One token per character, so token position ``i`` is ``instruction[i]``: a span the
policy points at copies the instruction's own characters (including ones outside
the vocabulary), which lets it type a value it never saw in training.
No downloads: the vocabulary is printable ASCII.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

PAD = 0
UNK = 1
PRINTABLE = "".join(chr(c) for c in range(32, 127))


def find_text(instruction: str, text: str) -> tuple[int, int] | None:
    """Character span ``(start, end)`` (end inclusive) of ``text`` in ``instruction``: exact
    match first, then case-insensitive where that leaves the casing the same; else None."""
    if not text:
        return None
    pos = instruction.find(text)
    if pos < 0:
        pos = instruction.lower().find(text.lower())
        # Copying would give the instruction's casing, not the demonstrated one.
        if pos >= 0 and instruction[pos : pos + len(text)] != text:
            pos = -1
    return None if pos < 0 else (pos, pos + len(text) - 1)


def word_edges(text: str, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Two (length,) bool arrays: where a span may start and where it may end without
    cutting a word (a run of letters and digits); positions past the text are false."""
    n = min(len(text), length)
    # One character past the last position too: a word truncated there still goes on.
    alnum = np.zeros(n + 2, dtype=bool)  # [before the text, text[0], ..., text[n]]
    alnum[1 : 1 + len(text[: n + 1])] = [c.isalnum() for c in text[: n + 1]]
    starts = np.zeros(length, dtype=bool)
    ends = np.zeros(length, dtype=bool)
    starts[:n] = ~(alnum[1 : n + 1] & alnum[:n])
    ends[:n] = ~(alnum[1 : n + 1] & alnum[2 : n + 2])
    return starts, ends


def is_whole_words(text: str, start: int, end: int) -> bool:
    """Whether ``text[start : end + 1]`` neither starts nor ends inside a word."""
    starts, ends = word_edges(text, end + 1)
    return bool(starts[start] and ends[end])


class CharTokenizer:
    """Printable-ASCII character tokenizer with a fixed length (pad / truncate)."""

    def __init__(self, max_len: int = 96, chars: str = PRINTABLE) -> None:
        if max_len < 8:
            raise ValueError(f"max_len {max_len}: must be at least 8")
        self.max_len = max_len
        self.chars = chars
        self._index = {c: i + 2 for i, c in enumerate(chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 2

    def encode(self, text: str) -> np.ndarray:
        """Token ids, shape (max_len,), int64; characters past max_len are dropped."""
        ids = np.full(self.max_len, PAD, dtype=np.int64)
        for i, ch in enumerate(text[: self.max_len]):
            ids[i] = self._index.get(ch, UNK)
        return ids

    def find_span(self, instruction: str, text: str) -> tuple[int, int] | None:
        """Token span ``(start, end)`` (end inclusive) where ``text`` occurs in the instruction.

        Exact match first, then case-insensitive; ``None`` when absent or truncated away.
        """
        span = find_text(instruction, text)
        if span is None or span[1] >= self.max_len:
            return None
        return span

    def to_config(self) -> dict:
        return {"type": "char", "max_len": self.max_len, "chars": self.chars}

    @classmethod
    def from_config(cls, cfg: dict) -> CharTokenizer:
        if cfg.get("type") != "char":
            raise ValueError(f"unknown tokenizer type {cfg.get('type')!r}")
        return cls(max_len=int(cfg["max_len"]), chars=str(cfg["chars"]))


class TextEncoder(nn.Module):
    """Char embeddings -> dilated residual 1-D convs -> per-token features and a pooled vector.

    Dilations 1, 2, 4, 8 with kernel 3 give each token ~31 characters of context:
    enough to tell "the word after 'as'" from the rest of a sentence.
    """

    def __init__(self, vocab_size: int, dim: int = 64, embed_dim: int = 32) -> None:
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.proj = nn.Conv1d(embed_dim, dim, 1)
        self.blocks = nn.ModuleList(
            nn.Conv1d(dim, dim, 3, padding=d, dilation=d) for d in (1, 2, 4, 8)
        )
        self.norms = nn.ModuleList(nn.GroupNorm(4, dim) for _ in self.blocks)
        self.pool = nn.Linear(2 * dim, dim)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens (B, L) int64 -> (token features (B, L, D), pooled (B, D), mask (B, L) bool)."""
        mask = tokens != PAD
        m = mask.unsqueeze(1).float()
        h = self.proj(self.embed(tokens).transpose(1, 2)) * m
        for conv, norm in zip(self.blocks, self.norms, strict=True):
            h = (h + torch.relu(norm(conv(h)))) * m
        count = m.sum(-1).clamp(min=1.0)
        mean = h.sum(-1) / count
        mx = h.masked_fill(~mask.unsqueeze(1), -1e4).amax(-1)
        mx = torch.where(mask.any(-1, keepdim=True), mx, torch.zeros_like(mx))
        pooled = torch.relu(self.pool(torch.cat([mean, mx], -1)))
        return h.transpose(1, 2), pooled, mask
