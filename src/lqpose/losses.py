"""Loss terms, each a small function."""

from __future__ import annotations

import torch


def keypoint_mse(
    pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, fg_weight: float = 0.0
) -> torch.Tensor:
    """Heatmap MSE per keypoint, masked by (B, K) weights (unlabelled/out-of-crop keypoints count 0);
    averaged over the batch's keypoints like MMPose's KeypointMSELoss (x 0.5 omitted).

    `fg_weight` > 0 weighs each pixel by 1 + fg_weight x target: the few pixels near a keypoint then count as
    much as the large background, which gets a network trained from scratch off the all-zero plateau sooner."""
    err = (pred.float() - target.float()) ** 2
    if fg_weight:
        err = err * (1.0 + fg_weight * target.float())
    return (err.mean(dim=(2, 3)) * weights).mean()


def heatmap_kd(
    student: torch.Tensor, teacher: torch.Tensor, weights: torch.Tensor, fg_weight: float = 0.0
) -> torch.Tensor:
    """Heatmap distillation: the student's heatmaps toward the teacher's, masked by keypoint weights (and
    foreground-weighted by the teacher's own peaks, like the ground-truth term)."""
    return keypoint_mse(student, teacher.detach(), weights, fg_weight)


def relative_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE divided by the target's mean square: scale-free, so feature losses of any layer are O(1)."""
    target = target.detach()
    return ((pred.float() - target.float()) ** 2).mean() / (target.float() ** 2).mean().clamp_min(1e-6)


def simcc_kl(logits_x: torch.Tensor, logits_y: torch.Tensor, target_x: torch.Tensor, target_y: torch.Tensor,
             weights: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """KL(target || softmax(logits)) for x and y, per keypoint, masked by (B, K) weights."""

    def kl(logits, target):
        logp = logits.float().log_softmax(-1)
        return (target * (target.clamp_min(1e-12).log() - logp)).sum(-1)

    per_kp = kl(logits_x, target_x.detach()) + kl(logits_y, target_y.detach())
    return (per_kp * weights).sum() / weights.sum().clamp_min(1.0)


def lsgan_discriminator(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """LSGAN (Mao et al. 2017): real patches -> 1, restored patches -> 0. Chosen over hinge for its smooth,
    bounded gradients with a small patch discriminator and small batches."""
    return 0.5 * (((real_logits - 1) ** 2).mean() + (fake_logits**2).mean())


def lsgan_generator(fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((fake_logits - 1) ** 2).mean()


def perceptual(features: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    """Pose-aware perceptual loss: the teacher's features of the restored image vs of the WQ image."""
    return sum(relative_mse(f, t) for f, t in zip(features, targets, strict=True)) / len(features)


def severity_quality(severity: torch.Tensor) -> torch.Tensor:
    """The quality target an LQ crop's degradation severity implies: 1 for clean (0), 0 for severity 5."""
    return 1.0 - severity.float() / 5.0


def quality_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((pred.float() - target.detach().float()) ** 2).mean()
