"""Loss terms, each a small function."""

from __future__ import annotations

import torch


def keypoint_mse(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Heatmap MSE per keypoint, masked by (B, K) weights (unlabelled/out-of-crop keypoints count 0);
    averaged over the batch's keypoints like MMPose's KeypointMSELoss (x 0.5 omitted)."""
    per_kp = ((pred.float() - target.float()) ** 2).mean(dim=(2, 3))
    return (per_kp * weights).mean()
