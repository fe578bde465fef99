"""Network outputs -> decisions: points from heatmaps, spans, strings, chords, `Action`s.

Shared by the policy (batch 1) and validation metrics (batched), so what is measured
in training is what replay does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from deskmimic.models.actions import POINTER_KINDS, Action
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.text import word_edges
from deskmimic.models.net.type_program import OP_COPY, OP_LITERAL, OP_STOP

# Longest string the one-span head (checkpoints from before the program) copies, in
# characters; a program's copies may be as long as the instruction.
MAX_SPAN = 64
EPS = 1e-6


@dataclass(frozen=True)
class Calibration:
    """Raw confidence -> probability that the action is right (Platt scaling):
    ``sigmoid(a * logit(raw) + b)``, fitted on a run's validation episodes at the end of
    each epoch (`deskmimic.models.training.calibration`). Stored in the checkpoint's
    config.json as plain numbers; the identity (a=1, b=0) leaves the raw value.

    Attributes:
        a, b: the scaling.
        samples: validation decisions it was fitted on; ``wrong`` of them were wrong.
    """

    a: float = 1.0
    b: float = 0.0
    samples: int = 0
    wrong: int = 0

    def __call__(self, raw: float) -> float:
        p = min(max(float(raw), EPS), 1.0 - EPS)
        z = self.a * math.log(p / (1.0 - p)) + self.b
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def to_json(self) -> dict:
        return {"method": "platt", "a": self.a, "b": self.b, "samples": self.samples,
                "wrong": self.wrong}

    @classmethod
    def from_json(cls, data: dict) -> Calibration:
        """Raises ValueError unless ``data`` is a Platt scaling with finite numbers."""
        if not isinstance(data, dict) or data.get("method") != "platt":
            raise ValueError(f"calibration {data!r}: expected a 'platt' scaling")
        a, b = float(data["a"]), float(data["b"])
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"calibration a={a}, b={b}: not finite")
        return cls(a, b, int(data.get("samples", 0)), int(data.get("wrong", 0)))


# A heatmap cell belongs to the predicted element when it holds at least this share of
# the peak's probability and touches the peak through such cells. The point target is a
# Gaussian of one cell, whose tail reaches 0.1 of its peak two cells out: a small button
# is its whole blob, a wide text field the band the demonstrations clicked along, and
# two similar buttons stay two regions (docs/learning.md, "Confidence").
ELEMENT_FRACTION = 0.1


def element_mass(probs: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Probability mass of the connected region around each map's peak cell.

    Args:
        probs: (B, 1, h, w) softmax over the cells.
        idx: (B,) flat index of each peak.

    Returns:
        (B,) in [0, 1]: the heatmap's probability that the point lies on the element it
        points at (a 3x3 window around the peak gave a correct click on a text field
        0.21-0.29: the field's mass spreads along it).
    """
    return (probs * element_region(probs, idx)).sum((1, 2, 3)).clamp(0.0, 1.0)


