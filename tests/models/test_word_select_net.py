"""Word selection in the network: what the trunk and heads see of each instruction word.

The rules are in docs/learning.md 3b; the per-word maps themselves in test_word_select.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from deskmimic.models.data.dataset import cache_key, load_episode_samples
from deskmimic.models.data.samples import SampleSet
from deskmimic.models.net.policy_net import NetConfig, PolicyNet
from deskmimic.models.net.text import CharTokenizer
from deskmimic.models.net.word_select import row_band
from deskmimic.models.perception.match_maps import word_maps
from deskmimic.models.perception.terms import (
    MAX_WORDS,
    term_spans,
    word_span_array,
)
from tests.fixtures.text_frames import text_frame
from tests.models.conftest import H, W, episode_frames


def test_the_net_shows_the_selected_words_map_to_the_cnn():
    torch.manual_seed(0)
    cfg = NetConfig(input_height=64, input_width=96, text_match=True, word_select=True)
    net = PolicyNet(cfg).eval()
    assert cfg.in_channels == 3 + MAX_WORDS and NetConfig.from_dict(cfg.to_dict()) == cfg
    assert "word_select" not in NetConfig(text_match=True).to_dict()  # older hashes unchanged
    tok = CharTokenizer(cfg.max_text_len)
    text = "Drag Apple onto Basket"
    tokens = torch.from_numpy(tok.encode(text))[None]
    words = torch.from_numpy(word_span_array(text, cfg.max_text_len))[None]
    images = torch.zeros(1, 64, 96, cfg.in_channels, dtype=torch.uint8)
    images[0, 10:14, 10:20, 3] = 255  # "Apple" shows top left
    with torch.no_grad():
        # Force the point's selection onto "Apple", the end's onto "Basket".
        net.select.query.weight.zero_()
        net.select.query.bias.zero_()
        net.select.none.data.fill_(-5.0)
        net.select.pos.weight.zero_()
        net.select.key.weight.zero_()
        net.select.key.bias.zero_()
        net.select.pos.weight[0, 0] = net.select.pos.weight[1, 1] = 50.0
        net.select.query.bias[0] = net.select.query.bias[cfg.text_dim + 1] = 1.0
        seen = {}
        stem = net.stages[0]
        hook = stem.register_forward_pre_hook(lambda m, a: seen.update(x=a[0]))
        out = net(images, tokens, torch.zeros(1, 4, dtype=torch.long), words=words)
        hook.remove()
    assert out["select"].shape == (1, 2, MAX_WORDS + 1)
    assert int(out["select"][0, 0].argmax()) == 0 and int(out["select"][0, 1].argmax()) == 1
    x = seen["x"]  # RGB, all words, the point's and the end's words, both smeared
    assert x.shape[1] == 8
    assert float(x[0, 4, 11, 15]) > 250 and float(x[0, 5].max()) < 1  # Apple; Basket absent
    assert float(x[0, 3, 11, 15]) == 255
    # The smear spreads Apple along its line, not across lines.
    assert float(x[0, 6, 11, 24]) > 0 and float(x[0, 6, 20, 15]) == 0


def test_the_glance_describes_the_screen_where_each_word_is_written():
    # Two words on screen; a tick box appears beside the first one only. The first word's
    # glance changes, the second's does not, and a word not on screen has no strength.
    cfg = NetConfig(
        input_height=64, input_width=96, text_match=True, word_select=True, term_glance=True
    )
    assert NetConfig.from_dict(cfg.to_dict()) == cfg
    assert "term_glance" not in NetConfig(text_match=True, word_select=True).to_dict()
    torch.manual_seed(0)
    net = PolicyNet(cfg)
    assert net.glance is not None
    torch.nn.init.normal_(net.glance.proj.weight)  # trained weights, not the zero start
    images = torch.full((1, 3 + MAX_WORDS, 64, 96), 240.0)
    images[:, 3:] = 0.0
    images[0, 3, 8:12, 28:44] = 255.0  # word 0 matched at (36, 10)
    images[0, 4, 40:44, 28:44] = 255.0  # word 1 matched at (36, 42)
    maps = images[:, 3:]
    ticked = images.clone()
    ticked[0, :3, 7:13, 18:24] = 30.0  # a dark box left of word 0
    with torch.no_grad():
        before, strength = net.glance(images[:, :3], maps)
        after, _ = net.glance(ticked[:, :3], maps)
    assert strength[0, :3].tolist() == [1.0, 1.0, 0.0]
    assert float((after[0, 0] - before[0, 0]).abs().max()) > 1e-3
    assert torch.equal(after[0, 1], before[0, 1])
    # The net runs with it, and its keys change the selection.
    tok = CharTokenizer(cfg.max_text_len)
    text = "Click Apple, then Basket"
    out = net(
        ticked.permute(0, 2, 3, 1).to(torch.uint8),
        torch.from_numpy(tok.encode(text))[None],
        torch.zeros(1, 4, dtype=torch.long),
        words=torch.from_numpy(word_span_array(text, cfg.max_text_len))[None],
    )
    assert out["select"].shape == (1, 2, MAX_WORDS + 1)


def test_samples_carry_word_spans_and_the_cache_keeps_maps_apart(demo_root: Path, tmp_path: Path):
    ep_dir = sorted((demo_root / "type").iterdir())[0]
    assert cache_key(ep_dir, H, W, True, True) != cache_key(ep_dir, H, W, True, False)
    _, samples = load_episode_samples(ep_dir, H, W, tmp_path, text_match=True, word_maps=True)
    assert samples[0].image.shape == (H, W, 3 + MAX_WORDS)
    from deskmimic.models.net.action_space import ActionSpace

    space = ActionSpace.build(s.action for s in samples)
    ds = SampleSet(samples, space, CharTokenizer(96))
    item = ds[0]
    assert item["words"].shape == (MAX_WORDS, 2)
    expect = word_span_array(samples[0].instruction, 96)
    assert np.array_equal(item["words"].numpy(), expect)


def test_with_glances_a_word_key_depends_on_whether_the_other_words_show():
    # "Choose Color Red": whether Red is on screen yet decides between clicking the
    # group's label and the value, so Color's key must see Red's glance.
    cfg = NetConfig(
        input_height=64, input_width=96, text_match=True, word_select=True, term_glance=True
    )
    torch.manual_seed(0)
    net = PolicyNet(cfg).eval()
    assert net.select is not None and net.select.mix is not None
    torch.nn.init.normal_(net.glance.proj.weight)
    torch.nn.init.normal_(net.select.mix.out_proj.weight)
    text = "Choose Color Red"
    tokens = torch.from_numpy(CharTokenizer(cfg.max_text_len).encode(text))[None]
    words = torch.from_numpy(word_span_array(text, cfg.max_text_len))[None]
    images = torch.full((1, 64, 96, 3 + MAX_WORDS), 240, dtype=torch.uint8)
    images[..., 3:] = 0
    images[0, 8:12, 28:44, 3] = 255  # Color shown
    shown = images.clone()
    shown[0, 40:44, 28:44, 4] = 255  # ... and Red too
    hist = torch.zeros(1, cfg.history_len, dtype=torch.long)
    with torch.no_grad():
        a = net(images, tokens, hist, words=words)["select"]
        b = net(shown, tokens, hist, words=words)["select"]
    assert float((a[0, :, 0] - b[0, :, 0]).abs().max()) > 1e-3
    # Without the mixing layer, Color's logit would not move: only Red's glance changed.
    net.select.mix = None
    with torch.no_grad():
        a = net(images, tokens, hist, words=words)["select"]
        b = net(shown, tokens, hist, words=words)["select"]
    assert torch.allclose(a[0, :, 0], b[0, :, 0])


def test_shown_only_pointers_never_pick_a_word_that_does_not_show():
    # "Choose Color Red" with Red not on screen yet (a closed combo box): with shown_only
    # the pointer cannot pick Red, whatever the weights; once Red shows, it can.
    base = dict(
        input_height=64, input_width=96, text_match=True, word_select=True, term_glance=True
    )
    cfg = NetConfig(**base, shown_only=True)
    assert NetConfig.from_dict(cfg.to_dict()) == cfg
    assert "shown_only" not in NetConfig(**base).to_dict()  # older checkpoints hash the same
    text = "Choose Color Red"
    tokens = torch.from_numpy(CharTokenizer(cfg.max_text_len).encode(text))[None]
    words = torch.from_numpy(word_span_array(text, cfg.max_text_len))[None]
    red = [t for t, _, _ in term_spans(text)].index("Red")
    images = torch.full((1, 64, 96, 3 + MAX_WORDS), 240, dtype=torch.uint8)
    images[..., 3:] = 0
    images[0, 8:12, 28:44, 3] = 255  # Color shown
    shown = images.clone()
    shown[0, 40:44, 28:44, 3 + red] = 255  # ... and Red too
    hist = torch.zeros(1, cfg.history_len, dtype=torch.long)
    probs = {}
    for only in (False, True):
        torch.manual_seed(0)
        net = PolicyNet(NetConfig(**base, shown_only=only)).eval()
        with torch.no_grad():
            net.select.none.normal_()
            for img, name in ((images, "hidden"), (shown, "shown")):
                out = net(img, tokens, hist, words=words)
                probs[only, name] = torch.softmax(out["select"], -1)[0, :, red]
    assert float(probs[True, "hidden"].max()) == 0.0
    assert float(probs[False, "hidden"].min()) > 1e-4  # unmasked, the same weights pick it
    assert float(probs[True, "shown"].min()) > 1e-4


def test_shown_only_leaves_the_heads_summary_unmasked():
    # scroll_find's heads read "the full name is picked and does not show" as scroll: the
    # summary they get (none share, picked strength, each term's strength) must be the
    # same with and without shown_only, only the heatmap's pick changes.
    base = dict(
        input_height=64, input_width=96, text_match=True, word_select=True, term_glance=True
    )
    text = "Find and click Nadia Abbott"
    tokens = torch.from_numpy(CharTokenizer(96).encode(text))[None]
    words = torch.from_numpy(word_span_array(text, 96))[None]
    images = torch.full((1, 64, 96, 3 + MAX_WORDS), 240, dtype=torch.uint8)
    images[..., 3:] = 0
    abbott = [t for t, _, _ in term_spans(text)].index("Abbott")
    images[0, 20:24, 28:44, 3 + abbott] = 255  # "Abbott" shows (at "Kai Abbott"), the pair not
    hist = torch.zeros(1, 4, dtype=torch.long)
    tails, heads_in = {}, {}
    for only in (False, True):
        torch.manual_seed(0)
        net = PolicyNet(NetConfig(**base, shown_only=only)).eval()
        net.trunk.register_forward_hook(lambda m, i, o, k=only: heads_in.update({k: i[0]}))
        with torch.no_grad():
            tails[only] = net(images, tokens, hist, words=words)["select"]
    summary = 2 + 2 + MAX_WORDS  # none share, picked strength, each term's strength
    assert torch.allclose(heads_in[True][:, -summary:], heads_in[False][:, -summary:])
    assert not torch.equal(tails[True], tails[False])  # the pointers' pick did change


def _list_frame(names: list[str]) -> np.ndarray:
    return text_frame(names, pitch=26)[0]


def test_a_pair_shows_only_where_both_its_words_stand_together():
    # A list sorted by last name: "Kai Abbott" scrolls into view before "Nadia Abbott".
    text = "Scroll to Nadia Abbott and click it"
    assert [t for t, _, _ in term_spans(text)] == ["Nadia", "Nadia Abbott", "Abbott"]
    before = _list_frame(["Ivo Aalto", "Kai Abbott", "Lena Abbott"])
    after = _list_frame(["Kai Abbott", "Lena Abbott", "Nadia Abbott"])
    h, w = before.shape[:2]
    m0 = word_maps(before, text, h, w)
    m1 = word_maps(after, text, h, w)
    assert m0[:, :, 2].max() == 255 and m1[:, :, 2].max() == 255  # "Abbott" either way
    assert m0[:, :, 1].max() < 40, "the pair showed on an entry sharing one word"
    assert m1[:, :, 1].max() == 255
    ys, _ = np.nonzero(m1[:, :, 1] == 255)
    assert abs(float(ys.mean()) - (20 + 26 * 2 + 8)) < 6  # at the third row


def test_the_trunk_sees_a_pairs_words_only_as_the_pair():
    from deskmimic.models.net.word_select import part_of_longer

    spans = torch.tensor(word_span_array("Scroll to Nadia Abbott and click it", 64))[None]
    assert part_of_longer(spans)[0, :4].tolist() == [True, False, True, False]
    spans = torch.tensor(word_span_array("Click Apple, then Basket", 64))[None]
    assert not part_of_longer(spans).any()


def test_augmentation_blanks_a_shown_pairs_words_together_and_half_the_time():
    from deskmimic.models.data.augment import AugmentConfig, augment_batch, hide_pair_words

    spans = torch.tensor(word_span_array("Scroll to Nadia Abbott and click it", 64))[None]
    spans = spans.repeat(400, 1, 1)
    images = torch.zeros(400, 8, 8, 3 + MAX_WORDS)
    images[..., :3] = 200.0
    images[..., 3:6] = 255.0  # Nadia, Nadia Abbott, Abbott all shown
    images[:200, :, :, 4] = 100.0  # ... but in the first half the pair only faintly
    out = hide_pair_words(images, spans, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(out[..., :3], images[..., :3]) and torch.equal(out[..., 4], images[..., 4])
    assert torch.equal(out[:200], images[:200]), "words hidden where their pair does not show"
    first, last = out[200:, 0, 0, 3], out[200:, 0, 0, 5]
    assert torch.equal(first, last)  # both words of the pair, or neither
    assert 0.35 < float((first == 0).float().mean()) < 0.65
    # Part of the training augmentation; off at 0, and RGB-only inputs pass through.
    batch = {
        "point": torch.full((400, 2), 0.5),
        "end": torch.full((400, 2), -1.0),
        "box": torch.full((400, 4), -1.0),
        "words": spans,
    }
    none = AugmentConfig(translate=0, brightness=0, contrast=0, gain=0, pair_words=0)
    some = AugmentConfig(translate=0, brightness=0, contrast=0, gain=0, pair_words=0.5)
    gen = torch.Generator().manual_seed(1)
    assert torch.equal(augment_batch(images, batch, none, gen)[0], images)
    assert (augment_batch(images, batch, some, gen)[0][200:, 0, 0, 3] == 0).any()
    rgb = images[..., :3]
    assert torch.equal(augment_batch(rgb, batch, some, gen)[0], rgb)


def test_a_similar_word_does_not_show_where_the_named_one_does(qapp, tmp_path: Path):
    # A held-out pick_list seed: "Cabin" and "Confirm" sit in the drop-down below "Cobalt";
    # when a similar entry showed, a trained policy clicked it.
    from deskmimic.tasks.demos import record_demos

    demo = record_demos("pick_list", [1_000_036], tmp_path / "pick")[0]
    assert demo.success
    frames, instruction = episode_frames(demo.path)
    assert instruction == "Choose Cobalt from the drop-down"

    from deskmimic.models.perception.find import find_term, rows
    from deskmimic.models.perception.reader import read_frame

    shown = 0
    for frame in frames[::4]:
        h, w = frame.shape[:2]
        m = word_maps(frame, instruction, h, w)[..., 0]
        lines = rows(read_frame(frame))
        similar = [x.box for name in ("Cabin", "Confirm") for x in find_term(name, lines)]
        shown += bool(similar) and m.max() == 255
        for x0, y0, x1, y1 in similar:
            assert m[y0:y1, x0:x1].max() == 0, "a similar entry lit up"
    assert shown  # the list was open, the named entry lit, on some frame


def test_a_word_does_not_show_inside_a_longer_one():
    # "Sand" matches the start of "Sandal" at NCC 0.975: only the letter after it differs.
    text = "Select Sand in the list"
    both = _list_frame(["Sandal", "Shadow", "Sand"])
    h, w = both.shape[:2]
    m = word_maps(both, text, h, w)[:, :, 0]
    rows = [m[20 + 26 * i : 20 + 26 * i + 16].max() for i in range(3)]
    assert rows[2] == 255 and rows[0] < 100, rows
    # Alone, the longer word still shows, weaker than a clean match would.
    alone = _list_frame(["Sandal", "Shadow"])
    m = word_maps(alone, text, *alone.shape[:2])[:, :, 0]
    assert 0 < m[20:36].max() < 200


def test_a_label_that_continues_the_word_is_not_the_word(qapp):
    # A workflow dialog held out: "choose Mode Verbose" beside the field "Model:", where
    # "Mode" once read almost as well on "Model:" as on "Mode:", and the click went between.
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QFormLayout, QLineEdit, QWidget

    form = QWidget()
    lay = QFormLayout(form)
    for label in ("Topic:", "Model:", "Mode:"):
        lay.addRow(label, QLineEdit())
    form.resize(300, 120)
    image = form.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rgb = np.array(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    rgb = np.ascontiguousarray(rgb[:, : 3 * image.width()].reshape(image.height(), -1, 3))
    boxes = {lab: lay.labelForField(lay.itemAt(i, QFormLayout.ItemRole.FieldRole).widget())
             for i, lab in enumerate(("Topic", "Model", "Mode"))}
    text = "set Model to 'x', choose Mode Verbose"
    terms = [t for t, _, _ in term_spans(text)]
    maps = word_maps(rgb, text, *rgb.shape[:2])

    def at(term: str, label: str) -> int:
        g = boxes[label].geometry()
        return int(maps[g.top() : g.bottom() + 1, g.left() : g.right() + 1, terms.index(term)].max())

    assert at("Mode", "Mode") >= 200 and at("Model", "Model") >= 200
    assert at("Mode", "Model") <= 100  # the word goes on: marked down


def test_row_band_carries_the_picked_words_row_to_their_right():
    maps = torch.zeros(1, 2, 8, 12)
    maps[0, 0, 3, 4] = 200.0  # a label at row 3, column 4
    maps[0, 1, 6, 9] = 90.0
    band = row_band(maps)
    assert torch.equal(band[0, 0, 3, 4:], torch.full((8,), 200.0))  # the label's row onwards
    assert float(band[0, 0, 3, :4].abs().sum()) == 0.0  # nothing left of the label
    assert float(band[0, 0].sum()) == 200.0 * 8  # and no other row
    assert torch.equal(band[0, 1, 6, 9:], torch.full((3,), 90.0))

    base = dict(input_height=64, input_width=96, text_match=True, word_select=True,
                term_glance=True, shown_only=True)
    cfg = NetConfig(**base, row_band=True)
    assert cfg.stem_channels == 10 and NetConfig.from_dict(cfg.to_dict()) == cfg
    assert "row_band" not in NetConfig(**base).to_dict()  # older checkpoints hash the same
    # The stem sees the band of the point's and the end's picks beside their plain maps.
    text = "Set Name to 'x', then press OK"
    net = PolicyNet(cfg).eval()
    seen = {}
    net.stages[0].register_forward_pre_hook(lambda m, a: seen.update(x=a[0]))
    images = torch.zeros((1, 64, 96, 3 + MAX_WORDS), dtype=torch.uint8)
    images[0, 20:24, 10:20, 3] = 255  # "Name" written at the left of row 20-24
    tokens = torch.from_numpy(CharTokenizer(cfg.max_text_len).encode(text))[None]
    words = torch.from_numpy(word_span_array(text, cfg.max_text_len))[None]
    with torch.no_grad():
        net(images, tokens, torch.zeros(1, cfg.history_len, dtype=torch.long), words=words)
    x = seen["x"]
    assert x.shape[1] == 10
    assert torch.allclose(x[:, 8:10], torch.cummax(x[:, 4:6], dim=3).values)
    assert float(x[0, 8, 21, 90]) > 0.0 and float(x[0, 8, 30, 90]) == 0.0
