"""Measuring the reader on one rendered frame (bench/reading_bench.py).

A placed word counts as found when `find_term(word, rows(lines))` returns a match whose
centre lies inside the element the word was placed in (a click there lands on it; a
match box may be taller than a tight list row); words without a known element box count
with any match of score >= 0.9. Instruction-word recall asks the
real map code (`maps_from_lines`, what `word_maps` runs on the lines it reads) whether
"Click <word>" lights the word's box (>= 200/255) at the policy's input size.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from deskmimic.models.perception import find
from deskmimic.models.perception.find import find_term, normalize, rows
from deskmimic.models.perception.match_maps import maps_from_lines
from deskmimic.models.perception.ocr_engine import engine
from deskmimic.models.perception.reader import ScreenReader, TextLine
from deskmimic.models.perception.terms import term_texts

MAP_H, MAP_W = 160, 256  # TrainConfig's default input size
LIT = 200  # a map value that counts as "lit"
# The match score whose map value reaches LIT (match_maps._value inverted).
LIT_SCORE = find.LOW + (1.0 - find.LOW) * LIT / 255
NO_BOX_SCORE = 0.9


class TimedEngine:
    """The process's engine, with the time spent detecting and recognizing counted."""

    def __init__(self) -> None:
        self._e = engine()
        self.detect_s = self.recognize_s = 0.0

    def __getattr__(self, name: str):  # anything else the reader asks the engine for
        return getattr(self._e, name)

    # *args: the engine's signatures are the reader's business and may change.
    def detect(self, *args, **kwargs) -> list:
        t = time.perf_counter()
        try:
            return self._e.detect(*args, **kwargs)
        finally:
            self.detect_s += time.perf_counter() - t

    def recognize(self, *args, **kwargs) -> list:
        t = time.perf_counter()
        try:
            return self._e.recognize(*args, **kwargs)
        finally:
            self.recognize_s += time.perf_counter() - t


def _centre_in(m: tuple, box: tuple) -> bool:
    """Does match box ``m``'s centre lie inside ``box``?"""
    cx, cy = (m[0] + m[2]) / 2, (m[1] + m[3]) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


def _overlapping(lines: list[TextLine], box: tuple) -> list[list]:
    return [[ln.text, round(ln.score, 3)] for ln in lines
            if ln.box[0] < box[2] and ln.box[2] > box[0] and ln.box[1] < box[3] and ln.box[3] > box[1]]


def _instruction_lit(lines: list[TextLine], text: str, box: tuple | None,
                     hw: tuple[int, int]) -> dict:
    """Does "Click <text>" light ``text``'s box, and anything outside it?"""
    terms = term_texts(f"Click {text}")
    # The term standing for the word: "75%" is looked up as "75" (the same normal form).
    same = [i for i, t in enumerate(terms) if normalize(t) == normalize(text)]
    if not same:
        return {"lit": False, "offtarget": False, "why": f"terms {list(terms)}"}
    m = maps_from_lines(lines, f"Click {text}", terms, hw, MAP_H, MAP_W)[:, :, same[0]]
    sy, sx = MAP_H / hw[0], MAP_W / hw[1]
    r0, c0 = math.floor(box[1] * sy), math.floor(box[0] * sx)
    r1, c1 = max(r0 + 1, math.ceil(box[3] * sy)), max(c0 + 1, math.ceil(box[2] * sx))
    lit = bool(m[r0:r1, c0:c1].max(initial=0) >= LIT)
    # Off target: lit farther than half the element's height from it (a detected line
    # box may overhang a tight label or list row by a few pixels; that is not another place).
    pad = (box[3] - box[1]) / 2
    outside = m.copy()
    outside[max(0, math.floor((box[1] - pad) * sy) - 1) : math.ceil((box[3] + pad) * sy) + 1,
            max(0, math.floor((box[0] - pad) * sx) - 1) : math.ceil((box[2] + pad) * sx) + 1] = 0
    out = {"lit": lit, "offtarget": bool(outside.max() >= LIT), "why": ""}
    if out["offtarget"]:  # what is written where it lit (frame pixels)
        ys, xs = np.nonzero(outside >= LIT)
        where = (xs.min() / sx, ys.min() / sy, (xs.max() + 1) / sx, (ys.max() + 1) / sy)
        out["offtarget_read"] = _overlapping(lines, where)
    return out


def _near_miss(word: str, rng: random.Random) -> str:
    """``word`` with one inner letter changed (a word that is not on the frame)."""
    i = rng.randrange(1, len(word) - 1)
    letters = [c for c in "abcdefghiklmnoprstuvwy" if c != word[i].lower()]
    return word[:i] + rng.choice(letters) + word[i + 1 :]