def element_region(probs: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """(B, 1, h, w) 0/1: the cells connected to each peak ``idx`` (flat) through cells
    holding at least `ELEMENT_FRACTION` of the peak's probability."""
    b, _, h, w = probs.shape
    peak = probs.view(b, -1).gather(1, idx[:, None]).view(b, 1, 1, 1)
    keep = (probs >= ELEMENT_FRACTION * peak).to(probs.dtype)
    region = torch.zeros_like(probs).view(b, -1)
    region[torch.arange(b, device=probs.device), idx] = 1.0
    region = region.view(b, 1, h, w)
    for _ in range(h + w):  # grows a cell a round; a path is never longer than h + w cells
        grown = F.max_pool2d(region, 3, stride=1, padding=1) * keep
        if torch.equal(grown, region):
            break
        region = grown
    return region


def decode_points(heat: torch.Tensor, offset: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Argmax cell plus its sub-cell offset.

    Args:
        heat: (B, h, w) logits.
        offset: (B, 2, h, w) sub-cell x, y in [0, 1).

    Returns:
        uv: (B, 2) normalized point in [0, 1) of the captured area.
        mass: (B,) probability mass of the element around the peak (`element_mass`).
    """
    b, h, w = heat.shape
    probs = F.softmax(heat.float().reshape(b, -1), dim=1).view(b, 1, h, w)
    idx = probs.view(b, -1).argmax(dim=1)
    row, col = idx // w, idx % w
    ar = torch.arange(b, device=heat.device)
    off = offset[ar, :, row, col]  # (B, 2)
    u = (col.float() + off[:, 0]) / w
    v = (row.float() + off[:, 1]) / h
    return torch.stack([u, v], dim=1), element_mass(probs, idx)


def to_pixels(uv: torch.Tensor, width: int, height: int) -> tuple[int, int]:
    """Normalized (u, v) -> integer captured-area pixel (inverse of ``(x + 0.5) / width``)."""
    x = int(round(float(uv[0]) * width - 0.5))
    y = int(round(float(uv[1]) * height - 0.5))
    return min(max(x, 0), width - 1), min(max(y, 0), height - 1)


QUOTES = frozenset("'\"`\u2018\u2019\u201c\u201d")


def quote_barriers(text: str, length: int) -> torch.Tensor:
    """(length,) bool: the characters of ``text`` that open or close a quotation (a quote
    mark not standing between two letters or digits, as the apostrophe of "O'Brien" does).
    A copied value never spans one: in "set A to 'x' and B to 'y'" the best start (of
    'x') and the best end (of 'y') taken together would type "x' and B to 'y"."""
    out = torch.zeros(length, dtype=torch.bool)
    for i, c in enumerate(text[:length]):
        if c in QUOTES:
            inner = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
            out[i] = not inner
    return out


def decode_span(
    start: torch.Tensor,
    end: torch.Tensor,
    barriers: torch.Tensor | None = None,
    max_span: int = MAX_SPAN,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Best (start, end) with start <= end < start + max_span, per row, holding none of
    the ``barriers``.

    Args:
        start, end: (B, L) logits (padding already at -inf).
        barriers: (B, L) bool, positions a span may not hold (`quote_barriers`).
        max_span: longest span, in characters.

    Returns:
        span: (B, 2) int64 token positions (end inclusive); prob: (B,) joint probability.
    """
    ls, le = F.log_softmax(start.float(), 1), F.log_softmax(end.float(), 1)
    n = ls.shape[1]
    i = torch.arange(n, device=start.device)
    valid = ((i[None, :] >= i[:, None]) & (i[None, :] < i[:, None] + max_span))[None]
    if barriers is not None:
        # Barriers in [s, e]: the count up to e minus the count before s.
        upto = barriers.long().cumsum(1)
        before = upto - barriers.long()
        valid = valid & (upto[:, None, :] - before[:, :, None] == 0)
    joint = (ls[:, :, None] + le[:, None, :]).masked_fill(~valid, float("-inf"))
    best = joint.view(joint.shape[0], -1).argmax(1)
    score = joint.view(joint.shape[0], -1).gather(1, best[:, None]).squeeze(1)
    return torch.stack([best // n, best % n], dim=1), score.exp()


def decode_text(
    out: dict[str, torch.Tensor], space: ActionSpace, instructions: list[str]
) -> list[tuple[str | None, float]]:
    """The text to type for each row and its probability: a copied instruction span or a
    string seen in training, or with the program head a sequence of copies and literals
    (`decode_program`)."""
    if "prog_op" in out:
        return decode_program(out, space, instructions)
    p_copy = torch.sigmoid(out["copy"].float())
    n = out["span_start"].shape[1]
    barriers = torch.stack([quote_barriers(t, n) for t in instructions]).to(
        out["span_start"].device
    )
    start, end = out["span_start"], out["span_end"]
    if space.whole_word_spans:
        start, end = _whole_words_only(start, end, instructions)
    span, span_p = decode_span(start, end, barriers)
    p_str = F.softmax(out["string"].float(), 1)
    p_str[:, 0] = 0.0  # never "type" the unknown class
    s_prob, s_cls = p_str.max(1)
    result = []
    for r, instr in enumerate(instructions):
        copied = instr[int(span[r, 0]) : int(span[r, 1]) + 1]
        use_copy = bool(p_copy[r] >= 0.5) or space.num_strings == 1
        if use_copy and copied:
            result.append((copied, float(p_copy[r] * span_p[r])))
        elif space.num_strings > 1:
            result.append((space.string_of(int(s_cls[r])), float((1 - p_copy[r]) * s_prob[r])))
        else:
            result.append((None, 0.0))
    return result


def decode_program(
    out: dict[str, torch.Tensor], space: ActionSpace, instructions: list[str]
) -> list[tuple[str | None, float]]:
    """The typed text of each row as its slots spell it, up to the first stop: each slot's
    most likely op, a copy's best span (no length limit). The probability is the product
    of the ops' and spans' probabilities, the stop's included, so a doubtful piece
    anywhere makes the whole text doubtful. A program typing nothing gives (None, 0)."""
    op_p = F.softmax(out["prog_op"].float(), 2)
    b, k, n = out["prog_start"].shape
    barriers = torch.stack([quote_barriers(t, n) for t in instructions])
    barriers = barriers.to(out["prog_start"].device).repeat_interleave(k, 0)
    start, end = out["prog_start"].reshape(b * k, n), out["prog_end"].reshape(b * k, n)
    if space.whole_word_spans:
        start, end = _whole_words_only(start, end, [t for t in instructions for _ in range(k)])
    span, span_p = decode_span(start, end, barriers, max_span=n)
    span, span_p = span.view(b, k, 2).tolist(), span_p.view(b, k).tolist()
    o_prob, o_cls = (x.tolist() for x in op_p.max(2))
    result: list[tuple[str | None, float]] = []
    for r, instr in enumerate(instructions):
        pieces, p = [], 1.0
        for s in range(k):
            op, p = o_cls[r][s], p * o_prob[r][s]
            if op == OP_STOP:
                break
            if op == OP_COPY:
                pieces.append(instr[span[r][s][0] : span[r][s][1] + 1])
                p *= span_p[r][s]
            else:
                pieces.append(space.literals[op - OP_LITERAL])
        text = "".join(pieces)
        result.append((text, p) if text else (None, 0.0))
    return result


def _whole_words_only(
    start: torch.Tensor, end: torch.Tensor, instructions: list[str]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Span logits with the positions that would cut a word set to -inf: a checkpoint whose
    training values were all whole words copied "ffin marble" from "'muffin marble'"."""
    edges = [word_edges(t, start.shape[1]) for t in instructions]
    ok_start = torch.from_numpy(np.stack([e[0] for e in edges])).to(start.device)
    ok_end = torch.from_numpy(np.stack([e[1] for e in edges])).to(end.device)
    # A row with nothing allowed (one word longer than the tokenizer) keeps its logits.
    free = ~(ok_start.any(1, keepdim=True) & ok_end.any(1, keepdim=True))
    ok_start, ok_end = ok_start | free, ok_end | free
    return start.masked_fill(~ok_start, float("-inf")), end.masked_fill(~ok_end, float("-inf"))


def decode_actions(
    out: dict[str, torch.Tensor],
    space: ActionSpace,
    instructions: list[str],
    sizes: list[tuple[int, int]],
    calibration: Calibration | None = None,
) -> list[Action]:
    """Decode a batch of network outputs into `Action`s in captured-area pixels.

    Args:
        out: `PolicyNet` outputs.
        space: the checkpoint's action space.
        instructions: each row's instruction (copy source for ``type``).
        sizes: each row's captured-area (width, height) in pixels.
        calibration: maps the raw confidence (the kind's probability times that of the
            point's element, text, chord or scroll) to the probability of being right.

    A decision that cannot be completed (e.g. ``type`` with nothing to type) becomes
    ``done`` with confidence 0, so the agent stops and asks instead of guessing.
    """
    kind_p = F.softmax(out["kind"].float(), 1)
    kp, kidx = kind_p.max(1)
    uv, mass = decode_points(out["heat"][:, 0], out["offset"][:, 0:2])
    uv2, mass2 = decode_points(out["heat"][:, 1], out["offset"][:, 2:4])
    texts = decode_text(out, space, instructions)
    chord_p = F.softmax(out["chord"].float(), 1)
    chord_p[:, 0] = 0.0
    c_prob, c_cls = chord_p.max(1)
    scroll_p = F.softmax(out["scroll"].float(), 2)
    sc_prob, sc_cls = scroll_p.max(2)
    actions = []
    for r in range(kidx.shape[0]):
        kind = space.kinds[int(kidx[r])]
        conf = float(kp[r])
        w, h = sizes[r]
        fields: dict = {}
        if kind in POINTER_KINDS:
            fields["x"], fields["y"] = to_pixels(uv[r], w, h)
            conf *= float(mass[r])
        if kind == "drag":
            fields["x2"], fields["y2"] = to_pixels(uv2[r], w, h)
            conf *= float(mass2[r])
        if kind == "scroll":
            fields["dy"] = int(sc_cls[r, 0]) - space.scroll_max
            fields["dx"] = int(sc_cls[r, 1]) - space.scroll_max
            conf *= float(sc_prob[r, 0])
        if kind == "type":
            text, p = texts[r]
            if not text:
                actions.append(Action("done", confidence=0.0))
                continue
            fields["text"], conf = text, conf * p
        if kind == "hotkey":
            keys = space.chord_of(int(c_cls[r]))
            if not keys:
                actions.append(Action("done", confidence=0.0))
                continue
            fields["keys"], conf = keys, conf * float(c_prob[r])
        if calibration is not None:
            conf = calibration(conf)
        actions.append(Action(kind, confidence=min(max(conf, 0.0), 1.0), **fields))
    return actions
