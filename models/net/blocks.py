"""The convolutional building blocks of `PolicyNet`: FiLM conditioning, separable convs,
the encoder's downsampling stages and the decoder's upsampling blocks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _gn(c: int) -> nn.GroupNorm:
    # GroupNorm, not BatchNorm: identical in train and eval, and batch-1 inference
    # and tiny datasets do not depend on running statistics.
    return nn.GroupNorm(min(8, c // 4) or 1, c)


class FiLM(nn.Module):
    """Per-channel scale and shift from the conditioning vector; starts as the identity."""

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.lin.weight)
        nn.init.zeros_(self.lin.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.lin(cond)[:, :, None, None].chunk(2, dim=1)
        return x * (1.0 + gamma) + beta


class SepConv(nn.Module):
    """Depthwise 3x3 + pointwise 1x1 + GN: a 3x3 receptive field at ~1/8 the cost of a full conv."""

    def __init__(self, c: int, cout: int | None = None) -> None:
        super().__init__()
        cout = cout or c
        self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.pw = nn.Conv2d(c, cout, 1, bias=False)
        self.norm = _gn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.pw(self.dw(x)))


class Stage(nn.Module):
    """Downsample (strided full conv, or the 4x4 patch stem) + GN + FiLM + ReLU + residual SepConv."""

    def __init__(
        self,
        cin: int,
        cout: int,
        cond_dim: int,
        stem_norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
    ) -> None:
        super().__init__()
        if stem_norm is not None:
            # 4x4 patches at stride 4: sees every pixel, cheap at full resolution. It takes
            # raw 0..255 pixels and folds the (x/255 - mean)/std normalization into its weights
            # (exact: the stem has no padding), saving two full-image passes per call.
            self.down = nn.Conv2d(cin, cout, 4, stride=4, bias=False)
            mean, std = (torch.tensor(v).view(1, cin, 1, 1) for v in stem_norm)
            self.register_buffer("in_scale", 1.0 / (255.0 * std), persistent=False)
            self.register_buffer("in_shift", mean / std, persistent=False)
        else:
            self.down = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.stem = stem_norm is not None
        self.norm = _gn(cout)
        self.film = FiLM(cond_dim, cout)
        self.conv = SepConv(cout)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        if self.stem:
            w = self.down.weight * self.in_scale
            h = F.conv2d(x, w, -(self.down.weight * self.in_shift).sum((1, 2, 3)), stride=4)
        else:
            h = self.down(x)
        h = F.relu(self.film(self.norm(h), cond))
        return F.relu(h + self.conv(h))


class DecoderBlock(nn.Module):
    """Upsample the coarser map, add the lateral skip, SepConv + FiLM + ReLU."""

    def __init__(self, c_coarse: int, c_skip: int, cout: int, cond_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(c_coarse, cout, 1)
        self.lateral = nn.Conv2d(c_skip, cout, 1)
        self.conv = SepConv(cout)
        self.film = FiLM(cond_dim, cout)

    def forward(self, coarse: torch.Tensor, skip: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # Project before upsampling: the 1x1 conv then runs on 4x fewer pixels.
        h = F.interpolate(self.proj(coarse), scale_factor=2.0, mode="nearest") + self.lateral(skip)
        return F.relu(self.film(h + self.conv(F.relu(h)), cond))
