import json
import time

import cv2
import numpy as np
import pytest
import torch

import lqpose
from lqpose.cli import main
from lqpose.engine.checkpoint import save_checkpoint
from lqpose.export import export_onnx
from lqpose.infer.detectors import (
    HogDetector,
    TiledDetector,
    WholeImage,
    YoloxDetector,
    build_detector,
    takes_score_thr,
    tile_windows,
)
from lqpose.infer.run import infer_path
from lqpose.infer.video import is_live_source, redact_url, stream_source
from lqpose.keypoints import COCO17
from lqpose.models.ckd import export_student
from lqpose.models.student import StudentConfig, build_student


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    torch.manual_seed(0)
    model = build_student(StudentConfig(head_channels=32, quality_head=True))
    kp = {"name": "coco", "names": list(COCO17.names), "skeleton": [list(p) for p in COCO17.skeleton]}
    cfg = {"model": {"head_channels": 32, "quality_head": True}, "data": {"input_size": [96, 128], "sigma": 2.0}}
    path = tmp_path_factory.mktemp("m") / "student.pt"
    save_checkpoint(path, export_student({"model": model.state_dict(), "config": cfg, "keypoints": kp}))
    return path


@pytest.fixture(scope="module")
def clip(shared_data, tmp_path_factory):
    """Six real frames of the shared CCTV video as a short clip."""
    cap = cv2.VideoCapture(str(shared_data / "videos/vtest.avi"))
    path = tmp_path_factory.mktemp("v") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (768, 576))
    for _ in range(6):
        ok, frame = cap.read()
        assert ok
        writer.write(frame)
    writer.release()
    return path


def test_three_line_api_torch_and_onnx_agree(ckpt, tmp_path, astronaut):
    model = lqpose.load(ckpt, runtime="torch")
    people = model(astronaut)
    assert len(people) == 1 and people[0]["keypoints"].shape == (17, 3)
    assert 0 <= people[0]["quality"] <= 1 and people[0]["score"] > 0
    onnx_model = lqpose.load(export_onnx(ckpt, tmp_path / "m.onnx", dynamic_batch=True))
    other = onnx_model(astronaut)
    assert np.abs(other[0]["keypoints"][:, :2] - people[0]["keypoints"][:, :2]).max() < 0.01
    boxes = np.array([[100, 20, 200, 300], [300, 100, 150, 300], [50, 50, 120, 240]], np.float32)
    assert len(model(astronaut, boxes=boxes)) == 3
    onnx_model.batch_size = model.batch_size = 2  # two chunks: 2 people, then 1
    a, b = model(astronaut, boxes=boxes), onnx_model(astronaut, boxes=boxes)
    assert [round(p["score"], 4) for p in a] == [round(p["score"], 4) for p in b]
    assert max(np.abs(p["keypoints"][:, :2] - q["keypoints"][:, :2]).max() for p, q in zip(a, b, strict=True)) < 0.01
    with pytest.raises(ValueError, match="RGB uint8"):
        model(astronaut.astype(np.float32))


def test_onnx_runtime_path_runs_no_torch_compute(ckpt, tmp_path, astronaut):
    """Between two ONNX Runtime calls a torch op that computes (a stack, a copy, the flip) wakes torch's OpenMP
    threads, which spin against ONNX Runtime's pool: 1.6-3x slower per person on a 2-core CPU. The ONNX path of
    `lqpose.load` stacks, mirrors and averages in numpy, so the profiler sees no such op."""
    model = lqpose.load(export_onnx(ckpt, tmp_path / "m.onnx", dynamic_batch=True))
    boxes = np.array([[100, 20, 200, 300], [300, 100, 150, 300]], np.float32)
    model(astronaut, boxes=boxes)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        people = model(astronaut, boxes=boxes)
    assert len(people) == 2
    ops = {e.key for e in prof.key_averages()}
    computing = {"aten::stack", "aten::cat", "aten::copy_", "aten::flip", "aten::add", "aten::mul", "aten::index"}
    assert not ops & computing, sorted(ops & computing)


def test_runtime_onnxruntime_exports_at_load_and_predicts_as_torch(ckpt, astronaut, tmp_path):
    from lqpose.onnx_model import OnnxPoseModel

    torch_people = lqpose.load(ckpt, runtime="torch")(astronaut)
    est = lqpose.load(ckpt, runtime="onnxruntime")
    assert isinstance(est.model, OnnxPoseModel) and est.model.name == "student"
    people = est(astronaut)
    assert np.abs(people[0]["keypoints"][:, :2] - torch_people[0]["keypoints"][:, :2]).max() < 0.01
    assert people[0]["quality"] == pytest.approx(torch_people[0]["quality"], abs=1e-4)
    with pytest.raises(ValueError, match="runtime must be one of auto, torch, onnxruntime, got 'tensorrt'"):
        lqpose.load(ckpt, runtime="tensorrt")
    with pytest.raises(ValueError, match="compile applies to torch models"):
        lqpose.load(ckpt, runtime="onnxruntime", compile=True)
    # cuda in ONNX Runtime needs onnxruntime-gpu (this machine has the CPU build); 'auto' falls back to the CPU and
    # is what `lqpose infer/eval/bench` give an .onnx model without --device
    with pytest.raises(ValueError, match="needs ONNX Runtime's CUDA provider, which this onnxruntime lacks"):
        lqpose.load(ckpt, runtime="onnxruntime", device="cuda")
    exported = export_onnx(ckpt, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"m\.onnx: device 'cuda' needs ONNX Runtime's CUDA provider"):
        lqpose.load(exported, device="cuda")
    assert lqpose.load(exported, device="auto").model.device == "cpu"
    with pytest.raises(ValueError, match=r"student\.pt: device 'auto' applies to \.onnx models"):
        lqpose.load(ckpt, device="auto")


