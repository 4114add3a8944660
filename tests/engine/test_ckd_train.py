import json

import pytest

from lqpose.cli import main
from lqpose.config import load_config
from lqpose.engine.checkpoint import load_checkpoint
from lqpose.engine.train import TrainConfig, train
from lqpose.models.student import StudentConfig, build_student, count_parameters


def test_ckd_run_checkpoints_resumes_exactly_and_exports_an_evaluable_student(
    tiny_config, tmp_path, shared_data, read_losses
):
    teacher = load_config(
        TrainConfig, tiny_config, [f"out_dir={tmp_path / 'teacher'}", "optim.steps=3", "data.val_ann="]
    )
    train(teacher, progress=False)
    ckd = [f"ckd.teacher={tmp_path / 'teacher' / 'last.pt'}", "ckd.enabled=true", "data.lq.mode=mix",
           "model.quality_head=true", "data.val_ann="]  # fmt: skip
    full = load_config(TrainConfig, tiny_config, [*ckd, f"out_dir={tmp_path / 'full'}"])
    train(full, progress=False)
    part = load_config(TrainConfig, tiny_config, [*ckd, f"out_dir={tmp_path / 'part'}"])
    train(part, resume=str(tmp_path / "full" / "step_0000003.pt"), progress=False)
    a, b = read_losses(tmp_path / "full"), read_losses(tmp_path / "part")
    assert [b[s] for s in (4, 5, 6)] == [a[s] for s in (4, 5, 6)]

    ckpt = load_checkpoint(tmp_path / "full" / "last.pt")
    assert {"ckd", "discriminator", "disc_optimizer"} <= set(ckpt)
    assert any(k.startswith("generator.") for k in ckpt["ckd"]) and any(k.startswith("rtd.") for k in ckpt["ckd"])
    exported = load_checkpoint(tmp_path / "full" / "student.pt")
    assert set(exported) == {"model", "config", "keypoints", "step", "deployable", "lqpose_version"}
    plain = build_student(StudentConfig(backbone="lcnet_050", head_channels=32, quality_head=True))
    plain.load_state_dict(exported["model"])  # exactly the plain student's weights, nothing more
    assert sum(v.numel() for v in exported["model"].values() if v.is_floating_point()) >= count_parameters(plain)
    assert len(exported["model"]) == len(plain.state_dict())

    ann = shared_data / "mmpose-samples/coco/test_coco.json"
    out = tmp_path / "eval"
    assert (
        main(["eval", "--checkpoint", str(tmp_path / "full" / "student.pt"), "--ann", str(ann), "--out", str(out)]) == 0
    )
    assert json.loads((out / "metrics.json").read_text())["AP"] >= 0.0
    assert len(json.loads((out / "results.json").read_text())) == 12


def test_ckd_needs_paired_samples_and_a_teacher(tiny_config, tmp_path):
    cfg = load_config(TrainConfig, tiny_config, ["ckd.enabled=true", "ckd.teacher=x.pt"])
    with pytest.raises(ValueError, match="needs paired LQ samples"):
        train(cfg, progress=False)
    cfg = load_config(TrainConfig, tiny_config, ["ckd.enabled=true", "data.lq.mode=chain"])
    with pytest.raises(ValueError, match="ckd.teacher must name the WQ teacher's checkpoint"):
        train(cfg, progress=False)
