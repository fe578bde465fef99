"""The "instruction match" input channel: where on screen the instruction's words are written.

Learning to read ~300 button labels from 20 demonstrations does not work (docs/learning.md),
so the policy gets the answer to "where is the word the instruction names?" as an extra
input channel that needs no learning: each content word of the instruction is rendered
with PIL (DejaVu Sans, the font Qt uses here) at a few pixel sizes around the task
windows' font size and matched against the grayscale frame with normalized
cross-correlation (``cv2.TM_CCOEFF_NORMED``). The best score over words and sizes is
rescaled so unrelated text and edges stay at 0 and a clean match reaches 1, marked by a
blob at the matched word's centre, and resized like the image. Training (dataset cache)
and inference (`BCPolicy.act`) call the same `match_channel`, so they agree exactly.

On recorded click_button frames the named button's label scores 0.9+ and every other
label and the (bold, larger) instruction banner <= 0.6 (tests/models/test_text_match.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Bump when the map changes: dataset cache entries and checkpoints record it.
VERSION = 1
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Qt's default UI font here is DejaVu Sans 9 pt = 12 px at 96 dpi, whose glyphs match PIL's
# 14 px rendering best (measured on recorded click_button frames: NCC 0.91-0.94 at 14 px,
# <= 0.62 one or two sizes away, so neighbours never win here). Each size costs ~3-5 ms per
# word and decision on a task window; 13-15 px put `BCPolicy.act` at 25-33 ms on the busy
# 2-core machine (budget 20 ms). Another DPI or UI font needs other sizes here.
SIZES = (14,)
# NCC below LOW is what unrelated text and edges reach; HIGH and above is a clean match.
LOW, HIGH = 0.5, 0.85
# Frames larger than this (longest side) are searched at half resolution first and only
# the best candidates scored at full resolution: a whole 1280x800 screen at full resolution
# took ~60 ms per word. Half resolution alone is not enough: there the named word scores
# ~0.5-1.0 and a similar one up to ~0.6, and on a recorded frame one outscored the other.
MAX_FULL_RES = 700
COARSE = 0.3  # half-resolution score a candidate needs
CANDIDATES = 24  # per template
# Height in frame pixels of the blob marking a matched word's centre (width 3x).
BLOB = 9
STOP_WORDS = frozenset(
    "click type into then the a an onto on to in tick pick drag drop scroll find and "
    "press enter select choose until of with at from".split()
)
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


def instruction_words(instruction: str) -> list[str]:
    """Content words of ``instruction`` (stop-words dropped, quoted text kept), first seen first."""
    words = [w.strip(".-") for w in _WORD_RE.findall(instruction)]
    keep = [w for w in words if w and w.lower() not in STOP_WORDS]
    return list(dict.fromkeys(keep))


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT_PATH), size)
    except OSError:  # fonts-dejavu-core missing: PIL's own font still matches crudely
        return ImageFont.load_default(size)


def render_word(word: str, size: int) -> np.ndarray:
    """``word`` as dark text on white, (h, w) uint8, 2 px margin."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(word)
    im = Image.new("L", (max(1, right - left) + 4, max(1, bottom - top) + 4), 255)
    ImageDraw.Draw(im).text((2 - left, 2 - top), word, font=font, fill=0)
    return np.asarray(im)


