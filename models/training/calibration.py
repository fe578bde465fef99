"""Calibrated confidence: is a decision right, how sure was the policy, and the scaling
that makes the second the probability of the first.

A decision is *right* when it is the demonstrated step: the same kind and, for its kind,
the point inside the demonstrated element (its box when the episode has boxes, else
within `HIT_RADIUS_PX`), the same typed text, chord or scroll clicks. That is the
behaviour-cloning sense of right; a closed-loop evaluation only knows whether a whole
episode succeeded.

Demonstrations disagree among themselves (press Enter or click Submit; scroll with the
pointer on one row of a list or another), so a second sense, *right or equivalent*: the
demonstrated step, or an answer that the training demonstrations themselves give after
the same history of step kinds (`demonstrated_answers`, `answer`). Closed-loop judging (a whole episode's
verdict) is in `gate_report.py`.

`fit_platt` fits `Calibration` on validation decisions at the end of every epoch
(`validate.py`); `judge_recorded` measures a checkpoint on held-out recorded
demonstrations (`bench/learning_bench.py`): expected calibration error and what a
confidence gate stops.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from deskmimic.models.actions import POINTER_KINDS, Action
from deskmimic.models.data.samples import SampleSet
from deskmimic.models.net.decode import EPS, Calibration, decode_actions
from deskmimic.models.net.policy_net import PolicyNet
from deskmimic.models.training.epoch import batches, to_device
from deskmimic.models.training.metrics import HIT_RADIUS_PX

# Pull of the scaling towards the identity, in pseudo-decisions: a validation split of
# 20 demonstrations holds a few dozen decisions and often no wrong one, and an
# unregularised fit then sends every confidence to 1.
PRIOR = 2.0
ECE_BINS = 10
# The replay gate's default (agent/runner.py, app/cli/replay.py: --min-confidence),
# chosen from the measurements in docs/learning.md (6a): the agent stops when a decision
# is more likely wrong than about one in three. A higher gate also stops decisions where
# the demonstrations themselves disagree (press Enter or click Submit: either ends the
# task), which sit at 0.5-0.9.
DEFAULT_GATE = 0.3


def is_right(pred: Action, true: Action, box: np.ndarray | None, size: tuple[int, int]) -> bool:
    """Whether ``pred`` is the demonstrated step ``true``.

    Args:
        pred, true: decided and demonstrated actions, captured-area pixels.
        box: the demonstrated element (x0, y0, x1, y1) normalized to [0, 1] (negative:
            unknown).
        size: captured-area (width, height).
    """
    if pred.kind != true.kind:
        return False
    w, h = size
    if pred.kind in POINTER_KINDS and true.x is not None:
        if box is not None and box[0] >= 0:
            u, v = (pred.x + 0.5) / w, (pred.y + 0.5) / h
            if not (box[0] <= u < box[2] and box[1] <= v < box[3]):
                return False
        elif math.hypot(pred.x - true.x, pred.y - true.y) >= HIT_RADIUS_PX:
            return False
    if pred.kind == "drag" and true.x2 is not None:
        # No box for the drop: a drop zone is larger than a button, so twice the radius.
        if math.hypot(pred.x2 - true.x2, pred.y2 - true.y2) >= 2 * HIT_RADIUS_PX:
            return False
    if pred.kind == "type":
        return pred.text == true.text
    if pred.kind == "hotkey":
        return tuple(pred.keys or ()) == tuple(true.keys or ())
    if pred.kind == "scroll":
        return (pred.dy, pred.dx) == (true.dy, true.dx)
    return True


Box = tuple[float, float, float, float]
Answer = tuple


def named_boxes(extra: dict) -> dict[str, Box]:
    """Element boxes by name from meta ``extra['boxes']`` (``{"button:Submit": [left, top,
    width, height]}``, captured-area pixels) as (x0, y0, x1, y1); unnamed forms are skipped."""
    raw = extra.get("boxes") if isinstance(extra, dict) else None
    out: dict[str, Box] = {}
    for name, r in (raw.items() if isinstance(raw, dict) else ()):
        try:
            lx, ty, w, h = (float(v) for v in r)
        except (TypeError, ValueError):
            continue
        if w > 0 and h > 0:
            out[str(name)] = (lx, ty, lx + w, ty + h)
    return out


def _instruction_ranks(named: dict[str, Box], instruction: str) -> dict[str, int]:
    """Labels of ``named`` the instruction names, numbered in the instruction's order."""
    at: dict[str, int] = {}
    for name in named:
        label = name.partition(":")[2]
        m = re.search(rf"(?<!\w){re.escape(label)}(?!\w)", instruction, re.I) if label else None
        if m:
            at[label] = m.start()
    order = sorted(set(at.values()))
    return {label: order.index(pos) + 1 for label, pos in at.items()}


