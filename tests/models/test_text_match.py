"""The instruction match channel lights up the element the instruction names, on real frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deskmimic.core.errors import ConfigError
from deskmimic.models.actions import action_from_step
from deskmimic.models.data.augment import AugmentConfig, augment_batch
from deskmimic.models.data.dataset import cache_key, load_episode_samples, split_samples
from deskmimic.models.data.steps import steps_for_episode
from deskmimic.models.data.synthetic import synthetic_samples
from deskmimic.models.net.policy_net import NetConfig
from deskmimic.models.perception.match_maps import match_channel
from deskmimic.models.perception.terms import MAX_WORDS, instruction_words
from deskmimic.models.training.train import run_training
from deskmimic.recorder.episode import Episode
from tests.models.conftest import H, W, small_config


def test_instruction_words_drop_stop_words_and_keep_quoted_text():
    assert instruction_words("Click Save") == ["Save"]
    assert instruction_words("Type 'red fox' into Email") == ["red", "fox", "Email"]
    assert instruction_words("Click Red, then Blue, then Red") == ["Red", "Blue"]
    assert instruction_words("click the") == []


def _click_frames(root: Path):
    """(frame, instruction, target box x, y, w, h, other buttons' boxes) of each recorded
    click_button demo."""
    out = []
    for ep_dir in sorted(root.iterdir()):
        with Episode.open(ep_dir) as ep:
            step = next(
                s
                for s in steps_for_episode(ep)
                if (a := action_from_step(s)) is not None and a.kind == "click"
            )
            label = ep.instruction.split()[-1]
            boxes = ep.extra["boxes"]
            others = [b for k, b in boxes.items() if k.startswith("button:") and k != f"button:{label}"]
            out.append((ep.frame(step.frame_index), ep.instruction, boxes[f"button:{label}"], others))
    return out


@pytest.mark.parametrize("screen", [False, True], ids=["task-window", "full-screen"])
def test_the_channel_lights_the_named_button_of_a_recorded_demo(demo_root: Path, screen: bool):
    # full-screen: the window inside a 1280x800 capture.
    frames = _click_frames(demo_root / "click")
    assert len(frames) == 3
    for frame, instruction, (bx, by, bw, bh), others in frames:
        dx = dy = 0
        if screen:
            canvas = np.full((800, 1280, 3), 228, np.uint8)
            canvas[90 : 90 + frame.shape[0], 310 : 310 + frame.shape[1]] = frame
            frame, dx, dy = canvas, 310, 90
        h, w = frame.shape[:2]
        m = match_channel(frame, instruction, h, w)
        assert m.shape == (h, w) and m.dtype == np.uint8
        inside = int(m[by + dy : by + dy + bh, bx + dx : bx + dx + bw].max())
        assert inside >= 200, (instruction, inside)
        # No other button lights up (the banner names the word too: that is text, not a
        # button, and the policy learns where buttons are).
        for ox, oy, ow, oh in others:
            assert m[oy + dy : oy + dy + oh, ox + dx : ox + dx + ow].max() <= 80, instruction
        # another instruction does not light up this button
        other = match_channel(frame, "Click Zyzzyva", h, w)
        assert other[by + dy : by + dy + bh, bx + dx : bx + dx + bw].max() == 0


def test_dataset_adds_the_channel_under_its_own_cache_key(demo_root: Path, tmp_path: Path):
    ep_dir = sorted((demo_root / "click").iterdir())[0]
    assert cache_key(ep_dir, H, W, True) != cache_key(ep_dir, H, W, False)
    _, plain = load_episode_samples(ep_dir, H, W, tmp_path)
    _, with_match = load_episode_samples(ep_dir, H, W, tmp_path, text_match=True)
    _, cached = load_episode_samples(ep_dir, H, W, tmp_path, text_match=True)
    assert plain[0].image.shape == (H, W, 3) and with_match[0].image.shape == (H, W, 4)
    assert np.array_equal(with_match[0].image[..., :3], plain[0].image)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(with_match, cached, strict=True))
    s = with_match[0]  # the click: the channel lights the target box, scaled
    x0, y0, x1, y1 = s.box
    channel = s.image[..., 3]
    r0, r1 = int(y0 * H / s.height), int(np.ceil(y1 * H / s.height))
    c0, c1 = int(x0 * W / s.width), int(np.ceil(x1 * W / s.width))
    assert channel[r0:r1, c0:c1].max() >= 200


def test_augmentation_shifts_the_channel_with_the_image_and_keeps_its_values():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (8, 32, 48, 4), dtype=torch.uint8, generator=gen)
    images[..., 3] = images[..., 0]  # the match channel starts as a copy of red
    batch = {
        "point": torch.full((8, 2), -1.0),
        "end": torch.full((8, 2), -1.0),
        "box": torch.full((8, 4), -1.0),
    }
    cfg = AugmentConfig(translate=0.2, brightness=0.0, contrast=0.0, gain=0.0)
    moved, _ = augment_batch(images, batch, cfg, gen)
    assert torch.equal(moved[..., 3], moved[..., 0])  # the same shift for every channel
    jitter = AugmentConfig(translate=0.0, brightness=0.3, contrast=0.3, gain=0.3)
    out, _ = augment_batch(images, batch, jitter, gen)
    assert torch.equal(out[..., 3], images[..., 3].float())  # colours change, matches do not
    assert not torch.equal(out[..., 0], images[..., 0].float())


def test_three_channel_networks_keep_their_config_hash_and_mismatches_are_refused(
    tmp_path: Path,
):
    # Checkpoints from before the setting existed hash their NetConfig without it.
    assert "text_match" not in NetConfig().to_dict()
    assert NetConfig(text_match=True).to_dict()["text_match"] is True
    assert NetConfig.from_dict(NetConfig().to_dict()) == NetConfig()
    samples = synthetic_samples(8, seed=0, size=(H, W), done=False)  # RGB only
    cfg = small_config(tmp_path, [], name="mismatch", val_fraction=0.0, epochs=1)
    assert cfg.text_match  # the default
    with pytest.raises(ConfigError, match="text_match"):
        run_training(cfg, split_samples(samples, 0.0, 0))


def test_a_trained_policy_computes_the_channel_itself(trained_run: Path, demo_root: Path):
    from deskmimic.models.policy import load_policy

    policy = load_policy(trained_run, which="last")
    # The default: one map per instruction word, RGB + MAX_WORDS channels.
    assert policy.spec.net.text_match and policy.spec.net.word_select
    assert policy.net.cfg.in_channels == 3 + MAX_WORDS
    frame, instruction, _, _ = _click_frames(demo_root / "click")[0]
    action = policy.act({"image": frame, "instruction": instruction})
    assert action.kind in policy.spec.space.kinds


def test_a_run_without_the_channel_resumes_without_it(demo_root: Path, tmp_path: Path):
    from deskmimic.models.training.checkpoint import load_checkpoint

    old = small_config(tmp_path, [demo_root / "click"], name="old", epochs=1, text_match=False)
    run_training(old)
    resumed = small_config(tmp_path, [demo_root / "click"], name="old", epochs=2, resume=True)
    assert resumed.text_match  # the default: the run's own setting must win
    done = run_training(resumed)
    assert done["epoch"] == 2
    spec, _, _ = load_checkpoint(old.run_dir, "last")
    assert not spec.net.text_match


def test_the_network_reads_the_whole_of_a_long_instruction(trained_run: Path, caplog):
    from types import SimpleNamespace

    from deskmimic.models.data.dataset import DatasetSplit
    from deskmimic.models.policy import load_policy
    from deskmimic.models.training.build import text_len_for as _text_len

    # A workflow instruction is ~120 characters: cut at 96, the option to choose was lost.
    text = (
        "Open Settings \u203a Order Contact, set Filename to 'azure' and Contact to "
        "'paddle lunar', choose Mode Verbose, then press OK"
    )
    data = DatasetSplit([SimpleNamespace(instruction="Click OK")], [])
    assert _text_len(96, data) == 96
    data.val.append(SimpleNamespace(instruction=text))
    assert _text_len(96, data) == 128 and len(text) <= 128
    assert _text_len(200, data) == 200
    # A policy trained on shorter instructions says what it cannot read.
    policy = load_policy(trained_run, which="last")
    long = "Click OK " + "and then some more words " * 20
    with caplog.at_level("WARNING"):
        policy._text(long)
    assert "is cut off" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        policy._text("Click OK")
    assert "cut off" not in caplog.text
