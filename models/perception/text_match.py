"""Matching the instruction's terms on a frame: where each one is written, as a blob map.

Each term (`terms`) is rendered at a few pixel sizes around the task windows' font size
(`templates`) and matched against the grayscale frame with normalized cross-correlation
(``cv2.TM_CCOEFF_NORMED``, `_ncc`); a word that goes on into a longer one is marked down
(`_word_ncc`). The best score over sizes is rescaled so unrelated text and edges stay at 0
and a clean match reaches 1, marked by a blob at the matched word's centre (`_blob`).
`match_maps` turns these into the network's input channels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from deskmimic.models.perception.templates import INK, Template, _templates

# Qt's default UI font here is DejaVu Sans 9 pt = 12 px at 96 dpi, whose glyphs match PIL's
# 14 px rendering best (measured on recorded click_button frames: NCC 0.91-0.94 at 14 px,
# <= 0.62 one or two sizes away, so neighbours never win here). Each size costs ~3-5 ms per
# word and decision on a task window; 13-15 px put `BCPolicy.act` at 25-33 ms on the busy
# 2-core machine (budget 20 ms). Another DPI or UI font needs other sizes here.
SIZES = (14,)
# The per-word maps (`word_maps`) also try 12 and 13 px: popup menus write their entries
# smaller (a recorded workflow menu: entries 0.8-0.97 at 12 px, <= 0.45 at 14) and a
# dialog's "OK" scored 0.86 at 13 px, 0.57 at 14. On the workflow (20 demonstrations,
# 20 held-out seeds) adding 13 px took the policy from 5/20 to 8/20.
# A negative size means bold: drag_item's items are bold labels, where the regular
# template scored 0.67 and a bold 14 px one 0.86-0.94.
WORD_SIZES = (12, 13, 14, -14)
# NCC below LOW is what unrelated text and edges reach; HIGH and above is a clean match.
LOW, HIGH = 0.5, 0.85
# A word's map fades out where it scores RIVAL..2*RIVAL below its best match on the frame:
# held out, the drop-down entry "Cobalt" read 0.94 and "Cabin" 0.70 below it, "Moth" 0.97
# and "Monsoon" 0.76; rescaled from LOW, the similar entry still showed at 0.57-0.75 of a
# clean match, and a trained pick_list policy clicked it (its 4 misses on 50 held-out
# seeds all went to a similar name). The best match keeps its value, so where the named
# word does not show, the nearest thing still does.
RIVAL = 0.1
# A word's score drops by CONTINUED where a letter touches it (`_word_ncc`): an unbroken
# stroke down CONTINUED_RUN of the x-height, darker than INK (grey levels, dark on light).
CONTINUED = 0.3
CONTINUED_RUN = 0.35
STRIP = 2  # columns
# A pair's template ("Nadia Abbott") scores 0.64-0.77 on an entry that shares one of its
# words ("Kai Abbott") and 0.89-0.98 on itself (recorded scroll_find frames, held-out
# failures included): from LOW, the shared word alone showed the pair at up to 0.77 of a
# clean match, and the policy clicked the neighbour before the entry had scrolled into view.
PAIR_LOW = 0.75
# Frames larger than this (longest side) are searched at half resolution first and only
# the best candidates scored at full resolution: a whole 1280x800 screen at full resolution
# took ~60 ms per word. Half resolution alone is not enough: there the named word scores
# ~0.5-1.0 and a similar one up to ~0.6, and on a recorded frame one outscored the other.
MAX_FULL_RES = 700
COARSE = 0.3  # half-resolution score a candidate needs
CANDIDATES = 24  # per template
# Height in frame pixels of the blob marking a matched word's centre (width 3x).
BLOB = 9


def _ncc(gray: np.ndarray, sq: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """``cv2.TM_CCOEFF_NORMED`` of float32 ``gray`` (``sq`` = gray**2) and a template
    (``tz``: zero-mean float32, as `_templates` gives them).

    The same formula as OpenCV's, computed from a plain correlation with the zero-mean
    template and box sums of the window (faster), and flat windows (text-free background,
    where the score is meaningless) come out near 0 instead of noise.
    """
    th, tw = tz.shape
    n = th * tw
    tnorm = cv2.norm(tz) or 1.0
    num = cv2.matchTemplate(gray, tz, cv2.TM_CCORR)
    oh, ow = num.shape
    box = dict(anchor=(0, 0), normalize=False, borderType=cv2.BORDER_CONSTANT)
    s1 = np.ascontiguousarray(cv2.boxFilter(gray, -1, (tw, th), **box)[:oh, :ow])
    s2 = np.ascontiguousarray(cv2.boxFilter(sq, -1, (tw, th), **box)[:oh, :ow])
    # OpenCV's element-wise ops, not numpy's: ~1.5x faster on these (fewer temporaries).
    var = cv2.subtract(s2, cv2.multiply(s1, s1, scale=1.0 / n))
    var = cv2.max(var, 4.0 * n)  # std under 2 grey levels: a flat window
    return cv2.divide(num, cv2.sqrt(var), scale=1.0 / tnorm)


def _word_ncc(
    gray: np.ndarray,
    sq: np.ndarray,
    tpl: Template,
    strokes: Strokes | None = None,
    at: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """`_ncc` of one word's template, minus `CONTINUED` where a letter touches the word on
    either side: there the template matched the start or end of a longer word.

    "Mode" read 0.86 on the label "Model:" beside 0.89 on "Mode:" (a recorded workflow
    dialog), "Sand" 0.975 on "Sandal": templates cannot tell them apart, and a white margin
    after the template does not either (a 1 px stroke is too few pixels). Here `STRIP`
    columns just past the word's first and last inked column (inside the template's 2 px
    margin, so a window of the frame as large as the template decides) count as
    continued when they hold a stroke down a third of the font's x-height: any letter or
    digit does; a colon's two dots, a comma, an ellipsis or a quote do not. ``strokes``
    shares the `_strokes` maps of the whole frame between the words matched on it; ``gray``
    is then its window whose top-left is ``at`` (y, x).
    """
    ncc = _ncc(gray, sq, tpl.full)
    if float(ncc.max()) < LOW:  # nothing here shows, penalized or not (most windows)
        return ncc
    if strokes is None:
        strokes, at = Strokes(gray), (0, 0)
    tw = tpl.full.shape[1]
    oh, ow = ncc.shape
    e = tpl.edges
    hit = np.zeros((oh, ow), bool)
    # (first column, width) of the strips after the last letter and before the first, one
    # column away from them (Qt draws a word up to 1 px wider than PIL: a strip touching
    # it caught the word's own last stroke), kept inside the template's window.
    after, before = min(STRIP, tw - 2 - e.last), min(STRIP, e.first - 1)
    for col, k in ((e.last + 2, after), (e.first - 1 - before, before)):
        if k <= 0:
            continue
        found = strokes.get(k, e.height)
        y, x = at[0] + e.top, at[1] + col
        hit |= found[y : y + oh, x : x + ow] > 0
    np.subtract(ncc, CONTINUED, out=ncc, where=hit)
    return ncc


class Strokes:
    """`_strokes` maps of one frame, made when first asked for, so the words and windows
    matched on a frame share them instead of each computing its own."""

    def __init__(self, gray: np.ndarray) -> None:
        self.gray = gray
        self._maps: dict[tuple[int, int], np.ndarray] = {}

    def get(self, k: int, height: int) -> np.ndarray:
        if (k, height) not in self._maps:
            self._maps[k, height] = _strokes(self.gray, k, height)
        return self._maps[k, height]


def _strokes(gray: np.ndarray, k: int, height: int) -> np.ndarray:
    """uint8 map, nonzero at (y, x) where columns x .. x + k - 1 hold an unbroken inked
    stroke of ``CONTINUED_RUN * height`` rows starting in rows y .. y + height - 1.

    A letter's edge is one such stroke; a colon's two dots, a comma, an ellipsis, a hyphen
    or a quote are shorter.
    """
    strip = cv2.dilate((gray < INK).astype(np.uint8), np.ones((1, k), np.uint8), anchor=(0, 0))
    run = max(2, math.ceil(CONTINUED_RUN * height))
    full = (_row_sums(strip, run) == run).astype(np.uint8)
    return cv2.dilate(full, np.ones((height - run + 1, 1), np.uint8), anchor=(0, 0))


def _row_sums(a: np.ndarray, height: int) -> np.ndarray:
    """Sum of ``a`` over rows y .. y + height - 1, at each y (zero past the bottom)."""
    box = dict(anchor=(0, 0), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return cv2.boxFilter(a, cv2.CV_16U, (1, height), **box)


def _candidates(ncc: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-left positions of the ``limit`` best local maxima of ``ncc`` above ``COARSE``."""
    peaks = (ncc >= COARSE) & (ncc >= cv2.dilate(ncc, np.ones((5, 5), np.uint8)))
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-ncc[ys, xs])[:limit]
    return ys[order], xs[order]


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)


