import pytest
import torch

from lqpose.codec import flip_heatmaps
from lqpose.data.transforms import MEAN, STD
from lqpose.keypoints import COCO17
from lqpose.models.student import (
    StudentConfig,
    auto_gain,
    build_student,
    count_flops,
    count_parameters,
    standardize_crop,
)


@pytest.mark.parametrize("backbone, head", [("lcnet_050", "fuse"), ("mobilenetv3_small_100", "fuse"),
                                            ("resnet18", "deconv")])  # fmt: skip
def test_heatmaps_at_stride_four_and_features_exposed(backbone, head):
    model = build_student(StudentConfig(backbone=backbone, head=head, head_channels=32)).eval()
    x = torch.zeros(2, 3, 128, 96)
    with torch.no_grad():
        out = model.forward_features(x)
        plain = model(x)
    assert out["heatmaps"].shape == plain.shape == (2, 17, 32, 24)
    assert [f.shape[-1] for f in out["features"]] == [24, 12, 6, 3]
    assert out["head_feature"].shape == (2, 32, 32, 24)
    assert torch.allclose(out["heatmaps"], plain)


def test_hrnet_uses_its_high_resolution_branches():
    model = build_student(StudentConfig(backbone="hrnet_w18_small", head_channels=32))
    # the raw branch outputs at strides 4..32, not the classification "incre" features (128..1024)
    assert model.backbone.feature_info.channels() == [16, 32, 64, 128]
    assert model.backbone.feature_info.reduction() == [4, 8, 16, 32]


def test_default_student_is_small():
    model = build_student(StudentConfig())
    assert count_parameters(model) < 1_000_000
    assert 0.1 < count_flops(model, (192, 256)) < 1.0


def test_flip_back_is_exact_for_a_symmetric_pose():
    hm = torch.zeros(1, 17, 8, 6)
    hm[0, COCO17.index("left_wrist"), 3, 1] = 1.0
    back = flip_heatmaps(hm.flip(3)[:, torch.as_tensor(COCO17.flip_index)], COCO17.flip_index)
    assert torch.equal(back, hm)
    mirrored = flip_heatmaps(hm, COCO17.flip_index)
    assert mirrored[0, COCO17.index("right_wrist"), 3, 4] == 1.0


def test_no_download_by_default(monkeypatch):
    import timm

    seen = {}
    real = timm.create_model

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr("lqpose.models.student.timm.create_model", spy)
    build_student(StudentConfig())
    assert seen["pretrained"] is False


def test_crop_input_norm_makes_the_student_blind_to_exposure_and_white_balance():
    torch.manual_seed(0)
    model = build_student(StudentConfig(head_channels=32, input_norm="crop", quality_head=True)).eval()
    x = torch.randn(2, 3, 128, 96)
    gain = torch.tensor([0.2, 0.3, 0.5]).view(1, 3, 1, 1)  # a darker frame with a colour cast (contrast >> eps)
    offset = torch.tensor([-2.0, -1.9, -1.7]).view(1, 3, 1, 1)
    with torch.no_grad():
        hm, q = model.forward_with_quality(x)
        hm_dark, q_dark = model.forward_with_quality(x * gain + offset)
        plain = build_student(StudentConfig(head_channels=32, quality_head=True)).eval()
        plain.load_state_dict(model.state_dict())
        plain_change = float((plain(x) - plain(x * gain + offset)).abs().max())
    change = float((hm - hm_dark).abs().max())
    assert change < 1e-4 and torch.allclose(q, q_dark, atol=1e-5)
    assert plain_change > 100 * change  # the same weights without it do see the change
    flat = torch.full((1, 3, 128, 96), -1.5)
    assert float(standardize_crop(flat).abs().max()) == 0.0  # a flat crop stays flat, no 1/0


_MEAN = torch.from_numpy(MEAN / 255.0).view(1, 3, 1, 1)  # the normalisation every crop gets
_STD = torch.from_numpy(STD / 255.0).view(1, 3, 1, 1)