@lru_cache(maxsize=32)
def _templates(instruction: str) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    # (full-size, half-size) templates, rendered once per instruction (an episode keeps it).
    out = []
    for word in instruction_words(instruction):
        for size in SIZES:
            t = render_word(word, size)
            half = cv2.resize(t, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            out.append((t, half))
    return tuple(out)


def _ncc(gray: np.ndarray, sq: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``cv2.TM_CCOEFF_NORMED`` of float32 ``gray`` (``sq`` = gray**2) and template ``t``.

    The same formula as OpenCV's, computed from a plain correlation with the zero-mean
    template and box sums of the window (faster), and flat windows (text-free background,
    where the score is meaningless) come out near 0 instead of noise.
    """
    th, tw = t.shape
    n = th * tw
    tz = t.astype(np.float32)
    tz -= tz.mean()
    tnorm = float(np.sqrt((tz * tz).sum())) or 1.0
    num = cv2.matchTemplate(gray, tz, cv2.TM_CCORR)
    oh, ow = num.shape
    box = dict(anchor=(0, 0), normalize=False, borderType=cv2.BORDER_CONSTANT)
    s1 = np.ascontiguousarray(cv2.boxFilter(gray, -1, (tw, th), **box)[:oh, :ow])
    s2 = np.ascontiguousarray(cv2.boxFilter(sq, -1, (tw, th), **box)[:oh, :ow])
    # OpenCV's element-wise ops, not numpy's: ~1.5x faster on these (fewer temporaries).
    var = cv2.subtract(s2, cv2.multiply(s1, s1, scale=1.0 / n))
    var = cv2.max(var, 4.0 * n)  # std under 2 grey levels: a flat window
    return cv2.divide(num, cv2.sqrt(var), scale=1.0 / tnorm)


def _candidates(ncc: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-left positions of the ``limit`` best local maxima of ``ncc`` above ``COARSE``."""
    peaks = (ncc >= COARSE) & (ncc >= cv2.dilate(ncc, np.ones((5, 5), np.uint8)))
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-ncc[ys, xs])[:limit]
    return ys[order], xs[order]


def _match(rgb: np.ndarray, instruction: str) -> np.ndarray:
    """`match_map` before resizing: (H, W) float32, frame resolution."""
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)
    sq = gray * gray
    best = np.zeros((h, w), np.float32)
    coarse = max(h, w) > MAX_FULL_RES
    if coarse:
        small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        small_sq = small * small
    for t, t_half in _templates(instruction):
        th, tw = t.shape
        if th > h or tw > w:
            continue
        y0, x0 = th // 2, tw // 2
        if not coarse:
            # ncc[y, x] scores the word whose top-left is (x, y): keep it at the word's centre.
            # A light-on-dark word scores negative: the task windows write dark on light.
            ncc = _ncc(gray, sq, t)
            view = best[y0 : y0 + ncc.shape[0], x0 : x0 + ncc.shape[1]]
            np.maximum(view, ncc, out=view)
            continue
        # Large frame: find candidates at half resolution (4x cheaper, but there a similar
        # word can outscore the right one), then score each at full resolution.
        ys, xs = _candidates(_ncc(small, small_sq, t_half), CANDIDATES)
        for cy, cx in zip(ys.tolist(), xs.tolist(), strict=True):
            top, left = max(0, 2 * cy - 3), max(0, 2 * cx - 3)
            roi = (slice(top, min(h, 2 * cy + th + 4)), slice(left, min(w, 2 * cx + tw + 4)))
            if roi[0].stop - top < th or roi[1].stop - left < tw:
                continue
            ncc = _ncc(gray[roi], sq[roi], t)
            view = best[top + y0 : top + y0 + ncc.shape[0], left + x0 : left + x0 + ncc.shape[1]]
            np.maximum(view, ncc, out=view)
    best = np.clip((best - LOW) * (1.0 / (HIGH - LOW)), 0.0, 1.0)
    # A blob, not a point, at each matched word's centre, so it survives the downscale.
    return cv2.dilate(best, cv2.getStructuringElement(cv2.MORPH_RECT, (3 * BLOB, BLOB)))


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
    m = _match(rgb, instruction)
    if m.shape != (height, width):
        interp = cv2.INTER_AREA if m.shape[0] >= height else cv2.INTER_LINEAR
        m = cv2.resize(m, (width, height), interpolation=interp)
    return np.clip(m * 255.0 + 0.5, 0, 255).astype(np.uint8)
