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


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation strengths.

    Attributes:
        translate: largest shift as a fraction of the input width/height.
        brightness: largest additive change, fraction of full scale.
        contrast: largest relative contrast change.
        gain: largest relative per-channel gain change (colour shift).
    """

    translate: float = 0.08
    brightness: float = 0.15
    contrast: float = 0.2
    gain: float = 0.08

    def __post_init__(self) -> None:
        for name in ("translate", "brightness", "contrast", "gain"):
            value = getattr(self, name)
            if not 0.0 <= value <= 0.5:
                raise ConfigError(f"augmentation {name}={value}: must be in [0, 0.5]")


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
    """Translation then photometric jitter; images come back as float (B, H, W, C) in [0, 255]."""
    if cfg.translate > 0:
        images, batch = translate_batch(images, batch, cfg.translate, gen)
    return photometric(images, cfg, gen), batch
