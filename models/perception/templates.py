"""Word templates: an instruction term rendered with PIL (DejaVu Sans, the font Qt uses
here) at the match sizes, zero-mean for the NCC, with where its letters end (`Edges`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BOLD_FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
# Darker than this is ink (grey levels, dark on light): a letter's stroke.
INK = 128


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
