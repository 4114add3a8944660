import pytest
import torch

from lqpose.engine.evaluate import flip_heatmaps
from lqpose.keypoints import COCO17
from lqpose.models.student import StudentConfig, build_student, count_flops, count_parameters


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
    back = flip_heatmaps(hm.flip(3)[:, torch.as_tensor(COCO17.flip_index)], COCO17)
    assert torch.equal(back, hm)
    mirrored = flip_heatmaps(hm, COCO17)
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
