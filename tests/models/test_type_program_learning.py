"""The program head learns to type compositions and long spans of instructions it never saw:
a path named in two parts ("as stone_54.txt in /tmp/x/docs" -> "/tmp/x/docs/stone_54.txt")
and sentences of 100-200 characters, trained briefly on synthetic demonstrations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from deskmimic.models.data.dataset import split_samples
from deskmimic.models.data.synthetic_typing import typing_samples
from deskmimic.models.net.decode import decode_actions
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.runs import CHECKPOINTS_DIR, LAST
from deskmimic.models.training.checkpoint import load_checkpoint
from deskmimic.models.training.train import run_training
from tests.models.conftest import small_config

TEMPLATES = ("save_as", "note")


def test_learns_two_span_paths_and_long_spans_on_unseen_instructions(tmp_path: Path):
    train = typing_samples(16, seed=0, templates=TEMPLATES)
    cfg = small_config(tmp_path, [], name="prog", input_height=64, input_width=64, steps=70,
                       checkpoints=1, batch_size=16, lr=3e-3, warmup_steps=5,
                       val_fraction=0.0, augment=False, text_match=False)
    run_training(cfg, split_samples(train, 0.0, 0))
    spec, net, _ = load_checkpoint(cfg.run_dir / CHECKPOINTS_DIR / LAST)
    assert spec.net.type_program and "/" in spec.space.literals
    tok = CharTokenizer.from_config(spec.tokenizer)
    assert tok.max_len >= 224  # grown to the longest instruction

    test = typing_samples(10, seed=4242, templates=TEMPLATES)
    with torch.no_grad():
        out = net.eval()(
            torch.from_numpy(np.stack([s.image for s in test])),
            torch.from_numpy(np.stack([tok.encode(s.instruction) for s in test])),
            torch.from_numpy(np.stack([spec.space.history_tokens([]) for _ in test])),
        )
    acts = decode_actions(out, spec.space, [s.instruction for s in test],
                          [(s.width, s.height) for s in test])
    assert not {s.instruction for s in test} & {s.instruction for s in train}
    wrong = [(s.action.text, a.text) for s, a in zip(test, acts, strict=True)
             if a.text != s.action.text]
    assert len(wrong) <= 1, wrong
    long_right = [s for s, a in zip(test, acts, strict=True)
                  if len(s.action.text) >= 150 and a.text == s.action.text]
    assert long_right, "no held-out span of 150+ characters typed exactly"
    assert min(a.confidence for a in acts if a.text) > 0.0
