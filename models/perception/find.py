"""Finding the instruction's terms among the lines read from a frame, fuzzily.

Text is compared in a normal form that ignores case, accents, punctuation and spaces
(`normalize`): the reader drops or adds spaces between words ("setClientto"), a label may
be written "SAVE", "Save:" or "Sävé", and a term may be a pair of words ("Request
Warranty"). Short terms must match exactly; longer ones may differ by a misread letter or
two (`rapidfuzz`: the best-aligned substring, scored by edit distance, word by word). A match inside a longer word ("Level" in
"Levels") is marked down unless something shows a word boundary there: a space or
punctuation, a change of case or between letters and digits.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from deskmimic.models.perception.reader import TextLine

# Terms shorter than this (normal form) must match exactly: one misread letter in "OK"
# or "Tab" is another word.
MIN_FUZZY = 4
# Similarity (1 - edits / letters) below this is no match at all: one misread letter
# in four still counts, a different name does not.
LOW = 0.7
# A side of the match that runs on into more letters multiplies the score by this.
CONTINUED = 0.75
# A line this similar (rapidfuzz partial ratio, 0-100) to a stretch of the instruction is
# the instruction shown on screen (the reader may misread a letter or drop a space).
INSTRUCTION_SIMILAR = 90
# Lines on one row closer than this many line heights are read as one row (a pair's
# words can come as two boxes).
ROW_GAP = 1.0


@dataclass(frozen=True)
class Match:
    """Where a term was found: ``box`` (x0, y0, x1, y1) in frame pixels, ``score`` 0..1."""

    box: tuple[int, int, int, int]
    score: float


# Latin letters that Unicode does not decompose into a base letter and accents.
_BASE = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ħ": "h", "ı": "i",
                       "æ": "ae", "œ": "oe", "þ": "th"})


@lru_cache(maxsize=4096)
def fold(ch: str) -> str:
    """One character in the normal form's letters (case and accents folded; may be two)."""
    # lower(), not casefold(): casefold writes "ß" as "ss", two letters where the reader
    # sees one (and reads it "B" at small sizes: one misread letter, not two).
    decomposed = unicodedata.normalize("NFKD", ch.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_BASE)


def normalize(text: str) -> str:
    """Letters and digits only, case and accents folded ("Sävé As:" -> "saveas")."""
    return "".join(c for ch in text for c in fold(ch) if c.isalnum())


@dataclass(frozen=True)
class _Row:
    text: str
    boxes: tuple[tuple[float, float, float, float], ...]  # per character of ``text``
    norm: str
    at: tuple[int, ...]  # per character of ``norm``: its index in ``text``
    conf: tuple[float, ...]  # per character of ``norm``: the recognizer's probability


def _char_boxes(line: TextLine) -> list[tuple[float, float, float, float]]:
    """Each character's box: from halfway to the previous centre to halfway to the next."""
    x0, y0, x1, y1 = line.box
    xs = list(line.char_x)
    if not xs:
        return []
    step = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else float(x1 - x0)
    edges = [max(float(x0), xs[0] - step / 2)]
    edges += [(a + b) / 2 for a, b in zip(xs, xs[1:], strict=False)]
    edges.append(min(float(x1), xs[-1] + step / 2))
    return [(edges[i], float(y0), edges[i + 1], float(y1)) for i in range(len(xs))]


def _row(text: str, boxes: list, confs: tuple[float, ...]) -> _Row:
    norm, at, conf = [], [], []
    for i, ch in enumerate(text):
        for c in fold(ch):
            if c.isalnum():
                norm.append(c)
                at.append(i)
                conf.append(confs[i] if i < len(confs) else 1.0)
    return _Row(text, tuple(boxes), "".join(norm), tuple(at), tuple(conf))


def rows(lines: list[TextLine]) -> list[_Row]:
    """The lines as searchable rows; lines side by side on one row also as one joined row."""
    out = []
    singles = [(ln, _char_boxes(ln)) for ln in lines if len(ln.char_x) == len(ln.text)]
    for ln, boxes in singles:
        out.append(_row(ln.text, boxes, ln.char_conf))
    by_x = sorted(singles, key=lambda lb: lb[0].box[0])
    for i, (a, ab) in enumerate(by_x):
        for b, bb in by_x[i + 1 :]:
            ha, hb = a.box[3] - a.box[1], b.box[3] - b.box[1]
            mid_a, mid_b = (a.box[1] + a.box[3]) / 2, (b.box[1] + b.box[3]) / 2
            gap = b.box[0] - a.box[2]
            if abs(mid_a - mid_b) < min(ha, hb) / 2 and -2 <= gap <= ROW_GAP * max(ha, hb):
                space = (float(a.box[2]), float(a.box[1]), float(b.box[0]), float(a.box[3]))
                confs = _confs(a) + (1.0,) + _confs(b)
                out.append(_row(a.text + " " + b.text, ab + [space] + bb, confs))
                break
    return out


def _confs(line: TextLine) -> tuple[float, ...]:
    return line.char_conf if len(line.char_conf) == len(line.text) else (1.0,) * len(line.text)


