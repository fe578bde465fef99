"""Re-encode a recorded episode's frames with other encoder settings (record_bench --sweep).

Answers "what would the recorder's video cost with settings X": CPU per frame of
the encoder alone and MB per minute, on the very frames the bench recorded.
"""

from __future__ import annotations

import io
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType

FPS = 30.0
FAST_ANALYSIS = "subme=0:me=dia:ref=1:partitions=none:trellis=0"
SWEEP = [  # name, gop (frames), segment (frames), extra x264 params, skip identical frames
    ("as_recorded_gop15_seg1s", 15, 30, "", False),
    ("fast_analysis_gop15_seg1s", 15, 30, FAST_ANALYSIS, False),
    ("fast_analysis_gop_seg_2s", 60, 60, FAST_ANALYSIS, False),
    ("fast_analysis_gop_seg_4s", 120, 120, FAST_ANALYSIS, False),
    ("fast_analysis_gop_seg_4s_skip_identical", 120, 120, FAST_ANALYSIS, True),
]


class _SweepEncoder:
    def __init__(self, width: int, height: int, gop: int, seg: int, params: str, skip: bool):
        self.size, self.gop, self.seg, self.params, self.skip = (width, height), gop, seg, params, skip
        self.bytes = self.cpu = 0.0
        self.encoded = self.ticks = 0
        self._c = None
        self.first_segment: bytes | None = None

    def _open(self) -> None:
        self._buf = io.BytesIO()
        self._c = av.open(self._buf, mode="w", format="matroska")
        st = self._c.add_stream("libx264rgb", rate=int(FPS))
        st.width, st.height = self.size
        st.pix_fmt, st.time_base = "bgr0", Fraction(1, int(FPS))
        opts = {"crf": "0", "preset": "veryfast", "tune": "zerolatency", "g": str(self.gop),
                "keyint_min": "1"}
        if self.params:
            opts["x264-params"] = self.params
        st.options = opts
        self._st, self._pts = st, 0

    def _close(self) -> None:
        if self._c is not None:
            for packet in self._st.encode(None):
                self._c.mux(packet)
            self._c.close()
            self.bytes += len(self._buf.getvalue())
            if self.first_segment is None:
                self.first_segment = self._buf.getvalue()
            self._c = None

    def feed(self, frame, same_as_previous: bool) -> None:
        if self.ticks % self.seg == 0:
            self._close()
            self._open()
        self.ticks += 1
        if self.skip and same_as_previous and self._pts:
            return
        frame.pts = self._pts
        self._pts += 1
        c0 = time.process_time()
        for packet in self._st.encode(frame):
            self._c.mux(packet)
        self.cpu += time.process_time() - c0
        self.encoded += 1


def worst_seek_ms(segment: bytes, frames: int) -> float:
    """Time to decode a segment's first `frames` frames to RGB: the longest random seek
    within one GOP (a reader starts at the keyframe and decodes forward)."""
    t0 = time.perf_counter()
    with av.open(io.BytesIO(segment)) as c:
        for i, frame in enumerate(c.decode(c.streams.video[0])):
            if i + 1 >= frames:
                frame.to_ndarray(format="rgb24")
                break
    return (time.perf_counter() - t0) * 1000


def encoder_sweep(episode: Path, max_frames: int) -> dict:
    """Re-encode the first frames of a recorded episode with other encoder settings.

    Decoding is single-threaded and outside the timed calls, so `encode_cpu_ms_per_frame`
    is the encoder's own CPU (all its threads) per captured frame.
    """
    from deskmimic.recorder.episode import Episode
    from deskmimic.recorder.video import list_segments, segment_path

    ep = Episode.open(episode)
    w, h = ep.size
    encs = {name: _SweepEncoder(w, h, *rest) for name, *rest in SWEEP}
    prev, n, compare_s = None, 0, 0.0
    for seg in list_segments(episode / "video"):
        with av.open(str(segment_path(episode / "video", seg))) as c:
            stream = c.streams.video[0]
            stream.codec_context.thread_count = 1
            for decoded in c.decode(stream):
                frame = decoded.reformat(format="bgr0")
                # A decoded keyframe keeps pict_type I, which x264 would obey as a forced
                # keyframe: let each encoder choose its own frame types.
                frame.pict_type = PictureType.NONE
                pixels = np.frombuffer(frame.planes[0], np.uint8)  # keeps `frame` alive
                c0 = time.process_time()
                same = prev is not None and np.array_equal(pixels, prev)
                compare_s += time.process_time() - c0
                prev = pixels
                for enc in encs.values():
                    enc.feed(frame, same)
                n += 1
                if n >= max_frames:
                    break
        if n >= max_frames:
            break
    out = {"frames": n, "seconds": round(n / FPS, 2),
           "compare_cpu_ms_per_frame": round(compare_s / max(n, 1) * 1000, 2), "variants": {}}
    for name, enc in encs.items():
        enc._close()
        ms = enc.cpu / max(n, 1) * 1000 + (out["compare_cpu_ms_per_frame"] if enc.skip else 0)
        out["variants"][name] = {
            "gop": enc.gop, "segment_frames": enc.seg, "x264_params": enc.params,
            "skip_identical": enc.skip, "encoded_frames": enc.encoded,
            "encode_cpu_ms_per_frame": round(ms, 2),
            "encode_cores_at_30fps": round(ms * FPS / 1000, 3),
            "mb_per_min": round(enc.bytes / (n / FPS) * 60 / 1e6, 3),
            "worst_seek_ms": (round(worst_seek_ms(enc.first_segment, min(enc.gop, enc.encoded)), 1)
                              if enc.first_segment else None),
        }
    return out
