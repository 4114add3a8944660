"""The WQ pose teacher: a trained pose network that sees the well-quality crop, frozen.

It is loaded from an lqpose training checkpoint (e.g. `lqpose train configs/teacher_*_wq.yaml`, or an
imported HRNet/MMPose checkpoint), never trains, stays in eval mode (frozen BatchNorm statistics) and is not
wrapped by DDP.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from timm.models._features import FeatureListNet
from torch import nn

from ..codec import flip_heatmaps
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
    def knowledge(self, x_wq: torch.Tensor, flip_index: Sequence[int] | None = None) -> dict:
        """Heatmaps h_T and features f_T of the WQ crop (no graph is built). With `flip_index` (the keypoint
        layout's left/right swap) the heatmaps are averaged with those of the mirrored crop, as in flip testing,
        for a second teacher forward; the features stay those of the crop itself. As distillation targets these
        measured worse than the plain heatmaps (docs/results.md, round 20), hence off by default."""
        out = self.net.forward_features(x_wq)
        if flip_index is not None:
            mirrored = self.net(x_wq.flip(3))  # heatmaps only: the mirror's features and quality are not used
            out["heatmaps"] = 0.5 * (out["heatmaps"] + flip_heatmaps(mirrored, flip_index))
        return out

    def shallow_features(self, x: torch.Tensor, levels: int = 2) -> list[torch.Tensor]:
        """The first `levels` backbone features of `x` (strides 4, 8, ...), with gradients flowing to `x` only
        (the teacher's weights are frozen): the pose-aware perceptual loss on restored images.

        For timm's sequential feature extractors the deeper stages are not run at all, which is most of the
        cost; other extractors (HRNet's) run whole. The input is padded to a multiple of 32, which every
        timm backbone accepts."""
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % 32, (-w) % 32
        if pad_h or pad_w:
            x = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h))
        backbone = self.net.backbone
        sequential_blocks = hasattr(backbone, "_stage_out_idx") and getattr(backbone, "feature_hooks", None) is None
        if sequential_blocks and hasattr(backbone, "blocks"):  # timm's MobileNet/EfficientNet/LCNet extractors
            x = backbone.bn1(backbone.conv_stem(x))
            x = getattr(backbone, "act1", nn.Identity())(x)
            out = [x] if 0 in backbone._stage_out_idx else []  # timm numbers the stem 0, block i as i + 1
            for i, block in enumerate(backbone.blocks):
                x = block(x)
                if i + 1 in backbone._stage_out_idx:
                    out.append(x)
                    if len(out) == levels:
                        break
            return out
        if isinstance(backbone, FeatureListNet):
            out = []
            for name, module in backbone.items():
                x = module(x)
                if name in backbone.return_layers:
                    out.append(x)
                    if len(out) == levels:
                        break
            return out
        return backbone(x)[:levels]


def build_teacher(state: dict, cfg: StudentConfig) -> Teacher:
    """A frozen teacher from a student-architecture config and its weights."""
    net = build_student(StudentConfig(**{**cfg.__dict__, "pretrained": False, "weights": None}))
    net.load_state_dict(state)
    return Teacher(net)
