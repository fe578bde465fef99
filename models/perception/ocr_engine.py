"""The text-reading engine: PP-OCRv4 detection and recognition models run with onnxruntime.

The models ship inside the `rapidocr-onnxruntime` wheel (no download at run time). That
package requires the GUI build of OpenCV, which clashes with our headless one and PySide6,
so `scripts/setup.sh` installs it without its dependencies and pyproject.toml lists the
ones it needs (docs/perception.md). Only its model sessions and the DB box post-processing
are used: the frame is fed at its own resolution (padded, never resized, so a changed band
reads as it would inside the whole frame), and recognition is our own CTC decode, which
also gives each character's x position (`TextLine.char_x`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from deskmimic.core.errors import DeskmimicError

ENGINE = "rapidocr-onnxruntime-1.4.4/PP-OCRv4"  # checkpoints and dataset caches record it
DET_MODEL, REC_MODEL = "ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"
# onnxruntime threads per model: the machines this runs on have two cores.
THREADS = 2
# Frames with a longer side are read at this size (a 4K screen at full size costs ~2 s).
MAX_SIDE = 2000
# Smaller frames are detected enlarged towards this size (longest side): at their own size
# the detector missed two-letter labels in 9 px type ("Up", "No" on Qt buttons), whose
# text kernels shrink below its 3-pixel minimum.
SMALL_SIDE = 960
# The detector's input must be a multiple of this.
STRIDE = 32
# The recognizer's input height, and the width a batch is padded to at least. The
# package pads every line to 320 (PP-OCR's training width); at 160 recognition took
# about half the time with the same word recall on the reading bench (docs/perception.md).
REC_HEIGHT, REC_MIN_WIDTH = 48, 160
# What checkpoints and dataset caches that record no width were read with.
LEGACY_REC_MIN_WIDTH = 320
REC_BATCH = 8
# Detection thresholds (the package's defaults: the probability map, a box's mean score).
DET_THRESH, BOX_THRESH, UNCLIP = 0.3, 0.5, 1.6
# A crop keeps this much of the frame around its detected box (share of its height).
CROP_PAD = 0.15


class ReaderUnavailable(DeskmimicError):
    """The text-reading models are not installed."""


@dataclass(frozen=True)
class Recognized:
    """One crop's text: ``char_x`` are the characters' centres in crop pixels,
    ``char_conf`` the recognizer's probability for each character."""

    text: str
    score: float
    char_x: tuple[float, ...]
    char_conf: tuple[float, ...] = ()


