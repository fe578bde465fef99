"""The reader on text drawn in fonts, sizes and colours the practice tasks never use
(they draw DejaVu Sans, ~14 px, dark on light): every placed word is found on its own
box, and a word that is not on the frame is not found. The full measurement across Qt,
Tk, GTK and Chromium is bench/reading_bench.py; this is its fast smoke version.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from deskmimic.models.perception.find import find_term, rows
from deskmimic.models.perception.reader import read_frame
from deskmimic.recorder.capture import open_capture
from tests.fixtures.screen import wait_on_screen, widget_rect

# On neither frame below: any match of theirs is a false positive.
DISTRACTORS = ["Lantern", "Velvet", "Zephyr"]


def _assert_found_on_boxes(rgb: np.ndarray, placed: dict[str, tuple[int, int, int, int]]) -> None:
    """Each placed word has a match centred in its box; no distractor matches at all."""
    lines = read_frame(rgb)
    searchable = rows(lines)
    read = [ln.text for ln in lines]
    for word, (x0, y0, x1, y1) in placed.items():
        matches = find_term(word, searchable)
        centred = [m for m in matches if x0 <= (m.box[0] + m.box[2]) / 2 < x1
                   and y0 <= (m.box[1] + m.box[3]) / 2 < y1]
        assert centred, f"{word!r} not found on {(x0, y0, x1, y1)}: matches {matches}, read {read}"
    for word in DISTRACTORS:
        matches = find_term(word, searchable)
        # find_term returns nothing below find.LOW, the score the maps start painting at.
        assert not matches, f"{word!r} is not on the frame but matched {matches} (read {read})"


LABELS = [  # family, pixel size, bold, text
    ("Liberation Serif", 12, False, "Bookmarks"),
    ("URW Gothic", 20, True, "Calculator 42"),
    ("Noto Sans", 32, False, "Café"),
    ("Nimbus Sans", 15, False, "OK"),
]


@pytest.mark.timeout(120)
def test_qt_window_light_on_dark(qtbot) -> None:
    """A real Qt window on the X display (captured from the screen, as the recorder does):
    labels in four fonts, 12-32 px, light grey on dark."""
    from PySide6.QtGui import QFont, QFontInfo
    from PySide6.QtWidgets import QLabel, QWidget

    win = QWidget()
    win.setStyleSheet("background: #1f2328; color: #e6e6e6;")
    win.setFixedSize(460, 260)
    labels = []
    y = 14
    for family, px, bold, text in LABELS:
        label = QLabel(text, win)
        font = QFont(family)
        font.setPixelSize(px)
        font.setBold(bold)
        label.setFont(font)
        # No silent fallback to another font (Qt names some "Nimbus Sans [urw]").
        if QFontInfo(font).family().split(" [")[0] != family:
            pytest.fail(f"font {family!r} is not installed: run scripts/setup.sh "
                        "(fonts-liberation fonts-noto-core fonts-urw-base35)")
        label.adjustSize()
        label.move(20 + 60 * len(labels), y)
        y += label.height() + 18
        labels.append(label)
    qtbot.addWidget(win)
    win.show()
    wait_on_screen(qtbot, win)
    area = widget_rect(win)
    with open_capture(draw_cursor=False) as cap:
        rgb = np.ascontiguousarray(cap.grab(area)[:, :, 2::-1])
    placed = {}
    for label in labels:
        p = label.mapTo(win, label.rect().topLeft())
        placed[label.text()] = (p.x(), p.y(), p.x() + label.width(), p.y() + label.height())
    # Two-word labels are also looked up by their first word alone (a term of its own).
    placed["Calculator"] = placed["Calculator 42"]
    _assert_found_on_boxes(rgb, placed)


PIL_WORDS = [  # font file, pixel size, text colour, text
    ("/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf", 11, (60, 60, 60), "Export"),
    ("/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf", 18, (20, 20, 120), "Go"),
    ("/usr/share/fonts/opentype/urw-base35/NimbusRoman-Bold.otf", 26, (140, 20, 20), "Save As"),
    ("/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf", 14, (0, 0, 0), "2024"),
]


def test_pil_frame_serif_on_coloured_background() -> None:
    """A frame drawn directly (no toolkit): Nimbus Roman (a Times clone), 11-26 px, on a
    pale yellow background with a grey button-like panel."""
    missing = [f for f, *_ in PIL_WORDS if not os.path.exists(f)]
    if missing:
        pytest.fail(f"{missing} missing: install fonts-urw-base35 (scripts/setup.sh)")
    img = Image.new("RGB", (420, 240), (250, 243, 205))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((200, 20, 400, 90), 6, fill=(170, 170, 170), outline=(90, 90, 90))
    placed = {}
    spots = [(24, 30), (240, 40), (24, 120), (260, 170)]
    for (path, px, colour, text), (x, y) in zip(PIL_WORDS, spots, strict=True):
        font = ImageFont.truetype(path, px)
        draw.text((x, y), text, font=font, fill=colour)
        x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
        placed[text] = (x0 - 3, y0 - 3, x1 + 3, y1 + 3)
    _assert_found_on_boxes(np.asarray(img), placed)