def term_low(term: str) -> float:
    """The NCC at which ``term``'s map starts to show: `PAIR_LOW` for a pair, else `LOW`."""
    return PAIR_LOW if " " in term else LOW


def _finish(
    raws: list[np.ndarray | None], templates: tuple, h: int, w: int, low: float = LOW
) -> np.ndarray:
    """One word's full-resolution NCC maps (one per size, top-left coordinates) -> its
    rescaled blob map, (h, w) float32 in [0, 1] (``low``..`HIGH` rescaled)."""
    best = np.zeros((h, w), np.float32)
    for raw, tpl in zip(raws, templates, strict=True):
        if raw is None:
            continue
        t = tpl.full
        # ncc[y, x] scores the word whose top-left is (x, y): keep it at the word's centre.
        # A light-on-dark word scores negative: the task windows write dark on light.
        y0, x0 = t.shape[0] // 2, t.shape[1] // 2
        view = best[y0 : y0 + raw.shape[0], x0 : x0 + raw.shape[1]]
        np.maximum(view, raw, out=view)
    return _blob(best, low)


def _blob(best: np.ndarray, low: float = LOW) -> np.ndarray:
    """Best NCC at each word centre -> [0, 1] (low..HIGH rescaled) blob map."""
    peak = float(best.max())
    rival = np.clip((best - (peak - 2 * RIVAL)) * (1.0 / RIVAL), 0.0, 1.0)
    best = np.clip((best - low) * (1.0 / (HIGH - low)), 0.0, 1.0) * rival
    # A blob, not a point, at each matched word's centre, so it survives the downscale.
    return cv2.dilate(best, cv2.getStructuringElement(cv2.MORPH_RECT, (3 * BLOB, BLOB)))


