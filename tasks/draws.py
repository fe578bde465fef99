"""What a practice task's seed draws, whatever toolkit shows it.

One draw function per task kind, shared by its Qt window (`click`, `forms`, `lists`) and
its Tk window (`tk_windows`), so a seed means the same labels, target, text and choices in
every toolkit. A draw takes the task's stream (``random.Random("<kind>:<seed>")``, the
stream the window has drawn its own size, place and background from), its `Vocab`, the
body's inner area, and what only the toolkit knows: how wide its font draws a text, how
tall its list of rows is. The content comes first in every draw, so it never depends on
those; the geometry does, as it must (a Tk font measures otherwise than Qt's).

No toolkit is imported here: the Tk windows run in a process without Qt.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from deskmimic.tasks.vocab import Vocab

Box = tuple[int, int, int, int]
"""left, top, width, height (body pixels)."""

Measure = Callable[[str], int]
"""How many pixels wide the toolkit's font draws a text."""

PASTELS = ("#fde2e4", "#e2ece9", "#dfe7fd", "#fff1c1", "#e8dff5", "#d8f3dc", "#fce1c8",
           "#d7eef7", "#f1e3d3", "#e9f5db", "#f8d7e8", "#e0e0f8")
PLACEHOLDER = "Choose\u2026"  # a drop-down's first entry, which picks nothing

WIDTH_RANGE = (380, 560)
HEIGHT_RANGES = {"click_button": (300, 440), "click_sequence": (320, 460),
                 "checkboxes": (340, 480), "type_field": (300, 420), "pick_list": (340, 460)}
"""Window heights each kind draws from (before its controls: the draws come in that order)."""

# The least height `_rows` shrinks a box to: a 9 pt label with a little room.
MIN_BOX = 28


# ---- placement ------------------------------------------------------------------------------
def place_boxes(rng: random.Random, area: Box, sizes: list[tuple[int, int]], gap: int = 12,
                tries: int = 400) -> list[Box]:
    """Random non-overlapping boxes of ``sizes`` inside ``area``, at least ``gap`` apart.

    Falls back to a tidy grid when random placement does not fit (crowded seeds).
    """
    left, top, width, height = area
    placed: list[Box] = []
    for w, h in sizes:
        for _ in range(tries):
            x = rng.randint(left, max(left, left + width - w))
            y = rng.randint(top, max(top, top + height - h))
            if all(not _near((x, y, w, h), p, gap) for p in placed):
                placed.append((x, y, w, h))
                break
        else:
            return _grid(area, sizes, gap)
    return placed


def _near(a: Box, b: Box, gap: int) -> bool:
    return (a[0] - gap < b[0] + b[2] and b[0] < a[0] + a[2] + gap
            and a[1] - gap < b[1] + b[3] and b[1] < a[1] + a[3] + gap)


def _inside(box: Box, area: Box) -> bool:
    return (box[0] >= area[0] and box[1] >= area[1] and box[0] + box[2] <= area[0] + area[2]
            and box[1] + box[3] <= area[1] + area[3])


