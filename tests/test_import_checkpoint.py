"""Checkpoint import: synthetic checkpoints with the exact key names and shapes of the official HRNet /
SimpleBaseline code and of MMPose 1.x / 0.x, generated here from those architectures' definitions (not from
lqpose's own model), with random values, so every tensor's destination can be checked."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

import lqpose
from lqpose.cli import main
from lqpose.import_checkpoint import import_checkpoint, read_source_state


def _bn(prefix: str, c: int) -> dict:
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
            f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}  # fmt: skip


def _bottleneck(prefix: str, cin: int, planes: int, downsample: bool) -> dict:
    s = {f"{prefix}.conv1.weight": (planes, cin, 1, 1), **_bn(f"{prefix}.bn1", planes),
         f"{prefix}.conv2.weight": (planes, planes, 3, 3), **_bn(f"{prefix}.bn2", planes),
         f"{prefix}.conv3.weight": (planes * 4, planes, 1, 1), **_bn(f"{prefix}.bn3", planes * 4)}  # fmt: skip
    if downsample:
        s |= {f"{prefix}.downsample.0.weight": (planes * 4, cin, 1, 1), **_bn(f"{prefix}.downsample.1", planes * 4)}
    return s


def _basic(prefix: str, c: int) -> dict:
    return {f"{prefix}.conv1.weight": (c, c, 3, 3), **_bn(f"{prefix}.bn1", c),
            f"{prefix}.conv2.weight": (c, c, 3, 3), **_bn(f"{prefix}.bn2", c)}  # fmt: skip


def hrnet_pose_shapes(width: int = 32, joints: int = 17) -> dict[str, tuple]:
    """pose_hrnet key -> shape: stem, layer1 (4 bottlenecks), transitions, stages 2-4 (1, 4, 3 modules of
    4 basic blocks per branch), the last module fusing into the stride-4 branch only, final 1x1 layer."""
    s = {"conv1.weight": (64, 3, 3, 3), **_bn("bn1", 64), "conv2.weight": (64, 64, 3, 3), **_bn("bn2", 64)}
    for b in range(4):
        s |= _bottleneck(f"layer1.{b}", 64 if b == 0 else 256, 64, b == 0)
    pre = [256]
    for stage, modules in ((2, 1), (3, 4), (4, 3)):
        cur = [width * 2**i for i in range(stage)]
        t = f"transition{stage - 1}"
        for i, c in enumerate(cur):
            if i < len(pre) and pre[i] != c:
                s |= {f"{t}.{i}.0.weight": (c, pre[i], 3, 3), **_bn(f"{t}.{i}.1", c)}
            elif i >= len(pre):
                s |= {f"{t}.{i}.0.0.weight": (c, pre[-1], 3, 3), **_bn(f"{t}.{i}.0.1", c)}
        for m in range(modules):
            p = f"stage{stage}.{m}"
            for b, c in enumerate(cur):
                for k in range(4):
                    s |= _basic(f"{p}.branches.{b}.{k}", c)
            outputs = 1 if (stage == 4 and m == modules - 1) else len(cur)
            for i in range(outputs):
                for j in range(len(cur)):
                    if j > i:
                        s |= {f"{p}.fuse_layers.{i}.{j}.0.weight": (cur[i], cur[j], 1, 1),
                              **_bn(f"{p}.fuse_layers.{i}.{j}.1", cur[i])}  # fmt: skip
                    elif j < i:
                        for k in range(i - j):
                            cout = cur[i] if k == i - j - 1 else cur[j]
                            s |= {f"{p}.fuse_layers.{i}.{j}.{k}.0.weight": (cout, cur[j], 3, 3),
                                  **_bn(f"{p}.fuse_layers.{i}.{j}.{k}.1", cout)}  # fmt: skip
        pre = cur
    s |= {"final_layer.weight": (joints, width, 1, 1), "final_layer.bias": (joints,)}
    return s


def pose_resnet_shapes(layers=(3, 4, 6, 3), joints: int = 17) -> dict[str, tuple]:
    """pose_resnet (SimpleBaseline) key -> shape: torchvision ResNet, 3 deconvs of 256, final 1x1 layer."""
    s = {"conv1.weight": (64, 3, 7, 7), **_bn("bn1", 64)}
    cin = 64
    for li, (n, planes) in enumerate(zip(layers, (64, 128, 256, 512), strict=True)):
        for b in range(n):
            s |= _bottleneck(f"layer{li + 1}.{b}", cin, planes, b == 0)
            cin = planes * 4
    for i in range(3):
        s |= {f"deconv_layers.{3 * i}.weight": (cin, 256, 4, 4), **_bn(f"deconv_layers.{3 * i + 1}", 256)}
        cin = 256
    s |= {"final_layer.weight": (joints, 256, 1, 1), "final_layer.bias": (joints,)}
    return s


def random_state(shapes: dict[str, tuple], seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, shape in shapes.items():
        if k.endswith("num_batches_tracked"):
            out[k] = torch.tensor(1000)
        elif k.endswith("running_var"):
            out[k] = torch.rand(shape, generator=g) + 0.5
        else:
            out[k] = torch.randn(shape, generator=g) * 0.05
    return out


def to_mmpose(state: dict[str, torch.Tensor], head: str = "head") -> dict:
    out = {}
    for k, v in state.items():
        if k.startswith(("final_layer", "deconv_layers")):
            out[f"{head}.{k}"] = v
        else:
            out[f"backbone.{k}"] = v
    return out


def _student_state(path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def test_official_hrnet_w32_maps_every_tensor(tmp_path):
    src = random_state(hrnet_pose_shapes(32))
    torch.save(src, tmp_path / "pose_hrnet_w32_256x192.pth")
    report = import_checkpoint(tmp_path / "pose_hrnet_w32_256x192.pth", "hrnet_w32", tmp_path / "out.pt")
    assert report.source_format == "official" and report.complete
    assert report.mapped == len(src)
    # timm's last HRNet module also fuses into branches 1-3: those never reach the heatmaps
    assert report.missing_unused and all(".stage4.2.fuse_layers." in k for k in report.missing_unused)
    state = _student_state(tmp_path / "out.pt")
    for k in ("final_layer.weight", "stage4.2.fuse_layers.0.3.0.weight", "stage3.3.fuse_layers.2.0.1.0.weight",
              "transition1.1.0.0.weight",
              "layer1.0.downsample.1.running_var", "stage3.3.branches.2.3.bn2.bias"):  # fmt: skip
        dst = "head.final.weight" if k.startswith("final_layer") else "backbone." + k
        assert torch.equal(state[dst], src[k])
    model = lqpose.load(tmp_path / "out.pt")
    img = np.full((256, 192, 3), 128, np.uint8)
    poses = model(img)
    assert len(poses) == 1 and np.asarray(poses[0]["keypoints"]).shape == (17, 3)


def test_official_simplebaseline_and_mmpose_variants_give_the_same_weights(tmp_path):
    src = random_state(pose_resnet_shapes(), seed=1)
    torch.save({"state_dict": {"module." + k: v for k, v in src.items()}, "epoch": 140}, tmp_path / "official.pth")
    torch.save({"state_dict": to_mmpose(src), "meta": {"epoch": 210}}, tmp_path / "mmpose1.pth")
    torch.save({"state_dict": to_mmpose(src, "keypoint_head")}, tmp_path / "mmpose0.pth")
    states = []
    for name, fmt in (("official", "official"), ("mmpose1", "mmpose"), ("mmpose0", "mmpose0")):
        report = import_checkpoint(tmp_path / f"{name}.pth", "resnet50", tmp_path / f"{name}.pt")
        assert report.source_format == fmt and report.complete and report.mapped == len(src)
        assert report.missing_unused == []
        states.append(_student_state(tmp_path / f"{name}.pt"))
    assert torch.equal(states[0]["head.deconv.3.weight"], src["deconv_layers.3.weight"])
    assert torch.equal(states[0]["backbone.layer4.2.conv3.weight"], src["layer4.2.conv3.weight"])
    for other in states[1:]:
        assert all(torch.equal(states[0][k], other[k]) for k in states[0])


def test_mmpose_hrnet_imports_and_serves_as_ckd_teacher(tmp_path):
    from lqpose.engine.ckd import load_teacher

    src = to_mmpose(random_state(hrnet_pose_shapes(32), seed=2))
    torch.save({"state_dict": src}, tmp_path / "td-hm_hrnet-w32.pth")
    import_checkpoint(tmp_path / "td-hm_hrnet-w32.pth", "hrnet_w32", tmp_path / "teacher.pt")
    teacher, cfg = load_teacher(str(tmp_path / "teacher.pt"), (192, 256), 17)
    assert cfg.backbone == "hrnet_w32" and cfg.head == "simple"
    assert torch.equal(teacher.net.head.final.bias, src["head.final_layer.bias"])


def test_wrong_arch_is_refused_with_the_arch_that_fits(tmp_path):
    torch.save(random_state(hrnet_pose_shapes(32)), tmp_path / "w32.pth")
    with pytest.raises(ValueError, match=r"w32\.pth: does not fit --arch hrnet_w48.*fits --arch hrnet_w32"):
        import_checkpoint(tmp_path / "w32.pth", "hrnet_w48", tmp_path / "out.pt")
    with pytest.raises(ValueError, match="does not fit --arch resnet50"):
        import_checkpoint(tmp_path / "w32.pth", "resnet50", tmp_path / "out.pt")
    with pytest.raises(ValueError, match="--arch 'vitpose' is not supported"):
        import_checkpoint(tmp_path / "w32.pth", "vitpose", tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_partial_checkpoint_needs_allow_partial_and_is_reported(tmp_path):
    src = random_state(pose_resnet_shapes(), seed=3)
    partial = {k: v for k, v in src.items() if not k.startswith("layer4.2.")}
    torch.save(partial, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match=r"partial\.pth: the import would leave part of the model random"):
        import_checkpoint(tmp_path / "partial.pth", "resnet50", tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()
    report = import_checkpoint(tmp_path / "partial.pth", "resnet50", tmp_path / "out.pt", allow_partial=True)
    assert report.mapped == len(partial)
    assert {k.split(".")[3] for k in report.missing_used} == {"conv1", "bn1", "conv2", "bn2", "conv3", "bn3"}
    assert all(k.startswith("backbone.layer4.2.") for k in report.missing_used)
    assert "missing (reach the heatmaps, left random)" in report.summary()


def test_mismatched_keypoint_count_and_bad_files(tmp_path):
    src = random_state(pose_resnet_shapes(joints=21), seed=4)
    torch.save(src, tmp_path / "hand.pth")
    with pytest.raises(ValueError, match="predicts 21 keypoints; name their layout with --keypoints"):
        import_checkpoint(tmp_path / "hand.pth", "resnet50", tmp_path / "out.pt")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pth: not a readable PyTorch checkpoint"):
        read_source_state(tmp_path / "junk.pth")
    with pytest.raises(FileNotFoundError, match=r"nope\.pth: no such checkpoint file"):
        read_source_state(tmp_path / "nope.pth")
    torch.save({"backbone": {"a": 1}}, tmp_path / "notensors.pth")
    with pytest.raises(ValueError, match="no tensor state dict found"):
        read_source_state(tmp_path / "notensors.pth")


def test_pickled_objects_need_unsafe_load(tmp_path):
    src = random_state(pose_resnet_shapes(), seed=5)
    torch.save({"state_dict": to_mmpose(src), "meta": argparse.Namespace(epoch=210)}, tmp_path / "mm.pth")
    with pytest.raises(ValueError, match=r"mm\.pth: holds pickled Python objects.*--unsafe-load"):
        read_source_state(tmp_path / "mm.pth")
    assert len(read_source_state(tmp_path / "mm.pth", unsafe_load=True)) == len(src)


def test_cli_import_checkpoint(tmp_path, capsys):
    torch.save(random_state(pose_resnet_shapes(), seed=6), tmp_path / "sb.pth")
    rc = main(["import-checkpoint", str(tmp_path / "sb.pth"), "--arch", "resnet50", "--out", str(tmp_path / "s.pt"),
               "--input-size", "192x256"])  # fmt: skip
    assert rc == 0 and (tmp_path / "s.pt").is_file()
    assert "official -> resnet50" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["import-checkpoint", str(tmp_path / "sb.pth"), "--arch", "nope", "--out", str(tmp_path / "x.pt")])
