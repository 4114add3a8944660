import numpy as np
import pytest
import torch

from lqpose.cli import main
from lqpose.codec import codec_for
from lqpose.data import read_coco
from lqpose.data.topdown import TopDownDataset
from lqpose.engine.checkpoint import load_checkpoint, load_student_checkpoint, save_checkpoint
from lqpose.export import export_onnx
from lqpose.models.ckd import export_student
from lqpose.models.student import StudentConfig, build_student
from lqpose.onnx_model import OnnxPoseModel


def save_tiny_student(path, **model_config):
    """A random-weight COCO-17 student (head width 32, 128x96 input) saved as a deployable student.pt."""
    torch.manual_seed(0)
    model = build_student(StudentConfig(head_channels=32, **model_config)).eval()
    from lqpose.keypoints import COCO17

    keypoints = {"name": "coco", "names": list(COCO17.names), "skeleton": [list(p) for p in COCO17.skeleton]}
    config = {"model": {"head_channels": 32, **model_config}, "data": {"input_size": [96, 128], "sigma": 2.0}}
    save_checkpoint(path, export_student({"model": model.state_dict(), "config": config, "keypoints": keypoints}))
    return path


@pytest.fixture(scope="module")
def student_ckpt(tmp_path_factory):
    return save_tiny_student(tmp_path_factory.mktemp("ckpt") / "student.pt", quality_head=True)


def test_onnx_runtime_matches_torch_on_real_crops(student_ckpt, tmp_path, shared_data):
    onnx_path = export_onnx(student_ckpt, tmp_path / "s.onnx", dynamic_batch=True)
    ort_model = OnnxPoseModel(onnx_path)
    model, spec, codec = load_student_checkpoint(student_ckpt)
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    ds = TopDownDataset(s.trainable(), s.spec, codec_for((96, 128), 2.0))
    images = torch.from_numpy(np.stack([ds[i]["image"] for i in range(5)]))
    with torch.no_grad():
        hm_t, q_t = model.forward_with_quality(images)
    hm_o, q_o = ort_model.forward_with_quality(images.numpy())  # numpy in and out: the deployed path
    assert isinstance(hm_o, np.ndarray) and isinstance(q_o, np.ndarray)
    assert hm_o.shape == hm_t.shape == (5, 17, 32, 24)
    assert np.abs(hm_o - hm_t.numpy()).max() < 1e-4 and np.abs(q_o - q_t.numpy()).max() < 1e-4
    kt, _ = codec.decode(hm_t.numpy())
    ko, _ = ort_model.codec.decode(hm_o)
    assert np.abs(kt - ko).max() < 0.01
    assert ort_model.spec.names == spec.names and ort_model.codec == codec
    hm_from_tensor, _ = ort_model.forward_with_quality(images)  # a CPU tensor is read as the same array
    assert np.abs(hm_from_tensor - hm_o).max() == 0.0


