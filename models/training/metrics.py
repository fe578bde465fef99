"""Validation metrics, computed with the same decoding replay uses.

- ``kind_acc``: predicted action kind == demonstrated kind.
- ``click_in_target``: for pointer steps, the predicted point (decoded from the heatmap
  regardless of the predicted kind) lies in the demonstrated element's box when the
  episode carries element boxes (meta ``extra['boxes']``), else within
  ``HIT_RADIUS_PX`` of the demonstrated point.
- ``pixel_error``: mean distance in captured-area pixels of those points.
- ``text_acc`` / ``chord_acc`` / ``scroll_acc``: exact match for type / hotkey / scroll steps.
- ``score``: mean of the available accuracies above; picks the ``best`` checkpoint.
"""

from __future__ import annotations

import torch

from deskmimic.models.actions import POINTER_KINDS
from deskmimic.models.net.action_space import IGNORE, ActionSpace
from deskmimic.models.net.decode import decode_points, decode_text

HIT_RADIUS_PX = 12.0


class MetricAccumulator:
    """Sums per-batch statistics; `result` gives the epoch's metrics as plain floats."""

    def __init__(self, space: ActionSpace) -> None:
        self.space = space
        self.pointer_ids = torch.tensor(
            [i for i, k in enumerate(space.kinds) if k in POINTER_KINDS]
        )
        self.type_id = space.kinds.index("type") if "type" in space.kinds else -1
        self.n = 0
        self.loss_sum = 0.0
        self.kind_ok = 0
        self.points = 0
        self.hits = 0
        self.err_sum = 0.0
        self.texts = self.text_ok = 0
        self.chords = self.chord_ok = 0
        self.scrolls = self.scroll_ok = 0

    @torch.no_grad()
    def update(
        self,
        out: dict[str, torch.Tensor],
        batch: dict[str, torch.Tensor],
        loss: float,
        instructions: list[str],
        true_texts: list[str | None],
    ) -> None:
        """Add one batch (``instructions`` / ``true_texts`` are per row)."""
        b = batch["kind"].shape[0]
        self.n += b
        self.loss_sum += loss * b
        kind = batch["kind"]
        self.kind_ok += int((out["kind"].argmax(1) == kind).sum())

        is_ptr = torch.isin(kind, self.pointer_ids.to(kind.device)) & (batch["point"][:, 0] >= 0)
        if is_ptr.any():
            uv, _ = decode_points(out["heat"][:, 0], out["offset"][:, 0:2])
            size = batch["size"]
            err = ((uv - batch["point"]) * size).norm(dim=1)
            box = batch["box"]
            has_box = box[:, 0] >= 0
            in_box = (
                (uv[:, 0] >= box[:, 0])
                & (uv[:, 0] < box[:, 2])
                & (uv[:, 1] >= box[:, 1])
                & (uv[:, 1] < box[:, 3])
            )
            hit = torch.where(has_box, in_box, err < HIT_RADIUS_PX)
            self.points += int(is_ptr.sum())
            self.hits += int((hit & is_ptr).sum())
            self.err_sum += float(err[is_ptr].sum())

        type_rows = (kind == self.type_id).nonzero().flatten().tolist()
        if type_rows:
            sub = {k: v[type_rows] for k, v in out.items()}
            decoded = decode_text(sub, self.space, [instructions[r] for r in type_rows])
            self.texts += len(type_rows)
            self.text_ok += sum(
                d[0] == true_texts[r] for d, r in zip(decoded, type_rows, strict=True)
            )
        chord_rows = batch["chord"] != IGNORE
        if chord_rows.any():
            self.chords += int(chord_rows.sum())
            self.chord_ok += int(
                (out["chord"][:, 1:].argmax(1) + 1 == batch["chord"])[chord_rows].sum()
            )
        scroll_rows = batch["scroll"][:, 0] != IGNORE
        if scroll_rows.any():
            ok = (out["scroll"].argmax(2) == batch["scroll"]).all(1)
            self.scrolls += int(scroll_rows.sum())
            self.scroll_ok += int(ok[scroll_rows].sum())

    def result(self) -> dict[str, float]:
        """Metrics as floats; a metric with no applicable samples is left out."""
        if not self.n:
            return {}
        m = {
            "loss": self.loss_sum / self.n,
            "kind_acc": self.kind_ok / self.n,
            "samples": float(self.n),
        }
        if self.points:
            m["click_in_target"] = self.hits / self.points
            m["pixel_error"] = self.err_sum / self.points
        if self.texts:
            m["text_acc"] = self.text_ok / self.texts
        if self.chords:
            m["chord_acc"] = self.chord_ok / self.chords
        if self.scrolls:
            m["scroll_acc"] = self.scroll_ok / self.scrolls
        accs = [
            m[k]
            for k in ("kind_acc", "click_in_target", "text_acc", "chord_acc", "scroll_acc")
            if k in m
        ]
        m["score"] = sum(accs) / len(accs)
        return m
