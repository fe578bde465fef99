"""Per-word match maps for a stream of frames, recomputed only where the screen changed.

During a replay the agent decides on frame after frame of the same window with the same
instruction, and between two decisions little changes: the pointer, a tick, a typed word.
Template matching the whole frame again costs ~2 ms per instruction word (a 9-step
workflow instruction has 13), so `WordMatchStream` keeps each word's NCC map and redoes
only the positions whose window overlaps a changed pixel, and re-finishes (blob, resize)
only the words whose score there was or becomes high enough to show. The result equals
`match_maps.word_maps` of the frame (up to float rounding; tests/models/test_match_stream.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from deskmimic.models.perception import match_maps as mm
from deskmimic.models.perception import text_match as tm
from deskmimic.models.perception.templates import _templates
from deskmimic.models.perception.terms import MAX_WORDS, pair_parts, term_texts

# Above this share of changed pixels (a new window, a scrolled page) recompute everything.
MAX_CHANGED = 0.35
# More separate changed areas than this: recompute everything (cheaper than many small ones).
MAX_AREAS = 24
# Changed pixels closer than this merge into one area.
MERGE_PX = 15


class WordMatchStream:
    """`match_maps.word_maps` of successive frames of one instruction.

    Args:
        instruction: the task's instruction (a new one needs a new stream).
    """

    def __init__(self, instruction: str) -> None:
        self.instruction = instruction
        self.terms = term_texts(instruction)
        # A repeated word is matched once and written to each of its channels.
        self._unique = tuple(dict.fromkeys(self.terms))
        self._slots = [[i for i, t in enumerate(self.terms) if t == u] for u in self._unique]
        # A pair's map also depends on its words' (`match_maps.pair_map`).
        self._pairs = pair_parts(self._unique)
        self._small: list[np.ndarray] = [np.zeros((0, 0), np.uint8)] * len(self._unique)
        self._gray: np.ndarray | None = None
        self._raws: list[list[np.ndarray | None]] = []
        self._out: np.ndarray | None = None
        self._out_size: tuple[int, int] | None = None
        self.full_updates = 0  # how often the whole frame was matched (tests, benchmarks)

    def word_maps(self, rgb: np.ndarray, height: int, width: int) -> np.ndarray:
        """(height, width, MAX_WORDS) uint8, as `match_maps.word_maps` (a fresh array)."""
        h, w = rgb.shape[:2]
        if max(h, w) > tm.MAX_FULL_RES:  # the coarse search keeps no full maps to update
            self.full_updates += 1
            return mm.word_maps(rgb, self.instruction, height, width)
        gray = tm._gray(rgb)
        previous, self._gray = self._gray, gray
        dirty = None
        if previous is not None and previous.shape == gray.shape and self._out_size == (height, width):
            dirty = self._update(previous, gray)
        if dirty is None:
            self._full(gray, height, width)
            dirty = set(range(len(self._unique)))
        self._write(dirty)
        assert self._out is not None
        return self._out.copy()

    def _full(self, gray: np.ndarray, height: int, width: int) -> None:
        self.full_updates += 1
        h, w = gray.shape
        self._raws = tm._full_res_raws(gray, gray * gray, self._unique, tm.WORD_SIZES)
        self._out = np.zeros((height, width, MAX_WORDS), np.uint8)
        self._out_size = (height, width)
        for u, (raws, sized) in enumerate(
            zip(self._raws, _templates(self._unique, tm.WORD_SIZES), strict=True)
        ):
            self._refinish(u, raws, sized, h, w)

    def _update(self, previous: np.ndarray, gray: np.ndarray) -> set[int] | None:
        """Redo the changed areas: the distinct terms re-finished, or None when a full
        recompute is the better deal."""
        changed = cv2.compare(previous, gray, cv2.CMP_NE)
        n_changed = cv2.countNonZero(changed)
        if n_changed == 0:
            return set()
        if n_changed > MAX_CHANGED * changed.size:
            return None
        merged = cv2.dilate(changed, np.ones((MERGE_PX, MERGE_PX), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
        if n - 1 > MAX_AREAS:
            return None
        # Dilation grew each area by MERGE_PX // 2 on every side; undo it (clipped to the frame).
        r = MERGE_PX // 2
        h, w = gray.shape
        areas = [
            (max(0, x + r), max(0, y + r), min(w, x + bw - r), min(h, y + bh - r))
            for x, y, bw, bh, _ in stats[1:].tolist()
        ]
        sq = gray * gray
        strokes = tm.Strokes(gray)
        dirty = set()
        for u, (raws, sized) in enumerate(
            zip(self._raws, _templates(self._unique, tm.WORD_SIZES), strict=True)
        ):
            shows = False
            for raw, tpl in zip(raws, sized, strict=True):
                if raw is None:
                    continue
                th, tw = tpl.full.shape
                oh, ow = raw.shape
                for x0, y0, x1, y1 in areas:
                    # Top-left positions whose th x tw window overlaps [x0, x1) x [y0, y1).
                    ya, yb = max(0, y0 - th + 1), min(oh, y1)
                    xa, xb = max(0, x0 - tw + 1), min(ow, x1)
                    if ya >= yb or xa >= xb:
                        continue
                    win = (slice(ya, yb + th - 1), slice(xa, xb + tw - 1))
                    new = tm._word_ncc(gray[win], sq[win], tpl, strokes, (ya, xa))
                    old = raw[ya:yb, xa:xb]
                    # Below LOW a score shows as 0 either way: no need to re-finish the word.
                    shows = shows or float(old.max()) >= tm.LOW or float(new.max()) >= tm.LOW
                    old[...] = new
            if shows:
                self._refinish(u, raws, sized, h, w)
                dirty.add(u)
        return dirty

    def _refinish(self, u: int, raws: list, sized: tuple, h: int, w: int) -> None:
        # Distinct term u's NCC maps -> its blob map, resized to the network input.
        assert self._out_size is not None
        finished = tm._finish(raws, sized, h, w, tm.term_low(self._unique[u]))
        self._small[u] = mm._to_input(finished, *self._out_size)

    def _write(self, dirty: set[int]) -> None:
        """Resize the re-finished terms' maps into their channels; a pair is redone when it
        or one of its words was (`match_maps.pair_map`)."""
        assert self._out is not None
        dirty = dirty | {p for p, parts in self._pairs.items() if dirty.intersection(parts)}
        assert self._gray is not None
        scale = self._out.shape[1] / self._gray.shape[1]
        for u in sorted(dirty):
            small = self._small[u]
            if u in self._pairs:
                a, b = self._pairs[u]
                small = mm.pair_map(self._unique[u], small, self._small[a], self._small[b], scale)
            for i in self._slots[u]:
                self._out[:, :, i] = small
