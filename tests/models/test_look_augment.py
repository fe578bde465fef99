"""Look augmentation: a zoom moves the targets with the pixels of every channel, a dark flip
turns a light screen dark with its hues kept and its match maps untouched."""

from __future__ import annotations

import pytest
import torch

from deskmimic.core.errors import ConfigError
from deskmimic.models.data.augment import AugmentConfig, augment_batch, dark_flip, zoom_batch

H, W = 64, 80


def screen_with_marks(points: list[tuple[float, float]]) -> tuple[torch.Tensor, dict]:
    """(B, H, W, 4): grey screens, a white 5x5 square at each target point on RGB and on
    the 4th channel (a match map)."""
    b = len(points)
    img = torch.full((b, H, W, 4), 90, dtype=torch.uint8)
    img[..., 3] = 0
    for i, (u, v) in enumerate(points):
        c, r = int(u * W), int(v * H)
        img[i, r - 2 : r + 3, c - 2 : c + 3, :] = 255
    pts = torch.tensor(points, dtype=torch.float32)
    box = torch.cat([pts - 2.5 / torch.tensor([W, H]), pts + 2.5 / torch.tensor([W, H])], 1)
    return img, {"point": pts, "end": torch.full((b, 2), -1.0), "box": box}


def test_a_zoom_moves_the_target_with_the_pixels_of_every_channel():
    points = [(0.1, 0.1), (0.5, 0.5), (0.9, 0.85), (0.3, 0.7)] * 8
    img, batch = screen_with_marks(points)
    gen = torch.Generator().manual_seed(3)
    out, moved = zoom_batch(img, batch, 1.0, gen)
    assert out.shape == (len(points), H, W, 4) and out.dtype == torch.float32
    sizes = []
    for i in range(len(points)):
        u, v = moved["point"][i].tolist()
        assert 0.0 < u < 1.0 and 0.0 < v < 1.0  # never pushed off the screen
        c, r = min(W - 1, int(u * W)), min(H - 1, int(v * H))
        assert out[i, r, c, 0] > 200 and out[i, r, c, 3] > 200, (i, u, v)
        x0, y0, x1, y1 = moved["box"][i].tolist()
        assert x0 < u < x1 and y0 < v < y1
        sizes.append((x1 - x0) * W)
    # Both ways: some drawn larger, some smaller than the 5-pixel original.
    assert min(sizes) < 4.5 and max(sizes) > 5.5
    assert torch.equal(moved["end"], batch["end"])  # absent targets stay absent


def test_a_dark_flip_turns_light_dark_and_keeps_hue_and_maps():
    img = torch.zeros((2, 4, 4, 4))
    img[..., :3] = torch.tensor([245.0, 245.0, 245.0])  # a light window
    img[:, 0, 0, :3] = torch.tensor([40.0, 90.0, 220.0])  # a blue button
    img[..., 3] = 200.0  # a match map
    out = dark_flip(img, 1.0, torch.Generator().manual_seed(0))
    assert out[:, 1, 1, :3].max() < 20  # the window is dark
    r, g, b = out[0, 0, 0, :3].tolist()
    assert b > r and b > g  # still blue
    assert torch.equal(out[..., 3], img[..., 3])
    assert torch.equal(dark_flip(img, 0.0, torch.Generator()), img)


def test_look_augmentation_is_off_by_default_and_checked():
    cfg = AugmentConfig()
    assert cfg.zoom == 0.0 and cfg.dark == 0.0
    img, batch = screen_with_marks([(0.5, 0.5)])
    gen = torch.Generator().manual_seed(0)
    plain, b1 = augment_batch(img, batch, AugmentConfig(translate=0.0, brightness=0.0,
                                                        contrast=0.0, gain=0.0), gen)
    assert torch.equal(b1["point"], batch["point"]) and torch.equal(plain, img.float())
    with pytest.raises(ConfigError, match="zoom"):
        AugmentConfig(zoom=1.5)
    with pytest.raises(ConfigError, match="dark"):
        AugmentConfig(dark=-0.1)
