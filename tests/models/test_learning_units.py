"""Unit tests of the learning core: action space, decoding, checkpoints, augmentation,
dataset split and cache, determinism. Fast; the real-episode ones reuse the session demos."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from deskmimic.models.actions import Action
from deskmimic.models.data.augment import AugmentConfig, augment_batch, translate_batch
from deskmimic.models.data.dataset import load_episode_samples, split_by_episode, split_samples
from deskmimic.models.data.samples import SampleSet
from deskmimic.models.data.synthetic import synthetic_samples
from deskmimic.models.net.action_space import ActionSpace
from deskmimic.models.net.decode import decode_actions, decode_span, decode_text, quote_barriers
from deskmimic.models.net.policy_net import NetConfig
from deskmimic.models.net.text import CharTokenizer, is_whole_words, word_edges
from deskmimic.models.training.checkpoint import (
    CHECKPOINTS_DIR,
    MODEL_FILE,
    PolicySpec,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from deskmimic.models.training.optim_state import load_training_state
from deskmimic.models.training.train import run_training
from tests.models.conftest import H, W, small_config

SCREEN = (1280, 800)
ACTIONS = [
    Action("click", x=0, y=0),
    Action("click", x=1279, y=799),
    Action("double_click", x=641, y=17),
    Action("right_click", x=333, y=444),
    Action("drag", x=100, y=700, x2=1200, y2=35),
    Action("scroll", x=640, y=400, dy=-3, dx=1),
    Action("type", text="Mira"),  # copied from the instruction
    Action("type", text="hello"),  # a string seen in training
    Action("hotkey", keys=("ctrl", "s")),
    Action("done"),
]
INSTRUCTION = "Fill in the form as Mira"


def _space() -> ActionSpace:
    return ActionSpace.build(ACTIONS, scroll_max=5, history_len=3)


def _perfect_output(t: dict, space: ActionSpace, tok: CharTokenizer, hw=(40, 64)) -> dict:
    """Network outputs that put all their mass on the targets ``t`` (one row)."""
    h, w = hw
    big = 30.0
    out = {
        "kind": torch.full((1, space.num_kinds), -big),
        "heat": torch.full((1, 2, h, w), -big),
        "offset": torch.zeros((1, 4, h, w)),
        "span_start": torch.full((1, tok.max_len), -big),
        "span_end": torch.full((1, tok.max_len), -big),
        "copy": torch.tensor([big if t["copy"] > 0 else -big]),
        "string": torch.full((1, space.num_strings), -big),
        "chord": torch.full((1, space.num_chords), -big),
        "scroll": torch.full((1, 2, space.num_scroll), -big),
    }
    out["kind"][0, int(t["kind"])] = big
    for ch, key in ((0, "point"), (1, "end")):
        if t[key][0] >= 0:
            gx, gy = float(t[key][0]) * w, float(t[key][1]) * h
            col, row = int(gx), int(gy)
            out["heat"][0, ch, row, col] = big
            out["offset"][0, 2 * ch : 2 * ch + 2, row, col] = torch.tensor([gx - col, gy - row])
    if t["span"][0] >= 0:
        out["span_start"][0, int(t["span"][0])] = big
        out["span_end"][0, int(t["span"][1])] = big
    if t["string"] >= 0:
        out["string"][0, int(t["string"])] = big
    if t["chord"] >= 0:
        out["chord"][0, int(t["chord"])] = big
    if t["scroll"][0] >= 0:
        for axis in (0, 1):
            out["scroll"][0, axis, int(t["scroll"][axis])] = big
    return out


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{a.kind}-{a.x}-{a.text}")
def test_encode_then_decode_gives_the_action_back(action: Action):
    space, tok = _space(), CharTokenizer(32)
    t = space.encode(action, INSTRUCTION, tok, *SCREEN)
    (decoded,) = decode_actions(_perfect_output(t, space, tok), space, [INSTRUCTION], [SCREEN])
    assert replace(decoded, confidence=1.0) == action
    assert decoded.confidence > 0.9
    if action.text == "Mira":
        assert t["copy"] == 1.0 and INSTRUCTION[t["span"][0] : t["span"][1] + 1] == "Mira"


def test_a_copied_value_never_spans_a_quote():
    text = "set Venue to 'gilded' and City to 'cookie cosmic', O'Brien"
    n = 64
    a, b = text.index("gilded"), text.index("cosmic") + len("cosmic") - 1
    start = torch.full((1, n), -5.0)
    end = torch.full((1, n), -5.0)
    start[0, a] = 4.0  # the first value's start
    end[0, b] = 4.0  # ... and the second's end, a bit likelier than the first's
    end[0, a + len("gilded") - 1] = 3.0
    (span,), _ = decode_span(start, end)
    assert tuple(span.tolist()) == (a, b)  # unconstrained: "gilded' and City to 'cookie cosmic"
    barriers = quote_barriers(text, n)
    assert int(barriers.sum()) == 4  # the four quotes around values, not O'Brien's
    (span,), _ = decode_span(start, end, barriers[None])
    assert text[span[0] : span[1] + 1] == "gilded"


def test_word_edges_mark_where_a_copy_may_start_and_end():
    text = "Type 'muffin marble' into O'Brien"
    starts, ends = word_edges(text, 40)
    assert starts[text.index("muffin")] and not starts[text.index("ffin")]
    assert ends[text.index("marble") + 5] and not ends[text.index("marble") + 4]
    assert not starts[len(text) :].any() and not ends[len(text) :].any()  # padding
    assert not ends[text.index("Bri")]  # the apostrophe splits "O'Brien" in two words
    _, cut = word_edges("abc def", 5)  # "de|f" truncated: "d" is no word's end
    assert cut.tolist() == [False, False, True, True, False]
    assert is_whole_words(text, 6, 18) and not is_whole_words(text, 8, 18)


@pytest.mark.parametrize(
    ("typed", "whole"),
    [(["muffin marble", "Ana"], True), (["muffin marble", "uffin"], False), (["hello"], False)],
)
def test_action_space_learns_whether_copied_values_are_whole_words(typed, whole):
    instruction = "Type 'muffin marble' as Ana"
    actions = [Action("type", text=t) for t in typed] + [Action("click", x=1, y=1)]
    space = ActionSpace.build(actions, instructions=[instruction] * len(actions))
    assert space.whole_word_spans is whole
    assert ActionSpace.from_config(space.to_config()) == space
    assert ActionSpace.build(actions).whole_word_spans is False  # nothing to learn it from
    # Unset, the config is the one saved before the field existed (the checkpoint's hash).
    old = {k: v for k, v in space.to_config().items() if k != "whole_word_spans"}
    assert ActionSpace.from_config(old).to_config() == old


def test_whole_word_spans_never_copy_part_of_a_word():
    text = "Type 'muffin marble' into Employer"
    n = 48
    start = torch.full((1, n), -5.0)
    end = torch.full((1, n), -5.0)
    start[0, text.index("ffin")] = 4.0  # the likeliest start cuts "muffin"
    start[0, text.index("muffin")] = 3.0
    end[0, text.index("marble") + 5] = 4.0
    out = {"copy": torch.tensor([5.0]), "span_start": start, "span_end": end}
    out["string"] = torch.zeros(1, 3)
    space = ActionSpace(strings=("a", "b"))
    ((typed, _),) = decode_text(out, space, [text])
    assert typed == "ffin marble"  # as a checkpoint from before the flag decodes it
    ((typed, p),) = decode_text(out, replace(space, whole_word_spans=True), [text])
    assert typed == "muffin marble" and p > 0.2
    one_word = "x" * n  # no word ends inside the tokenizer: the logits are left alone
    ((typed, _),) = decode_text(out, replace(space, whole_word_spans=True), [one_word])
    assert typed


def test_action_space_vocabularies_history_and_config_round_trip():
    space = _space()
    assert space.strings == ("Mira", "hello") and space.chords == (("ctrl", "s"),)
    assert space.string_class("never seen") == 0 and space.chord_of(0) is None
    assert space.scroll_class(99) == 2 * space.scroll_max  # clipped
    assert space.history_tokens([]).tolist() == [space.history_start] * 3
    assert space.history_tokens(["click", "type", "done", "drag"]).tolist() == [
        space.kinds.index(k) for k in ("type", "done", "drag")
    ]
    assert ActionSpace.from_config(space.to_config()) == space
    tok = CharTokenizer(8)
    assert tok.find_span("Log in as Ana", "Ana") is None  # truncated away at 8 chars
    assert CharTokenizer(32).find_span("Log in as Ana", "ana") is None  # casing must match


def _tiny_spec(h: int = 64, w: int = 96) -> PolicySpec:
    space = _space()
    tok = CharTokenizer(32)
    net = NetConfig(
        input_height=h,
        input_width=w,
        channels=(8, 8, 8, 8),
        decoder_channels=(8, 8, 8),
        vocab_size=tok.vocab_size,
        max_text_len=32,
        num_kinds=space.num_kinds,
        num_strings=space.num_strings,
        num_chords=space.num_chords,
        num_scroll=space.num_scroll,
        history_len=space.history_len,
    )
    return PolicySpec(net, space, tok.to_config(), {"width": 1280, "height": 800})


def test_checkpoint_save_load_links_and_optimizer(tmp_path: Path):
    spec = _tiny_spec()
    torch.manual_seed(0)
    net = spec.build_net()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    net(
        torch.zeros(1, 64, 96, 3, dtype=torch.uint8),
        torch.ones(1, 32, dtype=torch.long),
        torch.zeros(1, 3, dtype=torch.long),
    )["kind"].sum().backward()
    opt.step()
    first = save_checkpoint(tmp_path, 10, net, spec, opt, {"step": 10, "epoch": 1}, best=True)
    with torch.no_grad():
        next(net.parameters()).add_(1.0)
    second = save_checkpoint(tmp_path, 20, net, spec, opt, {"step": 20, "epoch": 2}, best=False)
    ckpts = tmp_path / CHECKPOINTS_DIR
    assert os.readlink(ckpts / "best") == first.name == "000010"  # relative links
    assert os.readlink(ckpts / "last") == second.name == "000020"
    assert not [p for p in ckpts.iterdir() if p.name.startswith(".")]  # no temp leftovers
    spec_b, net_b, path_b = load_checkpoint(tmp_path)  # default: best
    assert path_b == first and spec_b.identity_hash() == spec.identity_hash()
    _, net_l, path_l = load_checkpoint(tmp_path, "last")
    assert path_l == second
    for (k, a), b in zip(net.state_dict().items(), net_l.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    assert not torch.equal(next(net_b.parameters()), next(net_l.parameters()))
    # the optimizer state comes back without pickle
    opt2 = torch.optim.AdamW(net_l.parameters(), lr=1e-3)
    state = load_training_state(second, net_l, opt2)
    assert state["step"] == 20
    pairs = zip(opt.param_groups[0]["params"], opt2.param_groups[0]["params"], strict=True)
    with_state = [(p1, p2) for p1, p2 in pairs if p1 in opt.state]
    assert with_state
    for p1, p2 in with_state:
        assert torch.equal(opt.state[p1]["exp_avg"], opt2.state[p2]["exp_avg"])
    # the weights file carries the hash of its config
    assert load_file(second / MODEL_FILE).keys() == net.state_dict().keys()


def test_pruning_keeps_the_newest_and_whatever_best_and_last_name(tmp_path: Path):
    spec = _tiny_spec()
    net = spec.build_net()
    for step in (1, 2, 3, 4, 5):
        save_checkpoint(tmp_path, step, net, spec, best=step == 2)
    ckpts = tmp_path / CHECKPOINTS_DIR
    assert prune_checkpoints(tmp_path, 0) == []  # 0 keeps all
    removed = prune_checkpoints(tmp_path, 2)
    assert sorted(p.name for p in removed) == ["000001", "000003"]
    assert sorted(p.name for p in ckpts.iterdir() if p.name.isdigit()) == [
        "000002",
        "000004",
        "000005",
    ]
    assert load_checkpoint(tmp_path)[2].name == "000002"  # best still loads
    assert load_checkpoint(tmp_path, "last")[2].name == "000005"


def test_translation_moves_the_click_target_with_the_image():
    h, w = 40, 64
    images = torch.zeros((16, h, w, 3), dtype=torch.uint8)
    xs, ys = torch.randint(0, w, (16,)), torch.randint(0, h, (16,))
    images[torch.arange(16), ys, xs] = 255  # one bright pixel = the target
    batch = {
        "point": torch.stack([(xs + 0.5) / w, (ys + 0.5) / h], 1),
        "end": torch.full((16, 2), -1.0),
        "box": torch.stack([xs / w, ys / h, (xs + 1) / w, (ys + 1) / h], 1),
    }
    gen = torch.Generator().manual_seed(0)
    shifted, out = translate_batch(images, batch, 0.3, gen)
    moved = 0
    for i in range(16):
        px, py = int(out["point"][i, 0] * w), int(out["point"][i, 1] * h)
        assert shifted[i, py, px].tolist() == [255, 255, 255]  # the target is where it says
        assert round(float(out["box"][i, 0] * w)) == px and round(float(out["box"][i, 1] * h)) == py
        moved += (px, py) != (int(xs[i]), int(ys[i]))
        assert (out["end"][i] == -1).all()  # absent targets stay absent
    assert moved >= 12
    # photometric jitter leaves targets alone and stays in range
    imgs, out2 = augment_batch(images, batch, AugmentConfig(translate=0.0), gen)
    assert imgs.dtype == torch.float32 and 0 <= imgs.min() and imgs.max() <= 255
    assert torch.equal(out2["point"], batch["point"])


def test_split_is_by_episode_and_seeded():
    samples = synthetic_samples(20, seed=3, size=(64, 96), typing=True)
    split = split_samples(samples, 0.25, seed=7)
    tr = {s.episode for s in split.train}
    va = {s.episode for s in split.val}
    assert not tr & va and len(va) == 5 and len(tr) == 15
    assert len(split.train) + len(split.val) == len(samples)
    assert split_samples(samples, 0.25, seed=7).val_episodes == split.val_episodes
    assert split_samples(samples, 0.25, seed=8).val_episodes != split.val_episodes
    assert split_by_episode(["a", "b"], 0.01, 0)[1] != []  # two or more: always a validation one
    assert split_by_episode(["a"], 0.5, 0) == (["a"], [])


def test_sample_cache_is_reused_and_invalidated(demo_root: Path, tmp_path: Path):
    ep = next((demo_root / "click").iterdir())
    cache = tmp_path / "cache"
    info, first = load_episode_samples(ep, H, W, cache)
    assert [s.action.kind for s in first] == ["click", "done"]
    assert first[0].box is not None and first[0].image.shape == (H, W, 3)
    entries = sorted(p.name for p in cache.iterdir())
    assert len(entries) == 2  # <id>-<key>.npy + .json
    _, again = load_episode_samples(ep, H, W, cache)
    assert sorted(p.name for p in cache.iterdir()) == entries  # read back, not rebuilt
    assert all(
        np.array_equal(a.image, b.image) and a.action == b.action
        for a, b in zip(first, again, strict=True)
    )
    load_episode_samples(ep, 64, 96, cache)  # other input size: its own entry
    assert len(list(cache.iterdir())) == 4
    # an edited episode (here: meta.json rewritten) gets a new key
    edited = tmp_path / ep.name
    shutil.copytree(ep, edited)
    meta = edited / "meta.json"
    meta.write_text(meta.read_text().replace(info.id, info.id))
    os.utime(meta, ns=(1, 1))
    load_episode_samples(edited, H, W, cache)
    assert len(list(cache.iterdir())) == 6


def test_same_seed_same_weights_other_seed_other_weights(tmp_path: Path):
    data = split_samples(synthetic_samples(6, seed=1, size=(64, 96)), 0.0, 0)

    def weights(name: str, seed: int) -> dict:
        cfg = small_config(
            tmp_path,
            [],
            name=name,
            seed=seed,
            epochs=2,
            batch_size=4,
            input_height=64,
            input_width=96,
            val_fraction=0.0,
            text_match=False,
        )  # synthetic screens carry no match channel
        done = run_training(cfg, data)
        return load_file(Path(done["last_checkpoint"]) / MODEL_FILE)

    a, b, c = weights("a", 5), weights("b", 5), weights("c", 6)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("val_fraction", [0.0, 0.34])
def test_best_checkpoint_is_the_last_without_validation(
    tmp_path: Path, monkeypatch, val_fraction: float
):
    """Scores that fall from epoch to epoch: with validation episodes "best" stays at the
    first; without them (the scores come from training samples) it follows the last."""
    import deskmimic.models.training.validate as train_mod  # where the epoch's evaluate is called

    scores = iter([0.9, 0.5, 0.3])
    real = train_mod.evaluate

    def falling(*args, **kw):
        return {**real(*args, **kw), "score": next(scores)}

    monkeypatch.setattr(train_mod, "evaluate", falling)
    data = split_samples(synthetic_samples(6, seed=1, size=(64, 96)), val_fraction, 0)
    assert bool(data.val) == (val_fraction > 0)
    cfg = small_config(
        tmp_path,
        [],
        name="best",
        epochs=3,
        batch_size=4,
        input_height=64,
        input_width=96,
        val_fraction=val_fraction,
        text_match=False,
    )
    done = run_training(cfg, data)
    ckpts = Path(done["last_checkpoint"]).parent
    first = sorted(p.name for p in ckpts.iterdir() if p.name.isdigit())[0]
    expected = os.readlink(ckpts / "last") if not data.val else first
    assert os.readlink(ckpts / "best") == expected


def test_kind_weights_lift_rare_kinds():
    samples = synthetic_samples(8, seed=0, size=(64, 96), typing=True)
    samples = [s for s in samples if s.action.kind != "type"] + [
        s for s in samples if s.action.kind == "type"
    ][:1]
    space = ActionSpace.build(s.action for s in samples)
    ds = SampleSet(samples, space, CharTokenizer(32))
    w = ds.kind_weights()
    kinds = space.kinds
    assert w[kinds.index("type")] > w[kinds.index("click")] > 0
    assert w[kinds.index("drag")] == 1.0  # absent kinds are left alone
