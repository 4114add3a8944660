import copy

import pytest
import torch
from torch import nn

from lqpose.models.fuse import (
    PointwiseMatmul,
    compile_for_inference,
    fuse_conv_bn,
    is_pointwise,
    pointwise_as_matmul,
    prepare_for_inference,
)
from lqpose.models.student import StudentConfig, build_student


def _randomise_norms(model: nn.Module) -> None:
    """Trained-looking BatchNorm statistics, so the fold has something to fold (fresh ones are the identity)."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.2)


@pytest.mark.parametrize("backbone, refine", [("lcnet_050", "conv"), ("mobilenetv3_small_100", "conv"),
                                             ("lcnet_050", "separable")])  # fmt: skip
def test_fold_removes_every_norm_and_keeps_the_outputs(backbone, refine):
    model = build_student(StudentConfig(backbone=backbone, head_channels=32, quality_head=True, head_refine=refine))
    model.eval()
    _randomise_norms(model)
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    x = torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(1))
    fused, folded = fuse_conv_bn(model, x[:1])
    assert folded == norms > 10
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    with torch.no_grad():
        (h0, q0), (h1, q1) = model.forward_with_quality(x), fused.forward_with_quality(x)
    assert torch.allclose(h0, h1, atol=1e-5) and torch.allclose(q0, q1, atol=1e-5)
    # the original is left as it was (the fold works on a copy)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == norms


class _NormNotAfterConv(nn.Module):
    """Registers conv then norm, but runs the norm on the input: folding would change the output."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return self.conv(self.bn(x))


def test_a_wrong_fold_is_caught_logged_and_the_model_returned_unfused(caplog):
    model = _NormNotAfterConv().eval()
    _randomise_norms(model)
    x = torch.randn(1, 4, 8, 8)
    with caplog.at_level("WARNING", logger="lqpose.models.fuse"):
        fused, folded = fuse_conv_bn(model, x)
    assert folded == 0 and fused is model
    assert isinstance(fused.bn, nn.BatchNorm2d)
    assert "_NormNotAfterConv: folding BatchNorm moved the outputs" in caplog.text


def test_prepare_for_inference_folds_and_keeps_weights_channels_last_with_the_same_outputs():
    """What `lqpose.load` runs: no norm left, every 1x1 conv a matrix product and every other conv weight NHWC
    (oneDNN's native layout), heatmaps and the quality score as before, and the heatmaps flip and convert to
    numpy as a contiguous tensor would."""
    model = build_student(StudentConfig(backbone="lcnet_050", head_channels=32, quality_head=True)).eval()
    _randomise_norms(model)
    pointwise = sum(is_pointwise(m) for m in model.modules())
    x = torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(1))
    fast = prepare_for_inference(model, x[:1])
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert pointwise > 10 and sum(isinstance(m, PointwiseMatmul) for m in fast.modules()) == pointwise
    convs = [m.weight for m in fast.modules() if isinstance(m, nn.Conv2d)]  # those inside PointwiseMatmul too
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    with torch.no_grad():
        (h0, q0), (h1, q1) = model.forward_with_quality(x), fast.forward_with_quality(x)
    assert h1.shape == h0.shape == (2, 17, 32, 24)  # COCO-17 by default, stride 4
    assert torch.allclose(h0, h1, atol=1e-5) and torch.allclose(q0, q1, atol=1e-5)
    assert abs(h1.flip(3).numpy() - h0.flip(3).numpy()).max() < 1e-5
    # the trained model keeps its norms and its NCHW weights
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert model.head is not fast.head


def test_pointwise_matmul_is_the_convolution_it_replaces_and_leaves_other_convolutions_alone():
    """Known values: a 1x1 conv with weight W and bias b maps each pixel's channels c to W c + b, on NCHW and on
    channels-last input alike, and hands back a channels-last tensor; strided, padded, grouped or larger-kernel
    convs are not per-pixel linear maps and stay."""
    net = nn.Sequential(nn.Conv2d(3, 2, 1), nn.Conv2d(2, 2, 1, stride=2), nn.Conv2d(2, 4, 1, groups=2),
                        nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1, padding=1),
                        nn.Conv2d(4, 5, 1, bias=False))  # fmt: skip
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]]).view(2, 3, 1, 1))
        net[0].bias.copy_(torch.tensor([0.5, -2.0]))
    assert [is_pointwise(m) for m in net] == [True, False, False, False, False, True]
    fast = copy.deepcopy(net)
    assert pointwise_as_matmul(fast) == 2
    assert [type(m).__name__ for m in fast] == ["PointwiseMatmul"] + ["Conv2d"] * 4 + ["PointwiseMatmul"]
    pixel = torch.tensor([1.0, 1.0, 2.0]).view(1, 3, 1, 1).expand(1, 3, 2, 3)
    with torch.no_grad():
        out = fast[0](pixel)
        assert out.shape == (1, 2, 2, 3) and out.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(out[0, :, 1, 2], torch.tensor([1 + 2 + 6 + 0.5, -1 + 1 - 2.0]))
        x = torch.randn(2, 3, 9, 7, generator=torch.Generator().manual_seed(2))
        for inp in (x, x.contiguous(memory_format=torch.channels_last)):
            assert torch.allclose(net(inp), fast(inp), atol=1e-6)
        # a call with more than max_rows pixels (N x H x W) runs the convolution itself: the same numbers
        fast[0].max_rows = 2 * 9 * 7 - 1
        assert torch.allclose(net[0](x), fast[0](x), atol=1e-6)


def test_prepare_for_inference_leaves_a_model_it_cannot_fold_untouched():
    model = _NormNotAfterConv().eval()
    fast = prepare_for_inference(model, torch.randn(1, 4, 8, 8))
    assert fast is not model and model.conv.weight.is_contiguous()
    assert fast.conv.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.slow
def test_compile_for_inference_keeps_the_outputs_of_both_inference_calls_and_other_batch_sizes():
    """`lqpose.load(compile=True)`: forward and forward_with_quality go through torch.compile, compiled up front,
    with the same heatmaps and quality as the folded eager model, also at a batch size it was not warmed up on."""
    model = build_student(StudentConfig(backbone="lcnet_050", head_channels=32, quality_head=True)).eval()
    _randomise_norms(model)
    x = torch.randn(3, 3, 128, 96, generator=torch.Generator().manual_seed(2))
    eager = prepare_for_inference(model, x[:1])
    fast = compile_for_inference(prepare_for_inference(model, x[:1]), x[:1])
    assert type(fast.forward).__name__ != "method"  # replaced by the compiled callable
    with torch.inference_mode():
        for batch in (x[:1], x):
            (h0, q0), (h1, q1) = eager.forward_with_quality(batch), fast.forward_with_quality(batch)
            assert h1.shape == h0.shape and torch.allclose(h0, h1, atol=1e-5) and torch.allclose(q0, q1, atol=1e-5)
            assert torch.allclose(eager(batch), fast(batch), atol=1e-5)


def test_compile_for_inference_failure_is_one_clear_line():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("no such op\nsecond line")

    with pytest.raises(RuntimeError, match=r"^torch.compile failed \(.*no such op\); it needs a C\+\+ compiler"):
        compile_for_inference(Broken(), torch.zeros(1))