def test_infer_cli_no_flip_and_runtime_reach_the_model(ckpt, astronaut, tmp_path):
    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))

    def keypoints(*flags: str) -> np.ndarray:
        out = tmp_path / "_".join(f.strip("-") for f in flags) if flags else tmp_path / "plain"
        assert main(["infer", str(ckpt), str(image), "--out", str(out), *flags]) == 0
        return np.asarray(json.loads((out / "results.json").read_text())[0]["keypoints"], np.float32).reshape(-1, 3)

    flip, one_pass = keypoints("--runtime", "torch"), keypoints("--no-flip", "--runtime", "torch")
    one_pass_ort = keypoints("--no-flip", "--runtime", "onnxruntime")
    expected = lqpose.load(ckpt, flip_test=False, runtime="torch")(astronaut)[0]["keypoints"]
    assert np.abs(one_pass[:, :2] - expected[:, :2]).max() < 0.01  # --no-flip is one pass, as flip_test=False
    assert np.abs(flip[:, :2] - one_pass[:, :2]).max() > 0.1  # and not the flip test
    assert np.abs(one_pass_ort[:, :2] - one_pass[:, :2]).max() < 0.01


def test_infer_kpt_thr_changes_the_drawing_not_the_results(ckpt, astronaut, tmp_path, capsys):
    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    original = cv2.imread(str(image))

    def run(name: str, *flags: str) -> tuple[list, int]:
        """The results, and how many overlay pixels differ from the photo."""
        assert main(["infer", str(ckpt), str(image), "--out", str(tmp_path / name), *flags]) == 0
        overlay = cv2.imread(str(tmp_path / name / "overlays/astronaut.png")).astype(int)
        return json.loads((tmp_path / name / "results.json").read_text()), int((overlay != original).any(-1).sum())

    results, _ = run("default")
    scores = np.sort(np.asarray(results[0]["keypoints"]).reshape(-1, 3)[:, 2])
    assert scores[-1] < 1  # so --kpt-thr 1 draws no keypoint
    none, some, every = (
        run("none", "--kpt-thr", "1"),
        run("some", "--kpt-thr", f"{scores[8]:.6f}"),
        run("all", "--kpt-thr", "0"),
    )
    assert none[0] == some[0] == every[0] == results  # the json keeps every keypoint, whatever is drawn
    assert none[1] < some[1] < every[1]  # the box and its label alone; then the 8 surest keypoints; then all 17
    assert main(["infer", str(ckpt), str(image), "--out", str(tmp_path / "bad"), "--kpt-thr", "1.5"]) != 0
    assert "--kpt-thr must be a keypoint score within 0..1, got 1.5" in capsys.readouterr().err


def test_auto_runtime_is_onnx_runtime_on_the_cpu_and_torch_otherwise(ckpt, astronaut, monkeypatch, caplog):
    """The default `runtime="auto"` serves on the CPU through ONNX Runtime (half eager torch's time per person,
    docs/inference.md), keeps torch where ONNX Runtime does not apply (compile, a GPU), and runs a model the exporter
    cannot trace in torch with a warning instead of failing."""
    from lqpose.onnx_model import OnnxPoseModel

    est = lqpose.load(ckpt)
    assert isinstance(est.model, OnnxPoseModel)
    expected = lqpose.load(ckpt, runtime="torch")
    assert isinstance(expected.model, torch.nn.Module)
    a, b = est(astronaut)[0], expected(astronaut)[0]
    assert np.abs(a["keypoints"][:, :2] - b["keypoints"][:, :2]).max() < 0.01

    def broken(*args, **kwargs):
        raise RuntimeError("no such op\nsecond line")

    monkeypatch.setattr("torch.onnx.export", broken)
    with pytest.raises(RuntimeError, match="ONNX export failed"):  # an explicit onnxruntime keeps the error
        lqpose.load(ckpt, runtime="onnxruntime")
    with caplog.at_level("WARNING", logger="lqpose.api"):
        fallback = lqpose.load(ckpt)
    assert isinstance(fallback.model, torch.nn.Module)
    assert f"{ckpt}: ONNX export failed (RuntimeError: no such op); running it in eager torch instead" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="lqpose.api"), pytest.raises(FileNotFoundError, match="no such checkpoint"):
        lqpose.load(ckpt.parent / "missing.pt")  # a bad file is its own error, not an export to fall back from
    assert "eager torch" not in caplog.text
    assert np.abs(fallback(astronaut)[0]["keypoints"] - b["keypoints"]).max() < 1e-4


def test_boxes_that_cannot_be_cropped_are_one_line_errors(ckpt, astronaut):
    model = lqpose.load(ckpt)
    assert len(model(astronaut, boxes=[10, 10, 100, 200])) == 1  # one box alone, flat
    assert model(astronaut, boxes=[]) == [] and model(astronaut, boxes=np.zeros((0, 5))) == []
    for boxes, message in (
        ([[10, 10, 100]], r"boxes must be \(N, 4\) x, y, w, h or \(N, 5\) with scores, got shape \(1, 3\)"),
        (
            [[0, 0, 50, 50], [10, 10, 0, 0]],
            r"box 1 \[10.0, 10.0, 0.0, 0.0\]: x, y, w, h must be finite with w and h > 0",
        ),
        ([[10, 10, -5, 50]], r"box 0 .*w and h > 0"),
        ([[np.nan, 10, 50, 50, 0.9]], r"box 0 \[nan, 10.0, 50.0, 50.0\]"),
    ):
        with pytest.raises(ValueError, match=message):
            model(astronaut, boxes=boxes)


def test_an_image_too_small_for_a_whole_image_box_is_named_or_skipped(ckpt, tmp_path, capsys):
    """A 1-px image has no whole-image box with an area: the API says so (not "box 0 [0, 0, 0, 0]", a box the user
    never gave); `lqpose infer` names the file, and in a folder skips and counts it."""
    model = lqpose.load(ckpt)
    with pytest.raises(ValueError, match=r"^a 5x1 px image is too small to hold a person \(at least 2x2 px\)$"):
        model(np.zeros((1, 5, 3), np.uint8))
    assert len(model(np.zeros((2, 2, 3), np.uint8))) == 1
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((1, 1, 3), np.uint8))
    cv2.imwrite(str(folder / "b.png"), np.full((60, 40, 3), 90, np.uint8))
    assert main(["infer", str(ckpt), str(folder), "--out", str(tmp_path / "o")]) == 0
    assert "images: 1, people: 1, skipped: 1" in capsys.readouterr().out
    assert [i["file_name"] for i in json.loads((tmp_path / "o/images.json").read_text())] == ["b.png"]
    assert main(["infer", str(ckpt), str(folder / "a.png"), "--out", str(tmp_path / "o1")]) == 1
    assert f"{folder / 'a.png'}: a 1x1 px image is too small to hold a person" in capsys.readouterr().err


