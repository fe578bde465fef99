"""The instruction shown on screen: lines that are text about the task, not things to act on.

A task card, a tutorial's step text, our practice windows' banner: read as targets, their
words lit every channel at every step, and a pair ("Milo Okafor") showed as "on screen"
before its row had scrolled in, so the policy clicked early. Such lines are left out before
the instruction's terms are looked up (`match_maps`) and before a click is judged
(`agreement`).

Two rules, kept side by side because a policy reads with the rule it was trained with
(`match_maps.shown_rule_of`):

- ``LEGACY`` (1): a line that spells a stretch of the instruction longer than any term.
  A menu that drops over the banner cuts it into pieces ("ress OK", "'paddle",
  "beacon', choose") that are no longer than a term and stayed in: every piece lit its
  term (OK, a field's value) beside the menu's items.
- ``PROSE`` (2): a line that spells a stretch of two or more of the instruction's words
  holding its own prose — two letters or more of words that are in no term ("ress OK",
  "beacon', choose") — or a quote mark at a word's edge where the instruction quotes a
  value ("'puddle"). A label made only of term words ("Import Event", a three-word checkbox
  label whose words are all terms) stays, however long, and so does one word alone: a
  combo box's "Choose…" or a button "Open" is a thing on screen, whatever the
  instruction's verbs are.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from deskmimic.models.perception.find import INSTRUCTION_SIMILAR, fold, normalize
from deskmimic.models.perception.reader import TextLine

LEGACY = 1
PROSE = 2
# What new policies are trained with.
CURRENT = PROSE
RULES = (LEGACY, PROSE)
# Letters of words outside every term that make a stretch prose: one could be a misread.
PROSE_LETTERS = 2
QUOTES = "'\"‘’“”«»"


def without_instruction(lines: list[TextLine], instruction: str, terms: tuple[str, ...],
                        rule: int = CURRENT) -> list[TextLine]:
    """``lines`` less those that show the instruction itself (module doc; ``rule`` one of
    `RULES`)."""
    if rule == LEGACY:
        return _without_legacy(lines, instruction, terms)
    if rule != PROSE:
        raise ValueError(f"unknown shown-instruction rule {rule!r}: one of {RULES}")
    text, prose, word = _prose_mask(instruction, terms)
    quoted = any(q in instruction for q in QUOTES)
    return [ln for ln in lines if not _is_prose(ln.text, text, prose, word, quoted)]


def _without_legacy(lines: list[TextLine], instruction: str,
                    terms: tuple[str, ...]) -> list[TextLine]:
    text = normalize(instruction)
    longest = max((len(normalize(t)) for t in terms), default=0)
    return [ln for ln in lines
            if not ((n := normalize(ln.text)) and len(n) > longest + 2
                    and fuzz.partial_ratio(n, text) >= INSTRUCTION_SIMILAR)]


def _prose_mask(instruction: str,
                terms: tuple[str, ...]) -> tuple[str, list[bool], list[int]]:
    """The instruction's normal form and, per letter of it, whether it is outside every
    occurrence of every term, and which word of the instruction it belongs to."""
    in_term = [False] * len(instruction)
    low = instruction.lower()
    for t in terms:
        t = t.lower()
        start = low.find(t) if t else -1
        while start >= 0:
            in_term[start : start + len(t)] = [True] * len(t)
            start = low.find(t, start + 1)
    norm, prose, word = [], [], []
    n_words, inside = 0, False
    for i, ch in enumerate(instruction):
        letters = [c for c in fold(ch) if c.isalnum()]
        if letters and not inside:
            n_words += 1
        inside = bool(letters)
        for c in letters:
            norm.append(c)
            prose.append(not in_term[i])
            word.append(n_words)
    return "".join(norm), prose, word


def _edge_quote(text: str) -> bool:
    """A quote mark that opens or closes a word (not an apostrophe inside one: "Don't")."""
    for i, ch in enumerate(text):
        if ch in QUOTES:
            before = text[i - 1].isalnum() if i > 0 else False
            after = text[i + 1].isalnum() if i + 1 < len(text) else False
            if before != after:
                return True
    return False


def _is_prose(line: str, text: str, prose: list[bool], word: list[int], quoted: bool) -> bool:
    n = normalize(line)
    if not n or not text:
        return False
    if len(n) > len(text):  # the whole instruction and more: a card that holds it
        return fuzz.partial_ratio(text, n) >= INSTRUCTION_SIMILAR
    al = fuzz.partial_ratio_alignment(n, text, score_cutoff=INSTRUCTION_SIMILAR)
    if al is None:
        return False
    span = slice(al.dest_start, al.dest_end)
    if len(set(word[span])) >= 2 and sum(prose[span]) >= PROSE_LETTERS:
        return True
    return quoted and _edge_quote(line)
