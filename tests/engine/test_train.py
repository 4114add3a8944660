import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from lqpose.cli import main
from lqpose.config import load_config
from lqpose.data.relabel import Relabel, write_relabel
from lqpose.engine.checkpoint import load_checkpoint, load_student_checkpoint
from lqpose.engine.train import TrainConfig, TrainingDiverged, nested_subset, train, training_set
from lqpose.keypoints import get_spec


def test_run_folder_holds_config_log_checkpoints_and_metrics(tiny_config, capsys, read_losses):
    assert main(["train", str(tiny_config)]) == 0
    cfg = load_config(TrainConfig, tiny_config)
    run = tmp = Path(cfg.out_dir)
    assert (run / "config.yaml").is_file() and (run / "log.csv").is_file()
    assert {p.name for p in run.glob("*.pt")} == {"step_0000003.pt", "step_0000006.pt", "last.pt", "student.pt"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= {"AP", "AP50", "AP75", "APm", "APl", "AR"}
    assert len(json.loads((run / "results.json").read_text())) == 12
    ckpt = load_checkpoint(run / "last.pt")  # plain dict, loads with weights_only=True
    assert ckpt["step"] == 6 and ckpt["config"]["data"]["input_size"] == [48, 64]
    assert list(read_losses(tmp)) == [1, 2, 3, 4, 5, 6]


def test_resume_reproduces_the_uninterrupted_losses(tiny_config, tmp_path, read_losses):
    full = load_config(TrainConfig, tiny_config, [f"out_dir={tmp_path / 'full'}"])
    train(full, progress=False)
    part = load_config(TrainConfig, tiny_config, [f"out_dir={tmp_path / 'part'}"])
    train(part, resume=str(tmp_path / "full" / "step_0000003.pt"), progress=False)
    a, b = read_losses(tmp_path / "full"), read_losses(tmp_path / "part")
    assert [b[s] for s in (4, 5, 6)] == [a[s] for s in (4, 5, 6)]
    sa = load_checkpoint(tmp_path / "full" / "last.pt")["model"]
    sb = load_checkpoint(tmp_path / "part" / "last.pt")["model"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tiny_config, monkeypatch):
    import lqpose.engine.train as engine

    calls = {"n": 0}
    real = engine.keypoint_mse

    def nan_after_four(*args):
        calls["n"] += 1
        loss = real(*args)
        return loss * float("nan") if calls["n"] == 5 else loss

    monkeypatch.setattr(engine, "keypoint_mse", nan_after_four)
    cfg = load_config(TrainConfig, tiny_config, ["ckpt_every=2", "data.val_ann="])
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 5.*last good checkpoint: .*last\.pt"):
        train(cfg, progress=False)
    run = Path(cfg.out_dir)
    assert load_checkpoint(run / "last.pt")["step"] == 4


def test_missing_images_are_skipped_and_counted(tiny_config, tmp_path, shared_data, caplog):
    src = json.loads((shared_data / "mmpose-samples/coco/test_coco.json").read_text())
    src["images"][0]["file_name"] = "does_not_exist.jpg"
    ann = tmp_path / "broken.json"
    ann.write_text(json.dumps(src))
    images = shared_data / "mmpose-samples/coco"
    overrides = [f"data.train_ann={ann}", f"data.train_images={images}", "data.val_ann=", "optim.steps=2"]
    cfg = load_config(TrainConfig, tiny_config, overrides)
    train(cfg, progress=False)
    assert "training people point to missing images; skipped" in caplog.text


@pytest.mark.slow
def test_tiny_student_overfits_the_coco_sample(tiny_config, read_losses):
    cfg = load_config(TrainConfig, tiny_config, [
        "data.input_size=[96, 128]", "data.sigma=2.0", "model.head_channels=64", "optim.steps=250",
        "optim.batch_size=12", "optim.lr=0.008", "optim.warmup_steps=10", "log_every=10", "ckpt_every=1000",
        "data.augment.rotation_prob=0", "data.augment.flip_prob=0", "data.augment.half_body_prob=0",
        "data.augment.scale=[1.0, 1.0]", "data.augment.shift=0",
    ])  # fmt: skip
    run = train(cfg, progress=False)
    log = read_losses(run)
    first, last = float(log[1]), float(log[250])
    assert first / last >= 5, (first, last)
    assert json.loads((run / "metrics.json").read_text())["AP"] >= 0.5


@pytest.mark.slow
def test_ddp_two_cpu_processes_gloo(tiny_config, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "lqpose.cli",
           "train", str(tiny_config), "--set", f"out_dir={out}", "--set", "optim.steps=4"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert load_checkpoint(out / "last.pt")["step"] == 4
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]  # rank 0 logs alone
    model, spec, codec = load_student_checkpoint(out / "last.pt")
    single, _, _ = load_student_checkpoint(out / "step_0000003.pt")
    x = torch.zeros(2, 3, 64, 48)
    with torch.no_grad():
        assert model(x).shape == single(x).shape == (2, 17, 16, 12)
    assert json.loads((out / "metrics.json").read_text())["AP"] >= 0.0


def test_init_from_copies_a_checkpoints_student_and_refuses_another_model(tmp_path):
    import torch

    from lqpose.engine.checkpoint import save_checkpoint
    from lqpose.engine.train import init_student_from
    from lqpose.models.student import StudentConfig, build_student

    torch.manual_seed(0)
    src = build_student(StudentConfig(head_channels=16, num_keypoints=14))
    save_checkpoint(tmp_path / "t.pt", {"model": src.state_dict(), "config": {}})
    torch.manual_seed(1)
    dst = build_student(StudentConfig(head_channels=16, num_keypoints=14, quality_head=True))
    n = init_student_from(dst, str(tmp_path / "t.pt"))
    assert n == len(src.state_dict())
    assert all(torch.equal(v, dst.state_dict()[k]) for k, v in src.state_dict().items())
    other = build_student(StudentConfig(head_channels=32, num_keypoints=14))
    with pytest.raises(ValueError, match=r"t\.pt: does not fit this student .* of another shape"):
        init_student_from(other, str(tmp_path / "t.pt"))


def test_init_fresh_keeps_a_changed_heads_initialisation_and_copies_the_rest(tmp_path):
    import torch

    from lqpose.engine.checkpoint import save_checkpoint
    from lqpose.engine.train import init_student_from
    from lqpose.models.student import StudentConfig, build_student

    torch.manual_seed(0)
    src = build_student(StudentConfig(head_channels=16, num_keypoints=14))
    save_checkpoint(tmp_path / "t.pt", {"model": src.state_dict(), "config": {}})
    torch.manual_seed(1)
    dst = build_student(StudentConfig(head_channels=16, num_keypoints=14, head_refine="separable"))
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(ValueError, match=r"t\.pt: does not fit this student \(6 missing, 1 of another shape"):
        init_student_from(dst, str(tmp_path / "t.pt"))
    n = init_student_from(dst, str(tmp_path / "t.pt"), fresh=["head.refine"])
    fresh = [k for k in dst.state_dict() if k.startswith("head.refine.")]
    assert len(fresh) == 12 and n == len(dst.state_dict()) - 12  # dw conv, pw conv and two norms (5 tensors each)
    assert all(torch.equal(dst.state_dict()[k], before[k]) for k in fresh)
    assert all(
        torch.equal(dst.state_dict()[k], v) for k, v in src.state_dict().items() if not k.startswith("head.refine")
    )
    with pytest.raises(ValueError, match=r"init_fresh \['head.refin'\]: no such module"):
        init_student_from(dst, str(tmp_path / "t.pt"), fresh=["head.refin"])


def test_init_from_accepts_the_bundled_default_model():
    """Fine-tuning can start from the shipped weights: init_from: default copies every tensor of the bundle."""
    import torch

    from lqpose.engine.checkpoint import load_safetensors_student
    from lqpose.engine.train import init_student_from
    from lqpose.model_files import DEFAULT_MODEL
    from lqpose.models.student import StudentConfig, build_student

    bundle = load_safetensors_student(DEFAULT_MODEL)
    cfg = bundle["config"]["model"]
    keys = ("backbone", "head_channels", "head_refine", "num_keypoints", "quality_head")
    dst = build_student(StudentConfig(**{k: cfg[k] for k in keys}))
    assert init_student_from(dst, "default") == len(bundle["model"])
    assert all(torch.equal(v, dst.state_dict()[k]) for k, v in bundle["model"].items())


def test_baseline_recipe_trains_the_quality_head(tiny_config, tmp_path):
    from lqpose.engine.train import _seed_everything
    from lqpose.models.student import build_student

    quality = ["model.quality_head=true", "data.lq.mode=mix", "data.train_on_lq=true", "data.val_ann="]
    cfg = load_config(TrainConfig, tiny_config, [*quality, f"out_dir={tmp_path / 'run'}"])
    train(cfg, progress=False)
    with open(tmp_path / "run" / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    for r in rows:  # the logged loss is the heatmap loss plus the weighted quality term, which is > 0
        assert float(r["quality"]) > 0
        assert float(r["loss"]) == pytest.approx(float(r["gt"]) + float(r["quality"]), rel=1e-5)
    _seed_everything(cfg.seed)
    init = build_student(cfg.model).state_dict()  # the run's initial weights (same seed, same build)
    trained = load_checkpoint(tmp_path / "run" / "last.pt")["model"]
    assert not torch.equal(trained["quality.mlp.2.bias"], init["quality.mlp.2.bias"])


def test_quality_head_without_lq_crops_is_a_clear_error(tiny_config):
    cfg = load_config(TrainConfig, tiny_config, ["model.quality_head=true", "data.val_ann="])
    with pytest.raises(ValueError, match="quality_head learns from the degradation of LQ crops"):
        train(cfg, progress=False)


def test_extra_train_sets_join_in_the_training_layout_repeated(tiny_config, tmp_path, shared_data, caplog):
    # CrowdPose sample (4 trainable people, CrowdPose-14) + the COCO sample (12 trainable, COCO-17) twice, where one
    # COCO person keeps only face joints: 4 + 2 x 11 people, in the CrowdPose layout
    coco = json.loads((shared_data / "mmpose-samples/coco/test_coco.json").read_text())
    first = next(a for a in coco["annotations"] if a["num_keypoints"] > 0)
    first["keypoints"] = first["keypoints"][:15] + [0] * 36
    ann = tmp_path / "coco_faces.json"
    ann.write_text(json.dumps(coco))
    crowd = shared_data / "mmpose-samples/crowdpose"
    overrides = [
        f"data.train_ann={crowd / 'test_crowdpose.json'}",
        f"data.train_images={crowd}",
        "data.val_ann=",
        "optim.steps=2",
        f"data.extra_train=[{{ann: {ann}, images: {shared_data / 'mmpose-samples/coco'}, repeat: 2}}]",
    ]
    cfg = load_config(TrainConfig, tiny_config, overrides)
    with caplog.at_level("INFO"):
        run = train(cfg, progress=False)
    assert f"{ann}: 1 people have no joint of the crowdpose layout; skipped" in caplog.text
    assert "26 people, 6 batches of 4 per epoch" in caplog.text
    saved = load_config(TrainConfig, run / "config.yaml")
    assert saved.data.extra_train[0].repeat == 2 and saved.data.extra_train[0].ann == str(ann)
    assert load_student_checkpoint(run / "student.pt")[1].num_keypoints == 14


def test_extra_train_errors_name_the_entry(tiny_config, shared_data):
    coco = shared_data / "mmpose-samples/coco/test_coco.json"
    cfg = load_config(TrainConfig, tiny_config, ["data.extra_train=[{images: x}]"])
    with pytest.raises(ValueError, match=r"^data\.extra_train: every entry needs 'ann'"):
        train(cfg, progress=False)
    cfg = load_config(TrainConfig, tiny_config, [f"data.extra_train=[{{ann: {coco}, repeat: 0}}]"])
    with pytest.raises(ValueError, match=rf"^data\.extra_train {coco}: repeat must be at least 1, got 0"):
        train(cfg, progress=False)
    with pytest.raises(ValueError, match=r"data\.extra_train: unknown key 'repet'; did you mean 'repeat'"):
        load_config(TrainConfig, tiny_config, [f"data.extra_train=[{{ann: {coco}, repet: 2}}]"])


def test_nested_subset_keeps_order_nests_and_ignores_the_run_seed():
    people = list(range(100))
    small, large = nested_subset(people, 10, "set"), nested_subset(people, 40, "set")
    assert len(small) == 10 and len(large) == 40
    assert small == sorted(small) and set(small) <= set(large)  # original order; every 10 inside the 40
    assert nested_subset(people, 100, "set") == people
    with pytest.raises(ValueError, match=r"^set: data.train_people is 101, but the set has only 100 trainable people$"):
        nested_subset(people, 101, "set")


def test_train_people_draws_the_training_set(tiny_config, shared_data):
    # the COCO sample's 12 trainable people: 5 of them, the same 5 whatever the run's seed
    picked = []
    for seed in (0, 7):
        cfg = load_config(TrainConfig, tiny_config, ["data.train_people=5", f"seed={seed}"])
        picked.append([i.ann_id for i in training_set(cfg).instances])
    assert len(picked[0]) == 5 and picked[0] == picked[1]
    cfg = load_config(TrainConfig, tiny_config, ["data.train_people=-1"])
    with pytest.raises(ValueError, match=r"^data\.train_people must be >= 0 \(0: every person\), got -1$"):
        train(cfg, progress=False)


def test_train_relabel_exchanges_and_drops_training_people(tiny_config, tmp_path, shared_data, caplog):
    coco = json.loads((shared_data / "mmpose-samples/coco/test_coco.json").read_text())
    ids = [a["id"] for a in coco["annotations"] if a["num_keypoints"] > 0]
    fix = tmp_path / "fix.json"
    write_relabel(fix, Relabel(exchange=[ids[0]], drop=ids[1:3]))
    cfg = load_config(TrainConfig, tiny_config, [f"data.train_relabel={fix}", "optim.steps=1"])
    with caplog.at_level("INFO"):
        run = train(cfg, progress=False)
    assert "label corrections: 1 people exchanged left/right, 2 dropped" in caplog.text
    assert f"{len(ids) - 2} people, " in caplog.text  # 12 trainable people less the 2 dropped
    assert load_config(TrainConfig, run / "config.yaml").data.train_relabel == str(fix)
    write_relabel(fix, Relabel(drop=[10**9]))
    with pytest.raises(ValueError, match=r"1 ann ids of the label corrections are not in this set \(first: 10+\)"):
        train(load_config(TrainConfig, tiny_config, [f"data.train_relabel={fix}"]), progress=False)


def test_joint_weights_reach_the_loss_and_the_saved_config(tiny_config, tmp_path, read_losses):
    all_zero = {name: 0.0 for name in get_spec("coco").names}
    run = train(load_config(TrainConfig, tiny_config, ["optim.steps=1"]), progress=False)
    assert float(read_losses(run)[1]) > 0
    overrides = ["optim.steps=1", f"out_dir={tmp_path / 'zero'}", f"data.joint_weights={json.dumps(all_zero)}"]
    run = train(load_config(TrainConfig, tiny_config, overrides), progress=False)
    assert float(read_losses(run)[1]) == 0.0  # every joint weighted 0: nothing left to learn from
    assert load_config(TrainConfig, run / "config.yaml").data.joint_weights == all_zero
    with pytest.raises(ValueError, match=r"^data.joint_weights: 'hips' is not a joint of the coco layout"):
        train(load_config(TrainConfig, tiny_config, ["data.joint_weights={hips: 1.5}"]), progress=False)


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ("optim.steps=-5", "optim.steps must be >= 1, got -5"),
        ("optim.batch_size=0", "optim.batch_size must be >= 1, got 0"),
        ("optim.lr=0", "optim.lr must be a number > 0, got 0.0"),
        ("optim.min_lr_ratio=1.5", "optim.min_lr_ratio must be in (0, 1], got 1.5"),
        ("data.input_size=[10, 10]", "data.input_size must be [width, height], each a multiple of 4 and >= 32"),
        ("data.input_size=[50, 70]", "got [50, 70]"),
        ("ckpt_every=0", "ckpt_every must be >= 1, got 0"),
        ("model.backbone=lcnet_05", "model.backbone: unknown backbone 'lcnet_05'; use a timm model name"),
        ("data.lq.clean_prob=1.5", "data.lq.clean_prob is a probability, within [0, 1]; got 1.5"),
        ("data.lq.chain.first.blur_prob=2", "data.lq.chain.first.blur_prob is a probability, within [0, 1]; got 2.0"),
    ],
)
def test_bad_training_values_stop_before_anything_is_written(tiny_config, capsys, override, error):
    out = yaml.safe_load(tiny_config.read_text())["out_dir"]
    assert main(["train", str(tiny_config), "--set", override]) == 1
    err = capsys.readouterr().err
    assert error in err and "Traceback" not in err
    assert not Path(out).exists()


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ("ckd.heat_kd=-1", "ckd.heat_kd must be a number >= 0, got -1.0"),
        ("ckd.teacher=", "ckd.teacher must name the WQ teacher's checkpoint (train one first"),
        ("ckd.rtd_teacher=1.5", "ckd.rtd_teacher must be in [0, 1], got 1.5"),
        ("ckd.rtd_dim=30", "ckd.rtd_dim must be a positive multiple of ckd.rtd_heads, got [30, 4]"),
        ("ckd.warmup_steps=99999", "ckd.warmup_steps must be >= 0 and below optim.steps"),
        ("ckd.disc_lr=0", "ckd.disc_lr must be > 0, got 0.0"),
    ],
)
def test_bad_ckd_values_stop_before_anything_is_written(tiny_config, tmp_path, capsys, override, error):
    """The distillation's numbers are checked with the rest when ckd.enabled (the teacher's file where it is read)."""
    out = tmp_path / "ckd_run"
    base = ["train", str(tiny_config), "--set", "ckd.enabled=true", "--set", "ckd.teacher=teacher.pt",
            "--set", f"out_dir={out}", "--set", "data.lq.mode=chain"]  # fmt: skip
    assert main([*base, "--set", override]) == 1
    err = capsys.readouterr().err
    assert f"{tiny_config}: {error}" in err and "Traceback" not in err
    assert not out.exists()
