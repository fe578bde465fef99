"""Training-time augmentation that keeps the targets right.

Translation moves the whole screen by a few pixels and moves the target points and
boxes with it (never pushing a target off-screen); photometric jitter changes
brightness, contrast and per-channel gain. Both run batched on the training device.
Measured in the design probe: without augmentation the net memorises the screens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from deskmimic.core.errors import ConfigError
from deskmimic.models.net.word_select import term_parts
from deskmimic.models.perception.terms import MAX_WORDS


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation strengths.

    Attributes:
        translate: largest shift as a fraction of the input width/height.
        brightness: largest additive change, fraction of full scale.
        contrast: largest relative contrast change.
        gain: largest relative per-channel gain change (colour shift).
        pair_words: with per-word maps, how often a shown pair's words lose their own maps
            (`hide_pair_words`).
    """

    translate: float = 0.08
    brightness: float = 0.15
    contrast: float = 0.2
    gain: float = 0.08
    pair_words: float = 0.5

    def __post_init__(self) -> None:
        for name in ("translate", "brightness", "contrast", "gain"):
            value = getattr(self, name)
            if not 0.0 <= value <= 0.5:
                raise ConfigError(f"augmentation {name}={value}: must be in [0, 0.5]")
        if not 0.0 <= self.pair_words <= 1.0:
            raise ConfigError(f"augmentation pair_words={self.pair_words}: must be in [0, 1]")


def _uniform(
    n: int, lo: torch.Tensor | float, hi: torch.Tensor | float, gen: torch.Generator, device
) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen, device=device)


def translate_batch(
    images: torch.Tensor, batch: dict[str, torch.Tensor], max_frac: float, gen: torch.Generator
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Shift each image by whole pixels (edges replicated) and its targets with it.

    Args:
        images: (B, H, W, C) uint8 or float (every channel moves alike).
        batch: targets with normalized ``point``/``end`` (B, 2) and ``box`` (B, 4); < 0 = absent.
        max_frac: largest shift as a fraction of W and H.
        gen: random generator (on the images' device).
    """
    b, h, w, _ = images.shape
    dev = images.device
    lims = []
    for axis, size in ((0, w), (1, h)):
        tmax = torch.full((b,), float(int(max_frac * size)), device=dev)
        lo, hi = -tmax, tmax.clone()
        for key in ("point", "end"):
            p = batch[key][:, axis]
            ok = batch[key][:, 0] >= 0
            px = p * size
            # keep the shifted point at least half a pixel inside the image
            lo = torch.where(ok, torch.maximum(lo, torch.ceil(0.5 - px)), lo)
            hi = torch.where(ok, torch.minimum(hi, torch.floor(size - 0.5 - px)), hi)
        hi = torch.maximum(hi, lo)
        lims.append(torch.floor(_uniform(b, lo, hi + 0.999, gen, dev)).clamp(max=hi))
    tx, ty = lims
    ix = (torch.arange(w, device=dev)[None, :] - tx[:, None].long()).clamp(0, w - 1)
    iy = (torch.arange(h, device=dev)[None, :] - ty[:, None].long()).clamp(0, h - 1)
    bi = torch.arange(b, device=dev)[:, None, None]
    shifted = images[bi, iy[:, :, None], ix[:, None, :]]
    out = dict(batch)
    shift = torch.stack([tx / w, ty / h], dim=1)
    for key in ("point", "end"):
        valid = (batch[key][:, :1] >= 0).float()
        out[key] = batch[key] + shift * valid
    bvalid = (batch["box"][:, :1] >= 0).float()
    out["box"] = batch["box"] + shift.repeat(1, 2) * bvalid
    return shifted, out


def photometric(images: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Brightness / contrast / per-channel gain jitter; returns float in [0, 255].

    Only the 3 colour channels change: a 4th (the instruction match map) is a measurement
    of the screen, not a colour.
    """
    if images.shape[-1] > 3:
        rest = images[..., 3:].float()
        return torch.cat([photometric(images[..., :3], cfg, gen), rest], dim=-1)
    b = images.shape[0]
    dev = images.device
    x = images.float()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = _uniform(b, 1 - cfg.contrast, 1 + cfg.contrast, gen, dev).view(b, 1, 1, 1)
    bright = _uniform(b, -cfg.brightness, cfg.brightness, gen, dev).view(b, 1, 1, 1) * 255.0
    gain = 1 + cfg.gain * (2 * torch.rand(b, 1, 1, 3, generator=gen, device=dev) - 1)
    return ((x - mean) * contrast + mean + bright).mul(gain).clamp(0.0, 255.0)


def augment_batch(
    images: torch.Tensor, batch: dict[str, torch.Tensor], cfg: AugmentConfig, gen: torch.Generator
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Translation, photometric jitter, and with per-word maps `hide_pair_words`; images
    come back as float (B, H, W, C) in [0, 255]."""
    if cfg.translate > 0:
        images, batch = translate_batch(images, batch, cfg.translate, gen)
    images = photometric(images, cfg, gen)
    if cfg.pair_words > 0 and "words" in batch and images.shape[-1] == 3 + MAX_WORDS:
        images = hide_pair_words(images, batch["words"], cfg.pair_words, gen)
    return images, batch


# A pair's map at least this high (of 255) counts as shown.
PAIR_SHOWN = 191.0


def hide_pair_words(
    images: torch.Tensor, words: torch.Tensor, p: float, gen: torch.Generator
) -> torch.Tensor:
    """Where a pair of words shows on screen, blank its words' own maps with probability p.

    In 20 scroll_find demonstrations the last name showed on screen whenever the full
    name did, but for 7 of 93 frames, so the net learnt to click on either; held out,
    the neighbour "Kai Abbott" showed "Abbott" a row before "Nadia Abbott" came into
    view, and it clicked. With the words blanked at half the frames where their pair
    shows, only the pair goes with every click.

    Args:
        images: float (B, H, W, 3 + MAX_WORDS), the per-word maps after RGB.
        words: (B, MAX_WORDS, 2) the terms' character spans (`perception.terms.word_span_array`).
    """
    parts = term_parts(words)  # (B, i, j): term i inside term j
    b = images.shape[0]
    maps = images[..., 3:]
    shown = maps.amax((1, 2)) >= PAIR_SHOWN  # (B, W)
    draw = torch.rand(b, MAX_WORDS, generator=gen, device=images.device) < p
    hide = (parts & (shown & draw)[:, None, :]).any(-1)  # (B, W)
    if not bool(hide.any()):
        return images
    rgb = torch.ones(b, 3, dtype=torch.bool, device=hide.device)
    keep = torch.cat([rgb, ~hide], 1).to(images.dtype)
    return images * keep[:, None, None, :]
