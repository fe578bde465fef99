"""Per-word match maps, the incremental matcher used in replay, and the word selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from deskmimic.models.perception.match_maps import match_channel, word_maps
from deskmimic.models.perception.match_stream import WordMatchStream
from deskmimic.models.perception.terms import (
    MAX_WORDS,
    term_spans,
    term_texts,
    word_span_array,
    word_spans,
)
from deskmimic.models.training.losses import select_loss, select_targets
from deskmimic.recorder.episode import Episode
from tests.fixtures.text_frames import text_frame
from tests.models.conftest import H, W, episode_frames


def test_word_spans_point_at_the_words_in_the_instruction():
    text = "Open File \u203a Save As, set Name to 'red fox', then press OK"
    spans = word_spans(text)
    assert [w for w, _, _ in spans] == [
        "Open",
        "File",
        "Save",
        "As",
        "set",
        "Name",
        "red",
        "fox",
        "OK",
    ]
    assert all(text[a:b] == w for w, a, b in spans)
    # The per-word maps also look for adjacent pairs, and skip "Open" and "set".
    terms = term_spans(text)
    assert [t for t, _, _ in terms] == [
        "File",
        "Save",
        "Save As",
        "As",
        "Name",
        "red",
        "red fox",
        "fox",
        "OK",
    ]
    assert all(text[a:b] == t for t, a, b in terms)
    arr = word_span_array(text, max_len=40)
    assert arr.shape == (MAX_WORDS, 2)
    assert (arr[:6] >= 0).all()
    # "red fox", "fox" and "OK" end past 40 characters: cut off, like the tokenizer does
    assert (arr[6:] == -1).all()
    # Capitalized after the first word, a stop-word is a label: the buttons Open and Select.
    assert [t for t, _, _ in term_spans("Click Open, then Select")] == ["Open", "Select"]
    assert [t for t, _, _ in term_spans("Select Open in the list")] == ["Open", "list"]


def test_a_repeated_word_is_a_term_at_each_occurrence():
    # Held-out workflow instructions repeat a word (the menu entry's and a field's
    # "Contact"); kept once, the option group and OK moved up a place, where training
    # had other roles, and the option step picked OK.
    text = "Open Tools \u203a Order Contact, set Topic to 'x' and Contact to 'y', choose Tier Gold"
    terms = term_spans(text)
    assert [t for t, _, _ in terms] == [
        "Tools", "Order", "Order Contact", "Contact", "Topic", "x", "Contact", "y",
        "Tier", "Tier Gold", "Gold",
    ]
    assert all(text[a:b] == t for t, a, b in terms)
    # the place of "Tier" is the one it has without the repeat
    plain = term_spans(text.replace("Order Contact", "Order Member"))
    assert [t for t, _, _ in plain].index("Tier") == [t for t, _, _ in terms].index("Tier")
    # both occurrences get the same map
    blank = [""] * 6  # room below: a changed row is read again alone
    frame, _ = text_frame(["Contact:", *blank], size=13, width=400)
    h, w = frame.shape[:2]
    maps = word_maps(frame, text, h, w)
    first, second = (i for i, (t, _, _) in enumerate(terms) if t == "Contact")
    assert maps[..., first].max() >= 200 and np.array_equal(maps[..., first], maps[..., second])
    # the replay's incremental reader writes the word once into both channels, the same
    stream = WordMatchStream(text)
    assert np.array_equal(stream.word_maps(frame, h, w), maps)
    more, _ = text_frame(["Contact:     Gold", *blank], size=13, width=400)
    assert_maps_agree(stream.word_maps(more, h, w), word_maps(more, text, h, w))
    assert stream.full_updates == 1


def assert_maps_agree(got: np.ndarray, want: np.ndarray) -> None:
    """The same terms lit, on boxes that overlap (a band read again may place a line's box
    a pixel or two apart from reading the whole frame)."""
    for i in range(want.shape[-1]):
        a, b = got[..., i] > 0, want[..., i] > 0
        assert a.any() == b.any(), f"term {i}: lit {a.any()} vs {b.any()}"
        if b.any():
            iou = (a & b).sum() / (a | b).sum()
            assert iou >= 0.6, f"term {i}: boxes overlap only {iou:.2f}"
            assert abs(int(got[..., i].max()) - int(want[..., i].max())) <= 60, f"term {i}"


def test_word_maps_split_the_match_channel_by_word(demo_root: Path):
    frames, instruction = episode_frames(sorted((demo_root / "type").iterdir())[0])
    frame = frames[-1]
    maps = word_maps(frame, instruction, H, W)
    n = len(term_spans(instruction))
    assert maps.shape == (H, W, MAX_WORDS) and maps.dtype == np.uint8
    assert not maps[..., n:].any()
    # The field's label is on screen: its own map lights up, and where the single channel
    # (one size only) shows a word, some word's map shows it too.
    label = instruction.split()[-1]
    i = [w for w, _, _ in term_spans(instruction)].index(label)
    assert maps[..., i].max() >= 200
    single = match_channel(frame, instruction, H, W)
    assert (maps.max(-1)[single >= 200] >= 150).all()


def test_word_maps_find_bold_item_labels_on_a_recorded_drag(qapp, tmp_path: Path):
    # drag_item writes its items in bold.
    from deskmimic.models.perception.terms import instruction_words
    from deskmimic.tasks.demos import record_demos

    demo = record_demos("drag_item", [3], tmp_path / "drag")[0]
    assert demo.success
    with Episode.open(demo.path) as ep:
        frame, instruction, boxes = ep.frame(0), ep.instruction, ep.extra["boxes"]
    item = instruction_words(instruction)[0]
    x, y, w, h = boxes[f"item:{item}"]
    full = word_maps(frame, instruction, frame.shape[0], frame.shape[1])[..., 0]
    assert full[y : y + h, x : x + w].max() >= 200


def test_the_stream_agrees_with_reading_every_frame_from_scratch(demo_root: Path):
    # A recorded demo: the pointer moves, a field fills with text, the window stays.
    frames, instruction = episode_frames(sorted((demo_root / "type").iterdir())[1])
    stream = WordMatchStream(instruction)
    changed = pairs = differ = 0
    for i, frame in enumerate(frames[::3]):
        got, want = stream.word_maps(frame, H, W), word_maps(frame, instruction, H, W)
        # A band read alone can crop a line a pixel apart and read one letter otherwise,
        # which may tip a borderline match: rare, not every frame.
        for t in range(want.shape[-1]):
            a, b = got[..., t] > 0, want[..., t] > 0
            pairs += bool(a.any() or b.any())
            differ += bool(a.any() != b.any())
            if a.any() and b.any():
                assert (a & b).sum() / (a | b).sum() >= 0.6, f"frame {i} term {t}"
        changed += i > 0 and not np.array_equal(frame, frames[::3][i - 1])
    assert pairs and differ <= max(1, pairs // 10), (differ, pairs)
    assert changed >= 3  # the test saw real changes, not one frame over and over
    assert stream.full_updates < len(frames[::3]) // 2  # and read most of them in part
    assert stream.reader.recognized < 4 * len(frames[::3])  # text seen before is not re-read
    # A whole new screen falls back to a full read.
    other = np.ascontiguousarray(frames[-1][::-1, ::-1])
    before = stream.full_updates
    assert_maps_agree(stream.word_maps(other, H, W), word_maps(other, instruction, H, W))
    assert stream.full_updates == before + 1


def test_a_pair_shows_only_where_both_its_words_stand_side_by_side():
    # A list of names: as one string "Aria Banerjee" differs from "Flora Banerjee" in three
    # letters of thirteen; word by word the first name says which row it is.
    instruction = "Scroll to Flora Banerjee and click it"
    terms = term_texts(instruction)
    assert terms == ("Flora", "Flora Banerjee", "Banerjee")
    below = [""] * 4  # room: a changed row is read again alone
    without, _ = text_frame(["Aria Banerjee", "Elio Osei", "Flora Abbott", *below])
    with_it, _ = text_frame(["Aria Banerjee", "Flora Banerjee", "Flora Abbott", *below])
    stream = WordMatchStream(instruction)
    for frame, pair in ((without, 0), (with_it, 255), (without, 0)):
        maps = word_maps(frame, instruction, H, W)
        assert maps[..., 0].max() == maps[..., 2].max() == 255  # both words show
        assert maps[..., 1].max() == pair
        assert_maps_agree(stream.word_maps(frame, H, W), maps)
    assert stream.full_updates == 1


def test_select_loss_labels_the_word_under_the_point_or_the_label_left_of_it():
    maps = torch.zeros(3, MAX_WORDS, 40, 60)
    maps[:, 1, 10:13, 10:20] = 255.0  # word 1: a button label around (15, 11)
    maps[:, 2, 30:33, 5:12] = 255.0  # word 2: a field label; the field lies right of it
    point = torch.tensor([[15.5 / 60, 11.5 / 40], [40.5 / 60, 31.5 / 40], [50.5 / 60, 2.5 / 40]])
    end = torch.full((3, 2), -1.0)
    logits = torch.zeros(3, 2, MAX_WORDS + 1)
    base = select_loss(logits, maps, point, end)
    good = logits.clone()
    good[0, 0, 1] = good[1, 0, 2] = 20.0  # the right words; sample 2 (blank spot) has no label
    assert float(select_loss(good, maps, point, end)) < 1e-3 < float(base)
    wrong = logits.clone()
    wrong[0, 0, 2] = wrong[1, 0, 1] = 20.0
    assert float(select_loss(wrong, maps, point, end)) > float(base)
    # A "done" step picks none: nothing is left to point at.
    done = torch.tensor([False, False, True])
    none = good.clone()
    assert float(select_loss(none, maps, point, end, done)) > 1.0  # none not picked yet
    none[2, 0, MAX_WORDS] = 20.0
    assert float(select_loss(none, maps, point, end, done)) < 1e-3


def test_select_loss_labels_the_most_specific_words_at_the_point():
    # Menu entries "Import Member" (row 5), "Add Order" (row 25), "Order Member" (row 15):
    # terms 0 "Order", 1 "Order Member", 2 "Member". Each match is painted as its box
    # (`match_maps.paint`). At the last entry all three show, but "Order" and "Member"
    # show twice each: the pair alone is the label.
    maps = torch.zeros(1, MAX_WORDS, 40, 60)
    maps[0, 2, 4:7, 10:18] = 255.0
    maps[0, 0, 24:27, 10:18] = 255.0
    maps[0, :3, 14:17, 10:18] = 255.0
    point = torch.tensor([[14.5 / 60, 15.5 / 40]])
    end = torch.full((1, 2), -1.0)

    def loss(*picked: int) -> float:
        logits = torch.zeros(1, 2, MAX_WORDS + 1)
        logits[0, 0, list(picked)] = 20.0
        return float(select_loss(logits, maps, point, end))

    assert loss(1) < 1e-3
    assert loss(0, 1, 2) > 1.0  # spread over the entries' shared words too
    # A word shown once is as specific as the pair: both are labels, unless the spans
    # tell which is longer.
    maps[0, 0, 24:27] = 0.0
    assert loss(0, 1) < 0.7 < 5.0 < loss(1)  # the label is both, half each (entropy ln 2)
    spans = torch.zeros(1, MAX_WORDS, 2, dtype=torch.long)
    spans[0, :3] = torch.tensor([[5, 10], [5, 17], [11, 17]])  # Order, Order Member, Member
    logits = torch.zeros(1, 2, MAX_WORDS + 1)
    logits[0, 0, 1] = 20.0
    assert float(select_loss(logits, maps, point, end, spans=spans)) < 1e-3


def test_select_loss_labels_a_list_row_with_its_whole_name_and_no_scroll_step():
    # scroll_find: terms 0 "Leila", 1 "Leila Foster", 2 "Foster". The row "Leila Foster"
    # (row 15) is clicked right of its text; another Foster shows two rows below. The
    # label is the pair, not the words of it, nor the one "Foster" (shown twice).
    maps = torch.zeros(2, MAX_WORDS, 40, 60)
    maps[:, 1, 14:17, 8:16] = 255.0  # the pair's blob at the name's centre
    maps[:, 0, 14:17, 6:12] = 255.0
    maps[:, 2, 14:17, 12:18] = 255.0
    maps[:, 2, 24:27, 12:18] = 255.0
    spans = torch.full((2, MAX_WORDS, 2), -1, dtype=torch.long)
    spans[:, :3] = torch.tensor([[9, 14], [9, 21], [15, 21]])
    end = torch.full((2, 2), -1.0)
    right_of_name = torch.tensor([[36.5 / 60, 15.5 / 40]] * 2)
    on_foster = torch.tensor([[26.5 / 60, 15.5 / 40]] * 2)  # beside "Foster", far from the pair

    def labels(point: torch.Tensor) -> list[int]:
        target, labelled = select_targets(maps, point, torch.ones(2, MAX_WORDS, dtype=bool), spans)
        assert bool(labelled.all())
        return torch.nonzero(target[0]).flatten().tolist()

    assert labels(right_of_name) == [1]
    assert labels(on_foster) == [1]  # the word is part of the pair that shows on its line
    logits = torch.zeros(2, 2, MAX_WORDS + 1)
    logits[:, 0, 1] = 20.0
    assert float(select_loss(logits, maps, right_of_name, end, spans=spans)) < 1e-3
    logits[:, 0, 1], logits[:, 0, 2] = 0.0, 20.0  # "Foster"
    assert float(select_loss(logits, maps, right_of_name, end, spans=spans)) > 5.0
    # A scroll step's point is a place over the list: no label, whatever the row under it.
    scroll = torch.tensor([True, True])
    assert float(select_loss(logits, maps, right_of_name, end, spans=spans, unlabelled=scroll)) == 0.0
    # Without the pair on screen the row's own words are the candidates; "Foster" shows
    # twice, so "Leila" is the specific one.
    maps[:, 1] = 0.0
    assert labels(right_of_name) == [0]
