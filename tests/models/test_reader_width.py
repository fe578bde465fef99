"""The recognizer's padding width is a reading setting a policy keeps: checkpoints record
it in their preprocess settings, those from before it was a setting read at the legacy
width, and replay reads as the policy was trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskmimic.core.errors import CheckpointError
from deskmimic.models.perception import ocr_engine, shown_instruction
from deskmimic.models.perception.match_maps import rec_min_width_of, word_maps_signature
from deskmimic.models.perception.reader import ScreenReader
from deskmimic.models.policy import load_policy
from deskmimic.models.training.checkpoint import PolicySpec
from tests.fixtures.text_frames import text_frame


def test_the_signature_names_the_width_only_when_it_is_not_the_legacy_one():
    legacy = word_maps_signature(ocr_engine.LEGACY_REC_MIN_WIDTH)
    assert not any(isinstance(x, list) and x[:1] == ["rec_min_width"] for x in legacy)
    assert rec_min_width_of(legacy) == ocr_engine.LEGACY_REC_MIN_WIDTH
    now = word_maps_signature(96)
    assert ["rec_min_width", 96] in now and rec_min_width_of(now) == 96
    assert rec_min_width_of(None) == rec_min_width_of("x") == ocr_engine.LEGACY_REC_MIN_WIDTH


def _config(trained_run: Path) -> dict:
    return json.loads((trained_run / "checkpoints" / "last" / "config.json").read_text())


def test_a_checkpoint_reads_with_the_width_it_was_trained_with(trained_run: Path):
    policy = load_policy(trained_run, which="last")
    assert policy.spec.rec_min_width == ocr_engine.REC_MIN_WIDTH
    data = _config(trained_run)
    assert rec_min_width_of(data["preprocess"]["word_maps"]) == ocr_engine.REC_MIN_WIDTH
    # A checkpoint written before the width was a setting records the legacy signature:
    # it still loads, and reads at the legacy width.
    data["preprocess"]["word_maps"] = word_maps_signature(ocr_engine.LEGACY_REC_MIN_WIDTH,
                                                          shown_instruction.LEGACY)
    spec = PolicySpec.from_json(data)
    assert spec.rec_min_width == ocr_engine.LEGACY_REC_MIN_WIDTH
    assert spec.shown_rule == shown_instruction.LEGACY
    assert spec.identity()["preprocess"] == data["preprocess"]
    # Any other change of the reader's settings is still refused.
    data["preprocess"]["word_maps"][0] = -1
    with pytest.raises(CheckpointError, match="train the policy again"):
        PolicySpec.from_json(data)


def test_the_policy_stream_reads_at_the_checkpoint_width(trained_run: Path):
    policy = load_policy(trained_run, which="last")
    frame, _ = text_frame(["Save the file", "Cancel"], width=320)
    policy.act({"image": frame, "instruction": "Click Save"})
    assert policy._stream.reader.rec_min_width == policy.spec.rec_min_width


@pytest.mark.parametrize("family,size", [("DejaVu Sans", 13), ("Liberation Serif", 18)])
def test_both_widths_read_the_same_words(family: str, size: int):
    rows = ["Save", "Open recent", "Preferences", "Kai Lopes"]
    frame, _ = text_frame(rows, family=family, size=size, width=360)
    texts = {}
    for width in (ocr_engine.REC_MIN_WIDTH, ocr_engine.LEGACY_REC_MIN_WIDTH):
        lines = ScreenReader(rec_min_width=width).read(frame)
        texts[width] = [ln.text.replace(" ", "").lower() for ln in lines]
    want = [r.replace(" ", "").lower() for r in rows]
    assert texts[ocr_engine.REC_MIN_WIDTH] == want
    assert texts[ocr_engine.LEGACY_REC_MIN_WIDTH] == want