def _full_res_raws(
    gray: np.ndarray, sq: np.ndarray, words: tuple[str, ...], sizes: tuple[int, ...]
) -> list[list[np.ndarray | None]]:
    """Per word, per size: its NCC over the whole frame (None: template larger than it)."""
    h, w = gray.shape
    strokes = Strokes(gray)
    return [
        [
            _word_ncc(gray, sq, tpl, strokes)
            if tpl.full.shape[0] <= h and tpl.full.shape[1] <= w
            else None
            for tpl in sized
        ]
        for sized in _templates(words, sizes)
    ]


def _word_scores(
    rgb: np.ndarray, words: tuple[str, ...], sizes: tuple[int, ...] = SIZES
) -> list[np.ndarray]:
    """Per word, its rescaled blob map at frame resolution, (H, W) float32 in [0, 1]."""
    h, w = rgb.shape[:2]
    gray = _gray(rgb)
    sq = gray * gray
    templates = _templates(words, sizes)
    if max(h, w) <= MAX_FULL_RES:
        raws = _full_res_raws(gray, sq, words, sizes)
        return [
            _finish(r, t, h, w, term_low(word))
            for word, r, t in zip(words, raws, templates, strict=True)
        ]
    # Large frame: find candidates at half resolution (4x cheaper, but there a similar
    # word can outscore the right one), then score each at full resolution.
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small_sq = small * small
    out = []
    for word, sized in zip(words, templates, strict=True):
        best = np.zeros((h, w), np.float32)
        for tpl in sized:
            t, t_half = tpl.full, tpl.half
            th, tw = t.shape
            if th > h or tw > w:
                continue
            y0, x0 = th // 2, tw // 2
            ys, xs = _candidates(_ncc(small, small_sq, t_half), CANDIDATES)
            for cy, cx in zip(ys.tolist(), xs.tolist(), strict=True):
                top, left = max(0, 2 * cy - 3), max(0, 2 * cx - 3)
                roi = (slice(top, min(h, 2 * cy + th + 4)), slice(left, min(w, 2 * cx + tw + 4)))
                if roi[0].stop - top < th or roi[1].stop - left < tw:
                    continue
                ncc = _word_ncc(gray[roi], sq[roi], tpl)
                view = best[
                    top + y0 : top + y0 + ncc.shape[0], left + x0 : left + x0 + ncc.shape[1]
                ]
                np.maximum(view, ncc, out=view)
        out.append(_blob(best, term_low(word)))
    return out
