"""YOLOX's CSPDarknet backbone, so a COCO-pretrained YOLOX detector can start the student.

No pose backbone with pretrained weights can be fetched offline here, but YOLOX detectors are trained on COCO,
people included; their backbone features are a far better start than random init. This module rebuilds the
backbone (Focus stem, four CSP stages, SPP; depthwise for nano/tiny) as conv + BN + SiLU blocks and returns the
features at strides 4, 8, 16 and 32 like a timm `features_only` model (`feature_info.channels()`).

`load_yolox_onnx` reads the weights from an exported YOLOX ONNX file (BN already folded into conv biases). It
maps the backbone's convolutions in execution order onto the ONNX convolutions in graph order, checks every
shape, then re-inserts batch norm: each BN is calibrated on deterministic crops of scikit-image's photos so
that, in eval mode, the network computes exactly the ONNX function (BN = identity plus the folded bias), and in
training mode batch statistics rescale each channel the way the original BN did. The detector expects BGR in
0-255; lqpose feeds RGB normalised by the ImageNet mean/std, so the stem convolution absorbs that conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.transforms import MEAN, STD, normalize

# name -> (depth multiple, width multiple, depthwise); the YOLOX model zoo's settings
VARIANTS: dict[str, tuple[float, float, bool]] = {
    "yolox_nano": (0.33, 0.25, True),
    "yolox_tiny": (0.33, 0.375, False),
    "yolox_s": (0.33, 0.50, False),
    "yolox_m": (0.67, 0.75, False),
}
# what the detector's 0-255 BGR value of each channel is, per unit of lqpose's normalised RGB input
_SCALE_RGB, _OFFSET_RGB = torch.from_numpy(STD.copy()), torch.from_numpy(MEAN.copy())


class ConvBnAct(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


def conv_block(cin: int, cout: int, k: int, stride: int, depthwise: bool) -> nn.Module:
    """A plain conv, or depthwise k x k then pointwise 1 x 1 (YOLOX's DWConv)."""
    if depthwise and k > 1:
        return nn.Sequential(ConvBnAct(cin, cin, k, stride, groups=cin), ConvBnAct(cin, cout, 1))
    return ConvBnAct(cin, cout, k, stride)


class Bottleneck(nn.Module):
    def __init__(self, channels: int, shortcut: bool, depthwise: bool):
        super().__init__()
        self.conv1 = ConvBnAct(channels, channels, 1)
        self.conv2 = conv_block(channels, channels, 3, 1, depthwise)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.conv1(x))
        return x + y if self.shortcut else y


