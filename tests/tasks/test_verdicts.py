"""The practice tasks' verdicts, shared by every toolkit (tasks/verdicts.py)."""

from __future__ import annotations

from deskmimic.tasks.verdicts import click_verdict, form_targets, join_words, submit_verdict


def test_click_verdicts_name_what_was_clicked():
    assert click_verdict("Save", "Save") == (True, "clicked Save")
    assert click_verdict("Open", "Save") == (False, "clicked Open instead of Save")


def test_a_form_succeeds_only_with_the_text_in_the_named_field_alone():
    assert submit_verdict({"Name": "ab", "City": ""}, "Name", "ab") == (True, "submitted 'ab' in Name")
    assert submit_verdict({"Name": "a", "City": ""}, "Name", "ab") == (
        False, "submitted 'a' in Name, expected 'ab'")
    # three fields filled: the same wording whichever toolkit drew them
    assert submit_verdict({"Name": "ab", "City": "x", "Zip": "1", "Street": "y"}, "Name", "ab") == (
        False, "submitted text in City, Zip and Street as well")


def test_the_expert_goes_for_submit_once_the_field_holds_the_text():
    assert form_targets({"Name": "", "City": ""}, "Name", "ab") == ["field:Name"]
    assert form_targets({"Name": "ab", "City": ""}, "Name", "ab") == ["button:Submit"]
    assert join_words(["A"]) == "A" and join_words(["A", "B", "C"]) == "A, B and C"
