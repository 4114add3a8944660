"""Refined transformer decoder, RTD (training only).

K learnable keypoint queries cross-attend to the student's head feature (pooled to stride 8, with a 2-D sine
positional encoding) through a few pre-norm decoder layers; each query then classifies its keypoint's x and
y (SimCC). Why SimCC rather than heatmap refinement: a query maps naturally to two 1-D distributions, the
output needs no upsampling decoder, and the sub-pixel split makes the supervision sharper than the
stride-4 heatmap. Its gradients flow back into the student's features, which is its purpose; it is dropped
at export.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sine_position_encoding(h: int, w: int, dim: int, device) -> torch.Tensor:
    """(h*w, dim) 2-D sine/cosine encoding: half the channels for y, half for x."""
    quarter = dim // 4
    freq = torch.exp(torch.arange(quarter, device=device, dtype=torch.float32) * (-math.log(10000.0) / quarter))
    ys = torch.arange(h, device=device, dtype=torch.float32)[:, None] * freq
    xs = torch.arange(w, device=device, dtype=torch.float32)[:, None] * freq
    pe_y = torch.cat([ys.sin(), ys.cos()], 1)[:, None, :].expand(h, w, 2 * quarter)
    pe_x = torch.cat([xs.sin(), xs.cos()], 1)[None, :, :].expand(h, w, 2 * quarter)
    pe = torch.cat([pe_y, pe_x], -1).reshape(h * w, 4 * quarter)
    if pe.shape[1] < dim:
        pe = torch.nn.functional.pad(pe, (0, dim - pe.shape[1]))
    return pe


class RefinedTransformerDecoder(nn.Module):
    def __init__(self, in_channels: int, num_keypoints: int, bins: tuple[int, int], dim: int = 64, layers: int = 2,
                 heads: int = 4):  # fmt: skip
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, 1)
        self.queries = nn.Parameter(torch.randn(num_keypoints, dim) * 0.02)
        layer = nn.TransformerDecoderLayer(dim, heads, 2 * dim, dropout=0.0, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, layers)
        self.norm = nn.LayerNorm(dim)
        self.to_x = nn.Linear(dim, bins[0])
        self.to_y = nn.Linear(dim, bins[1])

    def forward(self, feature: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, h, w) student feature -> SimCC logits (B, K, Wb), (B, K, Hb)."""
        # keys/values at stride 8: a quarter of the tokens; the SimCC heads recover sub-pixel detail
        feature = torch.nn.functional.avg_pool2d(self.proj(feature), 2, ceil_mode=True)
        b, _, h, w = feature.shape
        memory = feature.flatten(2).transpose(1, 2)
        memory = memory + sine_position_encoding(h, w, memory.shape[-1], feature.device)
        q = self.decoder(self.queries.expand(b, -1, -1), memory)
        q = self.norm(q)
        return self.to_x(q), self.to_y(q)
