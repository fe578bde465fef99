"""The policy contract the agent calls, and the behavior-cloning policy behind it.

```python
policy = load_policy("runs/forms")           # or a checkpoint folder; no training code needed
policy.reset()                                # at the start of every episode
action = policy.act({"image": rgb, "instruction": "Click Save"})   # Action, captured-area px
```
"""

from __future__ import annotations

import abc
import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deskmimic.core.errors import CheckpointError, ConfigError
from deskmimic.models.actions import CLICK_KINDS, Action
from deskmimic.models.data.preprocess import input_image
from deskmimic.models.net.decode import decode_actions
from deskmimic.models.net.policy_net import PolicyNet
from deskmimic.models.perception.agreement import Agreement, click_agreement, done_agreement
from deskmimic.models.perception.match_stream import WordMatchStream
from deskmimic.models.perception.terms import word_span_array
from deskmimic.models.second_choice import SecondChoice, second_click
from deskmimic.models.training.checkpoint import PolicySpec, load_checkpoint

logger = logging.getLogger(__name__)

# A decision the reader's text contradicts (`perception.agreement`: a click on an element
# named otherwise beside one the instruction names, a click out of the instruction's
# order, a ``done`` before the element named last was clicked) keeps this share of its
# confidence: below the default gate (`calibration.DEFAULT_GATE`) whatever the network's
# own certainty; measurements in docs/learning.md section 6a.
DISAGREE_FACTOR = 0.25


