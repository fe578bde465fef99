"""The behavior-cloning loss: one term per head, each masked to the samples it applies to.

Masked terms are computed as ``sum(loss * mask) / max(count, 1)`` rather than skipped,
so every parameter takes part in every step (DistributedDataParallel requires it) and
a batch without, say, drags contributes exactly zero to the drag head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from deskmimic.models.actions import ACTION_KINDS
from deskmimic.models.net.action_space import IGNORE
from deskmimic.models.net.type_program import program_loss
from deskmimic.models.net.word_select import term_parts

HEAT_SIGMA = 1.0  # heatmap target spread, in cells: tolerant of one-cell label noise
# How far left of a point on no word `select_loss` looks for the field's label (share of width).
LABEL_REACH = 0.4
# How far either side of a point on a word `select_loss` looks for the rest of its phrase.
PHRASE_REACH = 0.12
# Of the words at the point, `select_loss` labels those shown over at most this many times
# the smallest area among them: the most specific ones.
SPECIFIC_SLACK = 1.5


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.float()
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def _masked_ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    valid = target != IGNORE
    per = F.cross_entropy(logits.float(), target.clamp(min=0), reduction="none")
    return _masked_mean(per, valid)


def heatmap_loss(
    heat: torch.Tensor, offset: torch.Tensor, uv: torch.Tensor, sigma: float = HEAT_SIGMA
) -> torch.Tensor:
    """Soft cross-entropy to a Gaussian around the true point + L1 on the sub-cell offset.

    Args:
        heat: (B, h, w) logits; offset: (B, 2, h, w) in [0, 1).
        uv: (B, 2) normalized targets; rows with u < 0 are ignored.
    """
    b, h, w = heat.shape
    valid = uv[:, 0] >= 0
    uvc = uv.clamp(0.0, 1.0 - 1e-6)
    gx, gy = uvc[:, 0] * w, uvc[:, 1] * h  # continuous cell coordinates
    xs = torch.arange(w, device=heat.device, dtype=torch.float32) + 0.5
    ys = torch.arange(h, device=heat.device, dtype=torch.float32) + 0.5
    d2 = (xs[None, None, :] - gx[:, None, None]) ** 2 + (ys[None, :, None] - gy[:, None, None]) ** 2
    target = torch.softmax((-d2 / (2 * sigma**2)).view(b, -1), dim=1)
    ce = -(target * F.log_softmax(heat.float().reshape(b, -1), dim=1)).sum(1)
    col, row = gx.long(), gy.long()
    ar = torch.arange(b, device=heat.device)
    pred = offset[ar, :, row, col]
    off_target = torch.stack([gx - col.float(), gy - row.float()], dim=1)
    l1 = (pred.float() - off_target).abs().sum(1)
    return _masked_mean(ce, valid) + _masked_mean(l1, valid)


def select_targets(
    maps: torch.Tensor,
    uv: torch.Tensor,
    pickable: torch.Tensor,
    spans: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The words `select_loss` labels for one pointer: (B, W) weights (1 = a label) and
    (B,) whether the sample has a label at all. See `select_loss`; ``pickable`` (B, W)
    says which words the net can pick."""
    b, nw, h, w = maps.shape
    # A 3x3 max: the demonstrated point may sit a pixel off the blob.
    near = F.max_pool2d(maps.detach().float(), 3, stride=1, padding=1)
    beside, reach = max(1, int(PHRASE_REACH * w)), max(1, int(LABEL_REACH * w))
    parts = term_parts(spans)[:, :nw, :nw].to(maps.device) if spans is not None else None
    target = torch.zeros(b, nw, device=maps.device)
    labelled = torch.zeros(b, dtype=torch.bool, device=maps.device)
    for i in torch.nonzero(uv[:, 0] >= 0).flatten().tolist():
        c = int(float(uv[i, 0].clamp(0.0, 1.0 - 1e-6)) * w)
        r = int(float(uv[i, 1].clamp(0.0, 1.0 - 1e-6)) * h)
        shown = (near[i] >= 128.0) & pickable[i, :, None, None]  # (W, H, Wd)
        words = shown[:, max(0, r - 1) : r + 2, max(0, c - beside) : c + beside + 1]
        words = words.flatten(1).any(1)
        band = shown[:, max(0, r - 2) : r + 3, max(0, c - reach) : c + beside + 1]
        if not bool(words.any()):
            # Per word, the rightmost column where it shows left of the point: the label
            # nearest the point, and those ending close to it (a label of several words,
            # or a list row's text left of where it was clicked: "Mara Bishop").
            left = band[..., : min(reach, c) + 1].any(1)
            cols = torch.arange(left.shape[1], device=left.device)
            right = torch.where(left, cols, -1).amax(1)
            if int(right.max()) < 0:
                continue
            words = (right >= 0) & (right >= right.max() - beside)
        if parts is not None:
            # The whole term a word belongs to, where it shows on the same line: the list
            # row "Leila Foster" is labelled with the pair, not "Foster". Labelled with
            # its single words (a click right of the name falls back to the label rule,
            # which took them all), the net picked "Foster" and read "the pick shows" as
            # "click" when another Foster scrolled into view.
            words = words | (parts[i][words].any(0) & band.flatten(1).any(1))
        area = shown.flatten(1).sum(1).float()
        specific = words & (area <= area[words].min() * SPECIFIC_SLACK)
        if spans is not None:
            length = (spans[i, :nw, 1] - spans[i, :nw, 0]).to(area.device)
            specific &= length == length[specific].max()
        target[i], labelled[i] = specific.float(), True
    return target, labelled


