"""The policy's next choice when the reader vetoes its first: a click on another element the
heatmap also points at, which the instruction names.

The confidence gate stops a click the reader contradicts (`perception.agreement`: the
clicked element is an unnamed sibling of a named one, or out of the instruction's order).
Held out, most such clicks came where the heatmap was split between similar elements —
menu entries sharing a word ("Add Order", "Add Device"), a list of names — and the named
element was the heatmap's second region, at a tenth to a fifth of its mass. Stopping there
loses the episode although the policy had the answer in hand.

So the heatmap's next regions are tried in order of mass (`element_regions`), and the first
whose point lands on an element the reader finds named (verdict ``agree``) is taken. Its
confidence is the heatmap's mass renormalised without the vetoed regions — the reader's
veto taken as certain, the policy's own probabilities kept for the rest — times the click
kind's probability, through the checkpoint's calibration, so the gate still judges it:
a region of a few percent among many others stays under it. A region below `MIN_MASS`
is no choice at all (a cell of the heatmap's flat tail lands anywhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deskmimic.models.net.decode import element_region, to_pixels
from deskmimic.models.perception.agreement import Agreement, click_agreement
from deskmimic.models.perception.reader import TextLine

# A region with less of the heatmap's mass than this is no candidate.
MIN_MASS = 0.05
# Regions tried after the first.
MAX_TRIES = 4


@dataclass(frozen=True)
class Region:
    """One element the heatmap points at: its peak cell, mass and cells (h, w) bool."""

    idx: int
    mass: float
    cells: torch.Tensor


def element_regions(probs: torch.Tensor, k: int) -> list[Region]:
    """Up to ``k`` regions of a (h, w) softmax heatmap, by mass: each peak's element as the
    click's confidence counts it (`decode.element_region`), taken out before the next peak."""
    left = probs.clone()
    out: list[Region] = []
    for _ in range(k):
        idx = int(left.reshape(-1).argmax())
        if float(left.reshape(-1)[idx]) <= 0.0:
            break
        cells = element_region(left[None, None], torch.tensor([idx]))[0, 0] > 0
        out.append(Region(idx, float(probs[cells].sum()), cells))
        left = left.masked_fill(cells, 0.0)
    return out


@dataclass(frozen=True)
class SecondChoice:
    """A click the reader agrees with: where (captured-area pixels), its confidence and
    the reader's verdict on it."""

    x: int
    y: int
    confidence: float
    verdict: Agreement


def second_click(
    heat: torch.Tensor,
    offset: torch.Tensor,
    size: tuple[int, int],
    click_p: float,
    lines: list[TextLine],
    instruction: str,
    clicked: list[str] | None,
    calibrate: Callable[[float], float] | None = None,
) -> SecondChoice | None:
    """The first of the heatmap's next regions whose point the reader finds named, or None.

    Args:
        heat: (h, w) point logits of the decision; offset: (2, h, w) sub-cell x, y.
        size: the captured area's (width, height) in pixels.
        click_p: the decided click kind's probability.
        lines: the reader's lines of the decision's frame (the word maps' own read).
        instruction, clicked: as `click_agreement` takes them.
        calibrate: the checkpoint's raw-to-calibrated confidence map.
    """
    h, w = heat.shape
    probs = F.softmax(heat.float().reshape(-1), 0).view(h, w)
    regions = element_regions(probs, 1 + MAX_TRIES)
    vetoed = regions[0].mass if regions else 0.0
    width, height = size
    for region in regions[1:]:
        if region.mass < MIN_MASS:
            break
        row, col = divmod(region.idx, w)
        uv = torch.tensor([(col + float(offset[0, row, col])) / w,
                           (row + float(offset[1, row, col])) / h])
        x, y = to_pixels(uv, width, height)
        verdict = click_agreement(lines, x, y, instruction, clicked)
        if verdict.verdict == "agree":
            raw = click_p * min(1.0, region.mass / max(1e-6, 1.0 - vetoed))
            conf = calibrate(raw) if calibrate is not None else raw
            return SecondChoice(x, y, min(max(conf, 0.0), 1.0), verdict)
        # Another contradicted region is vetoed too: what is left shares the rest.
        if verdict.verdict == "disagree":
            vetoed += region.mass
    return None
