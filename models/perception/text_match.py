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

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Bump when the map changes: dataset cache entries and checkpoints record it.
# 2: similar words fade beside the named one (`RIVAL`, `_word_ncc`).
VERSION = 2
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BOLD_FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
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
# Bump when the per-word maps change in a way `word_maps_signature` does not show.
WORD_MAPS_VERSION = 8
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
INK = 128
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
# Per-word maps (`word_maps`): terms (`term_spans`) past this many are dropped.
MAX_WORDS = 24
# Height in frame pixels of the blob marking a matched word's centre (width 3x).
BLOB = 9
STOP_WORDS = frozenset(
    "click type into then the a an onto on to in tick pick drag drop scroll find and "
    "press enter select choose until of with at from".split()
)
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


def word_spans(instruction: str) -> list[tuple[str, int, int]]:
    """Content words with their character span ``(word, start, end)`` (end exclusive).

    Stop-words are dropped, quoted text kept; a repeated word keeps its first occurrence.
    """
    out: dict[str, tuple[str, int, int]] = {}
    for m in _WORD_RE.finditer(instruction):
        raw = m.group()
        word = raw.strip(".-")
        if not word or word.lower() in STOP_WORDS or word in out:
            continue
        start = m.start() + raw.index(word)
        out[word] = (word, start, start + len(word))
    return list(out.values())


# Not worth a map of their own among the per-word maps (`term_spans`): "click it",
# "Open File", "set Name to". Capitalized after the first word, they are labels all the
# same: "Click Open, then Select" names the buttons Open and Select.
TERM_STOP_WORDS = STOP_WORDS | {"it", "open", "set"}


def term_spans(instruction: str) -> list[tuple[str, int, int]]:
    """What the per-word maps (`word_maps`) look for: the content words and each pair of
    content words standing next to each other (one space apart), ``(text, start, end)``
    in order of position, at most ``MAX_WORDS``.

    A pair is matched as one template: "Milo Zhang" in a list of names that share first
    or last names, or the menu entry "Order Member" among "Order Contact" and
    "Add Member", is only told apart by both words together.

    A repeated word is a term at each occurrence (the same map, its own place and
    context): "Open Tools › Order Contact, set ... Contact to 'x'" names the menu
    entry's word and the field. Kept once, every term after it moved up a place, where
    in training another role stood (held-out instructions repeat a word 9 times in 50,
    training ones once), and the workflow's option step picked OK in 5 of those 9.
    """
    words = []
    for m in _WORD_RE.finditer(instruction):
        raw = m.group()
        word = raw.strip(".-")
        start = m.start() + raw.index(word) if word else m.start()
        keep = bool(word) and (
            word.lower() not in TERM_STOP_WORDS or (word[0].isupper() and start > 0)
        )
        words.append((word, start, start + len(word), keep))
    terms: list[tuple[str, int, int]] = []
    for i, (word, start, end, keep) in enumerate(words):
        if not keep:
            continue
        terms.append((word, start, end))
        if i + 1 < len(words):
            nxt, n_start, n_end, n_keep = words[i + 1]
            if n_keep and instruction[end:n_start] == " ":
                terms.append((instruction[start:n_end], start, n_end))
    return sorted(terms, key=lambda t: (t[1], t[2]))[:MAX_WORDS]


def instruction_words(instruction: str) -> list[str]:
    """Content words of ``instruction`` (stop-words dropped, quoted text kept), first seen first."""
    return [w for w, _, _ in word_spans(instruction)]


def word_span_array(instruction: str, max_len: int) -> np.ndarray:
    """(MAX_WORDS, 2) int64 character spans of the terms `word_maps` covers (`term_spans`),
    in order; ``-1`` rows for absent ones and ones cut off by the tokenizer's ``max_len``."""
    out = np.full((MAX_WORDS, 2), -1, np.int64)
    for i, (_, start, end) in enumerate(term_spans(instruction)):
        if end <= max_len:
            out[i] = (start, end)
    return out


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(BOLD_FONT_PATH if bold else FONT_PATH), size)
    except OSError:  # fonts-dejavu-core missing: PIL's own font still matches crudely
        return ImageFont.load_default(size)


def render_word(word: str, size: int, bold: bool = False) -> np.ndarray:
    """``word`` as dark text on white, (h, w) uint8, 2 px margin."""
    font = _font(size, bold)
    left, top, right, bottom = font.getbbox(word)
    im = Image.new("L", (max(1, right - left) + 4, max(1, bottom - top) + 4), 255)
    ImageDraw.Draw(im).text((2 - left, 2 - top), word, font=font, fill=0)
    return np.asarray(im)


def term_texts(instruction: str) -> tuple[str, ...]:
    """What the per-word maps look for, in order (the texts of `term_spans`)."""
    return tuple(t for t, _, _ in term_spans(instruction))


class Edges(NamedTuple):
    """Rows of the font's x-height and the first and last inked column, in template pixels."""

    top: int
    height: int
    first: int
    last: int


class Template(NamedTuple):
    """One word at one size: zero-mean float32 templates (as `_ncc` takes them) and where
    its letters end (`Edges`), to tell the word from a longer one that starts with it."""

    full: np.ndarray
    half: np.ndarray
    edges: Edges


def _edges(word: str, size: int, bold: bool, t: np.ndarray) -> Edges:
    font = _font(size, bold)
    word_top = font.getbbox(word)[1]
    _, x_top, _, x_bottom = font.getbbox("x")
    cols = np.nonzero((t < INK).any(0))[0]
    return Edges(2 - word_top + x_top, max(1, x_bottom - x_top), int(cols[0]), int(cols[-1]))


@lru_cache(maxsize=32)
def _templates(words: tuple[str, ...], sizes: tuple[int, ...]) -> tuple[tuple[Template, ...], ...]:
    # Per word, one `Template` per size; rendered once per instruction (an episode keeps
    # it), which also spares each of the stream's ~100 small matches per decision that
    # preparation.
    out = []
    for word in words:
        sized = []
        for size in sizes:
            t = render_word(word, abs(size), bold=size < 0)
            half = cv2.resize(t, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            edges = _edges(word, abs(size), size < 0, t)
            sized.append(Template(_zero_mean(t), _zero_mean(half), edges))
        out.append(tuple(sized))
    return tuple(out)


def _zero_mean(t: np.ndarray) -> np.ndarray:
    tz = t.astype(np.float32)
    tz -= tz.mean()
    tz.setflags(write=False)  # shared through the template cache
    return tz


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


def pair_parts(terms: tuple[str, ...]) -> dict[int, tuple[int, int]]:
    """Pair term index -> the indices of its two words among ``terms`` (`term_spans` keeps
    both words of every pair as terms of their own)."""
    out = {}
    for i, t in enumerate(terms):
        if " " in t:
            first, second = t.split(" ", 1)
            if first in terms and second in terms:
                out[i] = (terms.index(first), terms.index(second))
    return out


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