class CSPLayer(nn.Module):
    def __init__(self, cin: int, cout: int, n: int, shortcut: bool, depthwise: bool):
        super().__init__()
        hidden = cout // 2
        self.conv1 = ConvBnAct(cin, hidden, 1)
        self.conv2 = ConvBnAct(cin, hidden, 1)
        self.blocks = nn.Sequential(*(Bottleneck(hidden, shortcut, depthwise) for _ in range(n)))
        self.conv3 = ConvBnAct(2 * hidden, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.conv1(x)  # YOLOX runs conv1, then conv2, then the blocks: keep that order for the weight map
        side = self.conv2(x)
        return self.conv3(torch.cat([self.blocks(main), side], dim=1))


class SPPBottleneck(nn.Module):
    def __init__(self, cin: int, cout: int, kernels: tuple[int, ...] = (5, 9, 13)):
        super().__init__()
        hidden = cin // 2
        self.conv1 = ConvBnAct(cin, hidden, 1)
        self.kernels = kernels
        self.conv2 = ConvBnAct(hidden * (len(kernels) + 1), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        pooled = [F.max_pool2d(x, k, 1, k // 2) for k in self.kernels]
        return self.conv2(torch.cat([x, *pooled], dim=1))


class Focus(nn.Module):
    """Space-to-depth (2x2 pixels -> 12 channels, YOLOX's order) then a conv."""

    def __init__(self, cout: int, k: int = 3):
        super().__init__()
        self.conv = ConvBnAct(12, cout, k)
        self.conv.conv.padding = (0, 0)
        self.pad = (k - 1) // 2
        # pad with the normalised value of black, the detector's zero padding in BGR 0-255 (so imported weights
        # compute the detector's function at the border too)
        black = -(_OFFSET_RGB / _SCALE_RGB).repeat(4)
        self.register_buffer("pad_value", black.view(1, 12, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tl, tr = x[..., ::2, ::2], x[..., ::2, 1::2]
        bl, br = x[..., 1::2, ::2], x[..., 1::2, 1::2]
        x = torch.cat([tl, bl, tr, br], dim=1)
        p = self.pad
        return self.conv(F.pad(x - self.pad_value, (p, p, p, p)) + self.pad_value)


@dataclass
class FeatureInfo:
    """The part of timm's feature_info the student uses."""

    _channels: list[int]

    def channels(self) -> list[int]:
        return list(self._channels)

    def reduction(self) -> list[int]:
        return [4, 8, 16, 32]


class CSPDarknet(nn.Module):
    def __init__(self, depth: float, width: float, depthwise: bool):
        super().__init__()
        c = int(64 * width)
        n = max(round(3 * depth), 1)
        self.stem = Focus(c)
        self.dark2 = nn.Sequential(conv_block(c, c * 2, 3, 2, depthwise), CSPLayer(c * 2, c * 2, n, True, depthwise))
        self.dark3 = nn.Sequential(
            conv_block(c * 2, c * 4, 3, 2, depthwise), CSPLayer(c * 4, c * 4, n * 3, True, depthwise)
        )
        self.dark4 = nn.Sequential(
            conv_block(c * 4, c * 8, 3, 2, depthwise), CSPLayer(c * 8, c * 8, n * 3, True, depthwise)
        )
        self.dark5 = nn.Sequential(
            conv_block(c * 8, c * 16, 3, 2, depthwise),
            SPPBottleneck(c * 16, c * 16),
            CSPLayer(c * 16, c * 16, n, False, depthwise),
        )
        self.feature_info = FeatureInfo([c * 2, c * 4, c * 8, c * 16])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        c2 = self.dark2(x)
        c3 = self.dark3(c2)
        c4 = self.dark4(c3)
        return [c2, c3, c4, self.dark5(c4)]


def build_cspdarknet(name: str) -> CSPDarknet:
    if name not in VARIANTS:
        raise ValueError(f"unknown YOLOX backbone {name!r}; known: {', '.join(VARIANTS)}")
    return CSPDarknet(*VARIANTS[name])


def _execution_order(backbone: CSPDarknet, input_hw: tuple[int, int]) -> list[ConvBnAct]:
    order: list[ConvBnAct] = []
    hooks = [m.register_forward_pre_hook(lambda mod, _: order.append(mod)) for m in backbone.modules()
             if isinstance(m, ConvBnAct)]  # fmt: skip
    with torch.no_grad():
        backbone.eval()(torch.zeros(1, 3, *input_hw))
    for h in hooks:
        h.remove()
    return order


def _onnx_convs(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises several types for a bad file
        raise ValueError(f"{path}: not a readable ONNX model ({exc.__class__.__name__}: {exc})") from None
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    convs = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        if len(node.input) < 3 or node.input[1] not in inits or node.input[2] not in inits:
            raise ValueError(f"{path}: Conv node {node.name} has no constant weight and bias (BN not folded?)")
        convs.append((inits[node.input[1]], inits[node.input[2]]))
    return convs


def calibration_images(size_hw: tuple[int, int], count: int = 48, seed: int = 0) -> torch.Tensor:
    """Deterministic crops of scikit-image's bundled photos, normalised as lqpose feeds its models."""
    import cv2
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.immunohistochemistry(),
              np.stack([data.camera()] * 3, axis=-1)]  # fmt: skip
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(count):
        img = photos[i % len(photos)]
        h, w = img.shape[:2]
        ch = int(rng.uniform(0.3, 0.9) * h)
        cw = min(w, int(ch * size_hw[1] / size_hw[0]))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        crop = cv2.resize(img[y : y + ch, x : x + cw], (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA)
        crops.append(torch.from_numpy(normalize(crop)))
    return torch.stack(crops)


def load_yolox_onnx(backbone: CSPDarknet, path: str | Path, input_hw: tuple[int, int] = (128, 96)) -> int:
    """Load a YOLOX ONNX detector's backbone weights into `backbone`; returns the number of convs loaded."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such YOLOX ONNX file")
    order = _execution_order(backbone, input_hw)
    convs = _onnx_convs(path)
    if len(convs) < len(order):
        raise ValueError(f"{path}: {len(convs)} convolutions, the backbone needs {len(order)}")
    biases = []
    for i, (block, (weight, bias)) in enumerate(zip(order, convs, strict=False)):
        if tuple(weight.shape) != tuple(block.conv.weight.shape):
            raise ValueError(
                f"{path}: conv {i} has shape {tuple(weight.shape)}, the backbone expects "
                f"{tuple(block.conv.weight.shape)} (a different YOLOX size?)"
            )
        w, b = torch.from_numpy(weight.copy()), torch.from_numpy(bias.copy())
        if i == 0:  # stem: BGR 0-255 input -> RGB ImageNet-normalised input
            w, b = _stem_for_normalised_rgb(w, b)
        block.conv.weight.data.copy_(w)
        biases.append(b)
    _calibrate_bn(backbone, order, biases, calibration_images(input_hw))
    return len(order)


def _stem_for_normalised_rgb(w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Stem weight and bias for RGB normalised input, given the detector's for BGR 0-255 input:
    x_bgr255[c] = STD[c] * x[c] + MEAN[c] (0-255 units), so STD scales the weights and MEAN becomes a constant
    added to the bias (exact everywhere: the stem pads with the normalised value of black)."""
    bgr_index = [p * 3 + c for p in range(4) for c in (2, 1, 0)]  # RGB slot k takes the BGR weight at this index
    w_rgb = w[:, bgr_index]
    scale, offset = _SCALE_RGB.repeat(4)[None, :, None, None], _OFFSET_RGB.repeat(4)[None, :, None, None]
    return w_rgb * scale, b + (w_rgb * offset).sum(dim=(1, 2, 3))


@torch.no_grad()
def _calibrate_bn(backbone: CSPDarknet, order: list[ConvBnAct], biases: list[torch.Tensor], images: torch.Tensor):
    """Set each BN so that eval mode adds exactly the folded bias and train mode keeps the channel scale."""
    for block, bias in zip(order, biases, strict=True):
        bn = block.bn
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
        bn.weight.fill_(1.0)
        bn.bias.copy_(bias)
    stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def record(i: int):
        def hook(_mod, _inp, out):
            stats[i] = (out.mean(dim=(0, 2, 3)), out.var(dim=(0, 2, 3)))

        return hook

    hooks = [block.conv.register_forward_hook(record(i)) for i, block in enumerate(order)]
    backbone.eval()(images)
    for h in hooks:
        h.remove()
    for i, (block, bias) in enumerate(zip(order, biases, strict=True)):
        mean, var = stats[i]
        var = var.clamp_min(1e-6)
        bn = block.bn
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_(torch.sqrt(var + bn.eps))
        bn.bias.copy_(mean + bias)
