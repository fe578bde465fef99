"""Recovery copies every frame a killed recorder left in its segment. A segment cut after
its 8th frame came back empty: FFmpeg's Matroska demuxer left every packet's dts unset
there, and the copy skipped packets without one (the kill bench's 0.259 s case)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from deskmimic.recorder.video import SegmentEncoder, remux_prefix


@pytest.mark.parametrize("encoded", [5, 8, 12])
def test_a_cut_segment_keeps_every_frame_that_reached_the_file(tmp_path: Path, encoded: int):
    src, dst = tmp_path / "cut.mkv", tmp_path / "clean.mkv"
    enc = SegmentEncoder(src, 64, 48, 30)
    for i in range(encoded):
        enc.encode(np.full((48, 64, 4), 10 * i, np.uint8))
    # Not closed: what SIGKILL leaves (the last frame's packet is still in the encoder).
    copied = remux_prefix(src, dst, max_frames=encoded)
    assert copied == encoded - 1
    with av.open(str(dst)) as c:
        shades = [int(f.to_ndarray(format="bgr24")[0, 0, 0]) for f in c.decode(video=0)]
    assert shades == [10 * i for i in range(encoded - 1)]
