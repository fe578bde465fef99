"""The "instruction match" input channels: where on screen the instruction's words are written.

Learning to read button labels from 20 demonstrations does not work (docs/learning.md),
so the policy gets the answer to "where is the word the instruction names?" as extra
input channels that need no learning: the frame is read (`reader`), each of the
instruction's terms is looked up among the lines (`find`), and each place it is written
is painted as its box, valued by how well it matched: one channel per term (`word_maps`)
or their maximum over the content words (`match_channel`). Training (dataset cache) and
inference (`BCPolicy.act`, through `match_stream`) call the same functions, so they agree.
Nothing here depends on how the text is drawn: font, size, colours and toolkit are the
reader's business.
"""

from __future__ import annotations

import math

import numpy as np

from deskmimic.models.perception import find, ocr_engine, shown_instruction
from deskmimic.models.perception.find import Match, find_term, rows
from deskmimic.models.perception.reader import TextLine, read_frame
from deskmimic.models.perception.terms import MAX_WORDS, instruction_words, term_texts

# Bump when the maps change: dataset cache entries and checkpoints record it.
# 3: read by a text-reading engine instead of matched with one font's templates.
# 4: the instruction shown on screen is no match.
VERSION = 4
# A match this similar (`find.similarity`) or more shows at full strength.
HIGH = 0.9


def _value(match: Match) -> float:
    """Similarity `find.LOW`..`HIGH` rescaled to 0..1: a word read with one unsure letter
    in ten still shows in full, one misread letter in four dimly."""
    return float(np.clip((match.score - find.LOW) / (HIGH - find.LOW), 0.0, 1.0))


def paint(matches: list[Match], frame_hw: tuple[int, int], height: int, width: int) -> np.ndarray:
    """(height, width) uint8: each match's box, scaled to the map, at 255 x its value."""
    out = np.zeros((height, width), np.uint8)
    sy, sx = height / frame_hw[0], width / frame_hw[1]
    for m in matches:
        v = round(255 * _value(m))
        if v <= 0:
            continue
        x0, y0, x1, y1 = m.box
        # At least one pixel, so a small word survives a small map.
        c0, r0 = min(width - 1, math.floor(x0 * sx)), min(height - 1, math.floor(y0 * sy))
        c1, r1 = max(c0 + 1, math.ceil(x1 * sx)), max(r0 + 1, math.ceil(y1 * sy))
        view = out[r0:r1, c0:c1]
        np.maximum(view, v, out=view)
    return out


def maps_from_lines(
    lines: list[TextLine],
    instruction: str,
    terms: tuple[str, ...],
    frame_hw: tuple[int, int],
    height: int,
    width: int,
    shown_rule: int = shown_instruction.CURRENT,
) -> np.ndarray:
    """(height, width, MAX_WORDS) uint8: one map per term, zero for absent terms; the
    instruction itself, where it is shown on screen, is no match
    (`shown_instruction.without_instruction` by ``shown_rule``)."""
    out = np.zeros((height, width, MAX_WORDS), np.uint8)
    searchable = rows(shown_instruction.without_instruction(lines, instruction, terms,
                                                            shown_rule))
    done: dict[str, np.ndarray] = {}
    for i, t in enumerate(terms[:MAX_WORDS]):
        if t not in done:  # a repeated word is looked up once
            done[t] = paint(find_term(t, searchable), frame_hw, height, width)
        out[:, :, i] = done[t]
    return out


def word_maps(rgb: np.ndarray, instruction: str, height: int, width: int) -> np.ndarray:
    """One match map per term (`terms.term_spans`: content words and adjacent pairs, in
    order), at the network input size: (height, width, MAX_WORDS) uint8."""
    terms = term_texts(instruction)
    return maps_from_lines(read_frame(rgb), instruction, terms, rgb.shape[:2], height, width)


def match_channel(rgb: np.ndarray, instruction: str, height: int, width: int) -> np.ndarray:
    """The best over the instruction's content words, (height, width) uint8 (255 = clean match)."""
    words = tuple(instruction_words(instruction))
    maps = maps_from_lines(read_frame(rgb), instruction, words, rgb.shape[:2], height, width)
    return maps.max(axis=2) if words else maps[:, :, 0]


def word_maps_signature(rec_min_width: int | None = None, shown_rule: int | None = None) -> list:
    """What the maps depend on: dataset cache keys and checkpoints record it, so a change of
    reader or thresholds rebuilds the cache and refuses old checkpoints. ``rec_min_width``
    and ``shown_rule`` (default: the ones used now) are settings a policy reads with as it
    was trained."""
    width = ocr_engine.REC_MIN_WIDTH if rec_min_width is None else rec_min_width
    rule = shown_instruction.CURRENT if shown_rule is None else shown_rule
    signature = [
        VERSION,
        ocr_engine.ENGINE,
        [ocr_engine.DET_THRESH, ocr_engine.BOX_THRESH, ocr_engine.UNCLIP, ocr_engine.CROP_PAD,
         ocr_engine.MAX_SIDE, ocr_engine.SMALL_SIDE],
        [find.MIN_FUZZY, find.LOW, find.CONTINUED, find.ROW_GAP, find.INSTRUCTION_SIMILAR],
        MAX_WORDS,
        HIGH,
    ]
    # Checkpoints and caches from before the width was a setting record none: they were
    # read at the legacy width, and the same list still describes them.
    if width != ocr_engine.LEGACY_REC_MIN_WIDTH:
        signature.append(["rec_min_width", width])
    if rule != shown_instruction.LEGACY:
        signature.append(["shown_instruction", rule])
    return signature


def _setting(signature: object, name: str, legacy: int) -> int:
    if isinstance(signature, list):
        for item in signature:
            if (isinstance(item, list) and len(item) == 2 and item[0] == name
                    and isinstance(item[1], int)):
                return item[1]
    return legacy


def rec_min_width_of(signature: object) -> int:
    """The recognizer width a recorded `word_maps_signature` was read with."""
    return _setting(signature, "rec_min_width", ocr_engine.LEGACY_REC_MIN_WIDTH)


def shown_rule_of(signature: object) -> int:
    """The shown-instruction rule a recorded `word_maps_signature` was made with (policies
    trained before the rule was a setting: `shown_instruction.LEGACY`)."""
    return _setting(signature, "shown_instruction", shown_instruction.LEGACY)