def test_flip_test_is_the_mean_with_the_mirror_in_torch_and_onnx_runtime(student_ckpt, tmp_path):
    """predict_heatmaps runs a crop and its mirror as one batch (torch) or mirrors in numpy (ONNX Runtime, whose
    thread pool contends with torch's); both must give the definition: the mean of the heatmaps and of the
    mirror's heatmaps mirrored back with left/right swapped."""
    from lqpose.codec import flip_heatmaps
    from lqpose.engine.evaluate import predict_heatmaps

    model, spec, _ = load_student_checkpoint(student_ckpt)
    ort_model = OnnxPoseModel(export_onnx(student_ckpt, tmp_path / "s.onnx"))
    x = torch.randn(3, 3, 128, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        hm, q = model.forward_with_quality(x)
        hm_m, q_m = model.forward_with_quality(x.flip(3))
    expected = 0.5 * (hm + flip_heatmaps(hm_m, spec.flip_index))
    assert float((expected - hm).abs().max()) > 1e-3  # the mirror changes the result: the test can fail
    for m in (model, ort_model):
        got, quality = predict_heatmaps(m, x, spec, flip_test=True)
        assert isinstance(got, torch.Tensor) and got.shape == (3, 17, 32, 24)
        assert float((got - expected).abs().max()) < 1e-4
        assert float((quality - 0.5 * (q + q_m)).abs().max()) < 1e-4
        one, _ = predict_heatmaps(m, x, spec, flip_test=False)
        assert float((one - hm).abs().max()) < 1e-4
    mirrored = flip_heatmaps(hm_m.numpy(), spec.flip_index)  # numpy in, numpy out, same values
    assert (
        isinstance(mirrored, np.ndarray) and np.abs(mirrored - flip_heatmaps(hm_m, spec.flip_index).numpy()).max() == 0
    )


def test_export_cli_and_onnx_on_the_bench(student_ckpt, tmp_path, shared_data, capsys):
    onnx_path = tmp_path / "m.onnx"
    assert main(["export", str(student_ckpt), "--onnx", str(onnx_path)]) == 0
    from lqpose.bench.make import make_bench

    gt = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    make_bench(gt, tmp_path / "b", "coco", types=["fog"], severities=[2], progress=False)
    rep = tmp_path / "rep"
    args = ["bench", "--bench", str(tmp_path / "b"), "--onnx", str(onnx_path), "--checkpoint", str(student_ckpt)]
    assert main([*args, "--report", str(rep)]) == 0
    rows = (rep / "results.csv").read_text().splitlines()[1:]
    by_model = {}
    for r in rows:
        model, split, ap = r.split(",")
        by_model.setdefault(split, []).append(float(ap))
    for split, aps in by_model.items():  # the ONNX export scores what the torch student scores
        assert aps[0] == pytest.approx(aps[1], abs=1e-6), split


def test_not_an_lqpose_onnx_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such ONNX model"):
        OnnxPoseModel(tmp_path / "missing.onnx")


def test_safetensors_export_is_the_same_student_without_pickle(student_ckpt, tmp_path, capsys):
    from safetensors import safe_open

    assert main(["export", str(student_ckpt), "--safetensors", str(tmp_path / "s.safetensors")]) == 0
    with safe_open(str(tmp_path / "s.safetensors"), framework="pt") as f:
        assert {"lqpose_config", "lqpose_keypoints", "lqpose_info"} <= set(f.metadata())
    a, spec_a, codec_a = load_student_checkpoint(student_ckpt)
    b, spec_b, codec_b = load_student_checkpoint(tmp_path / "s.safetensors")
    assert spec_a == spec_b and codec_a.input_size == codec_b.input_size and codec_a.sigma == codec_b.sigma
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        ha, qa = a.forward_with_quality(x)
        hb, qb = b.forward_with_quality(x)
    assert torch.equal(ha, hb) and torch.equal(qa, qb)


def test_safetensors_export_can_leave_the_quality_head_out(student_ckpt, tmp_path, capsys):
    out = tmp_path / "noq.safetensors"
    assert main(["export", str(student_ckpt), "--safetensors", str(out), "--drop-quality-head"]) == 0
    a, _, _ = load_student_checkpoint(student_ckpt)
    b, _, _ = load_student_checkpoint(out)
    assert a.quality is not None and b.quality is None
    assert len(b.state_dict()) == len(a.state_dict()) - sum(k.startswith("quality.") for k in a.state_dict())
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        assert torch.equal(a(x), b(x))  # the heatmaps are the same student's
        assert b.forward_with_quality(x)[1] is None


def test_safetensors_carries_info_and_keeps_it_when_re_exported(student_ckpt, tmp_path, capsys):
    from lqpose.engine.checkpoint import load_safetensors_student

    first, second = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    assert main(["export", str(student_ckpt), "--safetensors", str(first), "--info", "licence=research use only",
                 "--info", "data=LSPET train"]) == 0  # fmt: skip
    assert load_safetensors_student(first)["info"] == {
        "step": load_checkpoint(student_ckpt)["step"],
        "licence": "research use only",
        "data": "LSPET train",
    }
    assert main(["export", str(first), "--safetensors", str(second), "--info", "data=LSPET train+val"]) == 0
    b = load_safetensors_student(second)
    assert b["info"]["licence"] == "research use only" and b["info"]["data"] == "LSPET train+val"
    assert all(torch.equal(v, load_safetensors_student(first)["model"][k]) for k, v in b["model"].items())
    assert main(["export", str(student_ckpt), "--safetensors", str(second), "--info", "licence"]) == 1
    assert "--info takes KEY=VALUE" in capsys.readouterr().err


def test_foreign_safetensors_and_missing_output_are_refused(student_ckpt, tmp_path, capsys):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match=r"other\.safetensors: not an lqpose model"):
        load_student_checkpoint(tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"junk\.safetensors: not a readable safetensors file"):
        load_student_checkpoint(tmp_path / "junk.safetensors")
    assert main(["export", str(student_ckpt)]) == 1
    assert "give --onnx OUT.onnx and/or --safetensors" in capsys.readouterr().err
    # `lqpose.load` tells formats by the suffix: a file named otherwise would load as something it is not
    assert main(["export", str(student_ckpt), "--onnx", str(tmp_path / "model")]) == 1
    assert f"{tmp_path / 'model'}: --onnx writes a .onnx file; give the name that suffix" in capsys.readouterr().err
    assert main(["export", str(student_ckpt), "--safetensors", str(tmp_path / "m.pt")]) == 1
    assert "m.pt: --safetensors writes a .safetensors file" in capsys.readouterr().err
    assert not list(tmp_path.glob("model*")) and not (tmp_path / "m.pt").exists()