def test_a_video_keeps_tracking_a_person_through_a_frame_the_detector_is_unsure_of(ckpt, tmp_path):
    """With a detector that takes a score threshold per call, a tracked video asks it for its boxes down to 0.1: one
    the detector is unsure of (0.2) continues the walker's track, an unsure box elsewhere starts none, and the
    detector itself is never changed (it may serve other runs at the same time)."""
    from lqpose.infer.run import LOW_BOX_SCORE

    class Scripted:
        score_thr = 0.3

        def __init__(self):
            self.calls, self.seen_thr = 0, []

        def __call__(self, img, score_thr=None):
            score_thr = self.score_thr if score_thr is None else score_thr
            self.seen_thr.append(score_thr)
            frame, self.calls = self.calls, self.calls + 1
            walker = [10.0 + 2 * frame, 10.0, 40.0, 90.0, 0.2 if frame == 1 else 0.9]
            ghost = [100.0, 5.0, 40.0, 90.0, 0.15]
            boxes = np.array([walker, ghost] if frame == 1 else [walker], np.float32)
            return boxes[boxes[:, 4] >= score_thr]

    path = tmp_path / "walk.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for _ in range(3):
        writer.write(np.full((120, 160, 3), 90, np.uint8))
    writer.release()
    detector = Scripted()
    detector.score_thr = 0.3
    summary = infer_path(lqpose.load(ckpt, detector=detector), path, tmp_path / "out", progress=False)
    frames = json.loads((tmp_path / "out/walk.frames.json").read_text())
    assert [[(p["track_id"], p["bbox"][0]) for p in f["people"]] for f in frames] == [[(0, 10.0)], [(0, 12.0)],
                                                                                      [(0, 14.0)]]  # fmt: skip
    assert summary["tracks"] == 1 and detector.seen_thr == [LOW_BOX_SCORE] * 3 and detector.score_thr == 0.3
    assert [p["box_score"] for f in frames for p in f["people"]] == [0.9, 0.2, 0.9]  # the detector's, as given
    images = tmp_path / "stills"  # a folder of unrelated photos is not tracked: the detector's own threshold
    images.mkdir()
    cv2.imwrite(str(images / "a.png"), np.full((120, 160, 3), 90, np.uint8))
    detector.calls, detector.seen_thr = 1, []
    infer_path(lqpose.load(ckpt, detector=detector), images, tmp_path / "out2", progress=False)
    assert detector.seen_thr == [0.3]
    given = tmp_path / "given.json"  # boxes given by the user are all kept, whatever their score, as before
    given.write_text(json.dumps([{"image_id": 1, "bbox": [100.0, 5.0, 40.0, 90.0], "score": 0.15}]))
    detector.seen_thr = []
    infer_path(lqpose.load(ckpt, detector=detector), path, tmp_path / "given", boxes=str(given), progress=False)
    frames = json.loads((tmp_path / "given/walk.frames.json").read_text())
    assert [len(f["people"]) for f in frames] == [0, 1, 0] and detector.seen_thr == []

    class Plain:  # a detector without a per-call threshold is called as it always was: no second stage
        score_thr = 0.3

        def __call__(self, img):
            return np.array([[10.0, 10.0, 40.0, 90.0, 0.2]], np.float32)

    infer_path(lqpose.load(ckpt, detector=Plain()), path, tmp_path / "plain", progress=False)
    frames = json.loads((tmp_path / "plain/walk.frames.json").read_text())
    assert [[p["track_id"] for p in f["people"]] for f in frames] == [[0], [0], [0]]
    with pytest.raises(ValueError, match="box_score_thr: the detector .* takes no score threshold"):
        lqpose.load(ckpt, detector=Plain())(np.zeros((120, 160, 3), np.uint8), box_score_thr=0.1)


def test_yolox_takes_a_lower_threshold_per_call_without_changing_its_own(shared_data, clip):
    det = YoloxDetector(shared_data / "models/yolox/yolox_nano.onnx")
    cap = cv2.VideoCapture(str(clip))
    rgb = cv2.cvtColor(cap.read()[1], cv2.COLOR_BGR2RGB)
    sure, more = det(rgb), det(rgb, score_thr=0.05)
    assert det.score_thr == 0.3 and (sure[:, 4] >= 0.3).all() and (more[:, 4] >= 0.05).all()
    assert len(sure) == 4 and len(more) == 6  # the first frame: four pedestrians, two boxes YOLOX is unsure of
    # every sure box is among the wider call's (NMS at the lower threshold keeps the surer of overlapping boxes)
    np.testing.assert_allclose(more[more[:, 4] >= 0.3], sure, atol=1e-4)