def _distractors(searchable: list, placed: list[str], rng: random.Random,
                 pool: list[str]) -> list[dict]:
    norms = [normalize(w) for w in placed]
    unrelated = [d for d in rng.sample(pool, min(12, len(pool))) if normalize(d) not in norms]
    long_ascii = [w for w in placed if w.isascii() and w.isalpha() and len(w) >= 5]
    near = []
    for w in rng.sample(long_ascii, min(6, len(long_ascii))):
        v = _near_miss(w, rng)
        if normalize(v) not in norms:
            near.append(v)
    out = []
    for kind, words in (("unrelated", unrelated), ("near_miss", near)):
        for d in words:
            best = max((m.score for m in find_term(d, searchable)), default=0.0)
            out.append({"kind": kind, "word": d, "short": len(normalize(d)) <= 3,
                        "painted": best >= find.LOW, "lit": best >= LIT_SCORE,
                        "score": round(best, 3)})
    return out


def changed_frame(scene: dict, rgb: np.ndarray, text: str) -> tuple[np.ndarray, tuple]:
    """``rgb`` with ``text`` written into the empty strip at the bottom (the small change
    an incremental read sees: a status line appearing), and its box."""
    s, px = scene["scale"], scene["px"]
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(scene["font_file"], px * s)
    h = rgb.shape[0]
    y = h - round((px * 1.9 + 8) * s)
    x = 12 * s
    draw.rectangle((0, y - 2 * s, rgb.shape[1], h), fill=scene["colours"][1])
    draw.text((x, y), text, font=font, fill=scene["colours"][0])
    x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
    return np.asarray(img), (x0, y0, x1, y1)


def measure(scene: dict, rgb: np.ndarray, truth: list[dict], rng: random.Random,
            pool: list[str], check_incremental: bool) -> dict:
    """Per-word results, distractors, timings of one frame."""
    h, w = rgb.shape[:2]
    timed = TimedEngine()
    reader = ScreenReader(ocr=timed)
    t = time.perf_counter()
    lines = reader.read(rgb)  # a fresh reader: what read_frame does
    full_s = time.perf_counter() - t
    searchable = rows(lines)
    words = []
    for tr in truth:
        box = tuple(tr["box"]) if tr.get("box") else None
        if box is not None and (box[2] > w + 2 or box[3] > h + 2 or box[0] < -2 or box[1] < -2):
            words.append({"text": tr["text"], "kind": tr["kind"], "visible": False})
            continue
        matches = find_term(tr["text"], searchable)
        if box is None:
            hits = [m for m in matches if m.score >= NO_BOX_SCORE]
        else:
            hits = [m for m in matches if _centre_in(m.box, box)]
        rec = {"text": tr["text"], "kind": tr["kind"], "visible": True, "found": bool(hits),
               "score": round(max((m.score for m in hits), default=0.0), 3),
               "elsewhere": len(matches) - len(hits)}
        if box is not None:
            rec["instruction"] = _instruction_lit(lines, tr["text"], box, (h, w))
        if not hits or rec["score"] < LIT_SCORE:  # missed, or found too dim to light its map
            rec["read"] = _overlapping(lines, box) if box else [[ln.text, 0] for ln in lines]
        words.append(rec)
    placed = [tr["text"] for tr in truth]
    out = {"frame_hw": [h, w], "lines": len(lines), "read_s": full_s,
           "detect_s": timed.detect_s, "recognize_s": timed.recognize_s, "words": words,
           "distractors": _distractors(searchable, placed, rng, pool)}
    status = f"Status {scene['index'] + 7}"
    rgb2, box2 = changed_frame(scene, rgb, status)
    t = time.perf_counter()
    lines2 = reader.read(rgb2)
    out["incremental_s"] = time.perf_counter() - t
    out["incremental_found"] = any(_centre_in(m.box, box2)
                                   for m in find_term(status, rows(lines2)))
    if check_incremental:
        # A fresh read of the changed frame: the same texts (spaces at the ends aside: a
        # crop a pixel wider reads " Status")? Boxes of lines far from the change can move
        # by a pixel or two (the detector sees the whole frame).
        fresh = ScreenReader().read(rgb2)
        out["incremental_same_texts"] = sorted(ln.text.strip() for ln in fresh) == sorted(
            ln.text.strip() for ln in lines2)
        by_text = {ln.text: ln.box for ln in fresh}
        out["incremental_box_diff_px"] = max(
            (max(abs(a - b) for a, b in zip(ln.box, by_text[ln.text], strict=True))
             for ln in lines2 if ln.text in by_text), default=0)
    return out