class Policy(abc.ABC):
    """Decides one action per observation; keeps whatever per-episode memory it needs.

    An observation is ``{"image": (H, W, 3) uint8 RGB of the captured area (cursor drawn
    in), "instruction": str}``; actions come back in that image's pixels.
    """

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget the current episode (its action history)."""

    @abc.abstractmethod
    def act(self, observation: dict[str, Any]) -> Action:
        """The next action for ``observation``."""


class BCPolicy(Policy):
    """A trained `PolicyNet` with its preprocessing, decoding and own action history.

    Args:
        net: the network (moved to ``device``, put in eval mode).
        spec: the checkpoint's spec (vocabularies, input size, screen).
        device: ``"cpu"`` (default) or a torch device string.
        threads: torch CPU threads while deciding (None: the process's setting). One by
            default: on the 2-core machine, beside the desktop it drives, a decision took
            p50 5 ms with one thread and 13-15 ms with two (OpenMP hand-offs).

    ``check_agreement`` (default on): lower a click's confidence by `DISAGREE_FACTOR`
    when the text the reader sees at the click point names another element than the
    instruction does, or an element of a "then" clause while the clause before's is in
    view and unclicked, and a ``done``'s when the element the instruction names last is
    in view and no click of this episode landed on it (`perception.agreement`; only for
    policies with word maps, whose reader has read the frame already). A contradicted
    click gives way to the heatmap's next region that lands on a named element, at that
    region's own confidence (`second_choice`), where there is one.
    ``last_agreement`` is the verdict on the last decision (None: not judged).
    """

    def __init__(
        self, net: PolicyNet, spec: PolicySpec, device: str = "cpu", threads: int | None = 1
    ) -> None:
        self.spec = spec
        self.threads = threads
        self.device = pick_device(device)  # "--device cuda" without a GPU: one clear line
        self.source: Path | None = None  # the checkpoint folder, for messages
        self.net = net.to(self.device).eval()
        self.tokenizer = spec.make_tokenizer()
        self._history: list[str] = []
        self._text_cache: tuple[str, Any, torch.Tensor, torch.Tensor] | None = None
        # Word maps of the previous frame, updated where the screen changed (~2 ms per
        # instruction word saved on most decisions).
        self._stream: WordMatchStream | None = None
        screen = spec.screen or {}
        self._train_aspect = (screen.get("width") or 1) / (screen.get("height") or 1)
        self._warned_aspect = False
        self.check_agreement = True
        self.last_agreement: Agreement | None = None
        # The text at each click point this episode (None: unknown, after `set_history`).
        self._clicked: list[str] | None = []

    @property
    def history(self) -> list[str]:
        """Kinds of the actions this policy returned since `reset`, oldest first."""
        return list(self._history)

    def set_history(self, kinds: list[str]) -> None:
        """Take ``kinds`` as the actions so far (to judge one step of a recorded episode
        with the episode's own past, `bench/step_bench.py`)."""
        self._history = list(kinds)
        self._clicked = None  # where those clicks landed is not known: `done` is not judged

    def reset(self) -> None:
        self._history.clear()
        self._clicked = []
        self._stream = None  # a new episode may show another screen: match it whole once

    def _text(self, instruction: str) -> tuple[Any, torch.Tensor, torch.Tensor]:
        # The instruction is fixed for an episode: encode it once (~2 ms saved per call).
        if self._text_cache is None or self._text_cache[0] != instruction:
            if len(instruction) > self.tokenizer.max_len:
                logger.warning(
                    "the instruction has %d characters; this policy reads the first %d"
                    " (its training instructions were shorter): %r is cut off",
                    len(instruction),
                    self.tokenizer.max_len,
                    instruction[self.tokenizer.max_len :],
                )
            tokens = torch.from_numpy(self.tokenizer.encode(instruction))[None].to(self.device)
            spans = word_span_array(instruction, self.tokenizer.max_len)
            words = torch.from_numpy(spans)[None].to(self.device)
            self._text_cache = (instruction, self.net.encode_text(tokens), tokens, words)
        return self._text_cache[1:]

    def _check_aspect(self, w: int, h: int) -> None:
        if not self._warned_aspect and abs(w / h / self._train_aspect - 1) > 0.1:
            logger.warning(
                "observation is %dx%d but the policy was trained on %sx%s: expect worse accuracy",
                w,
                h,
                self.spec.screen.get("width"),
                self.spec.screen.get("height"),
            )
            self._warned_aspect = True

    def act(self, observation: dict[str, Any]) -> Action:
        """Decide from ``observation`` (see `Policy`) and remember the decided kind."""
        prev = torch.get_num_threads()
        if self.threads and prev != self.threads:
            torch.set_num_threads(self.threads)  # costs ~nothing; restored below
        try:
            return self._act(observation)
        finally:
            if torch.get_num_threads() != prev:
                torch.set_num_threads(prev)

    def prefetch(self, observation: dict[str, Any]) -> None:
        """Start reading the screen of ``observation`` ahead, in the background, while the
        agent waits for it to settle; `act` on the settled screen then reuses the work."""
        image, instruction = observation.get("image"), observation.get("instruction")
        if not (self.spec.net.word_select and isinstance(image, np.ndarray)
                and isinstance(instruction, str)):
            return
        self._stream_for(instruction).prefetch(image)

    def _stream_for(self, instruction: str) -> WordMatchStream:
        if self._stream is None or self._stream.instruction != instruction:
            self._stream = WordMatchStream(instruction, rec_min_width=self.spec.rec_min_width,
                                           shown_rule=self.spec.shown_rule)
        return self._stream

    @torch.inference_mode()
    def _act(self, observation: dict[str, Any]) -> Action:
        image, instruction = observation.get("image"), observation.get("instruction")
        if not isinstance(image, np.ndarray):
            raise ConfigError("observation['image'] must be an (H, W, 3) uint8 numpy array")
        if not isinstance(instruction, str):
            raise ConfigError(
                "observation['instruction'] must be a string (the task's instruction)"
            )
        h, w = image.shape[:2]
        self._check_aspect(w, h)
        cfg = self.spec.net
        # The same preprocessing as the dataset cache, match channel included.
        frame = input_image(
            image,
            cfg.input_height,
            cfg.input_width,
            instruction if cfg.text_match else None,
            words=cfg.word_select,
            stream=self._stream_for(instruction) if cfg.word_select else None,
        )
        x = torch.from_numpy(frame)[None].to(self.device)
        text, tokens, words = self._text(instruction)
        hist = torch.from_numpy(self.spec.space.history_tokens(self._history))[None].to(self.device)
        out = self.net(x, tokens, hist, text, words)
        if not all(bool(torch.isfinite(out[k]).all()) for k in ("kind", "heat")):
            raise CheckpointError(
                f"{self.source or 'the policy'}: the network's outputs are not finite "
                "(NaN/inf): its weights are damaged; restore the checkpoint or train again"
            )
        action = decode_actions(
            out, self.spec.space, [instruction], [(w, h)], self.spec.calibration
        )[0]
        action = self._judge(action, instruction, out, (w, h))
        self._history.append(action.kind)
        return action

    def _judge(self, action: Action, instruction: str, out: dict[str, torch.Tensor],
               size: tuple[int, int]) -> Action:
        """``action`` with its confidence lowered when the reader's lines of this frame
        (the word maps' stream read them for this decision: no second read) show a click
        on another element than the one named or out of the instruction's order, or a
        ``done`` before the last named one was clicked (`perception.agreement`); a
        contradicted click gives way to the policy's next choice the reader agrees with
        (`second_choice`) where there is one."""
        self.last_agreement = None
        if not (self.check_agreement and self._stream is not None):
            return action
        lines = self._stream.lines
        if action.kind in CLICK_KINDS and action.x is not None and action.y is not None:
            verdict = click_agreement(lines, action.x, action.y, instruction, self._clicked)
            alt = (self._second_choice(action, instruction, out, size)
                   if verdict.verdict == "disagree" else None)
            if alt is not None:
                logger.info("%s: the next choice, %r, is named (confidence %.2f)", verdict.why,
                            alt.verdict.element, alt.confidence)
                verdict = alt.verdict
                action = dataclasses.replace(action, x=alt.x, y=alt.y, confidence=alt.confidence)
            if verdict.element and self._clicked is not None:
                self._clicked.append(verdict.element)
        elif action.kind == "done" and self._clicked is not None:
            verdict = done_agreement(lines, instruction, self._clicked)
        else:
            return action
        self.last_agreement = verdict
        if verdict.verdict != "disagree":
            return action
        logger.info("%s: confidence %.2f x %.2f", verdict.why, action.confidence, DISAGREE_FACTOR)
        return dataclasses.replace(action, confidence=action.confidence * DISAGREE_FACTOR)

    def _second_choice(self, action: Action, instruction: str, out: dict[str, torch.Tensor],
                       size: tuple[int, int]) -> SecondChoice | None:
        kind_p = torch.softmax(out["kind"][0].float(), 0)
        click_p = float(kind_p[self.spec.space.kinds.index(action.kind)])
        return second_click(out["heat"][0, 0], out["offset"][0, 0:2], size, click_p,
                            self._stream.lines, instruction, self._clicked,
                            self.spec.calibration)


def pick_device(name: str) -> torch.device:
    """The torch device named ``name`` (``auto``: CUDA when there is one), or a
    `ConfigError` saying why not: torch's own answer to a missing GPU is a traceback."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine: use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"--device {name!r}: expected cpu, auto, cuda or cuda:N ({exc})") from exc


def load_policy(
    path: Path | str, *, which: str = "best", device: str = "cpu", threads: int | None = 1
) -> BCPolicy:
    """Load a `BCPolicy` from a run folder or a checkpoint folder (safetensors + JSON only).

    Args:
        path: ``runs/<name>``, ``runs/<name>/checkpoints`` or ``.../checkpoints/<step>``.
        which: for a run folder: ``"best"`` (validation; ``last`` when the run has no
            ``best`` link) or ``"last"``.
        device: torch device to run on.
        threads: torch CPU threads while deciding (`BCPolicy`).

    Raises:
        CheckpointError: no checkpoint there, or it is corrupt or inconsistent; ``best``
            asked for and broken (never quietly ``last`` instead).
        ConfigError: ``device`` names a GPU torch cannot use here.
    """
    spec, net, ckpt = load_checkpoint(path, which)
    policy = BCPolicy(net, spec, device, threads)
    policy.source = ckpt
    return policy
