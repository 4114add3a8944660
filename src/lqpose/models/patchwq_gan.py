"""PatchWQ-GAN (training only): restores the WQ image from the student's features and the LQ input, and
judges local patches of the restoration against the real WQ crop.

Cost matters (a full-resolution restoration GAN makes a CKD step 10-25x a plain step on CPU): the generator
decodes the student's own multi-scale features (no encoder of its own) to a half-resolution image, and the
PatchGAN discriminator sees half-resolution images. The generator's stride-4 decoder feature is the WQ
knowledge f_W given to the fusion block.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class RestorationGenerator(nn.Module):
    """U-Net-style decoder over the student's features (strides 4..32, skip connections) plus the LQ input
    at stride 2; outputs the restored image at half the input resolution (normalised like the input)."""

    def __init__(self, feature_channels: list[int], width: int = 32):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in feature_channels)
        self.merge = nn.ModuleList(_block(2 * width, width) for _ in feature_channels[:-1])
        self.image_in = _block(3, width // 2)
        self.up2 = _block(width + width // 2, width)
        self.out = nn.Conv2d(width, 3, 3, padding=1)
        self.width = width

    def forward(self, features: list[torch.Tensor], x_lq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (restored image at stride 2, f_W at stride 4)."""
        x = self.lateral[-1](features[-1])
        for i in range(len(features) - 2, -1, -1):
            skip = self.lateral[i](features[i])
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = self.merge[i](torch.cat([x, skip], 1))
        f_w = x  # stride 4
        half = F.interpolate(x_lq, scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)
        x = F.interpolate(x, size=half.shape[-2:], mode="bilinear", align_corners=False)
        x = self.up2(torch.cat([x, self.image_in(half)], 1))
        return half + self.out(x), f_w  # residual: the generator learns what the LQ input lacks


class PatchDiscriminator(nn.Module):
    """PatchGAN: a grid of real/fake logits, each judging one local patch (receptive field ~ 22 px)."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * width, 1, 3, 1, 1),
        )  # fmt: skip

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)
