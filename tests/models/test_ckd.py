import pytest
import torch

from lqpose.engine.ckd import CKDStep, simcc_codec
from lqpose.losses import keypoint_mse
from lqpose.models.ckd import CKDConfig, CKDNet, build_discriminator, export_student
from lqpose.models.fusion import CrossTaskFusion
from lqpose.models.patchwq_gan import PatchDiscriminator, RestorationGenerator
from lqpose.models.rtd import RefinedTransformerDecoder
from lqpose.models.student import StudentConfig, build_student, count_flops, count_parameters
from lqpose.models.teacher import Teacher

SIZE = (48, 64)  # (w, h)
K = 17


def student(quality=True):
    torch.manual_seed(0)
    return build_student(StudentConfig(head_channels=16, quality_head=quality))


def teacher():
    torch.manual_seed(1)
    return Teacher(build_student(StudentConfig(head_channels=24)))


def batch(b=2):
    g = torch.Generator().manual_seed(0)
    kps = torch.rand(b, K, 3, generator=g) * torch.tensor([47.0, 63.0, 0.0]) + torch.tensor([0, 0, 2.0])
    return {
        "image": torch.randn(b, 3, 64, 48, generator=g),
        "lq_image": torch.randn(b, 3, 64, 48, generator=g),
        "heatmaps": torch.rand(b, K, 16, 12, generator=g),
        "weights": torch.ones(b, K),
        "keypoints": kps,
        "lq_severity": torch.tensor([1, 5][:b]),
    }


def setup(**overrides):
    cfg = CKDConfig(enabled=True, **overrides)
    s = student(quality=True)
    net = CKDNet(s, 24, cfg, simcc_codec(SIZE, cfg.simcc_split).bins)
    t = teacher()
    disc = build_discriminator(cfg)
    return cfg, s, net, t, disc, CKDStep(net, t, disc, cfg, SIZE, total_steps=10)


