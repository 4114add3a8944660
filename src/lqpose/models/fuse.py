"""Make a trained student fast for inference: fold each BatchNorm into the convolution before it, keep the
convolution weights channels-last, and run the 1x1 convolutions as matrix products.

At batch 1 on a CPU the student's time goes mostly to per-call overhead, not arithmetic (the bundled LCNet-1.5
at 128x96 is 0.24 GFLOPs over ~60 convolutions). In eval mode a BatchNorm is a per-channel affine map, so it can
live inside the preceding convolution's weights and bias: removing the bundle's 28 norm layers gave 1.14x at
batch 1. oneDNN's convolutions run channels-last (NHWC) and reorder NCHW weights and activations on every call;
weights stored channels-last make the whole network run NHWC from the first convolution on (the input may stay
NCHW), 1.3-1.6x more. A 1x1 convolution over a channels-last tensor is a matrix product over the channel axis
of its contiguous NHWC view: run as one GEMM it skips oneDNN's per-call primitive setup (and, at batch 1 on small
maps, ATen's native 1x1 path, which reorders to NCHW and back); on the YOLOX-nano bundle's 40 pointwise layers that gave
another 1.06-1.17x at batch 1 (paired medians over runs) and lost nothing at larger batches.
benchmarks/infer_speed.py measures each step. ONNX Runtime does all of it itself.
"""

from __future__ import annotations

import copy
import logging

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

log = logging.getLogger(__name__)


def _bn_remainder(bn: nn.BatchNorm2d) -> nn.Module:
    """What is left of a norm layer once its affine map is folded away: timm's BatchNormAct2d keeps its
    dropout and activation, a plain BatchNorm2d leaves nothing."""
    rest = [m for m in (getattr(bn, "drop", None), getattr(bn, "act", None)) if m is not None]
    rest = [m for m in rest if not isinstance(m, nn.Identity)]
    if not rest:
        return nn.Identity()
    return rest[0] if len(rest) == 1 else nn.Sequential(*rest)


def _fold_children(parent: nn.Module) -> int:
    """Fold every Conv2d child directly followed (in registration order) by a BatchNorm2d child.
    timm's ConvNormAct (conv, bn), DepthwiseSeparableConv (conv_dw, bn1 ... conv_pw, bn2) and our heads'
    Sequentials all register their layers in the order they run; `fuse_conv_bn` checks the outputs anyway."""
    names = list(parent._modules)
    folded = 0
    for a, b in zip(names, names[1:], strict=False):
        conv, bn = parent._modules[a], parent._modules[b]
        if (
            type(conv) is nn.Conv2d
            and isinstance(bn, nn.BatchNorm2d)
            and bn.track_running_stats
            and bn.num_features == conv.out_channels
        ):
            parent._modules[a] = fuse_conv_bn_eval(conv, bn)
            parent._modules[b] = _bn_remainder(bn)
            folded += 1
    return folded


def _same_outputs(model: nn.Module, other: nn.Module, example: torch.Tensor, atol: float) -> float | None:
    """The largest output difference of the two models' inference call on `example` if above `atol`, else None."""
    run = "forward_with_quality" if hasattr(model, "forward_with_quality") else "forward"
    with torch.no_grad():
        ref, out = getattr(model, run)(example), getattr(other, run)(example)
    ref_t = ref if isinstance(ref, tuple | list) else (ref,)
    out_t = out if isinstance(out, tuple | list) else (out,)
    for r, o in zip(ref_t, out_t, strict=True):
        if isinstance(r, torch.Tensor) and not torch.allclose(r, o, atol=atol, rtol=1e-3):
            return float((r - o).abs().max())
    return None


@torch.no_grad()
def fuse_conv_bn(model: nn.Module, example: torch.Tensor, atol: float = 1e-4) -> tuple[nn.Module, int]:
    """An eval-mode copy of `model` with its conv+BatchNorm pairs folded, and how many were folded.
    The copy is checked against the original on `example`; if any output moves by more than `atol` (a module
    that registers a norm after a conv it does not follow), the unfused model is returned instead, 0 folded."""
    model = model.eval()
    fused = copy.deepcopy(model)
    folded = sum(_fold_children(m) for m in list(fused.modules()))
    if folded == 0:
        return model, 0
    moved = _same_outputs(model, fused, example, atol)
    if moved is not None:
        log.warning("%s: folding BatchNorm moved the outputs by %.2g (a norm registered after a conv it does not "
                    "follow); running it unfolded", type(model).__name__, moved)  # fmt: skip
        return model, 0
    return fused, folded


