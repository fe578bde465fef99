"""The "instruction match" input channels: where on screen the instruction's words are written.

Learning to read ~300 button labels from 20 demonstrations does not work (docs/learning.md),
so the policy gets the answer to "where is the word the instruction names?" as extra
input channels that need no learning: the content words' blob maps (`text_match`) resized
like the image, as one channel (`match_channel`: the best over words) or one per term
(`word_maps`: words and adjacent pairs). Training (dataset cache) and inference
(`BCPolicy.act`) call the same functions, so they agree exactly.

On recorded click_button frames the named button's label scores 0.9+ and every other
label and the (bold, larger) instruction banner <= 0.6 (tests/models/test_text_match.py).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from deskmimic.models.perception.templates import INK, render_word
from deskmimic.models.perception.terms import (
    MAX_WORDS,
    instruction_words,
    pair_parts,
    term_texts,
)
from deskmimic.models.perception.text_match import (
    BLOB,
    CONTINUED,
    CONTINUED_RUN,
    HIGH,
    LOW,
    MAX_FULL_RES,
    PAIR_LOW,
    RIVAL,
    WORD_SIZES,
    _word_scores,
)

# Bump when the map changes: dataset cache entries and checkpoints record it.
# 2: similar words fade beside the named one (`RIVAL`, `_word_ncc`).
VERSION = 2
# Bump when the per-word maps change in a way `word_maps_signature` does not show.
WORD_MAPS_VERSION = 8


def _match(rgb: np.ndarray, instruction: str) -> np.ndarray:
    """`match_map` before resizing: (H, W) float32, frame resolution (max over words; the
    clip and the dilation commute with it, so this equals the per-word maps' maximum)."""
    scores = _word_scores(rgb, tuple(instruction_words(instruction)))
    if not scores:
        return np.zeros(rgb.shape[:2], np.float32)
    return np.maximum.reduce(scores) if len(scores) > 1 else scores[0]


def match_map(rgb: np.ndarray, instruction: str) -> np.ndarray:
    """(H, W) float32 in [0, 1]: how well each pixel lies on one of the instruction's words.

    1 on a clean match of a content word (at the blob around the word's centre), 0 where
    nothing resembles one.
    """
    h, w = rgb.shape[:2]
    m = _match(rgb, instruction)
    return m if m.shape == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)


def match_channel(rgb: np.ndarray, instruction: str, height: int, width: int) -> np.ndarray:
    """`match_map` resized to the network input, (height, width) uint8 (255 = clean match)."""
    return _to_input(_match(rgb, instruction), height, width)


def _to_input(m: np.ndarray, height: int, width: int) -> np.ndarray:
    if m.shape != (height, width):
        interp = cv2.INTER_AREA if m.shape[0] >= height else cv2.INTER_LINEAR
        m = cv2.resize(m, (width, height), interpolation=interp)
    return np.clip(m * 255.0 + 0.5, 0, 255).astype(np.uint8)


def word_maps_signature() -> list:
    """What the per-word maps depend on: dataset cache keys and checkpoints record it, so
    a change of sizes or thresholds rebuilds the cache and refuses old checkpoints."""
    return [
        WORD_MAPS_VERSION,
        list(WORD_SIZES),
        LOW,
        HIGH,
        PAIR_LOW,
        BLOB,
        MAX_WORDS,
        MAX_FULL_RES,
        RIVAL,
        CONTINUED,
        CONTINUED_RUN,
        INK,
    ]


@lru_cache(maxsize=256)
def _pair_shifts(pair: str) -> tuple[int, int]:
    """Where a pair's two words' blobs stand from the pair's own, in frame px (x): the
    first word's centre left of the pair's, the second's right of it (mean over
    ``WORD_SIZES``; the blobs are `BLOB` * 3 px wide, so a pixel or two does not matter)."""
    first, second = pair.split(" ", 1)
    shifts = []
    for size in WORD_SIZES:
        wp, wa, wb = (render_word(t, abs(size), size < 0).shape[1] for t in (pair, first, second))
        shifts.append(((wa - wp) / 2, (wp - wb) / 2))
    return round(float(np.mean([a for a, _ in shifts]))), round(float(np.mean([b for _, b in shifts])))


def _shift_x(m: np.ndarray, d: int) -> np.ndarray:
    """out[:, x] = m[:, x + d], zero where that falls outside."""
    out = np.zeros_like(m)
    w = m.shape[1]
    if abs(d) < w:
        if d >= 0:
            out[:, : w - d] = m[:, d:]
        else:
            out[:, -d:] = m[:, : w + d]
    return out


def pair_map(
    pair: str, own: np.ndarray, first: np.ndarray, second: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """A pair's blob map where both its words show, each where it stands in the pair;
    ``scale``: the maps' pixels per frame pixel (the network input's, not the frame's:
    the maps are small there).

    The pair's template alone scored up to 0.80 on a row sharing one word ("Aria
    Banerjee" for "Flora Banerjee", held-out scroll_find frames) and 0.81-0.83 on the
    named row itself (a short first name, "Rina Osei"): from `PAIR_LOW` both showed at
    about half a clean match, and the policy clicked the neighbour before the named row
    had scrolled in (3 of 50 held-out seeds in one training run). Where the first name
    is another, its own map reads 0 there.
    """
    da, db = _pair_shifts(pair)
    da, db = round(da * scale), round(db * scale)
    return np.minimum(own, np.minimum(_shift_x(first, da), _shift_x(second, db)))


def word_maps(rgb: np.ndarray, instruction: str, height: int, width: int) -> np.ndarray:
    """One match map per term (`term_spans`: content words and adjacent pairs, in order),
    resized to the network input:
    (height, width, MAX_WORDS) uint8, zero for absent words. Kept apart, the policy can pick
    the word the current step needs; they also try ``WORD_SIZES``, not only ``SIZES``."""
    out = np.zeros((height, width, MAX_WORDS), np.uint8)
    terms = term_texts(instruction)
    unique = tuple(dict.fromkeys(terms))  # a repeated word is matched once
    maps = [_to_input(m, height, width) for m in _word_scores(rgb, unique, WORD_SIZES)]
    scale = width / rgb.shape[1]
    for i, (a, b) in pair_parts(unique).items():
        maps[i] = pair_map(unique[i], maps[i], maps[a], maps[b], scale)
    for i, t in enumerate(terms):
        out[:, :, i] = maps[unique.index(t)]
    return out
