"""The student: a timm backbone (any model name, `features_only`) and a heatmap head.

Three heads: "fuse" projects every feature level (stride 4..32) to one width, upsamples to stride 4 and sums
(HRNet-V2-like, cheap, works for any backbone); "deconv" is SimpleBaseline's three stride-2 deconvolutions
from the deepest feature; "simple" is HRNet's own (one 1x1 conv on the stride-4 branch, head_channels = that
branch's width), which imported HRNet checkpoints need. The forward pass can return the intermediate features,
which distillation needs.
Weights are never downloaded unless `pretrained=True` is asked for explicitly; `weights` loads a local file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import timm
import torch
import torch.nn.functional as F
from torch import nn

from ..data.transforms import MEAN as PIXEL_MEAN
from ..data.transforms import STD as PIXEL_STD
from .cspdarknet import VARIANTS as YOLOX_VARIANTS
from .cspdarknet import build_cspdarknet, load_yolox_onnx


@dataclass
class StudentConfig:
    backbone: str = "lcnet_050"
    head: str = "fuse"  # fuse | deconv | simple
    head_channels: int = 64
    # the fuse head's 3x3 refine convolution at stride 4: "conv" (full: with a 64-wide head at 256x192 it is 0.23
    # of the YOLOX-nano student's 0.41 GFLOPs) or "separable" (depthwise 3x3 then pointwise 1x1, ~8x fewer MACs)
    head_refine: str = "conv"
    num_keypoints: int = 17
    pretrained: bool = False  # True downloads ImageNet weights through timm (needs internet)
    weights: str | None = None  # local backbone weights: timm/safetensors state dict, or a YOLOX .onnx detector
    quality_head: bool = False  # a tiny head that scores the input's quality (kept at inference)
    # "imagenet": the input as normalised (ImageNet mean/std). "crop": also standardise each crop per channel
    # inside the network, so exposure, gain and white balance do not reach the backbone (night, ExLPose-like
    # light); part of the model, hence of every path that runs it: training, eval, inference, ONNX. "gain": an
    # auto-exposure, brightening a crop darker than mean 0.25 by one gain (colours kept, <= 64x) and passing
    # brighter crops unchanged, so it can be switched on for a trained model (`lqpose export --input-norm gain`).
    input_norm: str = "imagenet"


INPUT_NORMS = ("imagenet", "crop", "gain")


def check_input_norm(name: str) -> None:
    """One clear error for an unknown `model.input_norm` (from a config, or `lqpose export --input-norm`)."""
    if name not in INPUT_NORMS:
        raise ValueError(f"model.input_norm must be one of {', '.join(INPUT_NORMS)}, got {name!r}")


def _conv_bn_relu(cin: int, cout: int, k: int = 3, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def _separable_bn_relu(channels: int, k: int = 3) -> nn.Sequential:
    """Depthwise k x k then pointwise 1 x 1, each with BN + ReLU (MobileNet's block): the fuse head's cheap refine."""
    return nn.Sequential(*_conv_bn_relu(channels, channels, k, groups=channels), *_conv_bn_relu(channels, channels, 1))


HEAD_REFINES = ("conv", "separable")


class FuseHead(nn.Module):
    def __init__(self, in_channels: list[int], channels: int, num_keypoints: int, refine: str = "conv"):
        super().__init__()
        if refine not in HEAD_REFINES:
            raise ValueError(f"model.head_refine must be one of {', '.join(HEAD_REFINES)}, got {refine!r}")
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1, bias=False) for c in in_channels)
        self.refine = _conv_bn_relu(channels, channels) if refine == "conv" else _separable_bn_relu(channels)
        self.final = nn.Conv2d(channels, num_keypoints, 1)

    def features(self, feats: list[torch.Tensor]) -> torch.Tensor:
        size = feats[0].shape[-2:]
        x = self.lateral[0](feats[0])
        for lat, f in zip(self.lateral[1:], feats[1:], strict=True):
            x = x + F.interpolate(lat(f), size=size, mode="bilinear", align_corners=False)
        return self.refine(x)


class DeconvHead(nn.Module):
    def __init__(self, in_channels: list[int], channels: int, num_keypoints: int, num_deconv: int = 3):
        super().__init__()
        layers, cin = [], in_channels[-1]
        for _ in range(num_deconv):
            layers += [nn.ConvTranspose2d(cin, channels, 4, 2, 1, bias=False), nn.BatchNorm2d(channels),
                       nn.ReLU(inplace=True)]  # fmt: skip
            cin = channels
        self.deconv = nn.Sequential(*layers)
        self.final = nn.Conv2d(channels, num_keypoints, 1)

    def features(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.deconv(feats[-1])


class SimpleHead(nn.Module):
    """HRNet's pose head: the stride-4 branch straight into a 1x1 conv."""

    def __init__(self, in_channels: list[int], num_keypoints: int):
        super().__init__()
        self.final = nn.Conv2d(in_channels[0], num_keypoints, 1)

    def features(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return feats[0]


class QualityHead(nn.Module):
    """Pools the deepest feature and predicts the input's quality in [0, 1] (1 = well-quality)."""

    def __init__(self, channels: int, hidden: int = 32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, deepest: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.mlp(deepest.mean(dim=(2, 3)))).squeeze(1)


def standardize_crop(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Per-image, per-channel zero mean and unit variance. `eps` (a variance, in ImageNet-normalised units, where
    one 8-bit level is ~0.017) caps the gain at 100x, so a flat crop stays flat instead of blowing up its noise."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    centred = x - mean
    return centred / torch.sqrt(centred.square().mean(dim=(2, 3), keepdim=True) + eps)


# the normalisation every crop got (data/topdown.py) in 0-1 units, as Python floats: torch.compile cannot guard a
# numpy global read inside inference mode
_MEAN_01 = tuple(float(v) / 255.0 for v in PIXEL_MEAN)
_STD_01 = tuple(float(v) / 255.0 for v in PIXEL_STD)


def auto_gain(x: torch.Tensor, target: float = 0.25, max_gain: float = 64.0) -> torch.Tensor:
    """Camera-style auto-exposure on ImageNet-normalised crops: a crop whose mean pixel (0-1) is below `target`
    is multiplied by one gain (at most `max_gain`) and clipped at white, so a night crop reaches the backbone at
    daylight exposure with its colours kept; crops at or above `target` pass unchanged, bit for bit, so a model
    trained without it keeps its accuracy on ordinary images."""
    mean = x.new_tensor(_MEAN_01).view(1, 3, 1, 1)
    std = x.new_tensor(_STD_01).view(1, 3, 1, 1)
    pixels = x * std + mean
    level = pixels.mean(dim=(1, 2, 3), keepdim=True)
    gain = (target / level.clamp_min(target / max_gain)).clamp_min(1.0)
    brightened = ((pixels * gain).clamp(0.0, 1.0) - mean) / std
    return torch.where(gain > 1.0, brightened, x)  # no Python branch on data: traced/ONNX graphs keep both paths


class Student(nn.Module):
    def __init__(self, cfg: StudentConfig):
        super().__init__()
        check_input_norm(cfg.input_norm)
        self.cfg = cfg
        if cfg.backbone in YOLOX_VARIANTS:  # YOLOX's CSPDarknet: starts from a local YOLOX detector (.onnx)
            if cfg.pretrained:
                raise ValueError(f"model.pretrained cannot download {cfg.backbone}: give model.weights a YOLOX .onnx")
            self.backbone = build_cspdarknet(cfg.backbone)
            if cfg.weights:
                load_yolox_onnx(self.backbone, cfg.weights)
        else:
            if not timm.is_model(cfg.backbone):
                raise ValueError(f"model.backbone: unknown backbone {cfg.backbone!r}; use a timm model name "
                                 f"(timm.list_models()) or one of {', '.join(YOLOX_VARIANTS)}")  # fmt: skip
            kwargs = {"feature_location": ""} if cfg.backbone.startswith("hrnet") else {}
            out_indices = (1, 2, 3, 4)  # strides 4, 8, 16, 32
            self.backbone = timm.create_model(
                cfg.backbone, pretrained=cfg.pretrained, features_only=True, out_indices=out_indices, **kwargs
            )
            if cfg.weights:
                load_backbone_weights(self.backbone, cfg.weights)
        channels = self.backbone.feature_info.channels()
        if cfg.head_refine != "conv" and cfg.head != "fuse":
            raise ValueError(
                f"model.head_refine {cfg.head_refine!r} is the fuse head's option; model.head is {cfg.head!r}"
            )
        if cfg.head == "fuse":
            self.head = FuseHead(channels, cfg.head_channels, cfg.num_keypoints, cfg.head_refine)
        elif cfg.head == "deconv":
            self.head = DeconvHead(channels, cfg.head_channels, cfg.num_keypoints)
        elif cfg.head == "simple":
            if cfg.head_channels != channels[0]:
                raise ValueError(
                    f"model.head 'simple' uses the stride-4 feature as is: head_channels must be {channels[0]} "
                    f"for {cfg.backbone}, got {cfg.head_channels}"
                )
            self.head = SimpleHead(channels, cfg.num_keypoints)
        else:
            raise ValueError(f"model.head must be 'fuse', 'deconv' or 'simple', got {cfg.head!r}")
        self.feature_channels = list(channels) + [cfg.head_channels]
        self.quality = QualityHead(channels[-1]) if cfg.quality_head else None

    def forward_features(self, x: torch.Tensor) -> dict[str, object]:
        """Backbone features (strides 4..32), the head's stride-4 feature, the heatmaps (and the quality)."""
        feats = self.backbone(self.prepare_input(x))
        head_feat = self.head.features(feats)
        out = {"features": feats, "head_feature": head_feat, "heatmaps": self.head.final(head_feat)}
        if self.quality is not None:
            out["quality"] = self.quality(feats[-1])
        return out

    def forward_with_quality(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Heatmaps and, when the model has a quality head, the per-image quality score."""
        feats = self.backbone(self.prepare_input(x))
        heatmaps = self.head.final(self.head.features(feats))
        return heatmaps, (self.quality(feats[-1]) if self.quality is not None else None)

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.input_norm == "crop":
            return standardize_crop(x)
        return auto_gain(x) if self.cfg.input_norm == "gain" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.final(self.head.features(self.backbone(self.prepare_input(x))))


def load_backbone_weights(backbone: nn.Module, path: str | Path) -> None:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such backbone weights file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state.get("model", state))
    missing, unexpected = backbone.load_state_dict(state, strict=False)
    if len(missing) == len(backbone.state_dict()):
        raise ValueError(f"{path}: no key matches the {type(backbone).__name__} backbone")


def build_student(cfg: StudentConfig) -> Student:
    return Student(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, input_size: tuple[int, int]) -> float:
    """Multiply-accumulates x 2 of one forward pass at (width, height), in GFLOPs (torch FlopCounterMode;
    called outside no_grad, which the counter needs)."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    x = torch.zeros(1, 3, input_size[1], input_size[0], device=next(model.parameters()).device)
    counter = FlopCounterMode(display=False)
    with counter:
        model(x)
    model.train(was_training)
    return counter.get_total_flops() / 1e9
