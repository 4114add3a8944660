"""CKD-LQPose's trainable parts around the student, and the export of the deployable student.

`CKDNet` holds what trains together (student, feature adapter, PatchWQ-GAN generator, fusion, RTD) so DDP
wraps it as one module; the discriminator is separate (own optimiser) and the frozen teacher stays outside.
Every part can be switched off in `CKDConfig`; a switched-off part has no parameters and no loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .fusion import CrossTaskFusion
from .patchwq_gan import PatchDiscriminator, RestorationGenerator
from .rtd import RefinedTransformerDecoder
from .student import Student


@dataclass
class CKDConfig:
    """Defaults scale every auxiliary term to about the size of the ground-truth heatmap loss (~1e-3 at
    convergence, see docs/ckd.md), so no training-only part can outweigh the pose objective in the shared
    student weights; Adam's per-parameter scaling keeps the small weights from slowing the parts' own learning."""

    enabled: bool = False
    teacher: str = ""  # lqpose training checkpoint of the WQ teacher
    init_from_teacher: bool = True  # start the student from the teacher's weights when architectures match
    heat_kd: float = 1.0  # a: student heatmaps -> teacher heatmaps
    teacher_flip: bool = False  # the teacher's heatmaps averaged over the WQ crop and its mirror (flip test)
    use_gan: bool = True
    use_fusion: bool = True
    feat_kd: float = 1e-3  # b: adapted student feature -> fused target f_F (relative MSE)
    fused_aux: float = 1.0  # ground-truth heatmap loss of the fusion's auxiliary head (keeps f_F pose-aware)
    use_rtd: bool = True
    rtd: float = 1e-3  # c: RTD SimCC KL (ground truth + teacher)
    rtd_teacher: float = 0.5  # share of the teacher's targets inside the RTD loss
    rtd_dim: int = 64
    rtd_layers: int = 2
    rtd_heads: int = 4
    simcc_split: float = 2.0
    gan: float = 1e-3  # d: restoration L1 + e * adversarial + perceptual
    adv: float = 0.1  # e: Real-ESRGAN's GAN share
    perceptual_weight: float = 1.0
    gen_width: int = 32
    disc_width: int = 32
    disc_lr: float = 2e-4
    quality: float = 1e-3  # quality-score head (needs model.quality_head; the baseline recipe uses it too)
    quality_tau: float = 0.1  # restoration error scale of the quality target
    warmup_steps: int = 0  # first steps: only GAN, fusion, adapter and RTD train (student frozen)
    kd_decay: bool = False  # DWPose: distillation weights decay linearly to 0 over training


class CKDNet(nn.Module):
    def __init__(self, student: Student, teacher_head_channels: int, cfg: CKDConfig, bins: tuple[int, int]):
        super().__init__()
        self.student = student
        self.cfg = cfg
        k = student.cfg.num_keypoints
        self.generator = RestorationGenerator(student.feature_channels[:4], cfg.gen_width) if cfg.use_gan else None
        if cfg.use_fusion:
            wq = cfg.gen_width if cfg.use_gan else 0
            self.fusion = CrossTaskFusion(teacher_head_channels, wq, teacher_head_channels, k)
            self.adapter = nn.Conv2d(student.cfg.head_channels, teacher_head_channels, 1)
        else:
            self.fusion = self.adapter = None
        self.rtd = (
            RefinedTransformerDecoder(student.cfg.head_channels, k, bins, cfg.rtd_dim, cfg.rtd_layers, cfg.rtd_heads)
            if cfg.use_rtd
            else None
        )

    def forward(self, x_lq: torch.Tensor, f_t: torch.Tensor | None, freeze_student: bool = False) -> dict:
        if freeze_student:
            with torch.no_grad():
                out = self.student.forward_features(x_lq)
        else:
            out = self.student.forward_features(x_lq)
        if self.generator is not None:
            out["restored"], out["f_w"] = self.generator(out["features"], x_lq)
        if self.fusion is not None:
            f_w = out.get("f_w")
            if f_w is None:
                f_w = f_t.new_zeros(f_t.shape[0], 0, *f_t.shape[-2:])
            out["f_f"], out["fused_heatmaps"] = self.fusion(f_t, f_w)
            out["adapted"] = self.adapter(out["head_feature"])
        if self.rtd is not None:
            out["rtd_x"], out["rtd_y"] = self.rtd(out["head_feature"])
        return out


def build_discriminator(cfg: CKDConfig) -> PatchDiscriminator | None:
    return PatchDiscriminator(cfg.disc_width) if cfg.enabled and cfg.use_gan else None


def export_student(train_checkpoint: dict) -> dict:
    """The deployable checkpoint: the student's weights, its config and keypoint layout, nothing else
    (no teacher, GAN, fusion, adapter, RTD or optimiser state)."""
    config = {k: v for k, v in train_checkpoint["config"].items() if k in ("model", "data", "seed")}
    return {
        "model": train_checkpoint["model"],
        "config": config,
        "keypoints": train_checkpoint["keypoints"],
        "step": train_checkpoint.get("step", 0),
        "deployable": True,
    }