def _grid(area: Box, sizes: list[tuple[int, int]], gap: int) -> list[Box]:
    """Cells of the largest box's size, row by row; where those run past the bottom of
    ``area``, `_rows`."""
    left, top, width, _ = area
    cw = max(w for w, _ in sizes) + gap
    ch = max(h for _, h in sizes) + gap
    cols = max(1, width // cw)
    out = []
    for i, (w, h) in enumerate(sizes):
        r, c = divmod(i, cols)
        out.append((left + c * cw, top + r * ch, w, h))
    if all(_inside(b, area) for b in out):
        return out
    return _rows(area, sizes, gap)


def _rows(area: Box, sizes: list[tuple[int, int]], gap: int) -> list[Box]:
    """Rows left to right, each as tall as its tallest box, inside ``area``: when the rows
    would run past its bottom, every box is made shorter (never under `MIN_BOX` px) and the
    gaps narrower until they fit. The grid of `_grid` ran past the window on drag_item
    seeds, cutting 17 drop zones and tiles off (with their labels) on 90 seeds."""
    left, top, width, height = area
    out: list[Box] = []
    for scale in (1.0, 0.85, 0.7, 0.6, 0.5, 0.4):
        g = max(4, round(gap * min(1.0, scale + 0.2)))
        out, x, y, row_h = [], left, top, 0
        for w, h in sizes:
            w, h = min(w, width), max(MIN_BOX, round(h * scale))
            if x > left and x + w > left + width:
                x, y, row_h = left, y + row_h + g, 0
            out.append((x, y, w, h))
            x, row_h = x + w + g, max(row_h, h)
        if y + row_h <= top + height:
            break
    return out


def button_sizes(rng: random.Random, labels: list[str], measure: Measure) -> list[tuple[int, int]]:
    """A button per label, wide enough for the label with a tick before it."""
    return [(max(measure(f"\u2714 {label}") + 28, rng.randint(84, 150)), rng.randint(30, 42))
            for label in labels]


def submit_box(rng: random.Random, area: Box, top: int) -> Box:
    """A Submit button under ``top``, left, centred or right in ``area``."""
    left, area_top, width, height = area
    bottom = area_top + height - 1
    w, h = rng.randint(96, 130), rng.randint(32, 40)
    y = rng.randint(min(top, bottom - h), max(top, bottom - h))
    x = rng.choice([left, left + (width - w) // 2, left + width - 1 - w])
    return x, y, w, h


# ---- the kinds --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClickButtonDraw:
    labels: list[str]  # in the order they are placed
    target: str
    boxes: list[Box]


def click_button(rng: random.Random, vocab: Vocab, area: Box, measure: Measure) -> ClickButtonDraw:
    """3-8 buttons, one of them named."""
    labels = vocab.sample("labels", rng.randint(3, 8))
    target = labels[0]
    rng.shuffle(labels)
    boxes = place_boxes(rng, area, button_sizes(rng, labels, measure))
    return ClickButtonDraw(labels, target, boxes)


@dataclass(frozen=True)
class ClickSequenceDraw:
    labels: list[str]
    sequence: list[str]  # 2-4 of them, in the order asked
    colors: list[str]  # a pastel per button
    boxes: list[Box]


def click_sequence(rng: random.Random, vocab: Vocab, area: Box,
                   measure: Measure) -> ClickSequenceDraw:
    """4-7 coloured buttons, 2-4 of them named in an order."""
    n = rng.randint(4, 7)
    k = rng.randint(2, min(4, n - 1))
    labels = vocab.sample("labels", n)
    sequence = labels[:k]
    rng.shuffle(labels)
    colors = rng.sample(PASTELS, n)
    boxes = place_boxes(rng, area, button_sizes(rng, labels, measure))
    return ClickSequenceDraw(labels, sequence, colors, boxes)


@dataclass(frozen=True)
class CheckboxesDraw:
    labels: list[str]
    targets: list[str]  # 1-3 of them, in on-screen order
    cells: list[Box]  # a label's row in its column; the box is centred in it
    submit: Box


def checkboxes(rng: random.Random, vocab: Vocab, area: Box) -> CheckboxesDraw:
    """4-8 checkboxes in one or two columns, 1-3 of them named, and Submit under them."""
    n = rng.randint(4, 8)
    k = rng.randint(1, 3)
    labels = vocab.sample("labels", n)
    named = labels[:k]
    rng.shuffle(labels)
    targets = [lab for lab in labels if lab in named]
    left, top, width, height = area
    cols = 2 if (n > 5 or rng.random() < 0.3) and width >= 360 else 1
    rows = -(-n // cols)
    row_h = min(rng.randint(30, 38), (height - 60) // rows)
    col_w = min(220, width // cols)
    x0 = left + rng.randint(0, max(0, width - cols * col_w))
    y0 = top + rng.randint(0, max(0, height - rows * row_h - 60))
    cells = [(x0 + c * col_w, y0 + r * row_h, col_w, row_h)
             for r, c in (divmod(i, cols) for i in range(n))]
    return CheckboxesDraw(labels, targets, cells, submit_box(rng, area, y0 + rows * row_h + 16))


@dataclass(frozen=True)
class TypeFieldDraw:
    labels: list[str]
    target: str
    text: str
    captions: list[Box]  # the "<label>:" before each field
    fields: list[Box]
    submit: Box


def type_field(rng: random.Random, vocab: Vocab, area: Box, measure: Measure) -> TypeFieldDraw:
    """2-3 labelled fields, one named, a text of 1-3 words, and Submit under them."""
    m = rng.randint(2, 3)
    labels = vocab.sample("fields", m)
    target = rng.choice(labels)
    text = vocab.phrase(rng.choice([1, 2, 2, 2, 3]))
    left, top, width, height = area
    label_w = max(measure(lab + ":") for lab in labels) + 12
    edit_w = rng.randint(min(170, width - label_w - 20), min(300, width - label_w))
    row_h = rng.randint(44, 56)
    edit_h = rng.randint(28, 34)
    x0 = left + rng.randint(0, max(0, width - label_w - edit_w))
    y0 = top + rng.randint(0, max(0, height - m * row_h - 60))
    captions = [(x0, y0 + i * row_h, label_w, edit_h) for i in range(m)]
    fields = [(x0 + label_w, y0 + i * row_h, edit_w, edit_h) for i in range(m)]
    return TypeFieldDraw(labels, target, text, captions, fields,
                         submit_box(rng, area, y0 + m * row_h + 8))


@dataclass(frozen=True)
class PickListDraw:
    mode: str  # "list" or "combo" (a drop-down)
    entries: list[str]
    target: str
    caption: str  # the "<field>:" over the widget
    box: Box
    row_h: int  # a list's row height; 0 for a drop-down


def pick_list(rng: random.Random, vocab: Vocab, area: Box,
              list_height: Callable[[int, int], int]) -> PickListDraw:
    """5-8 entries in a list or a drop-down, one named. ``list_height(row_h, n)``: how
    tall the toolkit's list of ``n`` rows of ``row_h`` px is, frame included."""
    mode = rng.choice(["list", "combo"])
    n = rng.randint(5, 8)
    entries = sorted(vocab.sample("labels", n)) if rng.random() < 0.5 \
        else vocab.sample("labels", n)
    target = rng.choice(entries)
    caption = vocab.sample("fields", 1)[0] + ":"
    left, top, width, height = area
    w = rng.randint(160, min(260, width - 10))
    x = left + rng.randint(0, width - w)
    if mode == "list":
        row_h = rng.randint(24, 30)
        h = list_height(row_h, n)
        y = top + 24 + rng.randint(0, max(0, height - h - 24))
    else:
        row_h = 0
        h = rng.randint(30, 36)
        # Keep the drop-down (about n+1 rows below or over the box) inside the window.
        max_y = max(top + 24, top + height - 1 - (n + 1) * 26 - 10)
        y = rng.randint(top + 24, max_y)
    return PickListDraw(mode, entries, target, caption, (x, y, w, h), row_h)
