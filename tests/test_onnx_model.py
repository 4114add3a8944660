import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

import lqpose
from lqpose.export import export_onnx
from lqpose.onnx_model import OnnxPoseModel, predict_arrays

# Run in a child interpreter where torch, torchvision and timm cannot be imported, as on a deployment that
# installed numpy, OpenCV and onnxruntime only: a finder placed first answers them as missing modules.
NO_TORCH = """
import importlib.abc, json, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "timm"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoTorch())
"""


def run_without_torch(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", NO_TORCH + code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bundle_onnx(tmp_path_factory):
    return export_onnx("default", tmp_path_factory.mktemp("onnx") / "default.onnx")


def test_an_exported_model_predicts_with_numpy_and_onnxruntime_alone(bundle_onnx, astronaut, tmp_path):
    """`lqpose.load(model.onnx)` and `lqpose infer model.onnx` on a photo and a video need no torch, and predict
    exactly what they predict beside torch; so do the default model, which ships exported too, and `lqpose demo`."""
    photo, clip = tmp_path / "astronaut.png", tmp_path / "clip.avi"
    cv2.imwrite(str(photo), astronaut[..., ::-1])
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (512, 512))
    for shift in (0, 8, 16):
        writer.write(np.ascontiguousarray(np.roll(astronaut, shift, axis=1)[..., ::-1]))
    writer.release()
    out = run_without_torch(f"""
import lqpose
from lqpose.cli import main
model = lqpose.load({str(bundle_onnx)!r})
people = model(lqpose.read_image({str(photo)!r}))
rc_photo = main(["infer", {str(bundle_onnx)!r}, {str(photo)!r}, "--out", {str(tmp_path / "photo")!r}])
rc_video = main(["infer", {str(bundle_onnx)!r}, {str(clip)!r}, "--out", {str(tmp_path / "video")!r}, "--smooth"])
rc_default = main(["infer", {str(photo)!r}, "--out", {str(tmp_path / "default")!r}])
rc_demo = main(["demo", "--out", {str(tmp_path / "demo")!r}])
rc_info = main(["info"])  # the bundled safetensors' header and its export's metadata, neither needs torch
print(json.dumps({{"keypoints": people[0]["keypoints"].tolist(), "quality": people[0]["quality"],
                  "rcs": [rc_photo, rc_video, rc_default, rc_demo, rc_info],
                  "torch": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "timm"))}}))
""")
    assert out["torch"] == [] and out["rcs"] == [0, 0, 0, 0, 0] and (tmp_path / "demo/poses.png").is_file()
    expected = lqpose.load(bundle_onnx)(astronaut)  # the same file beside torch
    np.testing.assert_array_equal(np.asarray(out["keypoints"], np.float32), expected[0]["keypoints"])
    assert out["quality"] == pytest.approx(expected[0]["quality"], abs=1e-6)
    saved = json.loads((tmp_path / "photo/results.json").read_text())
    np.testing.assert_allclose(np.reshape(saved[0]["keypoints"], (-1, 3))[:, :2], expected[0]["keypoints"][:, :2],
                               atol=1e-3)  # fmt: skip
    assert json.loads((tmp_path / "default/results.json").read_text()) == saved  # the shipped export of the bundle
    frames = json.loads((tmp_path / "video/clip.frames.json").read_text())
    assert len(frames) == 3 and [p["track_id"] for f in frames for p in f["people"]] == [0, 0, 0]
    assert (tmp_path / "video/clip.mp4").stat().st_size > 0


def test_an_export_is_scored_and_benchmarked_without_torch(bundle_onnx, shared_data, tmp_path):
    """`lqpose eval --checkpoint m.onnx` (clean and degraded), `make-bench` and `bench --onnx` need no torch, and
    score exactly what the same file scores beside torch."""
    from lqpose.data.readers import read_coco
    from lqpose.engine.evaluate import run_eval

    ann = shared_data / "mmpose-samples/coco/test_coco.json"
    bench, report = tmp_path / "bench", tmp_path / "report"
    out = run_without_torch(f"""
from lqpose.cli import main
ev = ["eval", "--checkpoint", {str(bundle_onnx)!r}, "--format", "coco", "--ann", {str(ann)!r}]
rcs = [main(ev + ["--out", {str(tmp_path / "clean")!r}]),
       main(ev + ["--out", {str(tmp_path / "jpeg")!r}, "--degrade", "jpeg:5"]),
       main(["make-bench", "--dataset", "coco", "--ann", {str(ann)!r}, "--out", {str(bench)!r}, "--types", "jpeg",
             "--severities", "5", "--mixed", "0"]),
       main(["bench", "--bench", {str(bench)!r}, "--onnx", {str(bundle_onnx)!r}, "--report", {str(report)!r}])]
print(json.dumps({{"rcs": rcs, "torch": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "timm"))}}))
""")
    assert out["rcs"] == [0, 0, 0, 0] and out["torch"] == []
    gt = read_coco(ann)
    for name, degradation in (("clean", None), ("jpeg", ("jpeg", 5))):
        expected = run_eval(gt, tmp_path / f"torch_{name}", str(bundle_onnx), degradation=degradation)
        got = json.loads((tmp_path / name / "metrics.json").read_text())
        assert got == expected, name  # the same file, scored with torch in the process
    assert json.loads((tmp_path / "clean/metrics.json").read_text())["AP"] != json.loads(
        (tmp_path / "jpeg/metrics.json").read_text())["AP"]  # fmt: skip
    rows = [r.split(",") for r in (report / "results.csv").read_text().splitlines()]
    assert rows[0] == ["model", "split", "AP"] and [r[:2] for r in rows[1:]] == [["default.onnx", "clean"],
                                                                               ["default.onnx", "jpeg/5"]]  # fmt: skip
    assert float(rows[1][2]) > float(rows[2][2]) > 0  # a COCO-17 bench: the 14-joint model's face joints score 0


