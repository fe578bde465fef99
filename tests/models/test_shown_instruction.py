"""The instruction shown on screen is not a target: whole, or cut into pieces by a menu that
drops over it (pure text: lines built by hand, as the reader gave them in real episodes)."""

from __future__ import annotations

import pytest

from deskmimic.models.perception import shown_instruction
from deskmimic.models.perception.match_maps import shown_rule_of, word_maps_signature
from deskmimic.models.perception.shown_instruction import LEGACY, PROSE, without_instruction
from deskmimic.models.perception.terms import term_texts
from tests.models.test_find import line


def kept(texts: list[str], instruction: str, rule: int = PROSE) -> list[str]:
    lines = [line(t, y0=10 + 20 * i) for i, t in enumerate(texts)]
    return [ln.text for ln in without_instruction(lines, instruction, term_texts(instruction),
                                                  rule)]


def test_the_whole_instruction_shown_is_no_target_in_either_rule():
    instruction = "Scroll to Milo Okafor and click it"
    for rule in (LEGACY, PROSE):
        assert kept(["Scroll toMiloOkaforandclickit", "Milo Okafor"], instruction, rule) == [
            "Milo Okafor"]
        # A label that is one of the terms stays, and so does a line about something else.
        assert kept(["Save As"], "Click Save As", rule) == ["Save As"]
        assert kept(["Done: clicked Milo Okafor"], instruction, rule) == [
            "Done: clicked Milo Okafor"]


# Read from workflow episodes where the opened menu covered the middle of the banner.
WORKFLOW = ("Open Settings › Import Event, set Order to 'northern' and Filename to 'puddle', "
            "choose Size Medium, then press OK")
MENU = ["Settings", "Import Event..", "Add Member..", "ImportOrder..", "Edit Order..."]
PIECES = ["mport Event,set Orderto'northern'and Filename topuddle',", "um,thenpressOK",
          "ress OK", "'puddle", "OpenSettings>In", "puddle', choose", "e Medium, then press"]


def test_pieces_of_the_banner_are_no_targets_but_menu_items_are():
    assert kept(MENU + PIECES, WORKFLOW) == MENU
    # The legacy rule let every piece no longer than a term through ("OK", "'puddle").
    legacy = kept(MENU + PIECES, WORKFLOW, LEGACY)
    assert "ress OK" in legacy and "'puddle" in legacy


def test_labels_made_of_term_words_stay_however_long():
    instruction = "Tick Email me updates and Remember this device"
    labels = ["Email me updates", "Remember this device"]
    assert kept(labels, instruction) == labels


def test_one_word_alone_stays_whatever_the_instruction_says():
    # A combo box's placeholder and a button named like the instruction's verbs.
    assert kept(["Choose...", "Open", "then"], WORKFLOW) == ["Choose...", "Open", "then"]


def test_an_apostrophe_inside_a_word_is_no_quote():
    assert kept(["Don't save"], "Click Don't save") == ["Don't save"]
    # The value as a field shows it stays (no quote marks): the task may need it seen.
    assert kept(["northern"], WORKFLOW) == ["northern"]


def test_the_rule_is_a_setting_policies_keep():
    legacy = word_maps_signature(shown_rule=LEGACY)
    assert not any(isinstance(x, list) and x[:1] == ["shown_instruction"] for x in legacy)
    assert shown_rule_of(legacy) == LEGACY and shown_rule_of(None) == LEGACY
    now = word_maps_signature()
    assert ["shown_instruction", shown_instruction.CURRENT] in now
    assert shown_rule_of(now) == shown_instruction.CURRENT
    with pytest.raises(ValueError, match="unknown shown-instruction rule"):
        without_instruction([], WORKFLOW, (), rule=99)
