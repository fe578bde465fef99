"""The instruction's terms: the content words and adjacent pairs the match maps look for,
with their character spans (pure text: no image work here)."""

from __future__ import annotations

import re

import numpy as np

# Per-word maps (`word_maps`): terms (`term_spans`) past this many are dropped.
MAX_WORDS = 24
STOP_WORDS = frozenset(
    "click type into then the a an onto on to in tick pick drag drop scroll find and "
    "press enter select choose until of with at from".split()
)
# Letters and digits of any script ("Café", "Größe", "Über"), with what joins them in
# names, addresses and numbers ("1,024").
_WORD_RE = re.compile(r"[^\W_](?:[\w.@-]|,(?=\d))*")


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


def term_texts(instruction: str) -> tuple[str, ...]:
    """What the per-word maps look for, in order (the texts of `term_spans`)."""
    return tuple(t for t, _, _ in term_spans(instruction))


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