def test_module_shapes():
    feats = [torch.randn(2, c, 64 // s, 48 // s) for c, s in zip((8, 16, 32, 64), (4, 8, 16, 32), strict=True)]
    restored, f_w = RestorationGenerator([8, 16, 32, 64], 16)(feats, torch.randn(2, 3, 64, 48))
    assert restored.shape == (2, 3, 32, 24) and f_w.shape == (2, 16, 16, 12)
    assert PatchDiscriminator(16)(restored).shape == (2, 1, 8, 6)  # a grid of patch logits
    f_f, aux = CrossTaskFusion(24, 16, 24, K)(torch.randn(2, 24, 16, 12), f_w)
    assert f_f.shape == (2, 24, 16, 12) and aux.shape == (2, K, 16, 12)
    lx, ly = RefinedTransformerDecoder(16, K, (96, 128))(torch.randn(2, 16, 16, 12))
    assert lx.shape == (2, K, 96) and ly.shape == (2, K, 128)


def _grad_norm(module) -> float:
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


def only_term(term: str):
    """A CKD setup and that loss term alone, with its graph."""
    cfg, s, net, t, disc, step = setup()
    _, parts, _ = step.losses(net, batch(), 0)
    return s, net, t, parts[term]


@pytest.mark.parametrize("term", ["gt", "heat_kd", "feat_kd", "rtd", "gan", "quality"])
def test_each_student_loss_reaches_the_student_and_never_the_teacher(term):
    s, net, t, loss = only_term(term)
    loss.backward()
    assert _grad_norm(s.backbone) > 0, term
    assert all(p.grad is None for p in t.net.parameters())


def test_gan_gradient_reaches_shallow_student_layers_and_teacher_is_untouched():
    s, net, t, loss = only_term("gan")
    before = {k: v.clone() for k, v in t.net.state_dict().items()}
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss.backward()
    first = next(iter(s.backbone.parameters()))  # the stem: the shallowest layer
    assert first.grad is not None and first.grad.abs().sum() > 0
    assert all(p.grad is None for p in t.net.parameters())
    opt.step()
    assert all(torch.equal(before[k], v) for k, v in t.net.state_dict().items())


def test_generator_and_discriminator_steps_alternate():
    cfg, s, net, t, disc, step = setup()
    d_opt = torch.optim.SGD(disc.parameters(), lr=0.1)
    total, parts, extra = step.losses(net, batch(), 0)
    total.backward()
    assert all(p.grad is None for p in disc.parameters())  # G's adversarial loss leaves D alone
    d_before = [p.clone() for p in disc.parameters()]
    g_before = [p.clone() for p in net.generator.parameters()]
    d_loss = step.discriminator_step(disc, d_opt, extra)
    assert d_loss is not None and d_loss > 0
    assert any(not torch.equal(a, b) for a, b in zip(d_before, disc.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(g_before, net.generator.parameters(), strict=True))
    assert _grad_norm(net.generator) > 0  # the generator's own step comes from the main optimiser


@pytest.mark.parametrize("off, module, term", [("use_gan", "generator", "gan"), ("use_fusion", "fusion", "feat_kd"),
                                               ("use_rtd", "rtd", "rtd")])  # fmt: skip
def test_switching_a_part_off_removes_its_loss_and_parameters(off, module, term):
    cfg, s, net, t, disc, step = setup(**{off: False})
    assert getattr(net, module) is None
    _, parts, _ = step.losses(net, batch(), 0)
    assert term not in parts
    _, _, full, *_ = setup()
    assert count_parameters(net) < count_parameters(full)
    if off == "use_gan":
        assert disc is None


def test_quality_off_and_warmup_freezes_the_student():
    cfg, s, net, t, disc, step = setup(quality=0.0, warmup_steps=5)
    _, parts, _ = step.losses(net, batch(), 0)
    assert "quality" not in parts and "gt" not in parts and "gan" in parts
    total, _, _ = step.losses(net, batch(), 0)
    total.backward()
    assert all(p.grad is None for p in s.parameters())
    _, parts_late, _ = step.losses(net, batch(), 6)
    assert "gt" in parts_late


def test_exported_student_costs_what_the_plain_student_costs():
    cfg, s, net, t, disc, step = setup()
    ckpt = {"model": s.state_dict(), "config": {"model": {"head_channels": 16, "quality_head": True}, "ckd": {},
            "optim": {}}, "keypoints": {"names": []}, "ckd": {"x": torch.zeros(1)}, "optimizer": {}}  # fmt: skip
    exported = export_student(ckpt)
    assert set(exported) == {"model", "config", "keypoints", "step", "deployable"}
    assert not any(k.startswith(("generator", "fusion", "rtd", "adapter")) for k in exported["model"])
    plain = build_student(StudentConfig(head_channels=16, quality_head=True))
    plain.load_state_dict(exported["model"])
    assert count_parameters(plain) == count_parameters(s) < count_parameters(net)
    assert count_flops(plain, SIZE) == count_flops(s, SIZE)


@pytest.mark.parametrize("backbone", ["lcnet_050", "mobilenetv3_small_100", "resnet18", "hrnet_w18_small_v2"])
def test_teacher_shallow_features_equal_the_full_forward(backbone):
    t = Teacher(build_student(StudentConfig(backbone=backbone)))
    x = torch.randn(1, 3, 64, 64)
    shallow, full = t.shallow_features(x), t.net.backbone(x)
    assert len(shallow) == 2
    for a, b in zip(shallow, full[:2], strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_gt_term_uses_the_plain_recipes_foreground_weighting():
    """CKD and the baseline must differ by the distillation alone: the ground-truth term is the very loss the
    plain recipe computes (optim.fg_weight included) on the same LQ batch."""
    cfg = CKDConfig(enabled=True)
    s = student(quality=True)
    net = CKDNet(s, 24, cfg, simcc_codec(SIZE, cfg.simcc_split).bins)
    step = CKDStep(net, teacher(), build_discriminator(cfg), cfg, SIZE, total_steps=10, fg_weight=10.0)
    b = batch()
    _, parts, _ = step.losses(net, b, 0)
    with torch.no_grad():
        plain = keypoint_mse(s(b["lq_image"]), b["heatmaps"], b["weights"], 10.0)
        unweighted = keypoint_mse(s(b["lq_image"]), b["heatmaps"], b["weights"])
    assert parts["gt"].item() == pytest.approx(float(plain), rel=1e-5)
    assert float(plain) > 1.5 * float(unweighted)  # the weighting is really in effect on this batch


def test_flip_averaged_teacher_is_mirror_equivariant_and_the_flip_test_mean():
    """teacher_flip: the heatmaps are the mean over the crop and its mirror (as flip testing computes them), so
    the mirrored crop's targets are exactly the crop's targets mirrored back; the features stay the crop's own."""
    from lqpose.codec import flip_heatmaps
    from lqpose.keypoints import COCO17

    t = teacher()
    x = batch()["image"]
    plain, flipped = t.knowledge(x), t.knowledge(x, COCO17.flip_index)
    with torch.no_grad():
        mean = 0.5 * (t.net(x) + flip_heatmaps(t.net(x.flip(3)), COCO17.flip_index))
    assert torch.allclose(flipped["heatmaps"], mean, atol=1e-6)
    assert not torch.allclose(flipped["heatmaps"], plain["heatmaps"], atol=1e-4)  # an untrained net is not symmetric
    assert torch.equal(flipped["head_feature"], plain["head_feature"])
    of_mirror = t.knowledge(x.flip(3), COCO17.flip_index)["heatmaps"]
    assert torch.allclose(flip_heatmaps(of_mirror, COCO17.flip_index), flipped["heatmaps"], atol=1e-6)


def test_teacher_flip_changes_only_the_distillation_target():
    from lqpose.keypoints import COCO17
    from lqpose.losses import heatmap_kd

    cfg = CKDConfig(enabled=True, teacher_flip=True, use_gan=False, use_fusion=False, use_rtd=False)
    s = student(quality=False)
    net = CKDNet(s, 24, cfg, simcc_codec(SIZE, cfg.simcc_split).bins)
    t = teacher()
    step = CKDStep(net, t, None, cfg, SIZE, total_steps=10, flip_index=COCO17.flip_index)
    b = batch()
    _, parts, _ = step.losses(net, b, 0)
    with torch.no_grad():
        pred = s(b["lq_image"])
        target = t.knowledge(b["image"], COCO17.flip_index)["heatmaps"]
        plain_target = t.knowledge(b["image"])["heatmaps"]
    assert parts["heat_kd"].item() == pytest.approx(float(heatmap_kd(pred, target, b["weights"])), rel=1e-5)
    assert parts["heat_kd"].item() != pytest.approx(float(heatmap_kd(pred, plain_target, b["weights"])), rel=1e-3)
    with pytest.raises(ValueError, match="flip_index"):
        CKDStep(net, t, None, cfg, SIZE, total_steps=10)