def _boundary(text: str, i: int, j: int) -> bool:
    """Is there a word boundary between ``text[i]`` and ``text[j]`` (adjacent letters)?"""
    if i < 0 or j >= len(text):
        return True
    a, b = text[i], text[j]
    if not (a.isalnum() and b.isalnum()):
        return True
    return (a.islower() and b.isupper()) or (a.isdigit() != b.isdigit())


def similarity(word: str, read: str, conf: tuple[float, ...] | None = None) -> float:
    """1 - edit cost / len(word), where reading a letter differently or reading one too
    many costs the recognizer's probability for what it read (a letter it was unsure of
    is cheap to call misread), and a letter read too few costs 1. A doubled letter read
    once or a letter read twice costs half ("Biling", "Jjigsaw": the recognizer's
    decoding merges repeats, or splits one wide letter in two)."""
    conf = conf if conf is not None else (1.0,) * len(read)
    n, m = len(word), len(read)
    prev = [0.0] * (m + 1)
    for j in range(1, m + 1):
        prev[j] = prev[j - 1] + conf[j - 1] * (0.5 if j > 1 and read[j - 1] == read[j - 2] else 1.0)
    for i in range(1, n + 1):
        drop = 0.5 if i > 1 and word[i - 1] == word[i - 2] else 1.0
        cur = [prev[0] + drop] + [0.0] * m
        for j in range(1, m + 1):
            same = word[i - 1] == read[j - 1]
            extra = conf[j - 1] * (0.5 if j > 1 and read[j - 1] == read[j - 2] else 1.0)
            cur[j] = min(
                prev[j - 1] + (0.0 if same else conf[j - 1]),
                prev[j] + drop,
                cur[j - 1] + extra,
            )
        prev = cur
    return max(0.0, 1.0 - prev[m] / max(n, 1))


def _word_hits(word: str, row: _Row) -> list[tuple[int, int, float]]:
    """(start, end, similarity) of ``word`` in ``row.norm``: every exact occurrence, or else
    the best fuzzy one (a row that is just one short word may be misread too)."""
    norm = row.norm
    out = []
    start = norm.find(word)
    while start >= 0:
        out.append((start, start + len(word), 1.0))
        start = norm.find(word, start + 1)
    if out or not norm:
        return out
    if len(word) < MIN_FUZZY or len(norm) < len(word):
        # Short words only as a whole label: one unsure letter in "Weh" may be "Web", but
        # two letters somewhere in a long line match anything.
        if abs(len(norm) - len(word)) > 1:
            return []
        return [(0, len(norm), similarity(word, norm, row.conf))]
    al = fuzz.partial_ratio_alignment(word, norm, score_cutoff=50)
    if al is None:
        return []
    # The alignment may start after a misread first letter ("Qresund" for "Øresund"):
    # one letter earlier is tried too.
    tries = [_refine(word, row, s) for s in (al.dest_start - 1, al.dest_start) if s >= 0]
    return [max(tries, key=lambda t: t[2])]


def _refine(word: str, row: _Row, start: int) -> tuple[int, int, float]:
    """The best window for ``word`` starting at ``start`` (one letter more or less: a
    misread may add or drop one)."""
    norm = row.norm
    if len(word) < MIN_FUZZY:
        hit = norm.startswith(word, start)
        return start, start + len(word), 1.0 if hit else 0.0
    best = (start, start, 0.0)
    for end in range(start + len(word) - 1, min(len(norm), start + len(word) + 1) + 1):
        sim = similarity(word, norm[start:end], row.conf[start:end])
        if sim > best[2]:
            best = (start, end, sim)
    return best


def _spans(words: list[str], row: _Row) -> list[tuple[int, int, float]]:
    """(start, end, similarity) in ``row.norm`` of a term's matches: its first word where it
    shows, then each next word right after the last; the similarity is the worst word's.

    Scored word by word, "Aria Banerjee" is no near-match of "Flora Banerjee" (as one
    string it differs in only three letters of thirteen).
    """
    out = []
    for s, e, sim in _word_hits(words[0], row):
        for w in words[1:]:
            if sim < LOW:
                break
            _, e, next_sim = _refine(w, row, e)
            sim = min(sim, next_sim)
        if sim >= LOW:
            out.append((s, e, sim))
    return out


def find_term(term: str, searchable: list[_Row]) -> list[Match]:
    """Every place ``term`` is written among ``searchable`` (`rows`), best first."""
    words = [w for w in (normalize(p) for p in term.split()) if w]
    if not words:
        return []
    found: dict[tuple[int, int, int, int], float] = {}
    for row in searchable:
        for s, e, sim in _spans(words, row):
            first, last = row.at[s], row.at[e - 1]
            score = sim
            score *= 1.0 if _boundary(row.text, first - 1, first) else CONTINUED
            score *= 1.0 if _boundary(row.text, last, last + 1) else CONTINUED
            boxes = row.boxes[first : last + 1]
            box = (round(min(b[0] for b in boxes)), round(min(b[1] for b in boxes)),
                   round(max(b[2] for b in boxes)), round(max(b[3] for b in boxes)))
            if score >= LOW and score > found.get(box, 0.0):
                found[box] = score
    return sorted((Match(b, s) for b, s in found.items()), key=lambda m: -m.score)