def test_yolox_finds_the_pedestrians_of_the_cctv_video(shared_data, clip):
    det = YoloxDetector(shared_data / "models/yolox/yolox_nano.onnx")
    ok, frame = cv2.VideoCapture(str(clip)).read()
    boxes = det(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    assert boxes.shape[1] == 5 and len(boxes) >= 2 and (boxes[:, 4] >= 0.3).all()
    assert (boxes[:, 3] > 30).all() and (boxes[:, 3] < 300).all()  # pedestrians 60-100 px tall here


def _fake_yolox(path, size: int, rows: int):
    """A YOLOX-shaped ONNX file: input (1, 3, size, size), raw grid output (1, rows, 85) that ignores the image and
    holds one person in the stride-8 cell (10, 20): centre (84, 164), 80 x 80 px, objectness 0.9 x class 0.9."""
    out = torch.zeros(1, rows, 85)
    out[0, 20 * (size // 8) + 10, :6] = torch.tensor([0.5, 0.5, np.log(10.0), np.log(10.0), 0.9, 0.9])

    class Head(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("out", out)

        def forward(self, x):
            return self.out + 0 * x.mean()

    torch.onnx.export(Head(), (torch.zeros(1, 3, size, size),), str(path), opset_version=17, dynamo=False,
                      input_names=["images"], output_names=["output"])  # fmt: skip
    return path


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the legacy exporter, chosen on purpose (export.py)
def test_yolox_reads_its_input_size_from_the_file(tmp_path):
    """The official YOLOX-s/m/l/x exports take 640x640, nano and tiny 416x416: the size comes from the file, and a
    file whose output is not the raw grid for its input is a one-line error, not a shape error mid-run."""
    det = YoloxDetector(_fake_yolox(tmp_path / "yolox_s.onnx", 640, 8400))
    assert (det.h, det.w) == (640, 640)
    np.testing.assert_allclose(det(np.zeros((640, 640, 3), np.uint8)), [[44, 124, 80, 80, 0.81]], rtol=1e-5)
    wide = det(np.zeros((640, 1280, 3), np.uint8))  # letterboxed at half scale: the box doubles back
    np.testing.assert_allclose(wide, [[88, 248, 160, 160, 0.81]], rtol=1e-5)
    assert det(np.zeros((1, 900, 3), np.uint8)).shape[1] == 5  # a 1-px-high strip still letterboxes
    with pytest.raises(ValueError, match=r"bad\.onnx: outputs 3549 x 85, not YOLOX's raw grid for a 640x640 input"):
        YoloxDetector(_fake_yolox(tmp_path / "bad.onnx", 640, 3549))
    # a detector follows the pose model onto a GPU where ONNX Runtime can; this CPU build of onnxruntime cannot,
    # which for a detector is no error (for the pose model asked for cuda it is: tests/test_onnx_model.py)
    assert det.device == "cpu" and build_detector(str(tmp_path / "yolox_s.onnx"), "cuda:1").device == "cpu"
    threads = build_detector(str(tmp_path / "yolox_s.onnx"), "cpu", threads=1).session.get_session_options()
    assert threads.intra_op_num_threads == 1
    # run once per frame beside the pose model, its threads sleep after each run instead of spinning against it
    assert det.session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_tiled_detection_adds_each_tile_people_and_drops_the_ones_its_edges_cut():
    assert tile_windows(100, 80, 2) == [(0, 0, 60, 48), (40, 0, 100, 48), (0, 32, 60, 80), (40, 32, 100, 80)]

    class Fake:
        """The whole 100x80 image: one big person. Every tile: a small person in its middle, and a box that
        touches the tile's right edge (a person the tile cut, unless that edge is the image's)."""

        score_thr = 0.3

        def __init__(self):
            self.asked = []

        def __call__(self, img, score_thr=None):
            self.asked.append(score_thr)
            h, w = img.shape[:2]
            if (h, w) == (80, 100):
                return np.array([[10, 10, 30, 60, 0.9]], np.float32)
            return np.array([[w / 2 - 3, h / 2 - 5, 6, 10, 0.8], [w - 10, 5, 10, 20, 0.7]], np.float32)

    fake = Fake()
    tiled = TiledDetector(fake, 2)
    boxes = tiled(np.zeros((80, 100, 3), np.uint8), score_thr=0.1)
    expected = [[10, 10, 30, 60, 0.9]]  # the whole image's
    expected += [[x + 27, y + 19, 6, 10, 0.8] for x, y in ((0, 0), (40, 0), (0, 32), (40, 32))]  # each tile's own
    expected += [[90, 5, 10, 20, 0.7], [90, 37, 10, 20, 0.7]]  # cut by the image's edge, not a tile's: kept
    np.testing.assert_allclose(sorted(boxes.tolist()), sorted(expected), atol=1e-6)
    assert fake.asked == [0.1] * 5 and tiled.score_thr == 0.3 and takes_score_thr(tiled)  # ByteTrack's low pass
    assert len(tiled(np.zeros((80, 100, 3), np.uint8))) == 7 and fake.asked[-1] is None
    with pytest.raises(ValueError, match=r"--tiles needs a detector that finds people"):
        build_detector("whole", tiles=2)
    with pytest.raises(ValueError, match=r"a grid of at least 2"):
        TiledDetector(fake, 1)


def test_detector_names(shared_data):
    assert isinstance(build_detector("whole"), WholeImage)
    assert isinstance(build_detector("hog"), HogDetector)
    assert isinstance(build_detector(f"yolox:{shared_data / 'models/yolox/yolox_nano.onnx'}"), YoloxDetector)
    with pytest.raises(ValueError, match="unknown detector"):
        build_detector("ssd")


def test_det_every_runs_the_detector_on_every_nth_frame_of_a_clip(shared_data, clip, tmp_path, astronaut):
    """--det-every 2 on six CCTV frames: YOLOX runs on frames 0, 2 and 4 only; the people in between are found
    from their last keypoints, as many as on every frame, their boxes moved with them."""
    yolox = YoloxDetector(shared_data / "models/yolox/yolox_nano.onnx")
    calls = []

    class Counting:
        score_thr = yolox.score_thr

        def __call__(self, img, score_thr=None):
            calls.append(1)
            return yolox(img, score_thr=score_thr)

    model = lqpose.load(detector=Counting())
    every = infer_path(model, clip, tmp_path / "every", progress=False, draw=False)
    calls.clear()
    half = infer_path(model, clip, tmp_path / "half", progress=False, draw=False, det_every=2)
    assert len(calls) == half["detector_frames"] == 3 and half["frames"] == every["frames"] == 6
    assert "detector_frames" not in every
    frames = {n: json.loads((tmp_path / n / "clip.frames.json").read_text()) for n in ("every", "half")}
    assert [len(f["people"]) for f in frames["half"][::2]] == [len(f["people"]) for f in frames["every"][::2]]
    assert abs(half["people"] - every["people"]) <= 2  # people followed on frames 1, 3, 5
    assert half["tracks"] <= every["tracks"] + 1
    photo = tmp_path / "a.png"
    cv2.imwrite(str(photo), astronaut[..., ::-1])
    with pytest.raises(ValueError, match=r"--det-every applies to a detector on a tracked clip; it follows people"):
        infer_path(model, photo, tmp_path / "photo", det_every=2)
    with pytest.raises(ValueError, match=r"tracked clip; there is no detector \(--detector\)"):
        infer_path(lqpose.load(), clip, tmp_path / "none", det_every=2)
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([{"image_id": 0, "bbox": [0, 0, 10, 10], "score": 1.0}]))
    with pytest.raises(ValueError, match=r"tracked clip; boxes are given"):
        infer_path(model, clip, tmp_path / "given", boxes=str(boxes), det_every=2)
    with pytest.raises(ValueError, match=r"--det-every must be a whole number of frames >= 1, got 0"):
        infer_path(model, clip, tmp_path / "zero", det_every=0)


def test_infer_cli_on_images_and_video(ckpt, shared_data, clip, tmp_path, capsys):
    yolox = f"yolox:{shared_data / 'models/yolox/yolox_nano.onnx'}"
    coco = shared_data / "mmpose-samples/coco"
    assert main(["infer", str(ckpt), str(coco), "--out", str(tmp_path / "img"), "--detector", yolox]) == 0
    results = json.loads((tmp_path / "img/results.json").read_text())
    assert results and all(len(r["keypoints"]) == 51 and "quality" in r for r in results)
    assert len(list((tmp_path / "img/overlays").glob("*.png"))) == 4
    assert main(["infer", str(ckpt), str(clip), "--out", str(tmp_path / "vid"), "--detector", yolox]) == 0
    frames = json.loads((tmp_path / "vid/clip.frames.json").read_text())
    assert len(frames) == 6 and sum(len(f["people"]) for f in frames) >= 6
    cap = cv2.VideoCapture(str(tmp_path / "vid/clip.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    ids = [[p["track_id"] for p in f["people"]] for f in frames]
    assert all(len(set(i)) == len(i) for i in ids)  # no id twice in a frame
    assert len(set(ids[0]) & set(ids[-1])) >= 2  # walking pedestrians keep their ids over 0.6 s
    assert all("raw_keypoints" not in p for f in frames for p in f["people"])  # not smoothed unless asked
    code = main(["infer", str(ckpt), str(tmp_path / "nothing.png"), "--out", str(tmp_path / "x")])
    assert code != 0 and "nothing.png: no such file" in capsys.readouterr().err
    # --json-only: the same poses, no overlays and no video
    assert main(["infer", str(ckpt), str(coco), "--out", str(tmp_path / "img_json"), "--detector", yolox,
                 "--json-only"]) == 0  # fmt: skip
    assert json.loads((tmp_path / "img_json/results.json").read_text()) == results
    assert main(["infer", str(ckpt), str(clip), "--out", str(tmp_path / "vid_json"), "--detector", yolox,
                 "--json-only"]) == 0  # fmt: skip
    assert json.loads((tmp_path / "vid_json/clip.frames.json").read_text()) == frames
    assert "video" not in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "img_json").iterdir()) == ["images.json", "results.json"]
    assert sorted(p.name for p in (tmp_path / "vid_json").iterdir()) == ["clip.frames.json"]


def test_infer_cli_smooths_video_keypoints_when_asked(ckpt, shared_data, clip, tmp_path, capsys):
    yolox = f"yolox:{shared_data / 'models/yolox/yolox_nano.onnx'}"
    runs = {}
    for name, flags in {"raw": [], "smooth": ["--smooth"], "custom": ["--smooth", "2,30"]}.items():
        assert main(["infer", str(ckpt), str(clip), "--out", str(tmp_path / name), "--detector", yolox, *flags]) == 0
        runs[name] = json.loads((tmp_path / name / "clip.frames.json").read_text())
    raw, smooth = runs["raw"], runs["smooth"]
    for a, b in zip(raw, smooth, strict=True):  # the model's keypoints survive as raw_keypoints, unchanged
        assert [p["raw_keypoints"] for p in b["people"]] == [p["keypoints"] for p in a["people"]]
    assert smooth[0]["people"][0]["keypoints"] == smooth[0]["people"][0]["raw_keypoints"]  # first frame as is

    def moved(run):  # how far smoothing moved the keypoints of the later frames, in pixels
        k = np.array([p["keypoints"] for f in run[1:] for p in f["people"]]).reshape(-1, 3)
        r = np.array([p["raw_keypoints"] for f in run[1:] for p in f["people"]]).reshape(-1, 3)
        return np.abs(k[:, :2] - r[:, :2]).mean()

    assert moved(runs["custom"]) < moved(smooth) and moved(smooth) > 0.1  # a higher cutoff smooths less
    with pytest.raises(SystemExit):
        main(["infer", str(clip), "--out", str(tmp_path / "bad"), "--smooth", "fast"])
    assert "expected MIN_CUTOFF,BETA such as 1,10, got 'fast'" in capsys.readouterr().err


def test_stream_sources_are_told_from_paths():
    assert stream_source("camera:0") == (0, "camera0")
    assert stream_source("rtsp://10.0.0.2:554/live/ch1?token=x") == ("rtsp://10.0.0.2:554/live/ch1?token=x", "ch1")
    assert stream_source("https://example.org/cams/gate%202.mjpg") == (
        "https://example.org/cams/gate%202.mjpg",
        "gate_202",
    )
    assert stream_source("http://host/") == ("http://host/", "host")
    assert stream_source("clips/walk.mp4") is None and stream_source("camera:x") is None


def test_infer_reads_a_url_and_names_a_missing_camera(ckpt, clip, tmp_path, capsys):
    url = clip.resolve().as_uri()  # file:///...: read through OpenCV's FFmpeg like an rtsp:// or http:// stream
    assert main(["infer", str(ckpt), url, "--out", str(tmp_path / "url")]) == 0
    frames = json.loads((tmp_path / "url/clip.frames.json").read_text())
    assert len(frames) == 6 and (tmp_path / "url/clip.mp4").is_file()
    assert main(["infer", str(ckpt), "camera:97", "--out", str(tmp_path / "cam")]) == 1
    assert "camera:97: not a readable video" in capsys.readouterr().err


def test_a_stream_error_masks_the_credentials_of_its_url(ckpt, tmp_path, capsys):
    assert redact_url("rtsp://admin:s3cr@t@10.0.0.7:554/live?ch=1") == "rtsp://***@10.0.0.7:554/live?ch=1"
    assert redact_url("http://cam.local/a@b.mjpg") == "http://cam.local/a@b.mjpg"  # an @ in the path is no login
    url = (tmp_path / "missing.mp4").resolve().as_uri().replace("file://", "file://viewer:hunter2@")
    assert main(["infer", str(ckpt), url, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "file://***@" in err and "not a readable video" in err and "hunter2" not in err


class PacedCamera:
    """A live camera: frame i (every pixel = i) is due at i / fps whether or not anyone reads it; a read blocks until
    the next frame is due."""

    def __init__(self, n: int, fps: float):
        self.n, self.fps, self.i, self.start = n, fps, 0, None

    def isOpened(self):  # noqa: N802 - cv2.VideoCapture's name
        return True

    def get(self, prop):
        return self.fps if prop == cv2.CAP_PROP_FPS else -1

    def read(self):
        self.start = time.monotonic() if self.start is None else self.start
        if self.i >= self.n:
            return False, None
        time.sleep(max(0.0, self.start + self.i / self.fps - time.monotonic()))
        self.i += 1
        return True, np.full((120, 160, 3), self.i - 1, np.uint8)

    def release(self):
        pass


class Slow:
    """An estimator that takes `seconds` per frame and notes which frame (by its pixel value) it saw."""

    def __init__(self, estimator, seconds: float):
        self.estimator, self.seconds, self.spec, self.seen = estimator, seconds, estimator.spec, []

    def __call__(self, image, boxes=None, box_score_thr=None):
        self.seen.append(int(image[0, 0, 0]))
        time.sleep(self.seconds)
        return self.estimator(image, boxes, box_score_thr)


def test_a_live_camera_slower_than_the_model_is_read_at_its_newest_frame(ckpt, tmp_path, monkeypatch):
    """A 100 fps camera and a model at 20 frames a second: the stale frames in between are dropped and counted, each
    drawn frame keeps its index in the source (so the tracker's time is true), the last frame is still drawn, and the
    MP4 holds each drawn frame over the dropped ones, so it lasts as long as the stream. --every-frame reads them
    all."""
    model = lqpose.load(ckpt)
    assert is_live_source("camera:0") and is_live_source("rtsp://cam/live") and is_live_source("http://cam/v.mjpg")
    assert not is_live_source("http://host/clip.mp4") and not is_live_source("file:///clip.avi")
    assert not is_live_source("clip.avi")
    runs = {}
    for every in (False, True):
        slow = Slow(model, 0.0 if every else 0.05)
        with monkeypatch.context() as m:
            m.setattr(cv2, "VideoCapture", lambda _: PacedCamera(40, 100.0))
            summary = infer_path(slow, "camera:0", tmp_path / str(every), progress=False, every_frame=every)
        (log,) = (tmp_path / str(every)).glob("camera0_*.frames.jsonl")  # a live stream's frames, line by line
        frames = [json.loads(line) for line in log.read_text().splitlines()]
        runs[every] = summary, [f["frame"] for f in frames], slow.seen
    summary, indices, seen = runs[False]
    assert indices == seen  # each frame is scored under its own index in the source
    assert indices == sorted(set(indices)) and indices[-1] == 39 and len(indices) < 20
    assert summary["dropped"] == 40 - indices[0] - len(indices) and summary["dropped"] > 20
    (segment,) = (tmp_path / "False").glob("camera0_*.mp4")  # 0.4 s of stream: one segment of the default 10 min
    video = cv2.VideoCapture(str(segment))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 40 - indices[0]  # held over the dropped frames
    summary, indices, seen = runs[True]
    assert indices == seen == list(range(40)) and "dropped" not in summary
    with pytest.raises(ValueError, match=r"clip.avi: --every-frame applies to live streams"):
        infer_path(model, tmp_path / "clip.avi", tmp_path / "x", every_frame=True)


def test_a_live_stream_is_written_as_it_goes_in_segments_and_never_over_an_earlier_run(ckpt, tmp_path, monkeypatch):
    """An endless stream cannot be held in memory until it ends: each frame's people are a JSON line, flushed as the
    frame is done (with its wall-clock time), and the video is cut into segments of --segment minutes, each renamed
    into place when the next begins. Names carry the start time, so a restarted stream writes beside the last run."""
    from lqpose.infer.run import unused_path

    model = lqpose.load(ckpt)
    seen_lines = []

    class Watch(Slow):  # what is on disk while the stream runs: the lines of the frames before this one
        def __call__(self, image, boxes=None, box_score_thr=None):
            logs = list((tmp_path / "live").glob("camera0_*.frames.jsonl"))
            seen_lines.append(len(logs[0].read_text().splitlines()) if logs else None)
            return super().__call__(image, boxes, box_score_thr)

    with monkeypatch.context() as m:
        m.setattr(cv2, "VideoCapture", lambda _: PacedCamera(25, 10.0))
        summary = infer_path(Watch(model, 0.0), "camera:0", tmp_path / "live", progress=False, every_frame=True,
                             segment_minutes=1 / 60)  # fmt: skip
    assert seen_lines == list(range(25))  # every earlier frame already on disk
    (log,) = (tmp_path / "live").glob("camera0_*.frames.jsonl")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(25)) and summary["frames"] == 25
    times = [r["time"] for r in records]
    assert times == sorted(times) and 2.0 < times[-1] - times[0] < 10.0  # 25 frames of a 10 fps camera
    segments = sorted((tmp_path / "live").glob("camera0_*.mp4"))
    counts = [int(cv2.VideoCapture(str(s)).get(cv2.CAP_PROP_FRAME_COUNT)) for s in segments]
    assert counts == [10, 10, 5] and summary["video"].startswith("3 segment(s), camera0_")
    assert not list((tmp_path / "live").glob(".*tmp*"))  # every segment renamed into place
    taken = tmp_path / "x" / "camera0_20261205-101500.mp4"
    taken.parent.mkdir()
    taken.touch()
    when = time.strptime("20261205-101500", "%Y%m%d-%H%M%S")
    assert unused_path(tmp_path / "x", "camera0", ".mp4", when).name == "camera0_20261205-101500-1.mp4"
    assert unused_path(tmp_path / "x", "camera0", ".frames.jsonl", when).name == "camera0_20261205-101500.frames.jsonl"
    with pytest.raises(ValueError, match=r"clip.avi: --segment applies to live streams"):
        infer_path(model, tmp_path / "clip.avi", tmp_path / "x", segment_minutes=5)
    with pytest.raises(ValueError, match=r"--segment must be at least a second"):
        infer_path(model, "camera:0", tmp_path / "x", segment_minutes=0.001)


class StopAt:
    """An estimator that is interrupted (Ctrl-C) at its n-th call, as a user stopping a long run."""

    def __init__(self, estimator, n: int):
        self.estimator, self.n, self.calls, self.spec = estimator, n, 0, estimator.spec

    def __call__(self, image, boxes=None, box_score_thr=None):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.estimator(image, boxes, box_score_thr)


def test_ctrl_c_keeps_what_was_done(ckpt, shared_data, clip, tmp_path):
    model = lqpose.load(ckpt)
    with pytest.raises(KeyboardInterrupt):
        infer_path(StopAt(model, 4), clip, tmp_path / "vid", progress=False)
    frames = json.loads((tmp_path / "vid/clip.frames.json").read_text())
    assert [f["frame"] for f in frames] == [0, 1, 2]
    assert int(cv2.VideoCapture(str(tmp_path / "vid/clip.mp4")).get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    assert not list((tmp_path / "vid").glob(".*tmp*"))  # no half-written file left behind
    with pytest.raises(KeyboardInterrupt):
        infer_path(StopAt(model, 3), shared_data / "mmpose-samples/coco", tmp_path / "img", progress=False)
    images = json.loads((tmp_path / "img/images.json").read_text())
    assert len(images) == 2 and len(list((tmp_path / "img/overlays").glob("*.png"))) == 2
    assert {r["image_id"] for r in json.loads((tmp_path / "img/results.json").read_text())} == {i["id"] for i in images}
    with pytest.raises(KeyboardInterrupt):  # stopped before the first frame: nothing to keep, nothing written
        infer_path(StopAt(model, 1), clip, tmp_path / "none", progress=False)
    assert not list((tmp_path / "none").iterdir())


def test_infer_on_a_short_posetrack_video(ckpt, shared_data, tmp_path):
    """A clip made from the five real PoseTrack18 frames (1280x720), as a user would bring one."""
    frames_dir = shared_data / "mmpose-samples/posetrack18/videos/000001_mpiinew_test"
    frames = sorted(frames_dir.glob("*.jpg"))
    assert len(frames) == 5
    path = tmp_path / "posetrack.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (1280, 720))
    for f in frames:
        writer.write(cv2.imread(str(f)))
    writer.release()
    yolox = f"yolox:{shared_data / 'models/yolox/yolox_nano.onnx'}"
    assert main(["infer", str(ckpt), str(path), "--out", str(tmp_path / "out"), "--detector", yolox]) == 0
    per_frame = json.loads((tmp_path / "out/posetrack.frames.json").read_text())
    assert [f["frame"] for f in per_frame] == [0, 1, 2, 3, 4]
    assert all(len(f["people"]) >= 1 for f in per_frame)  # people are in every frame of this clip
    cap = cv2.VideoCapture(str(tmp_path / "out/posetrack.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 1280


def test_infer_fails_clearly_on_unreadable_inputs(ckpt, shared_data, tmp_path, capsys):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x01 not a video")
    code = main(["infer", str(ckpt), str(tmp_path / "broken.mp4"), "--out", str(tmp_path / "o1")])
    assert code == 1 and "broken.mp4: not a readable video" in capsys.readouterr().err
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    code = main(["infer", str(ckpt), str(tmp_path / "broken.jpg"), "--out", str(tmp_path / "o2")])
    assert code == 1 and "broken.jpg" in capsys.readouterr().err
    yolox = shared_data / "models/yolox/yolox_nano.onnx"  # a real ONNX model, but not an lqpose export
    code = main(["infer", str(yolox), str(tmp_path / "broken.jpg"), "--out", str(tmp_path / "o3")])
    assert code == 1 and "yolox_nano.onnx: not an lqpose export" in capsys.readouterr().err
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    code = main(["infer", str(tmp_path / "junk.onnx"), str(tmp_path / "broken.jpg"), "--out", str(tmp_path / "o4")])
    assert code == 1 and "junk.onnx: not a readable ONNX model" in capsys.readouterr().err


def test_a_folder_of_frames_is_tracked_as_one_clip_with_sequence(ckpt, tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    dets = []
    for i in range(1, 12):  # frame1 ... frame11: natural order puts frame10 after frame9, unlike sorted()
        cv2.imwrite(str(frames / f"frame{i}.png"), np.full((120, 160, 3), 90, np.uint8))
        walker = {"file_name": f"frame{i}.png", "bbox": [4.0 + 3 * i, 10.0, 30.0, 80.0], "score": 0.9}
        stander = {"file_name": f"frame{i}.png", "bbox": [110.0, 20.0, 30.0, 80.0], "score": 0.8}
        dets += [walker, stander] if i % 2 else [stander, walker]  # the file order must not decide the ids
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps(dets))
    out = tmp_path / "out"
    assert main(["infer", str(ckpt), str(frames), "--sequence", "10", "--smooth", "--boxes", str(boxes),
                 "--out", str(out)]) == 0  # fmt: skip
    assert "tracks: 2" in capsys.readouterr().out
    names = [im["file_name"] for im in json.loads((out / "images.json").read_text())]
    assert names == [f"frame{i}.png" for i in range(1, 12)]
    results = json.loads((out / "results.json").read_text())
    assert len(results) == 22 and all("raw_keypoints" in r for r in results)
    ids = {(r["image_id"], r["bbox"][0] > 100): r["track_id"] for r in results}
    assert {ids[(f, False)] for f in range(11)} == {0} and {ids[(f, True)] for f in range(11)} == {1}
    video = cv2.VideoCapture(str(out / "frames.mp4"))  # the overlays as one clip at the sequence's rate
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 11 and video.get(cv2.CAP_PROP_FPS) == 10
    assert (int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (160, 120)
    assert not list(out.glob(".*tmp*"))


def test_a_sequence_video_keeps_time_across_an_unreadable_frame_and_a_resized_one(ckpt, tmp_path, caplog):
    frames = tmp_path / "clip"
    frames.mkdir()
    for i in range(6):
        shade = 40 * i
        cv2.imwrite(str(frames / f"{i:03d}.png"), np.full((64, 48, 3) if i != 4 else (128, 96, 3), shade, np.uint8))
    (frames / "002.png").write_bytes(b"not a png")  # frame 2 is lost: the video holds frame 1 in its place
    summary = infer_path(lqpose.load(ckpt), frames, tmp_path / "out", sequence_fps=5, progress=False)
    assert summary["images"] == 5 and summary["skipped"] == 1 and summary["video"].endswith("clip.mp4")
    video = cv2.VideoCapture(summary["video"])
    shades = []
    while True:
        ok, frame = video.read()
        if not ok:
            break
        assert frame.shape == (64, 48, 3)  # frame 4, twice the size, was resized to the first frame's
        shades.append(round(float(np.median(frame)) / 40))
    assert shades == [0, 1, 1, 3, 4, 5]
    assert "clip.mp4: 1 frames differ in size from the first; resized to 48x64 in the video" in caplog.text


def test_sequence_and_smooth_refuse_inputs_they_cannot_follow(ckpt, clip, tmp_path, capsys):
    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.full((64, 48, 3), 90, np.uint8))
    assert main(["infer", str(ckpt), str(folder), "--smooth", "--out", str(tmp_path / "o1")]) == 1
    assert "stills: smoothing follows people over time" in capsys.readouterr().err
    assert main(["infer", str(ckpt), str(clip), "--sequence", "--out", str(tmp_path / "o2")]) == 1
    assert "clip.avi: a sequence is a folder of frames" in capsys.readouterr().err
    assert main(["infer", str(ckpt), str(folder), "--sequence", "0", "--out", str(tmp_path / "o3")]) == 1
    assert "sequence fps must be in (0, 1000), got 0.0" in capsys.readouterr().err


def test_a_video_takes_its_boxes_by_frame_index_and_a_frame_they_skip_has_no_one(ckpt, clip, tmp_path):
    # two boxes on frames 0-4 of the six-frame clip, none on frame 5
    dets = [
        {"image_id": f, "bbox": [100.0 + 40 * k, 50.0, 60.0, 150.0], "score": 0.9} for f in range(5) for k in (0, 1)
    ]
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps(dets))
    assert main(["infer", str(ckpt), str(clip), "--boxes", str(boxes), "--out", str(tmp_path / "o")]) == 0
    frames = json.loads((tmp_path / "o/clip.frames.json").read_text())
    assert [len(f["people"]) for f in frames] == [2, 2, 2, 2, 2, 0]
    assert [p["bbox"] for p in frames[3]["people"]] == [[100.0, 50.0, 60.0, 150.0], [140.0, 50.0, 60.0, 150.0]]
    assert {p["track_id"] for f in frames for p in f["people"]} == {0, 1}


def test_an_image_the_boxes_skip_has_no_one_and_is_counted(ckpt, tmp_path, caplog):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("a", "b", "c"):
        cv2.imwrite(str(folder / f"{name}.png"), np.full((100, 80, 3), 90, np.uint8))
    boxes = tmp_path / "boxes.json"
    boxes.write_text(
        json.dumps([{"file_name": "imgs/a.png", "bbox": [5, 5, 40, 80]}, {"image_id": "b", "bbox": [1, 1, 30, 60]},
                    {"image_id": "b", "bbox": [3, 3, 0, 60]}])  # a degenerate box: skipped and counted
    )  # fmt: skip
    with caplog.at_level("WARNING"):
        assert main(["infer", str(ckpt), str(folder), "--boxes", str(boxes), "--out", str(tmp_path / "o")]) == 0
    results = json.loads((tmp_path / "o/results.json").read_text())
    assert sorted((r["image_id"], r["bbox"]) for r in results) == [(0, [5, 5, 40, 80]), (1, [1, 1, 30, 60])]
    assert "1 of 3 images have no boxes in" in caplog.text
    assert "boxes.json: skipped 1 detections with zero or negative width or height" in caplog.text


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("[1, 2", "boxes.json: not valid JSON"),
        ('{"a": 1}', "boxes.json: expected a list of detections (COCO results), got a dict"),
        ('[{"bbox": [1, 2, 3, 4]}]', "boxes.json: detection 0 names no file_name or image_id"),
        ('[{"image_id": 1, "bbox": [1, 2, 3, 4]}, {"image_id": 2, "bbox": [1, 2]}]',
         "boxes.json: detection 1 needs bbox [x, y, w, h], got [1, 2]"),
    ],
)  # fmt: skip
def test_a_bad_detections_file_stops_with_one_line_naming_it(ckpt, tmp_path, capsys, content, error):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((64, 48, 3), 90, np.uint8))
    (tmp_path / "boxes.json").write_text(content)
    assert main(["infer", str(ckpt), str(tmp_path / "a.png"), "--boxes", str(tmp_path / "boxes.json"),
                 "--out", str(tmp_path / "o")]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert error in err and "Traceback" not in err