def test_onnx_keeps_the_crop_input_norm(tmp_path):
    path = save_tiny_student(tmp_path / "student.pt", input_norm="crop")
    ort_model = OnnxPoseModel(export_onnx(path, tmp_path / "s.onnx"))
    x = torch.randn(3, 3, 128, 96) * 0.2 - 1.8  # a dark, flat crop: the standardisation is what the output rests on
    with torch.no_grad():
        hm_t = load_student_checkpoint(path)[0](x)
    hm_o, _ = ort_model.forward_with_quality(x.numpy())
    assert np.abs(hm_o - hm_t.numpy()).max() < 1e-4
    hm_bright, _ = ort_model.forward_with_quality(x.numpy() * 5)
    assert np.abs(hm_bright - hm_o).max() < 1e-4  # the graph standardises: exposure does not matter


def test_export_switches_the_input_norm_to_gain_and_onnx_keeps_it(tmp_path, capsys):
    """`lqpose export --input-norm gain` turns auto-exposure on for a trained model (no retraining): ordinary
    crops give the same heatmaps as before, dark ones are brightened first, in torch and in the ONNX graph."""
    path = save_tiny_student(tmp_path / "student.pt")
    out = tmp_path / "night.safetensors"
    assert main(["export", str(path), "--safetensors", str(out), "--input-norm", "gain"]) == 0
    night_model = load_student_checkpoint(out)[0]
    assert night_model.cfg.input_norm == "gain"
    day = torch.rand(2, 3, 128, 96, generator=torch.Generator().manual_seed(0)) * 2 - 0.5  # mean pixel ~0.5
    dark = torch.full((2, 3, 128, 96), -2.0) + 0.01 * day  # mean pixel ~0.03
    with torch.no_grad():
        assert torch.equal(night_model(day), load_student_checkpoint(path)[0](day))
        hm_dark = night_model(dark)
        assert not torch.allclose(hm_dark, load_student_checkpoint(path)[0](dark), atol=1e-3)
    hm_onnx, _ = OnnxPoseModel(export_onnx(out, tmp_path / "night.onnx")).forward_with_quality(dark.numpy())
    assert np.abs(hm_onnx - hm_dark.numpy()).max() < 1e-4
    assert main(["export", str(path), "--safetensors", str(out), "--input-norm", "auto"]) == 1
    assert "input_norm must be one of imagenet, crop, gain, got 'auto'" in capsys.readouterr().err
    assert main(["export", str(path), "--onnx", str(tmp_path / "x.onnx"), "--input-norm", "gain"]) == 1
    assert "--input-norm goes with --safetensors" in capsys.readouterr().err
