"""Word selection in `PolicyNet`: which instruction term each pointer (point, drag end) looks
at (`WordSelect`), what the screen looks like where each term is written (`TermGlance`),
and the tensor helpers over the terms' character spans and match maps."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deskmimic.models.perception.terms import MAX_WORDS

# Width in input pixels of the horizontal smear of the selected words' map: about two
# words' spacing at the usual ~0.3 downscale of a task window.
PHRASE_SMEAR = 15


def row_band(maps: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) maps -> each pixel's strongest value at or to its left on its row.

    A field or combo box sits right of its label, up to ~300 px (70 input px at the usual
    downscale) away. Only the coarse stages (stride 16-32) saw that far, so the point's
    row came from them: on held-out dialogs the click for a field named by its label
    landed 15-20 px low, between two fields (a 28 px field is 2 heatmap cells tall). The
    band gives every cell right of the label the label's row at full resolution.
    """
    return torch.cummax(maps, dim=3).values


def word_membership(spans: torch.Tensor, length: int) -> torch.Tensor:
    """(B, W, 2) character spans -> (B, W, length) bool: token l lies in word w."""
    pos = torch.arange(length, device=spans.device)
    return (pos >= spans[..., :1]) & (pos < spans[..., 1:])


def term_parts(spans: torch.Tensor) -> torch.Tensor:
    """(B, W, 2) character spans (-1: absent) -> (B, W, W) bool: term i lies inside the
    longer term j ("Abbott" inside the pair "Nadia Abbott")."""
    start, end = spans[..., 0], spans[..., 1]
    present = start >= 0
    inside = (start[:, None, :] <= start[:, :, None]) & (end[:, :, None] <= end[:, None, :])
    longer = (end - start)[:, None, :] > (end - start)[:, :, None]
    return inside & longer & present[:, None, :] & present[:, :, None]


def part_of_longer(spans: torch.Tensor) -> torch.Tensor:
    """(B, W, 2) character spans -> (B, W) bool: term w lies inside a longer term."""
    return term_parts(spans).any(-1)


GLANCE_CHANNELS = 32

# A word whose strongest match reads below this (0..1) does not show: with
# `NetConfig.shown_only` no pointer picks it. `losses.select_loss` labels only words at
# 0.5 and above, so no labelled pick is ever masked.
SHOWN_MIN = 0.25


class TermGlance(nn.Module):
    """What the screen looks like where each instruction word is written, one vector per word.

    A small conv stack of its own (receptive field 28 input px: a label and the box or tick
    beside it) pooled under each word's match map, plus how strongly the word shows at all.
    It lets `WordSelect` tell "Blue" ticked from "Blue" still to do, so "the first word
    not yet done" is a plain dot product: a large bonus for not-done minus a little per
    position (click_sequence, checkboxes, a dialog's option group). The position
    embeddings alone, with the action history, could only count clicks.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        c = GLANCE_CHANNELS
        self.conv = nn.Sequential(
            nn.Conv2d(3, 16, 4, stride=4),
            nn.ReLU(),
            nn.Conv2d(16, c, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=2, dilation=2),
            nn.ReLU(),
        )
        self.proj = nn.Linear(c + 1, dim)
        nn.init.zeros_(self.proj.weight)  # starts as "no glance": the keys as before
        nn.init.zeros_(self.proj.bias)

    def forward(self, rgb: torch.Tensor, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """rgb (B, 3, H, W) and maps (B, MAX_WORDS, H, W), both 0..255 -> per-word vectors
        (B, MAX_WORDS, dim) and how strongly each word shows (B, MAX_WORDS) in [0, 1]."""
        f = self.conv(rgb * (1.0 / 64.0) - 2.0)  # 0..255 -> about mean 0, std 1
        m = F.avg_pool2d(maps, 4) * (1.0 / 255.0)
        # From the maps themselves: pooled, a match blob's peak depended on where it fell
        # in the 4x4 grid (a clean match read 0.5-1).
        # (via a 4x4 max pool: a plain amax over the channels-last maps took ~1.6 ms)
        strength = F.max_pool2d(maps, 4, ceil_mode=True).amax((2, 3)) * (1.0 / 255.0)
        # Squared weights: a clean match outweighs the faint similar words around it.
        wts = m * m
        wts = wts / wts.sum((2, 3), keepdim=True).clamp(min=1e-4)
        pooled = torch.einsum("bwhx,bchx->bwc", wts, f)
        return self.proj(torch.cat([pooled, strength[..., None]], -1)), strength


class WordSelect(nn.Module):
    """Which instruction word's match map each pointer (point, drag end) should look at.

    A word's key is its character features (averaged over the word) plus an embedding of
    its position among the content words; the query comes from the conditioning vector
    (instruction + action history), so "the 2nd word after one click" is easy to learn.
    A learned "none" key lets a step whose target is not a word (an empty field) pick nothing.
    """

    def __init__(self, text_dim: int, cond_dim: int, mix: bool = False) -> None:
        super().__init__()
        self.key = nn.Linear(text_dim, text_dim)
        self.pos = nn.Embedding(MAX_WORDS, text_dim)
        self.none = nn.Parameter(torch.zeros(1, 1, text_dim))
        self.query = nn.Linear(cond_dim, 2 * text_dim)
        # With glances: one attention layer among the words, so a key can depend on the
        # others' (the option group's label is the one to click while its value is not
        # shown yet). Zero output projection: starts as the keys without it.
        self.mix = nn.MultiheadAttention(text_dim, 4, batch_first=True) if mix else None
        if self.mix is not None:
            nn.init.zeros_(self.mix.out_proj.weight)
            nn.init.zeros_(self.mix.out_proj.bias)

    def forward(
        self,
        tok_feats: torch.Tensor,
        inside: torch.Tensor,
        cond: torch.Tensor,
        glance: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """tok_feats (B, L, D), inside (B, MAX_WORDS, L) (`word_membership`), glance
        (B, MAX_WORDS, D) (`TermGlance`, optional) -> logits (B, 2, MAX_WORDS + 1)."""
        b, _, d = tok_feats.shape
        count = inside.sum(-1, keepdim=True).clamp(min=1)
        feats = torch.einsum("bwl,bld->bwd", inside.to(tok_feats.dtype), tok_feats) / count
        words = self.key(feats) + self.pos.weight[None]
        if glance is not None:
            words = words + glance
        present = inside.any(-1)
        if self.mix is not None:
            # An instruction without content words would leave a query nothing to attend to.
            hide = ~present
            hide[:, 0] &= present.any(-1)
            mixed, _ = self.mix(words, words, words, key_padding_mask=hide, need_weights=False)
            words = words + mixed
        keys = torch.cat([words, self.none.expand(b, 1, d)], 1)
        valid = torch.cat([present, torch.ones_like(present[:, :1])], 1)
        logits = torch.einsum("bkd,bwd->bkw", self.query(cond).view(b, 2, d), keys) * d**-0.5
        return logits.masked_fill(~valid[:, None, :], torch.finfo(logits.dtype).min)
