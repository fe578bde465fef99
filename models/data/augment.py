"""Training-time augmentation that keeps the targets right.

Translation moves the whole screen by a few pixels and moves the target points and
boxes with it (never pushing a target off-screen); photometric jitter changes
brightness, contrast and per-channel gain. Both run batched on the training device.
Measured in the design probe: without augmentation the net memorises the screens.

Look augmentation stands in for the looks a person's applications have and the
demonstrations did not (issue 21): a zoom draws every element larger or smaller (another
scale or font size), and a dark flip turns a light theme dark (lightness inverted, hue
kept). The match maps are read from the screen, not learnt: a zoom moves them with the
pixels, the dark flip leaves them alone (the reader reads either theme).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

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
        zoom: largest magnification as a fraction (0.5: elements drawn from 1/1.5 to 1.5
            times their size, log-uniform), `zoom_batch`; 0 = off.
        dark: how often a screen is turned dark (`dark_flip`); 0 = off.
    """

    translate: float = 0.08
    brightness: float = 0.15
    contrast: float = 0.2
    gain: float = 0.08
    pair_words: float = 0.5
    zoom: float = 0.0
    dark: float = 0.0

    def __post_init__(self) -> None:
        for name in ("translate", "brightness", "contrast", "gain"):
            value = getattr(self, name)
            if not 0.0 <= value <= 0.5:
                raise ConfigError(f"augmentation {name}={value}: must be in [0, 0.5]")
        for name in ("pair_words", "dark"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"augmentation {name}={getattr(self, name)}: must be in [0, 1]")
        if not 0.0 <= self.zoom <= 1.0:
            raise ConfigError(f"augmentation zoom={self.zoom}: must be in [0, 1]")


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


# A zoomed target stays this far (fraction of the input) inside the image.
ZOOM_MARGIN = 0.02


def _zoom_shifts(batch: dict[str, torch.Tensor], s: torch.Tensor,
                 gen: torch.Generator) -> torch.Tensor:
    """(B, 2) shift ``t`` of ``p' = p * s + t`` per axis: the zoomed screen covers the
    image (zoom in) or lies inside it (zoom out) where the targets allow, and every target
    point stays `ZOOM_MARGIN` inside."""
    b, dev = s.shape[0], s.device
    lo = torch.minimum(1 - s, torch.zeros_like(s))[:, None].repeat(1, 2)
    hi = torch.maximum(1 - s, torch.zeros_like(s))[:, None].repeat(1, 2)
    for key in ("point", "end"):
        ok = (batch[key][:, :1] >= 0).expand(-1, 2)
        p = batch[key] * s[:, None]
        lo = torch.where(ok, torch.maximum(lo, ZOOM_MARGIN - p), lo)
        hi = torch.where(ok, torch.minimum(hi, 1 - ZOOM_MARGIN - p), hi)
    hi = torch.maximum(hi, lo)
    return lo + (hi - lo) * torch.rand(b, 2, generator=gen, device=dev)


def zoom_batch(
    images: torch.Tensor, batch: dict[str, torch.Tensor], max_zoom: float, gen: torch.Generator
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Draw each screen larger or smaller (1/(1+max_zoom) .. 1+max_zoom, log-uniform), every
    channel alike (edges replicated where a smaller screen leaves room), targets with it.

    Args:
        images: (B, H, W, C) uint8 or float.
        batch: targets with normalized ``point``/``end`` (B, 2) and ``box`` (B, 4); < 0 = absent.
    Returns float images.
    """
    b, h, w, _ = images.shape
    dev = images.device
    log_z = math.log1p(max_zoom)
    s = torch.exp((2 * torch.rand(b, generator=gen, device=dev) - 1) * log_z)
    t = _zoom_shifts(batch, s, gen)
    # Output pixel centre u (0..1) shows input u_in = (u - t) / s; grid_sample wants -1..1.
    ux = (torch.arange(w, device=dev) + 0.5) / w
    uy = (torch.arange(h, device=dev) + 0.5) / h
    gx = ((ux[None, :] - t[:, :1]) / s[:, None]) * 2 - 1  # (B, W)
    gy = ((uy[None, :] - t[:, 1:]) / s[:, None]) * 2 - 1  # (B, H)
    grid = torch.stack([gx[:, None, :].expand(b, h, w), gy[:, :, None].expand(b, h, w)], -1)
    x = images.float().permute(0, 3, 1, 2)
    out_img = F.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                            align_corners=False).permute(0, 2, 3, 1)
    out = dict(batch)
    for key in ("point", "end"):
        valid = batch[key][:, :1] >= 0
        out[key] = torch.where(valid, batch[key] * s[:, None] + t, batch[key])
    bvalid = batch["box"][:, :1] >= 0
    out["box"] = torch.where(bvalid, batch["box"] * s[:, None] + t.repeat(1, 2), batch["box"])
    return out_img, out


def dark_flip(images: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Turn a fraction ``p`` of the screens dark: lightness inverted, hue and saturation
    kept (a blue button stays blue, as in a dark theme; a plain inversion would paint it
    orange). Only the colour channels change."""
    x = images.float()
    b = x.shape[0]
    flip = (torch.rand(b, generator=gen, device=x.device) < p).view(b, 1, 1, 1)
    rgb = x[..., :3]
    luma = (rgb * torch.tensor([0.299, 0.587, 0.114], device=x.device)).sum(-1, keepdim=True)
    dark = (rgb + (255.0 - 2 * luma)).clamp(0.0, 255.0)
    rgb = torch.where(flip, dark, rgb)
    return torch.cat([rgb, x[..., 3:]], dim=-1) if x.shape[-1] > 3 else rgb


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
    """Zoom, translation, dark flip, photometric jitter, and with per-word maps
    `hide_pair_words`; images come back as float (B, H, W, C) in [0, 255]."""
    if cfg.zoom > 0:
        images, batch = zoom_batch(images, batch, cfg.zoom, gen)
    if cfg.translate > 0:
        images, batch = translate_batch(images, batch, cfg.translate, gen)
    if cfg.dark > 0:
        images = dark_flip(images, cfg.dark, gen)
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
