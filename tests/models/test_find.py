"""Finding a term among lines read from the screen: fuzzy where the reader slips, strict
where another word is meant (pure text: lines are built by hand, no reading)."""

from __future__ import annotations

import pytest

from deskmimic.models.perception.find import LOW, find_term, normalize, rows
from deskmimic.models.perception.reader import TextLine


def line(text: str, x0: int = 10, y0: int = 10, cw: int = 8, h: int = 16) -> TextLine:
    """A line as the reader gives it: one centre per character, ``cw`` px apart."""
    xs = tuple(x0 + cw * (i + 0.5) for i in range(len(text)))
    return TextLine(text, 0.99, (x0, y0, x0 + cw * len(text), y0 + h), xs)


def best(term: str, *lines: TextLine) -> float:
    found = find_term(term, rows(list(lines)))
    return found[0].score if found else 0.0


def test_normal_form_ignores_case_accents_punctuation_and_spaces():
    assert normalize("Sävé As:") == "saveas"
    assert normalize("E-mail address") == "emailaddress"
    assert normalize("ÜBER") == normalize("über") == "uber"
    assert normalize("...") == ""
    # Letters Unicode does not decompose; "ß" stays one letter.
    assert normalize("Øresund Łódź Æsir Größe") == "oresundlodzaesirgroße"


@pytest.mark.parametrize("read, term", [
    ("Save", "Save"), ("SAVE", "Save"), ("Save:", "Save"), ("Café", "Cafe"),
    ("Senor", "Señor"),
    ("setClientto'vivid'", "vivid"),  # spaces dropped by the reader
    ("Request  Warranty", "Request Warranty"), ("RequestWarranty", "Request Warranty"),
])
def test_exact_words_are_found_whatever_the_spacing_and_case(read: str, term: str):
    assert best(term, line(read)) == 1.0


def test_a_misread_letter_still_counts_but_dimmer():
    misreads = (("Pianet:", "Planet"), ("Clent:", "Client"), ("Reqwest", "Request"),
                # letters the reader does not know, seen as a near one
                ("Qresund", "Øresund"), ("GroBe", "Größe"))
    for read, term in misreads:
        assert LOW < best(term, line(read)) < 1.0, (read, term)


@pytest.mark.parametrize("read, term", [
    ("Cabin", "Cobalt"), ("Confirm", "Cobalt"), ("Aria Banerjee", "Flora Banerjee"),
    ("Kai Abbott", "Nadia Abbott"), ("Ok", "Go"), ("Tab", "Tag"),  # short words: exact only
])
def test_another_word_is_no_match(read: str, term: str):
    assert best(term, line(read)) == 0.0


def test_a_word_inside_a_longer_one_is_marked_down():
    assert best("Mode", line("Mode:")) == 1.0
    assert LOW <= best("Mode", line("Model:")) < 0.9
    assert best("Sand", line("Sandal")) < 0.9
    # A change of case is a word boundary the reader's dropped space leaves behind.
    assert best("OK", line("pressOK")) == 1.0


def test_a_match_has_the_box_of_its_own_letters():
    ln = line("Open Insert > Request Warranty", x0=100, cw=10)
    (m,) = find_term("Request", rows([ln]))
    start = "Open Insert > Request Warranty".index("Request")
    assert m.box[0] == pytest.approx(100 + 10 * start, abs=1)
    assert m.box[2] == pytest.approx(100 + 10 * (start + 7), abs=1)
    assert (m.box[1], m.box[3]) == (ln.box[1], ln.box[3])


def test_every_place_a_word_is_written_is_found_and_a_pair_across_two_boxes():
    a, b = line("OK", y0=10), line("Cancel   OK", y0=60)
    assert len(find_term("OK", rows([a, b]))) == 2
    # Two boxes side by side on one row read as one row: the pair is found across them.
    first, second = line("Milo", x0=10), line("Zhang", x0=10 + 4 * 8 + 6)
    (m,) = find_term("Milo Zhang", rows([first, second]))
    assert m.score == 1.0 and m.box[0] == 10 and m.box[2] == second.box[2]
    far = line("Zhang", x0=400)
    assert find_term("Milo Zhang", rows([first, far])) == []