def element_key(x: float | None, y: float | None, named: dict[str, Box], instruction: str,
                outermost: bool = False) -> str:
    """The element at (x, y) in terms that carry across seeds: ``role:<instruction k>`` for
    the k-th element the instruction names (its label is among the instruction's words),
    else its own name (``button:Submit``); ``-`` where no known element is. The smallest
    element there, or with ``outermost`` the largest (what a scroll wheel scrolls).

    The boxes are the episode's first layout: after a scroll a point's name is stale, so
    an answer there rarely matches, and the strict judge decides.
    """
    if x is None or y is None:
        return "-"
    hits = [(n, b) for n, b in named.items() if b[0] <= x < b[2] and b[1] <= y < b[3]]
    if not hits:
        return "-"
    pick = max if outermost else min
    name = pick(hits, key=lambda h: (h[1][2] - h[1][0]) * (h[1][3] - h[1][1]))[0]
    role, _, label = name.partition(":")
    rank = _instruction_ranks(named, instruction).get(label) if label else None
    return f"{role}:<instruction {rank}>" if rank else name


def answer(action: Action, named: dict[str, Box], instruction: str) -> Answer:
    """What a step does, comparable between episodes: the kind with the element(s) it
    points at (for a scroll the container under the wheel, and the amount), the text,
    the chord."""
    if action.kind == "scroll":
        return ("scroll", element_key(action.x, action.y, named, instruction, outermost=True),
                action.dy or 0, action.dx or 0)
    if action.kind == "drag":
        return ("drag", element_key(action.x, action.y, named, instruction),
                element_key(action.x2, action.y2, named, instruction))
    if action.kind in POINTER_KINDS:
        return (action.kind, element_key(action.x, action.y, named, instruction))
    if action.kind == "type":
        return ("type", action.text or "")
    if action.kind == "hotkey":
        return ("hotkey", *(action.keys or ()))
    return (action.kind,)


def demonstrated_answers(episodes: Sequence[Path | str]) -> dict[tuple[str, ...], set[Answer]]:
    """Every answer the demonstrations ``episodes`` give, by the kinds of the steps before
    it (the history the network sees; steps reduced as training reduces them)."""
    from deskmimic.models.actions import action_from_step
    from deskmimic.models.data.steps import steps_for_episode
    from deskmimic.recorder.episode import Episode

    table: dict[tuple[str, ...], set[Answer]] = {}
    for path in episodes:
        ep = Episode.open(path)
        named, instruction = named_boxes(ep.extra), ep.instruction
        history: list[str] = []
        for step in steps_for_episode(ep):
            action = action_from_step(step)
            if action is None:
                continue
            table.setdefault(tuple(history), set()).add(answer(action, named, instruction))
            history.append(action.kind)
    return table


def is_equivalent(pred: Action, history: tuple[str, ...],
                  answers: dict[tuple[str, ...], set[Answer]], named: dict[str, Box],
                  instruction: str) -> bool:
    """Whether ``pred`` is an answer the training demonstrations give after ``history``
    (on an element known by name: a point on no element never is)."""
    got = answer(pred, named, instruction)
    return "-" not in got and got in answers.get(history, ())


