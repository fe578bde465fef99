"""Does a decision act on what the instruction names? The text the reader sees at a click
point against the instruction's words (pure: lines in, a verdict out; no reading here).

The policy's confidence measures how sure the network is of *an* element, not whether it
is the one named: a click one row below the named check box or on the wrong menu item
came at the confidence of right clicks. The reader's lines of the same frame say what
that element is called. Three answers (`Agreement.verdict`):

- ``agree``: the clicked element's text *is* a phrase of the instruction (a run of its
  words inside one clause, up to a misread letter or two): "Import Event…" for "Open
  Edit › Import Event", not "Add Event…" nor "Import Order…";
- ``disagree``: it is not, and a *sibling* of it, an element of the same kind laid out
  with it (the same column of a menu, list or check group, the same row of buttons, menu
  titles or radio buttons), is: the policy picked the wrong member of a set whose right
  member is in view;
- ``undecided``: anything else (no text at the point, text the instruction quotes as a
  value to type, nothing named beside the element, or the named phrase inside the
  clicked line itself: the reader may have read two elements as one).

The clicked element's text is the line under the point or, on the same row, the line just
right of it (a check box or radio button is left of its label) or left of it (a field
right of its label, the empty part of a list row). A line whose characters stand far
apart is cut into elements first (a menu bar read as "ToolsBuildFormatView"). Every
distance is in line heights of the boxes involved, so the same rules hold for any font
size and screen scale. A label ending in ":" names a field beside it; it is a sibling only
of another such label (the form's label column), never of a field's content on its row.

`done_agreement` is the same check for ``done``: premature while the element the
instruction's last clause names ("..., then press Submit") is in view and no click of the
episode landed on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from deskmimic.models.perception.find import normalize
from deskmimic.models.perception.reader import TextLine
from deskmimic.models.perception.shown_instruction import without_instruction
from deskmimic.models.perception.terms import term_texts

# How far from a line a point still belongs to its element, in line heights: left of the
# text (a check box's or radio button's indicator sits about one height before its label)
# and right of it (a field after its label, the empty right part of a list row or menu
# item).
LEFT_REACH = 2.5
RIGHT_REACH = 15.0
# A point this many line heights above or below a line's centre is on another row (rows
# of a list, menu or check group are at least ~1.3 line heights apart).
ROW_REACH = 0.8
# Siblings: left edges or centres within this many line heights (a column), or centres
# within ``ROW_ALIGN`` line heights (a row); text of about the same height (same font).
COLUMN_ALIGN = 0.5
ROW_ALIGN = 0.35
SAME_SIZE = 1.5
# How similar (1 - edits / letters of the phrase) an element's text must be to a phrase of
# the instruction to be named by it: "Order Bookin..." (cut off by the menu's width) and
# "Ad Device..." (a letter lost) are; "Edit Booking..." for "Add Booking" (three edits in
# ten letters) and "Import Event..." for "Import Order" are not.
NAMED = 0.75
# Phrases of the instruction: runs of up to this many words inside one clause (a label,
# a menu entry, a name is rarely longer).
PHRASE_WORDS = 4
# Characters further apart than this many line heights (centre to centre, spaces left
# out) belong to two elements the reader read as one line: menu bar titles
# ("ToolsBuildFormatView": 1.0-1.6 heights apart) or radio buttons in a row. Letters of
# one word are 0.2-0.7 apart, words of one label 0.7-0.9.
SPLIT_GAP = 1.0
# For the order of steps, a line holding a phrase of at least this many letters mentions
# it (shorter ones turn up inside other words).
MENTION_LETTERS = 4
# Lines with fewer letters and digits are not elements (a stray glyph, a check box's
# tick read as a character).
MIN_LETTERS = 2

# Quoted text is a value to type or choose ("Type 'star' into Street"), not a name of
# something to click: a field showing it is a field, whatever its label.
_QUOTED = re.compile(r"(?<!\w)'[^']*'(?!\w)|\"[^\"]*\"|\u2018[^\u2019]*\u2019|\u201c[^\u201d]*\u201d")
_WORD = re.compile(r"[^\W_]+")
# What ends a clause: "Open Edit \u203a Import Event, set ...".
_CLAUSE = re.compile(r"[,;:.!?\u203a>/|()\[\]{}\u2026]+")
# A check box's or radio button's indicator read as a letter before its label ("O Send").
_INDICATOR = re.compile(r"^\W*[^\W_]\s+(?=\S{2,})")


@dataclass(frozen=True)
class Agreement:
    """What the click point's text says of the instruction.

    ``verdict``: ``agree``, ``disagree`` or ``undecided`` (module doc); ``element``: the
    text read on the clicked element (None: no text there); ``named``: for ``disagree``,
    the named sibling's text; ``why``: one line for logs and reports.
    """

    verdict: str
    element: str | None = None
    named: str | None = None
    why: str = ""


@lru_cache(maxsize=64)  # one instruction per episode, asked at every decision
def phrases(instruction: str) -> tuple[frozenset[str], frozenset[str]]:
    """(names, values) in normal form (`find.normalize`): every run of up to
    `PHRASE_WORDS` consecutive words inside one clause outside quotes ("Open Edit › Import
    Event, ..." gives "open", "edit", "openedit", "import", "importevent", ...), and each
    quoted text whole."""
    values = frozenset(v for q in _QUOTED.findall(instruction) if (v := normalize(q)))
    names: set[str] = set()
    for clause in _CLAUSE.split(_QUOTED.sub(",", instruction)):
        words = [normalize(w) for w in _WORD.findall(clause)]
        words = [w for w in words if w]
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + PHRASE_WORDS) + 1):
                names.add("".join(words[i:j]))
    return frozenset(names), values


def similarity(phrase: str, text: str) -> float:
    """1 - edits / letters of ``phrase``: how nearly ``text`` (normal form) *is* the
    phrase, not merely contains it."""
    return max(0.0, 1.0 - Levenshtein.distance(phrase, text) / max(len(phrase), 1))


def naming(text: str, names: frozenset[str]) -> tuple[float, str | None]:
    """(score, phrase): the phrase of ``names`` that ``text`` is nearest to be, with a
    letter read before a check box's label ("O Send") tried without it."""
    best: tuple[float, str | None] = (0.0, None)
    for variant in {text, _INDICATOR.sub("", text)}:
        norm = normalize(variant)
        if not norm:
            continue
        for p in names:
            # Cheap bound first: a length gap alone costs that many edits.
            if 1.0 - abs(len(p) - len(norm)) / len(p) < best[0]:
                continue
            score = similarity(p, norm)
            if score > best[0]:
                best = (score, p)
    return best


def split_elements(line: TextLine) -> list[TextLine]:
    """``line`` cut where its characters stand further apart than `SPLIT_GAP` line
    heights (each piece with its own box and characters); a line without character
    positions whole."""
    if len(line.char_x) != len(line.text) or len(line.text) < 2:
        return [line]
    h = _height(line)
    cuts, prev = [0], None
    for i, ch in enumerate(line.text):
        if ch.isspace():
            continue
        if prev is not None and line.char_x[i] - line.char_x[prev] > SPLIT_GAP * h:
            cuts.append(prev + 1)
        prev = i
    if len(cuts) == 1:
        return [line]
    cuts.append(len(line.text))
    x0, y0, x1, y1 = line.box
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = line.text[a:b]
        lead = len(piece) - len(piece.lstrip())
        a, b = a + lead, a + len(piece.rstrip())
        if b <= a:
            continue
        xs = line.char_x[a:b]
        # Edges halfway to the neighbouring pieces, the line's own at its ends.
        left = x0 if a == cuts[0] else (line.char_x[a - 1] + xs[0]) / 2
        right = x1 if b >= len(line.text.rstrip()) else (xs[-1] + line.char_x[b]) / 2
        out.append(TextLine(line.text[a:b], line.score,
                            (round(max(x0, min(left, xs[0] - 0.25 * h))), y0,
                             round(min(x1, max(right, xs[-1] + 0.25 * h))), y1),
                            xs, line.char_conf[a:b]))
    return out


def _height(line: TextLine) -> float:
    return max(1.0, float(line.box[3] - line.box[1]))


def _centre_y(line: TextLine) -> float:
    return (line.box[1] + line.box[3]) / 2


def element_at(lines: list[TextLine], x: float, y: float) -> TextLine | None:
    """The line whose element the point ``(x, y)`` is on (module doc), or None."""
    best: tuple[float, float, TextLine] | None = None
    for ln in lines:
        h = _height(ln)
        dy = abs(y - _centre_y(ln))
        if dy > ROW_REACH * h:
            continue
        x0, x1 = ln.box[0], ln.box[2]
        if x < x0 - LEFT_REACH * h or x > x1 + RIGHT_REACH * h:
            continue
        # Under the text: distance 0; beside it: how far, in line heights (a label just
        # right of a check box wins over a line far left of it on the same row).
        dx = max(0.0, x0 - x, x - x1) / h
        key = (dx, dy / h)
        if best is None or key < best[:2]:
            best = (*key, ln)
    return best[2] if best else None


def _is_label(line: TextLine) -> bool:
    return line.text.rstrip().endswith(":")


def _text_span(line: TextLine) -> tuple[float, float]:
    """Where the line's text starts and ends (first and last character centres): the
    detector's box may or may not take in a check box's indicator before the label, and
    the recognizer may read the indicator as a letter ("I Swan")."""
    if len(line.char_x) != len(line.text) or not line.text:
        return float(line.box[0]), float(line.box[2])
    m = _INDICATOR.match(line.text)
    start = m.end() if m else 0
    return line.char_x[start], line.char_x[-1]


def siblings(element: TextLine, lines: list[TextLine]) -> list[TextLine]:
    """Lines laid out with ``element`` as members of one set: the same column (text
    starting or centred at the same x) or the same row, text of about the same height, and
    of the same sort (field labels ending in ":" only with each other)."""
    h0 = _height(element)
    a0, b0 = _text_span(element)
    out = []
    for ln in lines:
        if ln is element or _is_label(ln) != _is_label(element):
            continue
        h = _height(ln)
        if max(h, h0) > SAME_SIZE * min(h, h0):
            continue
        unit = min(h, h0)
        a, b = _text_span(ln)
        column = (abs(a - a0) <= COLUMN_ALIGN * unit
                  or abs((a + b) / 2 - (a0 + b0) / 2) <= COLUMN_ALIGN * unit)
        row = abs(_centre_y(ln) - _centre_y(element)) <= ROW_ALIGN * unit
        if column or row:
            out.append(ln)
    return out


def click_agreement(lines: list[TextLine], x: float, y: float, instruction: str,
                    clicked: list[str] | None = None) -> Agreement:
    """Whether a click at ``(x, y)`` (frame pixels of ``lines``) lands on an element the
    instruction names (module doc); given the episode's earlier clicks (``clicked``, their
    `Agreement.element` texts), also whether it keeps the instruction's order
    (`order_agreement`)."""
    names, values = phrases(instruction)
    if not names:
        return Agreement("undecided", why="the instruction names nothing")
    # Lines of fewer letters are glyphs (a check box's tick read as a character), not
    # labels: they neither are the clicked element nor stand beside it.
    shown = [piece for ln in without_instruction(lines, instruction, term_texts(instruction))
             for piece in split_elements(ln) if len(normalize(piece.text)) >= MIN_LETTERS]
    element = element_at(shown, x, y)
    if element is None:
        return Agreement("undecided", why="no text at the click")
    text = element.text
    norm = normalize(text)
    if naming(text, names)[0] >= NAMED:
        if clicked is not None:
            order = order_agreement(text, lines, instruction, clicked)
            if order.verdict == "disagree":
                return order
        return Agreement("agree", text, why="the clicked element is named")
    # A field's label ("Star:") names the field even when the value to type is the same
    # word; other text that is the value is a field showing it.
    if not _is_label(element) and naming(text, values)[0] >= NAMED:
        return Agreement("undecided", text, why="the clicked element shows a quoted value")
    for sib in siblings(element, shown):
        score, phrase = naming(sib.text, names)
        # The named phrase inside the clicked line: the reader may have read the named
        # element and its neighbours as one line ("Tools SettingsView"), so the click may
        # be on it after all.
        if score >= NAMED and phrase and phrase not in norm:
            return Agreement("disagree", text, sib.text,
                             why=f"clicked {text!r}; the instruction names {sib.text!r} beside it")
    return Agreement("undecided", text, why="nothing named beside the clicked element")


@lru_cache(maxsize=64)
def clauses(instruction: str) -> tuple[str, ...]:
    """The instruction's clauses with words in them, quoted values cut out."""
    return tuple(c.strip() for c in _CLAUSE.split(_QUOTED.sub(",", instruction))
                 if _WORD.search(c))


def final_names(instruction: str) -> frozenset[str]:
    """The phrases of the instruction's last clause ("..., then press Submit": "submit",
    "presssubmit", ...), what the last step acts on."""
    found = clauses(instruction)
    return phrases(found[-1])[0] if found else frozenset()


def _mentions(text: str, clause: str) -> bool:
    """``text`` is named by a phrase of ``clause``, or holds one of at least
    `MENTION_LETTERS` letters (a radio button read with its neighbours as one line,
    "SteadyO Brisk O Quick")."""
    names = phrases(clause)[0]
    if naming(text, names)[0] >= NAMED:
        return True
    norm = normalize(text)
    return any(len(p) >= MENTION_LETTERS and p in norm for p in names)


def order_agreement(element: str, lines: list[TextLine], instruction: str,
                    clicked: list[str]) -> Agreement:
    """Whether a click on ``element`` (named by the instruction) comes in the order the
    instruction gives: ``disagree`` when it is named by a clause that starts with "then"
    ("Click Oak, then Fern"; "..., then press OK"), an element the clause before names is
    in view, and none of the episode's earlier clicks (``clicked``) landed on one;
    ``undecided`` otherwise. Other clauses may be done in any order ("Tick Send, Birch and
    Wheat")."""
    found = clauses(instruction)
    for k in range(1, len(found)):
        words = _WORD.findall(found[k])
        if not (words and words[0].lower() == "then"
                and naming(element, phrases(found[k])[0])[0] >= NAMED):
            continue
        before = found[k - 1]
        if _mentions(element, before) or any(_mentions(t, before) for t in clicked):
            return Agreement("undecided", element, why="the step before was clicked")
        shown = [ln for ln in without_instruction(lines, instruction, term_texts(instruction))
                 if len(normalize(ln.text)) >= MIN_LETTERS and not _is_label(ln)]
        for ln in shown:
            if ln.text != element and _mentions(ln.text, before):
                return Agreement("disagree", element, ln.text,
                                 why=f"clicked {element!r} before {ln.text!r}, named before it")
        return Agreement("undecided", element, why="nothing named before it in view")
    return Agreement("undecided", element, why="no order to keep")


def done_agreement(lines: list[TextLine], instruction: str, clicked: list[str]) -> Agreement:
    """Whether ``done`` fits: ``disagree`` when an element the instruction's last clause
    names is in view ("then press Submit": the Submit button) and none of the episode's
    clicks (``clicked``: the texts of their elements, `Agreement.element`) landed on it;
    ``undecided`` otherwise."""
    last = final_names(instruction)
    if not last:
        return Agreement("undecided", why="the instruction names nothing")
    if any(naming(text, last)[0] >= NAMED for text in clicked):
        return Agreement("undecided", why="the last named element was clicked")
    shown = [ln for ln in without_instruction(lines, instruction, term_texts(instruction))
             if len(normalize(ln.text)) >= MIN_LETTERS]
    for ln in shown:
        # The whole element named, not a longer line that contains the word.
        if naming(ln.text, last)[0] >= NAMED:
            return Agreement("disagree", named=ln.text,
                             why=f"done before clicking {ln.text!r}, the last thing named")
    return Agreement("undecided", why="the last named element is not in view")


__all__ = ["Agreement", "clauses", "click_agreement", "done_agreement", "element_at",
           "final_names", "naming", "order_agreement", "phrases", "siblings", "similarity",
           "split_elements"]
