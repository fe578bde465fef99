"""Synthetic demonstrations for smoke tests and benchmarks (no recorder, no display).

Each episode is a 1280x800 "screen" (drawn straight at the network's input size) with
coloured boxes, a drawn cursor and an instruction naming one of them, e.g.
"Click the red box"; the demonstrated steps are a click in that box and ``done``. An
optional typing variant ("Type Mira into the field") adds a ``type`` step whose text is
a random name, to exercise copying text from the instruction.
"""

from __future__ import annotations

import random

import numpy as np

from deskmimic.models.actions import Action
from deskmimic.models.data.samples import Sample

COLOURS = {
    "red": (220, 40, 40),
    "blue": (40, 80, 225),
    "green": (40, 170, 60),
    "orange": (245, 150, 30),
}
_SYLLABLES = ("ka", "mi", "ra", "to", "li", "sa", "no", "ve", "du", "pe", "zo", "an")


def _draw_screen(rng: random.Random, w: int, h: int, sx: float, sy: float) -> np.ndarray:
    img = np.full((h, w, 3), 236, np.uint8)
    img[: max(1, int(28 * sy))] = (60, 64, 72)  # a title bar
    for _ in range(6):  # grey distractor panels
        x0, y0 = rng.randrange(0, w - 8), rng.randrange(int(30 * sy), h - 4)
        img[y0 : y0 + rng.randrange(2, 12), x0 : x0 + rng.randrange(6, 40)] = rng.randrange(
            150, 215
        )
    return img


def _fill(img: np.ndarray, box: tuple[int, int, int, int], colour, sx: float, sy: float) -> None:
    x0, y0, x1, y1 = box
    img[
        int(y0 * sy) : max(int(y0 * sy) + 1, int(y1 * sy)),
        int(x0 * sx) : max(int(x0 * sx) + 1, int(x1 * sx)),
    ] = colour


def _cursor(img: np.ndarray, x: int, y: int, sx: float, sy: float) -> None:
    cx, cy = int(x * sx), int(y * sy)
    for i in range(4):
        img[cy + i : cy + i + 1, cx : cx + i + 1] = 0


def _boxes(
    rng: random.Random, n: int, w0: int, h0: int, box_size: tuple[int, int] | None
) -> list[tuple[int, int, int, int]]:
    boxes: list[tuple[int, int, int, int]] = []
    while len(boxes) < n:
        bw, bh = box_size or (rng.randrange(70, 140), rng.randrange(45, 80))
        x0, y0 = rng.randrange(20, w0 - bw - 20), rng.randrange(60, h0 - bh - 20)
        b = (x0, y0, x0 + bw, y0 + bh)
        if all(
            b[2] + 20 < o[0] or o[2] + 20 < b[0] or b[3] + 20 < o[1] or o[3] + 20 < b[1]
            for o in boxes
        ):
            boxes.append(b)
    return boxes


def synthetic_samples(
    n_episodes: int,
    *,
    seed: int = 0,
    colours: tuple[str, ...] = ("red", "blue"),
    size: tuple[int, int] = (160, 256),
    screen: tuple[int, int] = (1280, 800),
    typing: bool = False,
    done: bool = True,
    box_size: tuple[int, int] | None = None,
) -> list[Sample]:
    """Samples of ``n_episodes`` synthetic episodes (ids ``synth-<seed>-<i>``).

    Args:
        n_episodes: how many episodes.
        seed: layout / target / name randomness.
        colours: box colours on every screen; the instruction names one at random.
        size: network input (height, width) the frames are drawn at.
        screen: captured-area (width, height) the actions refer to.
        typing: add a ``type`` step with a random name taken from the instruction.
        done: end each episode with a ``done`` step (frame: target box greyed out).
        box_size: fixed (width, height) of the boxes in screen pixels, clicked at their
            centre (a precision test); default: random sizes clicked anywhere inside.
    """
    rng = random.Random(seed)
    h, w = size
    w0, h0 = screen
    sx, sy = w / w0, h / h0
    out: list[Sample] = []
    for e in range(n_episodes):
        ep = f"synth-{seed}-{e:04d}"
        base = _draw_screen(rng, w, h, sx, sy)
        boxes = _boxes(rng, len(colours), w0, h0, box_size)
        for b, c in zip(boxes, colours, strict=True):
            _fill(base, b, COLOURS[c], sx, sy)
        t = rng.randrange(len(colours))
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randrange(2, 4))).capitalize()
        instruction = f"Click the {colours[t]} box"
        if typing:
            instruction += f" and type {name}"
        x0, y0, x1, y1 = boxes[t]
        if box_size:
            cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        else:
            cx, cy = rng.randrange(x0 + 8, x1 - 8), rng.randrange(y0 + 8, y1 - 8)
        frame = base.copy()
        _cursor(frame, rng.randrange(0, w0 - 10), rng.randrange(0, h0 - 10), sx, sy)
        out.append(
            Sample(frame, Action("click", x=cx, y=cy), instruction, (), w0, h0, boxes[t], ep)
        )
        history: tuple[str, ...] = ("click",)
        after = base.copy()
        _fill(after, boxes[t], (120, 120, 120), sx, sy)
        _cursor(after, cx, cy, sx, sy)
        if typing:
            out.append(
                Sample(after, Action("type", text=name), instruction, history, w0, h0, None, ep)
            )
            history += ("type",)
        if done:
            out.append(Sample(after, Action("done"), instruction, history, w0, h0, None, ep))
    return out