def select_loss(
    logits: torch.Tensor,
    maps: torch.Tensor,
    point: torch.Tensor,
    end: torch.Tensor,
    done: torch.Tensor | None = None,
    spans: torch.Tensor | None = None,
    unlabelled: torch.Tensor | None = None,
) -> torch.Tensor:
    """Direct supervision for `WordSelect`: the instruction words written on the line right
    around the demonstrated point (``PHRASE_REACH``) are the ones to pick, the most
    specific of them: shown over the smallest area (within ``SPECIFIC_SLACK``), and of
    those the longest (with ``spans``). At the menu entry "Order Member" among "Import
    Member" and "Add Order", the pair term "Order Member" shows once, its single words
    twice each; and where the entry shares no word, the pair is still the one that stays
    unique on the next screen. A pick spread over all three pointed between entries.
    With none there (an empty field, a wide list row), the nearest one to the point's left
    on the line and those ending close to it (the field's label, the row's text, up to
    ``LABEL_REACH`` away), again the most specific. Either way a longer term that
    contains a labelled word and shows on the same line is a candidate too (`term_parts`).

    At a ``done`` step the point's pick is "none": nothing is left to point at, and the
    heads see that (`PolicyNet`). Other steps with no word near the point (a blank spot)
    get no label here; there the selection learns only from the heatmap loss it feeds.
    Neither do ``unlabelled`` steps (scroll: the point is a place over the list, and
    whichever row lies under it says nothing of what the instruction names).

    Args:
        logits: (B, 2, W + 1) selection logits (point, end; last = none).
        maps: (B, W, H, Wd) the per-word match maps the net saw (0..255, augmented).
        point, end: (B, 2) normalized targets; rows with u < 0 are ignored.
        done: (B,) bool, the steps whose action is ``done``.
        spans: (B, W, 2) the terms' character spans (`perception.terms.word_span_array`).
        unlabelled: (B,) bool, steps whose pointers get no label.
    """
    nw = maps.shape[1]
    total = logits.new_zeros(())
    for k, uv in enumerate((point, end)):
        if unlabelled is not None:
            uv = torch.where(unlabelled[:, None], torch.full_like(uv, -1.0), uv)
        # Words the net cannot pick (cut off by the tokenizer) are no label either.
        pickable = logits[:, k, :nw] > torch.finfo(logits.dtype).min / 2
        target, labelled = select_targets(maps, uv, pickable, spans)
        target = torch.cat([target, torch.zeros_like(target[:, :1])], 1)
        if k == 0 and done is not None:
            target[done] = 0.0
            target[done, nw] = 1.0
            labelled = labelled | done
        target = target / target.sum(1, keepdim=True).clamp(min=1.0)
        logp = F.log_softmax(logits[:, k].float(), dim=1)
        total = total + _masked_mean(-(target * logp).sum(1), labelled)
    return total


def kind_logit(kinds: tuple[str, ...], kind: str) -> int:
    """``kind``'s logit index in ``kinds`` (-1: not among them)."""
    return kinds.index(kind) if kind in kinds else -1


def text_loss(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> dict:
    """What to type: the program's pieces (`program_loss`), or the one-span head's span,
    copy-or-string choice and string class."""
    if "prog_op" in out:
        return {"program": program_loss(out, batch["prog"])}
    return {
        "span": _masked_ce(out["span_start"], batch["span"][:, 0])
        + _masked_ce(out["span_end"], batch["span"][:, 1]),
        "copy": _masked_mean(
            F.binary_cross_entropy_with_logits(
                out["copy"].float(), batch["copy"].clamp(min=0.0), reduction="none"
            ),
            batch["copy"] >= 0,
        ),
        "string": _masked_ce(out["string"], batch["string"]),
    }


def policy_loss(
    out: dict[str, torch.Tensor],
    batch: dict[str, torch.Tensor],
    kind_weights: torch.Tensor | None = None,
    done_kind: int = ACTION_KINDS.index("done"),
    scroll_kind: int = ACTION_KINDS.index("scroll"),
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its parts (plain floats) for a batch of `ActionSpace.encode` targets."""
    parts = {
        "kind": F.cross_entropy(out["kind"].float(), batch["kind"], weight=kind_weights),
        "point": heatmap_loss(out["heat"][:, 0], out["offset"][:, 0:2], batch["point"]),
        "end": heatmap_loss(out["heat"][:, 1], out["offset"][:, 2:4], batch["end"]),
        **text_loss(out, batch),
        "chord": _masked_ce(out["chord"], batch["chord"]),
        "scroll": _masked_ce(
            out["scroll"].reshape(-1, out["scroll"].shape[-1]), batch["scroll"].reshape(-1)
        ),
    }
    if "select" in out:
        parts["select"] = select_loss(
            out["select"],
            out["word_maps"],
            batch["point"],
            batch["end"],
            batch["kind"] == done_kind,
            batch.get("words"),
            batch["kind"] == scroll_kind,
        )
    total = sum(parts.values())
    return total, {k: float(v.detach()) for k, v in parts.items()}