class Engine:
    """PP-OCR detection + recognition on BGR uint8 images (not thread-safe: one lock)."""

    def __init__(self, threads: int = THREADS) -> None:
        try:
            import onnxruntime as ort
            import rapidocr_onnxruntime
            from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ReaderUnavailable(
                "the text reader needs the package rapidocr-onnxruntime (run scripts/setup.sh, "
                "or: pip install --no-deps rapidocr-onnxruntime==1.4.4): " + str(exc)
            ) from exc
        models = Path(rapidocr_onnxruntime.__file__).parent / "models"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Spinning worker threads wait for work by burning a core: beside the policy, the
        # recorder or a second process on two cores, a read took 4-18 s instead of 0.3-2.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3

        def session(name: str):
            path = models / name
            if not path.is_file():
                raise ReaderUnavailable(f"{path}: the text reader's model is missing: reinstall "
                                        "rapidocr-onnxruntime==1.4.4 (scripts/setup.sh)")
            return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

        self._det = session(DET_MODEL)
        self._rec = session(REC_MODEL)
        meta = self._rec.get_modelmeta().custom_metadata_map
        # The CTC classes: blank first, the model's characters, a space last.
        self._chars: list[str] = ["blank", *meta["character"].splitlines(), " "]
        self._post = DBPostProcess(
            thresh=DET_THRESH, box_thresh=BOX_THRESH, unclip_ratio=UNCLIP, use_dilation=True
        )
        self.lock = threading.Lock()

    def detect(self, bgr: np.ndarray, scale: float = 1.0) -> list[tuple[int, int, int, int]]:
        """Text boxes ``(x0, y0, x1, y1)`` (end exclusive) of a BGR image, top to bottom,
        detected on the image resized by ``scale`` (`det_scale` of the whole frame: a band
        of it must be seen at the frame's scale)."""
        h, w = bgr.shape[:2]
        img = bgr
        if scale != 1.0:
            import cv2

            interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
            img = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=interp)
        ih, iw = img.shape[:2]
        ph, pw = math.ceil(ih / STRIDE) * STRIDE, math.ceil(iw / STRIDE) * STRIDE
        # Edge padding: a constant border would read as an edge next to text at the rim.
        padded = np.pad(img, ((0, ph - ih), (0, pw - iw), (0, 0)), mode="edge")
        x = (padded.astype(np.float32) * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)[None]
        with self.lock:
            pred = self._det.run(None, {self._det.get_inputs()[0].name: np.ascontiguousarray(x)})[0]
        quads, _ = self._post(pred, (ph, pw))
        boxes = []
        for q in quads:
            q = np.asarray(q, np.float32) / scale
            x0, y0 = np.floor(q.min(axis=0)).astype(int)
            x1, y1 = np.ceil(q.max(axis=0)).astype(int)
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            if x1 - x0 >= 3 and y1 - y0 >= 3:
                boxes.append((int(x0), int(y0), int(x1), int(y1)))
        return sorted(boxes, key=lambda b: (b[1], b[0]))

    def recognize(self, crops: list[np.ndarray], min_width: int = REC_MIN_WIDTH
                  ) -> list[Recognized]:
        """The text of each BGR crop (one line each), batched by width; a batch is padded
        to at least ``min_width`` recognizer pixels."""
        out: list[Recognized | None] = [None] * len(crops)
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        for b in range(0, len(order), REC_BATCH):
            idx = order[b : b + REC_BATCH]
            for i, r in zip(idx, self._recognize_batch([crops[i] for i in idx], min_width),
                            strict=True):
                out[i] = r
        return [r for r in out if r is not None]

    def _recognize_batch(self, crops: list[np.ndarray], min_width: int) -> list[Recognized]:
        import cv2

        ratios = [c.shape[1] / c.shape[0] for c in crops]
        width = max(min_width, math.ceil(REC_HEIGHT * max(ratios)))
        batch = np.zeros((len(crops), 3, REC_HEIGHT, width), np.float32)
        widths = []
        for k, (crop, ratio) in enumerate(zip(crops, ratios, strict=True)):
            rw = min(width, max(1, math.ceil(REC_HEIGHT * ratio)))
            img = cv2.resize(crop, (rw, REC_HEIGHT)).astype(np.float32)
            batch[k, :, :, :rw] = (img * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)
            widths.append(rw)
        with self.lock:
            probs = self._rec.run(None, {self._rec.get_inputs()[0].name: batch})[0]
        steps = probs.shape[1]
        out = []
        for k, crop in enumerate(crops):
            # One output column per width / steps input pixels; resized width -> crop width.
            to_crop = (width / steps) * (crop.shape[1] / widths[k])
            out.append(self._decode(probs[k], to_crop))
        return out

    def _decode(self, probs: np.ndarray, to_crop: float) -> Recognized:
        """Greedy CTC: each kept column is a character at (column + 0.5) * to_crop."""
        best = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        keep = np.ones(len(best), bool)
        keep[1:] = best[1:] != best[:-1]
        keep &= best != 0  # the blank
        cols = np.flatnonzero(keep)
        text = "".join(self._chars[i] for i in best[cols])
        score = float(conf[cols].mean()) if len(cols) else 0.0
        return Recognized(text, score, tuple(float((c + 0.5) * to_crop) for c in cols),
                          tuple(float(conf[c]) for c in cols))


def det_scale(height: int, width: int) -> float:
    """How much to resize a frame for detection: big screens down to `MAX_SIDE`, small
    windows up towards `SMALL_SIDE` (at most 2x)."""
    longest = max(height, width)
    if longest > MAX_SIDE:
        return MAX_SIDE / longest
    return min(2.0, max(1.0, SMALL_SIDE / longest))


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The process's one engine (loading the models takes ~0.5 s)."""
    return Engine()
