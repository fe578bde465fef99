"""Typed text as a program over the instruction: a few pieces, each a copied span or a literal.

"save the file as stone_54.txt in /tmp/x/docs" typed as "/tmp/x/docs/stone_54.txt" is the
program ``copy("/tmp/x/docs"), literal("/"), copy("stone_54.txt")``. Copies give the
instruction's own characters (é, ß, 中文 included, though the tokenizer reads them as
UNK), so values never seen in training come out exact; literals come from a small
vocabulary learned from the demonstrations (separators, a fixed greeting).

The head (`ProgramHead`) has ``slots`` piece slots; slot ``k`` chooses an op (stop, copy,
or one of the literals) and, for a copy, start and end pointers over the instruction's
characters. The slots are decided together from the step's summary vector rather than one
after the other: what a slot holds is fixed by the instruction's wording ("as X in Y"
types Y, "/", X), which the summary carries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

IGNORE = -100  # torch cross_entropy's ignore_index; no target (re-exported by action_space)
PROGRAM_SLOTS = 6  # pieces a typed text may have, its stop included when shorter
OP_STOP, OP_COPY, OP_LITERAL = 0, 1, 2  # op classes; literal i is OP_LITERAL + i
MAX_LITERALS = 64  # literal vocabulary kept, most frequent first


@dataclass(frozen=True)
class Piece:
    """One piece of a typed text: ``span`` (start, end inclusive) into the instruction, or
    the ``literal`` text."""

    span: tuple[int, int] | None = None
    literal: str | None = None

    def text(self, instruction: str) -> str:
        if self.span is not None:
            return instruction[self.span[0] : self.span[1] + 1]
        return self.literal or ""


def copyable(text: str, i: int, j: int) -> bool:
    """Whether ``text[i:j]`` may be a copy: it cuts no word (run of letters and digits) of
    the typed text and, inside the text, starts and ends with a letter or digit.

    A lone "/" or ", " copied would point at one of several equal characters, and the
    instruction may not hold it at all next time: as a literal it is the same every time.
    A copy ending in a joint ("mi-" + "4/" copied from some other "34/" rather than
    "mi-4" + "/") gave the same path two programs in training; "Hello" + " Bob" made the
    pointer take the name's first letter for the space before it; and "Dear" copied letter
    by letter from the instruction's "e" and "a" would be nonsense."""
    piece = text[i:j]
    cuts_start = 0 < i and text[i - 1].isalnum() and piece[0].isalnum()
    cuts_end = j < len(text) and piece[-1].isalnum() and text[j].isalnum()
    joint_edge = (0 < i and not piece[0].isalnum()) or (j < len(text) and not piece[-1].isalnum())
    return not (cuts_start or cuts_end or joint_edge) and any(c.isalnum() for c in piece)


@lru_cache(maxsize=4096)
def decompose(instruction: str, text: str) -> tuple[Piece, ...] | None:
    """The program typing ``text``: fewest literal characters (a literal only for what the
    instruction does not hold, `copyable`), then fewest pieces, then the longest copies. Each copy is
    the first occurrence in ``instruction``. None for an empty text.

    Dynamic programming over the text's prefixes; cost (literal chars, pieces, -sum of
    squared copy lengths), compared as tuples.
    """
    if not text:
        return None
    n = len(text)
    inf = (n + 1, n + 1, 0)
    best: list[tuple[int, int, int]] = [(0, 0, 0)] + [inf] * n
    how: list[tuple[int, bool]] = [(0, False)] * (n + 1)  # (previous end, was a copy)
    for i in range(n):
        if best[i] == inf:
            continue
        lit, pieces, sq = best[i]
        # Copies from i: every longer one that still occurs (a prefix of an occurring
        # string occurs too, so stop at the first miss).
        for j in range(i + 1, n + 1):
            piece = text[i:j]
            if piece not in instruction:
                break
            if copyable(text, i, j):
                _relax(best, how, j, (lit, pieces + 1, sq - (j - i) ** 2), i, True)
        # A literal of one character, merged with a literal before it.
        merged = i > 0 and not how[i][1] and best[i][0] > 0
        cost = (lit + 1, pieces if merged else pieces + 1, sq)
        _relax(best, how, i + 1, cost, how[i][0] if merged else i, False)
    out: list[Piece] = []
    j = n
    while j > 0:
        i, is_copy = how[j]
        piece = text[i:j]
        if is_copy:
            start = instruction.find(piece)
            out.append(Piece(span=(start, start + len(piece) - 1)))
        else:
            out.append(Piece(literal=piece))
        j = i
    return tuple(reversed(out))


def _relax(best: list, how: list, j: int, cost: tuple, i: int, is_copy: bool) -> None:
    if cost < best[j]:
        best[j], how[j] = cost, (i, is_copy)


