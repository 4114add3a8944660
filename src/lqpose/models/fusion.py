"""Cross-task fusion (training only): merges pose knowledge f_T (teacher) and WQ knowledge f_W
(PatchWQ-GAN) into the distillation target f_F, with channel then spatial attention (CBAM-style).

An auxiliary heatmap head on f_F, trained with the ground truth, keeps the fused target pose-informative;
the student is pulled toward f_F with a stop-gradient, so the target cannot collapse onto the student.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CrossTaskFusion(nn.Module):
    def __init__(
        self, teacher_channels: int, wq_channels: int, out_channels: int, num_keypoints: int, reduction: int = 4
    ):
        super().__init__()
        cin = teacher_channels + wq_channels
        self.channel_gate = nn.Sequential(
            nn.Linear(cin, max(8, cin // reduction)), nn.ReLU(inplace=True), nn.Linear(max(8, cin // reduction), cin)
        )
        self.spatial_gate = nn.Conv2d(2, 1, 7, padding=3)
        self.project = nn.Sequential(nn.Conv2d(cin, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
        self.aux_head = nn.Conv2d(out_channels, num_keypoints, 1)

    def forward(self, f_t: torch.Tensor, f_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (f_F, auxiliary heatmaps from f_F)."""
        if f_w.shape[-2:] != f_t.shape[-2:]:
            f_w = F.interpolate(f_w, size=f_t.shape[-2:], mode="bilinear", align_corners=False)
        x = torch.cat([f_t, f_w], 1)
        x = x * torch.sigmoid(self.channel_gate(x.mean(dim=(2, 3))))[..., None, None]
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        x = x * torch.sigmoid(self.spatial_gate(pooled))
        f_f = self.project(x)
        return f_f, self.aux_head(f_f)