def _normalised(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels - _MEAN) / _STD


def test_auto_gain_brightens_dark_crops_keeps_their_colours_and_passes_the_rest_unchanged():
    torch.manual_seed(0)
    day = torch.rand(2, 3, 64, 48) * 0.6 + 0.1  # mean pixel ~0.4, above the 0.25 target
    assert torch.equal(auto_gain(_normalised(day)), _normalised(day))  # bit for bit
    night = day * 0.02  # 50x darker, mean ~0.008: the gain brings it to mean 0.25
    out = auto_gain(_normalised(night))
    pixels = out * _STD + _MEAN
    assert torch.allclose(pixels.mean(dim=(1, 2, 3)), torch.full((2,), 0.25), atol=1e-4)
    gain = 0.25 / night.mean(dim=(1, 2, 3)).view(2, 1, 1, 1)
    assert torch.allclose(pixels, night * gain, atol=1e-4)  # one gain per crop: colour ratios kept
    black = torch.zeros(1, 3, 16, 12)  # the gain is capped (64x): a black crop stays black, nothing divides by 0
    assert torch.allclose(auto_gain(_normalised(black)), _normalised(black), atol=1e-6)
    dim = torch.full((1, 3, 16, 12), 0.002)  # 125x below target: capped at 64x -> 0.128
    dim_out = auto_gain(_normalised(dim)) * _STD + _MEAN
    assert abs(float(dim_out[0, 0, 0, 0]) - 0.128) < 1e-4


def test_gain_input_norm_runs_inside_the_student():
    torch.manual_seed(0)
    model = build_student(StudentConfig(head_channels=32, input_norm="gain")).eval()
    plain = build_student(StudentConfig(head_channels=32)).eval()
    plain.load_state_dict(model.state_dict())
    day, night = torch.rand(1, 3, 128, 96) * 0.6 + 0.1, torch.rand(1, 3, 128, 96) * 0.01
    with torch.no_grad():
        assert torch.equal(model(_normalised(day)), plain(_normalised(day)))
        assert torch.allclose(model(_normalised(night)), plain(auto_gain(_normalised(night))))
        assert not torch.allclose(model(_normalised(night)), plain(_normalised(night)), atol=1e-3)


def test_unknown_input_norm_is_refused():
    with pytest.raises(ValueError, match="model.input_norm must be"):
        build_student(StudentConfig(input_norm="per-pixel"))


def test_separable_refine_cuts_the_fuse_heads_cost_by_the_arithmetic_of_the_factorisation():
    """A 64-wide refine at 256x192 (stride-4 map 64x48): full 3x3 = 9 x 64 x 64 MACs per pixel, separable =
    9 x 64 (depthwise) + 64 x 64 (pointwise); the rest of the network is unchanged."""
    cfg = dict(backbone="yolox_nano", head_channels=64, num_keypoints=14)
    full = build_student(StudentConfig(**cfg)).eval()
    separable = build_student(StudentConfig(**cfg, head_refine="separable")).eval()
    pixels = 64 * 48
    saved_gflops = 2 * pixels * (9 * 64 * 64 - (9 * 64 + 64 * 64)) / 1e9
    assert count_flops(full, (192, 256)) - count_flops(separable, (192, 256)) == pytest.approx(saved_gflops, abs=1e-6)
    assert count_parameters(full) - count_parameters(separable) == 9 * 64 * 64 - (9 * 64 + 64 * 64 + 2 * 64)
    with torch.no_grad():
        assert separable(torch.zeros(2, 3, 256, 192)).shape == (2, 14, 64, 48)


def test_head_refine_is_checked():
    with pytest.raises(ValueError, match="model.head_refine must be one of conv, separable, got 'winograd'"):
        build_student(StudentConfig(head_refine="winograd"))
    with pytest.raises(ValueError, match="model.head_refine 'separable' is the fuse head's option"):
        build_student(StudentConfig(backbone="resnet18", head="deconv", head_refine="separable"))
