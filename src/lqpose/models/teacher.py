"""The WQ pose teacher: a trained pose network that sees the well-quality crop, frozen.

It is loaded from an lqpose training checkpoint (e.g. `lqpose train configs/teacher_*_wq.yaml`, or an
imported HRNet/MMPose checkpoint), never trains, stays in eval mode (frozen BatchNorm statistics) and is not
wrapped by DDP.
"""

from __future__ import annotations

import torch
from torch import nn

from .student import Student, StudentConfig, build_student


class Teacher(nn.Module):
    def __init__(self, net: Student):
        super().__init__()
        self.net = net
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.net.eval()

    def train(self, mode: bool = True) -> Teacher:  # noqa: ARG002 - a frozen teacher never leaves eval mode
        self.net.eval()
        return self

    @torch.no_grad()
    def knowledge(self, x_wq: torch.Tensor) -> dict:
        """Heatmaps h_T and features f_T of the WQ crop (no graph is built)."""
        return self.net.forward_features(x_wq)

    def features_with_grad(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Backbone features of `x` with gradients flowing to `x` only (the teacher's weights are frozen):
        used by the pose-aware perceptual loss on restored images."""
        return self.net.backbone(x)


def build_teacher(state: dict, cfg: StudentConfig) -> Teacher:
    """A frozen teacher from a student-architecture config and its weights."""
    net = build_student(StudentConfig(**{**cfg.__dict__, "pretrained": False, "weights": None}))
    net.load_state_dict(state)
    return Teacher(net)
