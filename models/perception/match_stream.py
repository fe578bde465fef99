"""Per-term match maps for a stream of frames, read again only where the screen changed.

During a replay the agent decides on frame after frame of the same window with the same
instruction, and between two decisions little changes: the pointer, a tick, a typed word.
`WordMatchStream` keeps one `ScreenReader`, which re-reads only the changed rows and
recognizes only text boxes it has not seen, and looks the terms up again in the lines
(cheap). The result equals `match_maps.word_maps` of the frame
(tests/models/test_match_stream.py).
"""

from __future__ import annotations

import numpy as np

from deskmimic.models.perception import shown_instruction
from deskmimic.models.perception.match_maps import maps_from_lines
from deskmimic.models.perception.ocr_engine import REC_MIN_WIDTH
from deskmimic.models.perception.reader import ScreenReader, TextLine
from deskmimic.models.perception.terms import term_texts


class WordMatchStream:
    """`match_maps.word_maps` of successive frames of one instruction.

    Args:
        instruction: the task's instruction (a new one needs a new stream).
        reader: the reader to share (its cache of recognized text), or a new one.
        rec_min_width: a new reader's recognizer width (`ScreenReader`).
        shown_rule: which lines show the instruction itself (`shown_instruction`).
    """

    def __init__(self, instruction: str, reader: ScreenReader | None = None,
                 rec_min_width: int = REC_MIN_WIDTH,
                 shown_rule: int = shown_instruction.CURRENT) -> None:
        self.instruction = instruction
        self.shown_rule = shown_rule
        self.terms = term_texts(instruction)
        self.reader = reader or ScreenReader(rec_min_width=rec_min_width)
        self.lines: list[TextLine] = []  # what the last frame said (the GUI, debugging)

    @property
    def full_updates(self) -> int:
        """How often a whole frame was read (tests, benchmarks)."""
        return self.reader.full_reads

    def prefetch(self, rgb: np.ndarray) -> bool:
        """Read ``rgb`` ahead in the background (`ScreenReader.prefetch`)."""
        return self.reader.prefetch(rgb)

    def word_maps(self, rgb: np.ndarray, height: int, width: int) -> np.ndarray:
        """(height, width, MAX_WORDS) uint8, as `match_maps.word_maps` (a fresh array)."""
        self.lines = self.reader.read(rgb)
        return maps_from_lines(self.lines, self.instruction, self.terms, rgb.shape[:2], height,
                               width, self.shown_rule)