def test_a_torch_free_install_is_told_what_a_model_file_needs(tmp_path):
    out = run_without_torch(f"""
import io, contextlib
from lqpose.cli import main
err = io.StringIO()
with contextlib.redirect_stderr(err):
    rcs = [main(["infer", "default", "x.png", "--out", {str(tmp_path)!r}, "--runtime", "torch"]),
           main(["export", "default", "--onnx", "m.onnx"]), main(["train", "any.yaml"])]
print(json.dumps({{"rcs": rcs, "err": err.getvalue().splitlines()}}))
""")
    assert out["rcs"] == [1, 1, 1]
    first, second, third = out["err"]
    assert first.startswith("lqpose infer: error: ") and first.endswith(
        "lqpose_lspet_yolox_nano_256x192.safetensors: this model file needs torch, which is not installed; export "
        "it to ONNX where torch is (`lqpose export MODEL --onnx model.onnx`) and load the .onnx here"
    )
    assert second == "lqpose export: error: this needs torch, which is not installed (pip install torch)"
    assert third == "lqpose train: error: this needs torch, which is not installed (pip install torch)"


def test_predict_arrays_flip_test_is_the_mean_with_the_mirror(bundle_onnx, astronaut):
    """numpy in, numpy out: the crop and its mirror in one run, the mirror's heatmaps mapped back and averaged."""
    from lqpose.codec import flip_heatmaps
    from lqpose.data.transforms import crop_person

    model = OnnxPoseModel(bundle_onnx)
    x = np.stack(
        [crop_person(astronaut, box, model.codec.input_size)[0] for box in ([100, 20, 200, 300], [0, 0, 512, 512])]
    )
    plain, q = model.forward_with_quality(x)
    mirrored, q_m = model.forward_with_quality(x[..., ::-1])
    heatmaps, quality = predict_arrays(model, x, model.spec, flip_test=True)
    expected = 0.5 * (plain + flip_heatmaps(mirrored, model.spec.flip_index))
    assert np.abs(expected - plain).max() > 1e-3  # the mirror changes the result: the test can fail
    assert isinstance(heatmaps, np.ndarray) and heatmaps.shape == (2, 14, 64, 48)
    np.testing.assert_allclose(heatmaps, expected, atol=1e-5)
    np.testing.assert_allclose(quality, 0.5 * (q + q_m), atol=1e-6)
    one, _ = predict_arrays(model, x, model.spec, flip_test=False)
    np.testing.assert_array_equal(one, plain)


def test_the_batch_1_graph_runs_a_batch_crop_by_crop_as_the_dynamic_one_does(bundle_onnx, astronaut, tmp_path):
    """`lqpose export` writes a batch-1 graph (ONNX Runtime runs it faster, export_onnx); a call with many crops runs
    them one by one and must give what one run of a dynamic-batch graph gives."""
    from lqpose.data.transforms import crop_person

    fixed = OnnxPoseModel(bundle_onnx)
    dynamic = OnnxPoseModel(export_onnx("default", tmp_path / "dynamic.onnx", dynamic_batch=True))
    assert fixed.fixed_batch == 1 and dynamic.fixed_batch is None
    boxes = ([100, 20, 200, 300], [0, 0, 512, 512], [300, 100, 150, 300])
    x = np.stack([crop_person(astronaut, box, fixed.codec.input_size)[0] for box in boxes])
    (a, qa), (b, qb) = fixed.forward_with_quality(x), dynamic.forward_with_quality(x)
    assert a.shape == b.shape == (3, 14, 64, 48) and qa.shape == qb.shape
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(qa, qb, atol=1e-6)


