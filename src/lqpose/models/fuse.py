"""Make a trained student fast for inference: fold each BatchNorm into the convolution before it, and keep the
convolution weights channels-last.

At batch 1 on a CPU the student's time goes mostly to per-call overhead, not arithmetic (the bundled LCNet-1.5
at 128x96 is 0.24 GFLOPs over ~60 convolutions). In eval mode a BatchNorm is a per-channel affine map, so it can
live inside the preceding convolution's weights and bias: removing the bundle's 28 norm layers gave 1.14x at
batch 1. oneDNN's convolutions run channels-last (NHWC) and reorder NCHW weights and activations on every call;
weights stored channels-last make the whole network run NHWC from the first convolution on (the input may stay
NCHW), 1.3-1.6x more. benchmarks/infer_speed.py measures each step. ONNX Runtime does both itself.
"""

from __future__ import annotations

import copy
import logging

import torch
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
    run = "forward_with_quality" if hasattr(model, "forward_with_quality") else "forward"
    ref, out = getattr(model, run)(example), getattr(fused, run)(example)
    ref_t = ref if isinstance(ref, tuple | list) else (ref,)
    out_t = out if isinstance(out, tuple | list) else (out,)
    for r, o in zip(ref_t, out_t, strict=True):
        if isinstance(r, torch.Tensor) and not torch.allclose(r, o, atol=atol, rtol=1e-3):
            log.warning(
                "%s: folding BatchNorm moved the outputs by %.2g (a norm registered after a conv it does not "
                "follow); running it unfolded",
                type(model).__name__,
                float((r - o).abs().max()),
            )
            return model, 0
    return fused, folded


def check_input(input_size: tuple[int, int], device: str | torch.device = "cpu") -> torch.Tensor:
    """A seeded random batch of one at (width, height): what a fold is checked on when no real crop is at hand,
    the same every time so a refused fold is reproducible."""
    w, h = input_size
    return torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(0)).to(device)


def prepare_for_inference(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """`model` folded (checked on `example`, see fuse_conv_bn) with channels-last weights, in eval mode.
    Outputs equal the trained model's within float rounding; heatmaps come back channels-last strided, which
    every consumer here (flip, decode via numpy) reads as is. `model` itself is left as it was."""
    fused, _ = fuse_conv_bn(model, example)
    if fused is model:  # nothing folded: still hand back a copy, the layout change below works in place
        fused = copy.deepcopy(model)
    return fused.to(memory_format=torch.channels_last)


def compile_for_inference(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """`model` with `forward` and `forward_with_quality` (what inference calls) compiled by `torch.compile`,
    warmed up on `example` so the compile happens here, not inside the first image. Once the network is folded,
    per-call overhead is what is left at batch 1 on a CPU: on the 2-core CPU of this project the bundled student
    ran 1.2-1.7x faster than eager across runs (~10 s to compile; benchmarks/infer_speed.py times both).
    A batch of another size compiles again, then as a dynamic-shape graph, which is slower. Inductor on a CPU
    needs a C++ compiler: without one this fails with a clear error."""
    for name in ("forward", "forward_with_quality"):
        if hasattr(model, name):
            setattr(model, name, torch.compile(getattr(model, name)))
    try:
        with torch.inference_mode():
            model(example)
            if hasattr(model, "forward_with_quality"):
                model.forward_with_quality(example)
    except Exception as e:  # inductor raises many types (missing compiler, unsupported op); one line each
        raise RuntimeError(f"torch.compile failed ({type(e).__name__}: {str(e).splitlines()[0]}); "
                           "it needs a C++ compiler on a CPU; load without compile") from e  # fmt: skip
    return model
