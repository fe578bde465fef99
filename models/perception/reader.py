"""Reading the text on a frame: lines with their boxes and each character's position.

`ScreenReader` reads a stream of frames (a replay, an episode's samples) and redoes only
what changed: a frame equal to the last one costs a comparison, a changed band of rows is
detected again on its own (the detector sees the frame at its own resolution, so a band
reads as it would inside the whole frame), and a text box whose pixels were read before
is not recognized again (the instruction banner, labels that stayed put). `read_frame`
reads one frame from scratch; both give the same lines.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from deskmimic.models.perception.ocr_engine import (
    CROP_PAD,
    REC_MIN_WIDTH,
    Engine,
    Recognized,
    det_scale,
    engine,
)

# Changed rows closer than this merge into one band, and a band grows by it on each side
# (text whose pixels did not change but whose neighbours did is read again whole).
BAND_PAD = 24
# Above this share of the frame's rows changed, the whole frame is read again.
MAX_BAND_SHARE = 0.5
# Recognized crops remembered (keyed by their pixels).
REC_CACHE = 2048

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextLine:
    """One line of text read from a frame: ``box`` (x0, y0, x1, y1) in frame pixels, end
    exclusive; ``char_x`` each character's centre x in frame pixels, ``char_conf`` how
    sure the recognizer was of it (0..1; empty: sure of every one)."""

    text: str
    score: float
    box: tuple[int, int, int, int]
    char_x: tuple[float, ...]
    char_conf: tuple[float, ...] = ()

    def to_json(self) -> dict:
        return {"text": self.text, "score": round(self.score, 4), "box": list(self.box),
                "char_x": [round(x, 1) for x in self.char_x],
                "char_conf": [round(c, 3) for c in self.char_conf]}


def _bands(changed_rows: np.ndarray, height: int) -> list[tuple[int, int]]:
    """Row ranges [y0, y1) covering the changed rows, merged and padded by `BAND_PAD`."""
    ys = np.flatnonzero(changed_rows)
    bands: list[list[int]] = []
    for y in ys.tolist():
        if bands and y - bands[-1][1] <= BAND_PAD:
            bands[-1][1] = y + 1
        else:
            bands.append([y, y + 1])
    return [(max(0, a - BAND_PAD), min(height, b + BAND_PAD)) for a, b in bands]


def _grow(bands: list[tuple[int, int]], lines: list[TextLine]) -> list[tuple[int, int]]:
    """Bands widened to the lines they cut (so no line is read half), merged."""
    out = sorted(bands)
    grown = True
    while grown:
        grown = False
        for i, (a, b) in enumerate(out):
            for ln in lines:
                y0, y1 = ln.box[1], ln.box[3]
                if y0 < b and y1 > a and (y0 < a or y1 > b):
                    a, b = min(a, y0), max(b, y1)
                    grown = True
            out[i] = (a, b)
        merged: list[tuple[int, int]] = []
        for a, b in sorted(out):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        out = merged
    return out


class ScreenReader:
    """Reads successive frames, reusing what did not change (see the module doc).

    Args:
        ocr: the engine (default: the process's one).
        rec_min_width: `Engine.recognize`'s ``min_width``: a policy reads with the width
            it was trained with (`match_maps.rec_min_width_of`).
    """

    def __init__(self, ocr: Engine | None = None, rec_min_width: int = REC_MIN_WIDTH) -> None:
        self._ocr = ocr
        self.rec_min_width = rec_min_width
        self._cache: OrderedDict[bytes, Recognized] = OrderedDict()
        self._frame: np.ndarray | None = None
        self._lines: list[TextLine] = []
        self.full_reads = 0  # how often the whole frame was read (tests, benchmarks)
        self.recognized = 0  # crops sent to the recognizer
        # One read at a time: `prefetch` reads in a thread while the caller waits for the
        # screen to settle, and `read` then finds the work (mostly) done.
        self._busy = threading.Lock()
        self._ahead: threading.Thread | None = None

    @property
    def ocr(self) -> Engine:
        if self._ocr is None:
            self._ocr = engine()
        return self._ocr

    def read(self, rgb: np.ndarray) -> list[TextLine]:
        """The lines on ``rgb`` ((H, W, 3) uint8 RGB), top to bottom."""
        with self._busy:
            return self._read_safely(rgb)

    def prefetch(self, rgb: np.ndarray) -> bool:
        """Start reading ``rgb`` in a background thread unless a read is under way (then
        False). The replay agent offers each grab while it waits for the screen to settle:
        the settled frame usually equals the last one offered, so `read` costs a
        comparison (or the few rows that still changed) instead of a whole read. The
        lines are those `read` gives; only when they are ready differs."""
        if self._ahead is not None and self._ahead.is_alive():
            return False
        frame = rgb.copy()

        def run() -> None:
            with self._busy:
                try:
                    self._read_safely(frame)
                except Exception:  # noqa: BLE001 - `read` meets the same error and says it
                    logger.debug("reading ahead failed", exc_info=True)

        self._ahead = threading.Thread(target=run, name="deskmimic-read-ahead", daemon=True)
        self._ahead.start()
        return True

    def _read_safely(self, rgb: np.ndarray) -> list[TextLine]:
        try:
            return self._read(rgb)
        except BaseException:
            self._frame = None  # half-updated lines: the next read starts afresh
            raise

    def _read(self, rgb: np.ndarray) -> list[TextLine]:
        previous, self._frame = self._frame, rgb.copy()
        if previous is None or previous.shape != rgb.shape:
            return self._read_all(rgb)
        changed_rows = (previous != rgb).any(axis=(1, 2))
        if not changed_rows.any():
            return list(self._lines)
        bands = _grow(_bands(changed_rows, rgb.shape[0]), self._lines)
        if sum(b - a for a, b in bands) > MAX_BAND_SHARE * rgb.shape[0]:
            return self._read_all(rgb)
        kept = [ln for ln in self._lines
                if not any(ln.box[1] < b and ln.box[3] > a for a, b in bands)]
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        scale = det_scale(*rgb.shape[:2])
        for a, b in bands:
            found = self.ocr.detect(bgr[a:b], scale)
            boxes = [(x0, y0 + a, x1, y1 + a) for x0, y0, x1, y1 in found]
            kept.extend(self._recognize(bgr, boxes))
        self._lines = sorted(kept, key=lambda ln: (ln.box[1], ln.box[0]))
        return list(self._lines)

    def _read_all(self, rgb: np.ndarray) -> list[TextLine]:
        self.full_reads += 1
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        self._lines = self._recognize(bgr, self.ocr.detect(bgr, det_scale(*rgb.shape[:2])))
        return list(self._lines)

    def _recognize(self, bgr: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[TextLine]:
        h, w = bgr.shape[:2]
        crops, origins, keys = [], [], []
        for x0, y0, x1, y1 in boxes:
            pad = round((y1 - y0) * CROP_PAD)
            cx0, cy0 = max(0, x0 - pad), max(0, y0 - pad)
            crop = np.ascontiguousarray(bgr[cy0 : min(h, y1 + pad), cx0 : min(w, x1 + pad)])
            crops.append(crop)
            origins.append(cx0)
            keys.append(hashlib.blake2b(crop.tobytes() + repr(crop.shape).encode(),
                                        digest_size=16).digest())
        todo = [i for i, k in enumerate(keys) if k not in self._cache]
        if todo:
            self.recognized += len(todo)
            found = self.ocr.recognize([crops[i] for i in todo], self.rec_min_width)
            for i, r in zip(todo, found, strict=True):
                self._remember(keys[i], r)
        lines = []
        for box, cx0, key in zip(boxes, origins, keys, strict=True):
            r = self._cache[key]
            self._cache.move_to_end(key)
            # Spaces the recognizer puts at the ends of a line are no text.
            a = len(r.text) - len(r.text.lstrip())
            b = len(r.text.rstrip())
            if b > a:
                lines.append(TextLine(r.text[a:b], r.score, box,
                                      tuple(cx0 + x for x in r.char_x[a:b]), r.char_conf[a:b]))
        return lines

    def _remember(self, key: bytes, r: Recognized) -> None:
        self._cache[key] = r
        while len(self._cache) > REC_CACHE:
            self._cache.popitem(last=False)


def read_frame(rgb: np.ndarray, rec_min_width: int = REC_MIN_WIDTH) -> list[TextLine]:
    """The lines on one frame, read from scratch."""
    return ScreenReader(rec_min_width=rec_min_width).read(rgb)