def literal_vocabulary(
    pairs: Iterable[tuple[str, str]], keep_all: bool = True, limit: int = MAX_LITERALS
) -> tuple[str, ...]:
    """Literal pieces of the demonstrated (instruction, typed text) pairs, most frequent
    first (ties alphabetical).

    ``keep_all`` False (the checkpoint keeps no typed strings) keeps only the literals of
    texts that also copy from their instruction: the joints of a composition ("/", "@",
    ".txt", a greeting before a name), never a whole text typed from nowhere (a password).
    """
    counts: Counter[str] = Counter()
    for instruction, text in pairs:
        pieces = decompose(instruction, text) if text else None
        if not pieces:
            continue
        if not keep_all and all(p.span is None for p in pieces):
            continue
        counts.update(p.literal for p in pieces if p.literal is not None)
    return tuple(sorted(counts, key=lambda k: (-counts[k], k))[:limit])


def program_targets(
    instruction: str, text: str | None, literals: tuple[str, ...], slots: int, max_len: int
) -> np.ndarray:
    """(slots, 3) int64 rows (op, start, end) for the typed ``text``; IGNORE where a slot
    has no target (after the stop, start/end of a non-copy). All IGNORE when the program
    cannot be written: more pieces than slots, a literal outside the vocabulary, or a copy
    past the tokenizer's ``max_len``."""
    t = np.full((slots, 3), IGNORE, np.int64)
    pieces = decompose(instruction, text) if text else None
    if not pieces or len(pieces) > slots:
        return t
    index = {s: i for i, s in enumerate(literals)}
    rows = []
    for p in pieces:
        if p.span is not None:
            if p.span[1] >= max_len:
                return t
            rows.append((OP_COPY, p.span[0], p.span[1]))
        elif p.literal in index:
            rows.append((OP_LITERAL + index[p.literal], IGNORE, IGNORE))
        else:
            return t
    if len(rows) < slots:
        rows.append((OP_STOP, IGNORE, IGNORE))
    t[: len(rows)] = np.asarray(rows, np.int64)
    return t


class ProgramHead(nn.Module):
    """Per slot: op logits and start / end pointer logits over the instruction's characters."""

    def __init__(self, head_dim: int, text_dim: int, slots: int, num_literals: int) -> None:
        super().__init__()
        self.text_dim = text_dim
        self.slot = nn.Embedding(slots, head_dim)
        self.mix = nn.Sequential(nn.Linear(head_dim, head_dim), nn.ReLU())
        self.op = nn.Linear(head_dim, OP_LITERAL + num_literals)
        self.query = nn.Linear(head_dim, 2 * text_dim)
        # A start is where the value begins after the words that announce it, an end where
        # it stops before the words that follow: each key reads its character and the one
        # before (start) or after (end), whatever the value's own characters are.
        self.start_keys = nn.Linear(2 * text_dim, text_dim)
        self.end_keys = nn.Linear(2 * text_dim, text_dim)

    def forward(
        self,
        g: torch.Tensor,
        tok_feats: torch.Tensor,
        tok_mask: torch.Tensor,
        key_extra: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """g (B, H), tok_feats (B, L, D), tok_mask (B, L) -> ``prog_op`` (B, K, ops),
        ``prog_start`` / ``prog_end`` (B, K, L) (the dtype's min on padding)."""
        h = self.mix(g[:, None, :] + self.slot.weight[None])
        q_start, q_end = self.query(h).chunk(2, dim=2)
        before = F.pad(tok_feats, (0, 0, 1, 0))[:, :-1]
        after = F.pad(tok_feats, (0, 0, 0, 1))[:, 1:]  # padding's features are zeros
        k_start = self.start_keys(torch.cat([before, tok_feats], 2))
        k_end = self.end_keys(torch.cat([tok_feats, after], 2))
        if key_extra is not None:
            extra_start, extra_end = key_extra.chunk(2, dim=2)
            k_start, k_end = k_start + extra_start, k_end + extra_end
        scale = self.text_dim**-0.5
        pad = ~tok_mask[:, None, :]
        neg = torch.finfo(tok_feats.dtype).min
        start = (torch.einsum("bld,bkd->bkl", k_start, q_start) * scale).masked_fill(pad, neg)
        end = (torch.einsum("bld,bkd->bkl", k_end, q_end) * scale).masked_fill(pad, neg)
        return {"prog_op": self.op(h), "prog_start": start, "prog_end": end}


def program_loss(out: dict[str, torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every slot's op and, for copies, its start and end: each averaged
    over the slots that have a target (``target`` (B, K, 3) from `program_targets`)."""
    op = out["prog_op"].float()
    b, k, n_ops = op.shape
    ce = lambda logits, t: F.cross_entropy(  # noqa: E731
        logits.reshape(b * k, -1).float(), t.reshape(-1), ignore_index=IGNORE, reduction="sum"
    )
    n_op = (target[..., 0] != IGNORE).sum().clamp(min=1)
    n_span = (target[..., 1] != IGNORE).sum().clamp(min=1)
    # Sums, not means: a batch with no typed text contributes exactly zero (see losses.py).
    loss = ce(op, target[..., 0]) / n_op
    spans = ce(out["prog_start"], target[..., 1]) + ce(out["prog_end"], target[..., 2])
    return loss + spans / n_span