class PointwiseMatmul(nn.Module):
    """A trained 1x1, stride-1, unpadded, ungrouped convolution run as `F.linear` over the channel axis when the
    call is small: the same numbers as the convolution, one GEMM. The output is the NHWC product viewed as NCHW,
    i.e. channels-last, which the next convolution reads without a reorder. Above `max_rows` pixels in the batch
    (N x H x W) oneDNN's convolution is the faster of the two and runs instead: on the bundle the switch at 4096
    measured 1.09x at batch 1, 1.13x at 2, 1.06x at 16 and 1.03x at 32 over the convolutions alone, where the
    product everywhere lost 4 % at 32. Inference only (no gradients); the weights stay the convolution's."""

    def __init__(self, conv: nn.Conv2d, max_rows: int = 4096):
        super().__init__()
        self.conv, self.max_rows = conv, max_rows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        if n * h * w > self.max_rows:
            return self.conv(x)
        weight = self.conv.weight.flatten(1)  # (out, in): a view of the 1x1 kernel in either memory layout
        return F.linear(x.permute(0, 2, 3, 1), weight, self.conv.bias).permute(0, 3, 1, 2)

    def extra_repr(self) -> str:
        return f"max_rows={self.max_rows}"


def is_pointwise(conv: nn.Module) -> bool:
    """A plain Conv2d that is a per-pixel linear map of the channels (what PointwiseMatmul can stand in for)."""
    return (
        type(conv) is nn.Conv2d
        and conv.kernel_size == (1, 1)
        and conv.stride == (1, 1)
        and conv.padding in ((0, 0), "valid")
        and conv.groups == 1
    )


def pointwise_as_matmul(model: nn.Module) -> int:
    """Replace, in place, every pointwise Conv2d of `model` by its PointwiseMatmul; returns how many."""
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            if child is not None and is_pointwise(child):
                parent._modules[name] = PointwiseMatmul(child)
                swapped += 1
    return swapped


def check_input(input_size: tuple[int, int], device: str | torch.device = "cpu") -> torch.Tensor:
    """A seeded random batch of one at (width, height): what a fold is checked on when no real crop is at hand,
    the same every time so a refused fold is reproducible."""
    w, h = input_size
    return torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(0)).to(device)


def prepare_for_inference(model: nn.Module, example: torch.Tensor, atol: float = 1e-4) -> nn.Module:
    """`model` folded (checked on `example`, see fuse_conv_bn) with channels-last weights and, on a CPU, its 1x1
    convolutions as matrix products (on a GPU cuDNN's 1x1 path is already a GEMM), in eval mode. Outputs equal the
    trained model's within float rounding (checked on `example`; a mismatch keeps the convolutions, with a
    warning); heatmaps come back channels-last strided, which every consumer here (flip, decode via numpy) reads
    as is. `model` itself is left as it was."""
    fused, _ = fuse_conv_bn(model, example, atol)
    if fused is model:  # nothing folded: still hand back a copy, the layout change below works in place
        fused = copy.deepcopy(model)
    fused = fused.to(memory_format=torch.channels_last)
    fast = copy.deepcopy(fused)
    if example.device.type != "cpu" or pointwise_as_matmul(fast) == 0:
        return fused
    moved = _same_outputs(fused, fast, example, atol)
    if moved is not None:
        log.warning("%s: the 1x1 convolutions as matrix products moved the outputs by %.2g; running them as "
                    "convolutions", type(model).__name__, moved)  # fmt: skip
        return fused
    return fast


def compile_for_inference(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """`model` with `forward` and `forward_with_quality` (what inference calls) compiled by `torch.compile`,
    warmed up on `example` so the compile happens here, not inside the first image. Once the network is folded,
    per-call overhead is what is left at batch 1 on a CPU: on the 2-core CPU of this project the bundled student
    ran 1.2-1.7x faster than eager across runs (~10 s to compile; benchmarks/infer_speed.py times both).
    Shapes stay static (`dynamic=False`): a batch of another size compiles a graph of its own (~10 s) instead of
    one dynamic-shape graph, which runs slower and, once any model of this class was compiled at another batch in
    the process (the flip test's batch of two after a batch of one), took over ten minutes to build on this 2-core
    CPU. Inductor on a CPU needs a C++ compiler: without one this fails with a clear error."""
    for name in ("forward", "forward_with_quality"):
        if hasattr(model, name):
            setattr(model, name, torch.compile(getattr(model, name), dynamic=False))
    try:
        with torch.inference_mode():
            model(example)
            if hasattr(model, "forward_with_quality"):
                model.forward_with_quality(example)
    except Exception as e:  # inductor raises many types (missing compiler, unsupported op); one line each
        raise RuntimeError(f"torch.compile failed ({type(e).__name__}: {str(e).splitlines()[0]}); "
                           "it needs a C++ compiler on a CPU; load without compile") from e  # fmt: skip
    return model