@torch.no_grad()
def collect(
    net: PolicyNet,
    ds: SampleSet,
    device: torch.device | str = "cpu",
    calibration: Calibration | None = None,
    batch_size: int = 64,
    decided: list[Action] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every sample of ``ds`` decided as replay decides it (no augmentation); the actions
    are appended to ``decided`` when given.

    Returns:
        (confidence, right): float and bool arrays, one entry per sample; the confidence
        raw unless ``calibration`` is given.
    """
    was_training = net.training
    net.eval()
    device = torch.device(device)
    conf: list[float] = []
    right: list[bool] = []
    for batch in batches(ds, list(range(len(ds))), batch_size):
        b = to_device(batch, device)
        out = net(b["image"], b["tokens"], b["history"], words=b["words"])
        rows = batch["index"].tolist()
        preds = decode_actions(
            out,
            ds.space,
            [ds.instructions[r] for r in rows],
            [ds.sizes[r] for r in rows],
            calibration,
        )
        boxes = batch["box"].numpy()
        for i, (r, pred) in enumerate(zip(rows, preds, strict=True)):
            if decided is not None:
                decided.append(pred)
            conf.append(pred.confidence)
            right.append(is_right(pred, ds.actions[r], boxes[i], ds.sizes[r]))
    net.train(was_training)
    return np.asarray(conf, np.float64), np.asarray(right, bool)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


def fit_platt(conf: np.ndarray, right: np.ndarray, prior: float = PRIOR) -> Calibration:
    """The Platt scaling of ``conf`` that best predicts ``right`` (Newton's method on the
    log loss, with a pull of ``prior`` pseudo-decisions towards the identity)."""
    x, y = _logit(np.asarray(conf, np.float64)), np.asarray(right, np.float64)
    if len(x) == 0:
        return Calibration()

    def loss(a: float, b: float) -> float:
        z = a * x + b
        return float((np.logaddexp(0, z) - y * z).sum() + prior / 2 * ((a - 1) ** 2 + b**2))

    a, b = 1.0, 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * x + b, -50, 50)))
        g = np.array([((p - y) * x).sum() + prior * (a - 1.0), (p - y).sum() + prior * b])
        wgt = p * (1.0 - p)
        hess = np.array(
            [[(wgt * x * x).sum() + prior, (wgt * x).sum()], [(wgt * x).sum(), wgt.sum() + prior]]
        )
        step = np.linalg.solve(hess, g)
        t, now = 1.0, loss(a, b)
        while t > 1e-4 and loss(a - t * step[0], b - t * step[1]) > now:
            t /= 2  # the log loss is convex, but a full Newton step can overshoot it
        a, b = a - t * step[0], b - t * step[1]
        if np.abs(t * step).max() < 1e-7:
            break
    return Calibration(float(a), float(b), int(len(y)), int((y == 0).sum()))


def apply(calibration: Calibration | None, conf: np.ndarray) -> np.ndarray:
    """``calibration`` applied to each raw confidence (unchanged when None)."""
    if calibration is None:
        return np.asarray(conf, np.float64)
    return np.asarray([calibration(c) for c in conf], np.float64)


def expected_calibration_error(conf: np.ndarray, right: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over ``bins`` equal-width bins, weighted by their counts."""
    conf, right = np.asarray(conf, np.float64), np.asarray(right, np.float64)
    if len(conf) == 0:
        return 0.0
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for k in range(bins):
        sel = idx == k
        if sel.any():
            total += sel.sum() * abs(right[sel].mean() - conf[sel].mean())
    return float(total / len(conf))


def gate_report(conf: np.ndarray, right: np.ndarray, gate: float = DEFAULT_GATE) -> dict:
    """What a replay gate at ``gate`` does: right decisions it stops, wrong ones it lets by."""
    conf, right = np.asarray(conf, np.float64), np.asarray(right, bool)
    stopped = conf < gate
    n_right, n_wrong = int(right.sum()), int((~right).sum())
    return {
        "gate": gate,
        "decisions": int(len(conf)),
        "right": n_right,
        "wrong": n_wrong,
        "right_stopped": int((stopped & right).sum()),
        "wrong_let_through": int((~stopped & ~right).sum()),
        "right_stopped_rate": round(float((stopped & right).sum() / max(1, n_right)), 4),
        "wrong_stopped_rate": (
            round(float((stopped & ~right).sum() / n_wrong), 4) if n_wrong else None
        ),
    }


def calibration_report(
    conf: np.ndarray, right: np.ndarray, gate: float = DEFAULT_GATE, bins: int = ECE_BINS
) -> dict:
    """ECE, mean confidence against accuracy, and the gate's effect, for one set of decisions."""
    return {
        "ece": round(expected_calibration_error(conf, right, bins), 4),
        "bins": bins,
        "mean_confidence": round(float(np.mean(conf)), 4) if len(conf) else None,
        "accuracy": round(float(np.mean(right)), 4) if len(right) else None,
        **gate_report(conf, right, gate),
    }


def judge_recorded(
    checkpoint: Path | str,
    episodes: list[Path],
    cache_dir: Path,
    *,
    which: str = "last",
    gate: float = DEFAULT_GATE,
    train_episodes: Sequence[Path] = (),
) -> dict:
    """A checkpoint's decisions on recorded demonstrations it never saw (each step given
    the demonstration's own history): calibration figures raw and as stored, plus the
    raw and calibrated (confidence, right) pairs under ``pairs``. With ``train_episodes``
    (the demonstrations it learned from) also the same figures for *right or equivalent*
    (`is_equivalent`) under ``equivalent`` and ``pairs["right_equiv"]``."""
    from deskmimic.models.data.dataset import load_dataset
    from deskmimic.models.training.checkpoint import load_checkpoint
    from deskmimic.recorder.episode import Episode

    spec, net, _ = load_checkpoint(checkpoint, which)
    cfg = spec.net
    data = load_dataset(
        episodes,
        height=cfg.input_height,
        width=cfg.input_width,
        val_fraction=0.0,
        seed=0,
        cache_dir=cache_dir,
        allow_mixed_sizes=True,
        text_match=cfg.text_match,
        word_maps=cfg.word_select,
    )
    ds = SampleSet(data.train, spec.space, spec.make_tokenizer())
    decided: list[Action] = []
    raw, right = collect(net, ds, decided=decided)
    cal = apply(spec.calibration, raw)
    out = {
        "episodes": len(ds.episodes),
        "raw": calibration_report(raw, right, gate),
        "calibrated": calibration_report(cal, right, gate) if spec.calibration else None,
        "calibration": spec.calibration.to_json() if spec.calibration else None,
        "equivalent": None,
        "pairs": {"raw": raw.tolist(), "calibrated": cal.tolist(), "right": right.tolist(),
                  "episode": [s.episode for s in data.train]},
    }
    if train_episodes:
        answers = demonstrated_answers(train_episodes)
        named = {}
        for path in episodes:
            ep = Episode.open(path)
            named[ep.id] = named_boxes(ep.extra)
        equiv = right | np.asarray([
            is_equivalent(pred, s.history, answers, named.get(s.episode, {}), s.instruction)
            for pred, s in zip(decided, data.train, strict=True)], bool)
        out["equivalent"] = {
            "raw": calibration_report(raw, equiv, gate),
            "calibrated": calibration_report(cal, equiv, gate) if spec.calibration else None,
            "histories": len(answers),
        }
        out["pairs"]["right_equiv"] = equiv.tolist()
    return out


def split_fit(pairs: dict, gate: float = DEFAULT_GATE, right_key: str = "right") -> dict:
    """For a run without validation episodes: fit the scaling on half the judged
    episodes' raw decisions and report it on the other half (then the other way round;
    both halves' decisions pooled), so no decision judges the scaling it was fitted on.
    ``right_key``: which sense of right (``pairs["right"]`` or ``["right_equiv"]``)."""
    episodes = sorted(set(pairs["episode"]))
    halves = (set(episodes[0::2]), set(episodes[1::2]))
    raw, right = np.asarray(pairs["raw"]), np.asarray(pairs[right_key], bool)
    ep = np.asarray(pairs["episode"])
    conf = np.zeros_like(raw)
    for fit_on, judge in (halves, halves[::-1]):
        fit_rows, judge_rows = np.isin(ep, list(fit_on)), np.isin(ep, list(judge))
        cal = fit_platt(raw[fit_rows], right[fit_rows])
        conf[judge_rows] = apply(cal, raw[judge_rows])
    return {**calibration_report(conf, right, gate), "pairs": conf.tolist()}
