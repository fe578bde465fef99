"""Lossless segmented video: one Matroska file of H.264 RGB (libx264rgb, crf 0) per segment.

Segments bound what a crash can cost: every closed segment is a complete file,
and the open one is decodable up to its last flushed packet. Each segment
starts with a keyframe, so a frame is found by (segment, pts) alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from deskmimic.core.errors import EpisodeFormatError
from deskmimic.recorder.space import ReservedFile, SpaceReserve

logger = logging.getLogger(__name__)

CODEC = "libx264rgb"
CONTAINER = "matroska"
SEGMENT_SUFFIX = ".mkv"
# A keyframe every GOP frames keeps a random seek short (~20 ms measured at 20).
# Keyframes are most of a lossless desktop video's size: one per segment (gop None)
# costs a third of one every half second (bench/record_bench.py --sweep: 29 -> 9 MB/min
# at 2 s segments). Crash safety does not need more keyframes, it needs every frame on
# disk at once: the muxer holds a cluster in memory until it closes it, so a cluster
# time limit of 0 closes each one when the next frame comes (one frame a cluster, ~20
# bytes each), and flush_packets hands every closed cluster to the (unbuffered) file.
# A SIGKILL then costs the frame in flight and the one before it, not a quarter second
# of clusters (bench/faults_bench.py measures it); recovery remuxes the readable prefix.
MUXER_OPTIONS = {"cluster_time_limit": "0", "flush_packets": "1"}
# Cheaper motion analysis: lossless output is the same size within 1 %, encoding ~30 % cheaper.
FAST_ANALYSIS = "subme=0:me=dia:ref=1:partitions=none:trellis=0"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file. A closed segment's is stored in meta.json (``video_sha256``):
    Matroska checks no content, so bytes garbled on disk still decode, to wrong pixels."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def segment_path(video_dir: Path, segment: int) -> Path:
    return video_dir / f"{segment:06d}{SEGMENT_SUFFIX}"


def list_segments(video_dir: Path) -> list[int]:
    if not video_dir.is_dir():
        return []
    try:
        names = [p.name for p in video_dir.iterdir()]
    except OSError as exc:
        raise EpisodeFormatError(f"{video_dir}: cannot be read ({exc.strerror or exc})") from exc
    return sorted(int(n[:-len(SEGMENT_SUFFIX)]) for n in names
                  if n.endswith(SEGMENT_SUFFIX) and n[:-len(SEGMENT_SUFFIX)].isdigit())


class SegmentEncoder:
    """Encodes BGRA/BGR frames of one fixed size into one segment file.

    pts counts frames (time base 1/fps); real capture times live in frames.csv.
    """

    def __init__(self, path: Path, width: int, height: int, fps: float, gop: int | None = None,
                 reserve: SpaceReserve | None = None):
        self.path = path
        self.width, self.height = width, height
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # Unbuffered: a Python buffer would hold the small clusters of a still screen
        # (a few hundred bytes a frame) for seconds, out of a killed process's reach.
        self._file = ReservedFile(fd, reserve)
        self._container = av.open(self._file, mode="w", format=CONTAINER, options=MUXER_OPTIONS)
        rate = Fraction(fps).limit_denominator(1000)
        stream = self._container.add_stream(CODEC, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "bgr0"
        stream.time_base = Fraction(1) / rate
        # zerolatency: no lookahead/B-frames, so every frame reaches the muxer at
        # once; with MUXER_OPTIONS it is on disk when the next one is encoded.
        stream.options = {"crf": "0", "preset": "veryfast", "tune": "zerolatency",
                          "g": str(gop or 1_000_000), "keyint_min": "1",
                          "x264-params": FAST_ANALYSIS}
        self._stream = stream
        self.frames = 0

    def encode(self, bgra: np.ndarray) -> int:
        """Encode one frame (H, W, 4) uint8 BGRA; returns its pts in this segment."""
        # BGRA and bgr0 share one memory layout: copy straight into the codec's
        # frame buffer instead of converting (halves the per-frame cost).
        frame = av.VideoFrame(self.width, self.height, "bgr0")
        plane = frame.planes[0]
        dst = np.frombuffer(plane, np.uint8).reshape(self.height, plane.line_size)
        dst[:, : self.width * 4] = bgra.reshape(self.height, self.width * 4)
        frame.pts = self.frames
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1
        return frame.pts

    def close(self) -> None:
        if self._container is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
            self._file.close()
            self._container = None


class SegmentDecoder:
    """Random access to frames of one segment by pts, with a cache of the decode position."""

    def __init__(self, path: Path, fps: float):
        self.path = path
        self.fps = fps
        try:
            self._container = av.open(str(path), mode="r")
            self._stream = self._container.streams.video[0]
        except (av.error.FFmpegError, IndexError, OSError) as exc:
            raise EpisodeFormatError(f"{path}: cannot open video segment ({exc})") from exc
        self._iter = None
        self._next_pts: int | None = None

    def _index_of(self, frame: av.VideoFrame) -> int:
        # The container keeps its own time base (ms for Matroska): map back to frame numbers.
        if frame.pts is None:
            return -1
        return round(float(frame.pts * frame.time_base) * self.fps)

    def _frames_from(self, pts: int):
        target = int(pts / self.fps / self._stream.time_base) if pts else 0
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        yield from self._container.decode(self._stream)

    def frame(self, pts: int) -> np.ndarray:
        """Decode the frame at ``pts`` as (H, W, 3) uint8 RGB."""
        # Keep decoding forward for the next few frames (playback, scrubbing);
        # anything else seeks to the nearest keyframe, at most a GOP away.
        if self._iter is None or self._next_pts is None or not (0 <= pts - self._next_pts <= 2):
            self._iter = self._frames_from(pts)
        try:
            for f in self._iter:
                fp = self._index_of(f)
                if fp < pts:
                    continue
                self._next_pts = fp + 1
                if fp > pts:
                    break
                return f.to_ndarray(format="rgb24")
        except av.error.FFmpegError as exc:
            raise EpisodeFormatError(f"{self.path}: frame {pts} cannot be decoded ({exc})") from exc
        self._iter = None
        raise EpisodeFormatError(f"{self.path}: frame with pts {pts} is missing from the segment")

    def count_decodable(self) -> int:
        """How many frames decode from the start (a truncated file yields a prefix)."""
        n = 0
        try:
            self._container.seek(0, stream=self._stream)
            for _ in self._container.decode(self._stream):
                n += 1
        except (av.error.FFmpegError, EOFError) as exc:
            logger.info("%s: decoding stopped after %d frames (%s)", self.path, n, exc)
        self._iter = None
        return n

    def close(self) -> None:
        self._container.close()


def remux_prefix(src: Path, dst: Path, max_frames: int) -> int:
    """Copy the first decodable packets of ``src`` into a clean ``dst`` without re-encoding.

    Used by recovery: a file cut off by a crash has no index (cues) and a broken
    tail; the remuxed copy is seekable again. Returns the number of packets copied.
    """
    n = 0
    with av.open(str(src), mode="r") as inp:
        in_stream = inp.streams.video[0]
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f, av.open(f, mode="w", format=CONTAINER) as out:
            out_stream = out.add_stream_from_template(in_stream)
            try:
                for packet in inp.demux(in_stream):
                    if not packet.size or packet.pts is None or n >= max_frames:
                        continue  # the demuxer's closing empty packet, or past the rows
                    if packet.dts is None:
                        # FFmpeg's Matroska demuxer leaves dts unset on some cut files
                        # (every packet of a segment killed after its 8th frame): with
                        # no B-frames (zerolatency) decoding order is display order.
                        packet.dts = packet.pts
                    packet.stream = out_stream
                    out.mux(packet)
                    n += 1
            except (av.error.FFmpegError, EOFError) as exc:
                logger.info("%s: demux stopped after %d packets (%s)", src, n, exc)
    return n
