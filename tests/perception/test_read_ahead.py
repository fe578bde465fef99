"""Reading ahead: the replay agent lets the reader start on a screen that looks settled;
the lines are those a plain read gives, and the read that follows costs no recognition."""

from __future__ import annotations

import numpy as np

from deskmimic.models.perception.reader import ScreenReader, read_frame
from tests.fixtures.text_frames import text_frame


def test_a_read_after_reading_ahead_gives_the_same_lines_without_recognizing():
    frame, _ = text_frame(["Save the file", "Cancel", "Open recent"], width=320)
    reader = ScreenReader()
    assert reader.prefetch(frame)
    lines = reader.read(frame)  # waits for the read ahead, then only compares
    assert reader.full_reads == 1
    n = reader.recognized
    assert lines == read_frame(frame)
    assert [ln.text for ln in lines] == ["Save the file", "Cancel", "Open recent"]
    assert reader.read(frame) == lines and reader.recognized == n


def test_a_changed_screen_after_reading_ahead_reads_only_the_change():
    rows = ["Save the file", "Cancel", "Open recent", "Print", "Export", "Import", "Quit"]
    frame, _ = text_frame(rows, width=320)
    later, _ = text_frame([*rows[:-1], "Close all"], width=320)
    reader = ScreenReader()
    reader.prefetch(frame)
    lines = reader.read(later)
    assert reader.full_reads == 1  # the read ahead; the real one read a band
    assert [ln.text for ln in lines] == [ln.text for ln in read_frame(later)]


def test_a_failed_read_ahead_leaves_the_next_read_to_start_afresh():
    class Broken:
        def detect(self, *a, **k):
            raise RuntimeError("no model")

    reader = ScreenReader(ocr=Broken())
    frame = np.full((60, 200, 3), 255, np.uint8)
    reader.prefetch(frame)
    reader._ahead.join()
    assert reader._frame is None  # nothing half-read is taken for the screen's lines