class _Session:
    """onnxruntime.InferenceSession as onnxruntime-gpu would build it, on a machine without a GPU: it records the
    providers asked for, runs on the CPU, and reports the CUDA provider as started only when `cuda_starts`."""

    asked: list = []
    cuda_starts = True

    def __init__(self, path, options=None, providers=None):
        import onnxruntime as ort

        _Session.asked.append(providers)
        self.real = ort.capi.onnxruntime_inference_collection.InferenceSession(
            path, options, providers=["CPUExecutionProvider"]
        )

    def get_providers(self):
        started = ["CUDAExecutionProvider"] if _Session.cuda_starts and len(_Session.asked[-1]) > 1 else []
        return started + ["CPUExecutionProvider"]

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_onnx_runtime_runs_on_the_cuda_provider_asked_for_and_says_when_it_cannot(bundle_onnx, monkeypatch):
    """device 'cuda[:N]' asks onnxruntime-gpu for its CUDA provider on that GPU and fails in one line where it is
    missing or does not start (ONNX Runtime alone would log and run on the CPU); 'auto' falls back to the CPU. No
    GPU here: the session is onnxruntime's, on the CPU, with the providers it was asked for recorded."""
    import onnxruntime as ort

    from lqpose import onnx_model

    cpu_only = ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match=r"device 'cuda' needs ONNX Runtime's CUDA provider, which this onnxruntime "
                                         r"lacks \(pip install onnxruntime-gpu"):  # fmt: skip
        OnnxPoseModel(bundle_onnx, device="cuda")  # this machine's onnxruntime is the CPU build
    assert OnnxPoseModel(bundle_onnx, device="auto").device == "cpu"
    with pytest.raises(ValueError, match=r"default.onnx: device 'mps': ONNX Runtime runs on cpu, cuda, cuda:N or auto"):
        OnnxPoseModel(bundle_onnx, device="mps")

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", *cpu_only])
    monkeypatch.setattr(ort, "InferenceSession", _Session)
    _Session.asked.clear()
    monkeypatch.setattr(onnx_model, "gpu_driver_possible", lambda: False)  # 'auto' on a machine without a GPU driver
    assert OnnxPoseModel(bundle_onnx, device="auto").device == "cpu" and _Session.asked == [cpu_only]  # no CUDA try
    monkeypatch.setattr(onnx_model, "gpu_driver_possible", lambda: True)
    _Session.asked.clear()
    model = OnnxPoseModel(bundle_onnx, device="cuda:1")
    assert model.device == "cuda:1"
    assert _Session.asked == [[("CUDAExecutionProvider", {"device_id": 1}), "CPUExecutionProvider"]]
    assert model.forward_with_quality(np.zeros((1, 3, 256, 192), np.float32))[0].shape == (1, 14, 64, 48)
    assert OnnxPoseModel(bundle_onnx, device="cpu").device == "cpu" and _Session.asked[-1] == cpu_only

    _Session.cuda_starts = False  # e.g. the CUDA or cuDNN libraries it was built for are missing
    try:
        with pytest.raises(ValueError, match=r"CUDA provider did not start on 'cuda' \(are the CUDA and cuDNN"):
            OnnxPoseModel(bundle_onnx, device="cuda")
        assert OnnxPoseModel(bundle_onnx, device="auto").device == "cpu"
    finally:
        _Session.cuda_starts = True


def test_threads_reach_the_onnx_runtime_sessions_and_torch(bundle_onnx, tmp_path, monkeypatch, astronaut):
    """`threads` (API) / `--threads` (infer) sets the CPU threads of the pose model's and the detector's sessions,
    for machines shared by several processes; 0 leaves the runtime's default (every core)."""
    import torch

    def options(model):
        return model.session.get_session_options().intra_op_num_threads

    assert options(lqpose.load(bundle_onnx).model) == 0
    assert options(lqpose.load(bundle_onnx, threads=1).model) == 1
    with pytest.raises(ValueError, match=r"threads must be an integer >= 0 \(0: every core\), got -1"):
        lqpose.load(bundle_onnx, threads=-1)
    before = torch.get_num_threads()
    try:
        lqpose.load("default", runtime="torch", threads=1)
        assert torch.get_num_threads() == 1  # torch's setting is the process's
    finally:
        torch.set_num_threads(before)

    from lqpose import api
    from lqpose.cli import main

    seen = {}
    real_load = api.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(api, "load", spy)
    photo = tmp_path / "a.png"
    cv2.imwrite(str(photo), astronaut[..., ::-1])
    assert main(["infer", str(bundle_onnx), str(photo), "--out", str(tmp_path / "o"), "--threads", "1"]) == 0
    assert seen["threads"] == 1
