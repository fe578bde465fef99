"""Typed text as a program over the instruction: decomposition, targets, decoding, loss and
checkpoints (`deskmimic.models.net.type_program`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deskmimic.models.actions import Action
from deskmimic.models.net.action_space import IGNORE, ActionSpace
from deskmimic.models.net.decode import decode_actions, decode_text
from deskmimic.models.net.policy_net import NetConfig, PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.net.type_program import (
    OP_COPY,
    OP_LITERAL,
    OP_STOP,
    decompose,
    literal_vocabulary,
    program_targets,
)
from deskmimic.models.training.checkpoint import PolicySpec, load_checkpoint, save_checkpoint
from deskmimic.models.training.losses import policy_loss

SAVE = "save the file as stone_54.txt in /tmp/x/docs"


def _spell(instruction: str, text: str) -> list[str]:
    pieces = decompose(instruction, text)
    assert pieces is not None
    assert "".join(p.text(instruction) for p in pieces) == text
    return [p.literal if p.literal is not None else f"[{p.text(instruction)}]" for p in pieces]


@pytest.mark.parametrize("instruction, text, pieces", [
    (SAVE, "/tmp/x/docs/stone_54.txt", ["[/tmp/x/docs]", "/", "[stone_54.txt]"]),
    ("Type Mira into the field", "Mira", ["[Mira]"]),
    ("mail ana at example.org", "ana@example.org", ["[ana]", "@", "[example.org]"]),
    # Letters that happen to be in the instruction are no copy inside a word of the text.
    ("Greet Bob in the chat", "Dear Bob, see you", ["Dear ", "[Bob]", ", see you"]),
    ("type abc", "hello", ["hello"]),
    # Outside the tokenizer's characters, copied all the same.
    ("Nenne Straße und 中文 jetzt", "中文/Straße", ["[中文]", "/", "[Straße]"]),
    # No copy ends in a joint, though "4/" stands in "34/": the same path, one program.
    ("as a_9.txt in /h/liqu-34/mi-4", "/h/liqu-34/mi-4/a_9.txt",
     ["[/h/liqu-34/mi-4]", "/", "[a_9.txt]"]),
    # The longest copy wins over two shorter ones.
    ("file a b c", "a b c", ["[a b c]"]),
])
def test_decomposition_uses_fewest_literals_then_fewest_pieces(instruction, text, pieces):
    assert _spell(instruction, text) == pieces


def test_decomposition_of_nothing_is_none():
    assert decompose("anything", "") is None


def test_literal_vocabulary_keeps_only_joints_without_typed_strings():
    pairs = [(SAVE, "/tmp/x/docs/stone_54.txt"), ("Log in", "hunter2"), ("Log in", "hunter2")]
    assert literal_vocabulary(pairs) == ("hunter2", "/")
    # A text typed from nowhere (a password) stays out of a checkpoint without typed strings.
    assert literal_vocabulary(pairs, keep_all=False) == ("/",)


def test_targets_spell_the_program_and_stop():
    t = program_targets(SAVE, "/tmp/x/docs/stone_54.txt", ("@", "/"), 4, 64)
    assert t.tolist() == [[OP_COPY, 33, 43], [OP_LITERAL + 1, IGNORE, IGNORE],
                          [OP_COPY, 17, 28], [OP_STOP, IGNORE, IGNORE]]
    # Exactly as many pieces as slots: no stop slot needed.
    assert program_targets(SAVE, "/tmp/x/docs/stone_54.txt", ("/",), 3, 64)[2, 0] == OP_COPY


@pytest.mark.parametrize("literals, slots, max_len", [
    ((), 4, 64),  # "/" not in the vocabulary
    (("/",), 2, 64),  # three pieces, two slots
    (("/",), 4, 40),  # the folder lies past the tokenizer's reach
])
def test_targets_of_an_unwritable_program_are_ignored(literals, slots, max_len):
    t = program_targets(SAVE, "/tmp/x/docs/stone_54.txt", literals, slots, max_len)
    assert (t == IGNORE).all()


def _space() -> ActionSpace:
    return ActionSpace.build([Action("type", text="/tmp/x/docs/stone_54.txt")],
                             instructions=[SAVE], program_slots=4, keep_strings=False)


def _out(space: ActionSpace, instruction: str, ops: list[int], spans: list[tuple[int, int]],
         big: float = 30.0) -> dict[str, torch.Tensor]:
    """Program outputs that say ``ops`` (one per slot) with the given spans, confidently."""
    k, n = space.program_slots, 64
    op = torch.full((1, k, OP_LITERAL + len(space.literals)), -big)
    start, end = torch.full((1, k, n), -big), torch.full((1, k, n), -big)
    start[0, :, len(instruction):] = end[0, :, len(instruction):] = torch.finfo(torch.float32).min
    for s, o in enumerate(ops):
        op[0, s, o] = big
    for s, (a, b) in enumerate(spans):
        start[0, s, a], end[0, s, b] = big, big
    return {"prog_op": op, "prog_start": start, "prog_end": end}


def test_decode_spells_held_out_values_with_a_confidence():
    space = _space()
    assert space.literals == ("/",) and space.whole_word_spans
    other = "save the file as Ölbaum_7.txt in /srv/data"
    out = _out(space, other, [OP_COPY, OP_LITERAL, OP_COPY, OP_STOP],
               [(33, 41), (0, 0), (17, 28), (0, 0)])
    ((text, p),) = decode_text(out, space, [other])
    assert text == "/srv/data/Ölbaum_7.txt" and p > 0.99
    # A doubtful slot makes the whole text doubtful.
    out["prog_op"][0, 1] = 0.0
    ((_, p),) = decode_text(out, space, [other])
    assert p < 0.5


def test_decode_of_a_program_that_stops_at_once_is_done_with_no_confidence():
    space = _space()
    out = _out(space, SAVE, [OP_STOP] * 4, [])
    b = 1
    out.update(kind=torch.full((b, space.num_kinds), -9.0), heat=torch.zeros(b, 2, 4, 4),
               offset=torch.zeros(b, 4, 4, 4), chord=torch.zeros(b, 1),
               scroll=torch.zeros(b, 2, space.num_scroll))
    out["kind"][0, space.kinds.index("type")] = 9.0
    (a,) = decode_actions(out, space, [SAVE], [(100, 100)])
    assert a.kind == "done" and a.confidence == 0.0


def _spec(space: ActionSpace, program: bool) -> PolicySpec:
    tok = CharTokenizer(max_len=64)
    extra = {"type_program": space.program_slots, "num_literals": len(space.literals)}
    net = NetConfig(input_height=32, input_width=64, channels=(4, 4, 4, 4),
                    decoder_channels=(4, 4, 4), text_dim=8, history_dim=4, head_dim=8,
                    vocab_size=tok.vocab_size, max_text_len=64, num_kinds=space.num_kinds,
                    num_strings=space.num_strings, num_chords=space.num_chords,
                    num_scroll=space.num_scroll, history_len=space.history_len,
                    **(extra if program else {}))
    return PolicySpec(net, space, tok.to_config(), {"width": 320, "height": 160, "region": None},
                      {"step": 1})


def test_a_program_checkpoint_loads_back_and_decides_the_same(tmp_path: Path):
    spec = _spec(_space(), program=True)
    torch.manual_seed(0)
    net = PolicyNet(spec.net).eval()
    save_checkpoint(tmp_path / "run", 1, net, spec, best=True)
    loaded, got, _ = load_checkpoint(tmp_path / "run")
    assert loaded.net == spec.net and loaded.space == spec.space
    assert loaded.space.literals == ("/",) and loaded.space.program_slots == 4
    tokens = torch.from_numpy(CharTokenizer(64).encode(SAVE))[None]
    args = (torch.zeros(1, 32, 64, 3, dtype=torch.uint8), tokens,
            torch.from_numpy(spec.space.history_tokens([]))[None])
    with torch.no_grad():
        a, b = net(*args), got.eval()(*args)
    assert decode_text(a, spec.space, [SAVE]) == decode_text(b, loaded.space, [SAVE])


def test_without_the_program_the_config_and_heads_are_as_before():
    space = ActionSpace(strings=("hello",))
    spec = _spec(space, program=False)
    d = spec.net.to_dict()
    assert "type_program" not in d and "num_literals" not in d
    assert "program_slots" not in space.to_config() and "literals" not in space.to_config()
    net = PolicyNet(spec.net)
    assert net.program is None and hasattr(net, "span_query")
    # An action space of a run from before the program reads back without it.
    assert ActionSpace.from_config(space.to_config()).program_slots == 0


def test_loss_trains_the_program_and_ignores_steps_without_text():
    space = _space()
    spec = _spec(space, program=True)
    torch.manual_seed(0)
    net = PolicyNet(spec.net)
    tok = CharTokenizer(64)
    rows = [space.encode(a, SAVE, tok, 320, 160) for a in
            (Action("type", text="/tmp/x/docs/stone_54.txt"), Action("click", x=3, y=4))]
    batch = {k: torch.from_numpy(np.stack([r[k] for r in rows])) for k in rows[0]}
    assert (batch["prog"][1] == IGNORE).all()
    args = (torch.zeros(2, 32, 64, 3, dtype=torch.uint8),
            torch.from_numpy(np.stack([tok.encode(SAVE)] * 2)),
            torch.from_numpy(np.stack([space.history_tokens([])] * 2)))
    opt = torch.optim.Adam(net.parameters(), lr=3e-2)
    first = None
    for _ in range(60):
        loss, parts = policy_loss(net(*args), batch)
        first = parts["program"] if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert "span" not in parts and parts["program"] < 0.1 * first
    with torch.no_grad():
        (text, p), _ = decode_text(net(*args), space, [SAVE] * 2)
    assert text == "/tmp/x/docs/stone_54.txt" and p > 0.5


def test_can_type_says_what_the_space_can_express():
    program = _space()
    assert program.can_type(SAVE, "/tmp/x/docs/stone_54.txt", 64)
    assert program.can_type("as a.txt in /srv", "/srv/a.txt", 64)
    assert not program.can_type(SAVE, "/tmp/x/docs@stone_54.txt", 64)  # "@": no literal
    one_span = ActionSpace(strings=("hello",))
    assert one_span.can_type(SAVE, "stone_54.txt", 64) and one_span.can_type(SAVE, "hello", 64)
    assert not one_span.can_type(SAVE, "/tmp/x/docs/stone_54.txt", 64)
    assert not one_span.can_type(SAVE, "/tmp/x/docs", 40)  # past the tokenizer
