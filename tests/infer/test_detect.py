"""`lqpose detect`: person boxes as COCO detection results that eval, bench and infer read back as --boxes."""

import json

import cv2
import numpy as np
import pytest

from lqpose.cli import main
from lqpose.data import read_coco
from lqpose.infer.detect import person_boxes
from lqpose.infer.detectors import YoloxDetector
from lqpose.infer.track import box_iou


@pytest.fixture
def yolox(shared_data):
    return shared_data / "models/yolox/yolox_nano.onnx"


def test_an_annotated_set_gets_boxes_by_image_id_that_eval_scores(yolox, shared_data, tmp_path, capsys):
    """Every image of the set is searched, boxes keep the set's image ids, and `lqpose eval --boxes` scores the
    bundle on them: each box a person prediction, fewer people found than on ground-truth boxes."""
    coco = shared_data / "mmpose-samples/coco/test_coco.json"
    out = tmp_path / "dets.json"
    assert main(["detect", "--ann", str(coco), "--detector", f"yolox:{yolox}", "--out", str(out)]) == 0
    assert "images: 4, skipped: 0 ->" in capsys.readouterr().out
    dets = json.loads(out.read_text())
    gt = read_coco(coco)
    assert {d["image_id"] for d in dets} <= set(gt.images) and len(dets) >= len(gt.instances) // 2
    assert all(d["score"] >= 0.05 and d["bbox"][2] > 0 and d["bbox"][3] > 0 and d["category_id"] == 1 for d in dets)
    assert {d["file_name"] for d in dets} <= {info["file_name"] for info in gt.images.values()}
    argv = ["eval", "--checkpoint", "default", "--ann", str(coco), "--out", str(tmp_path / "e")]
    assert main([*argv, "--boxes", str(out)]) == 0
    results = json.loads((tmp_path / "e/results.json").read_text())
    assert len(results) == len(dets)  # one pose per box
    with_boxes = json.loads((tmp_path / "e/metrics.json").read_text())["AP"]
    assert main(argv) == 0
    assert 0.2 < with_boxes < json.loads((tmp_path / "e/metrics.json").read_text())["AP"]


def test_a_folder_and_a_video_give_the_boxes_infer_takes(yolox, shared_data, tmp_path, capsys):
    """Images are named by file, video frames by index from 0; `lqpose infer --boxes` then draws exactly those."""
    frames = tmp_path / "frames"
    frames.mkdir()
    cap = cv2.VideoCapture(str(shared_data / "videos/vtest.avi"))
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (768, 576))
    for i in range(3):
        frame = cap.read()[1]
        cv2.imwrite(str(frames / f"f{i}.png"), frame)
        writer.write(frame)
    writer.release()
    for source, name in ((frames, "folder"), (clip, "video")):
        out = tmp_path / f"{name}.json"
        argv = ["detect", str(source), "--detector", f"yolox:{yolox}", "--score-thr", "0.3", "--out", str(out)]
        assert main(argv) == 0
        dets = json.loads(out.read_text())
        assert sorted({d["image_id"] for d in dets}) == [0, 1, 2] and all(d["score"] >= 0.3 for d in dets)
        assert ("file_name" in dets[0]) == (name == "folder")
        assert main(["infer", str(source), "--boxes", str(out), "--out", str(tmp_path / f"o_{name}")]) == 0
    capsys.readouterr()
    drawn = json.loads((tmp_path / "o_folder/results.json").read_text())
    assert len(drawn) == len(json.loads((tmp_path / "folder.json").read_text()))
    video = json.loads((tmp_path / "o_video/clip.frames.json").read_text())
    per_frame = [sum(d["image_id"] == f for d in json.loads((tmp_path / "video.json").read_text())) for f in range(3)]
    assert [len(f["people"]) for f in video] == per_frame and min(per_frame) >= 3  # vtest's first pedestrians


def test_thresholds_below_the_detectors_own_are_asked_for_and_others_filtered(yolox, shared_data):
    det = YoloxDetector(yolox)
    rgb = cv2.cvtColor(cv2.VideoCapture(str(shared_data / "videos/vtest.avi")).read()[1], cv2.COLOR_BGR2RGB)
    assert len(person_boxes(det, rgb, 0.05)) == 6 and len(person_boxes(det, rgb, 0.3)) == 4  # as the detector says
    assert det.score_thr == 0.3

    def fixed(img):  # a detector without a per-call threshold: its boxes are filtered, degenerate ones dropped
        return np.array([[0, 0, 10, 20, 0.9], [5, 5, 10, 20, 0.2], [5, 5, 0, 20, 0.95]], np.float32)

    assert person_boxes(fixed, rgb, 0.5).tolist() == [[0, 0, 10, 20, pytest.approx(0.9)]]


def test_bad_requests_are_one_line_errors(yolox, shared_data, tmp_path, capsys):
    coco = str(shared_data / "mmpose-samples/coco/test_coco.json")
    out = str(tmp_path / "d.json")
    empty = tmp_path / "empty.json"
    person = {"id": 1, "name": "person", "keypoints": ["a", "b"]}
    empty.write_text(json.dumps({"images": [], "annotations": [], "categories": [person]}))
    for argv, error in (
        (["detect", "--detector", "hog", "--out", out], "give INPUT (an image, a folder of images or a video)"),
        (["detect", coco, "--ann", coco, "--detector", "hog", "--out", out], "not both"),
        (["detect", "--ann", coco, "--detector", "hog", "--score-thr", "2", "--out", out], "--score-thr must be"),
        (["detect", "--ann", coco, "--detector", "hog", "--out", str(tmp_path / "d")], "d: --out is the detections"),
        (["detect", str(tmp_path / "nothing"), "--detector", "hog", "--out", out], "nothing: no such file or folder"),
        (["detect", "--ann", coco, "--detector", "ssd", "--out", out], "unknown detector 'ssd'"),
        (["detect", str(tmp_path), "--images", coco, "--detector", "hog", "--out", out], "--images, --keypoints and"),
        (["detect", "--ann", str(empty), "--detector", "hog", "--out", out], "empty.json: lists no images"),
        (["detect", "--ann", coco, "--detector", "whole", "--tiles", "2", "--out", out], "--tiles needs a detector"),
        (["infer", coco, "--boxes", coco, "--tiles", "2", "--out", str(tmp_path)], "with --boxes there is no detector"),
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert error in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d.json").exists()


def test_tiles_find_at_least_the_people_of_the_whole_image(yolox, shared_data, tmp_path, capsys):
    """`--tiles 2` runs YOLOX on the whole image and on 2 x 2 tiles (TiledDetector): the whole image's people are
    still there, and the tiles add the small ones."""
    coco = str(shared_data / "mmpose-samples/coco/test_coco.json")
    for tiles in ("1", "2"):
        argv = [
            "detect",
            "--ann",
            coco,
            "--detector",
            f"yolox:{yolox}",
            "--tiles",
            tiles,
            "--out",
            str(tmp_path / f"t{tiles}.json"),
        ]
        assert main(argv) == 0
    capsys.readouterr()
    whole, tiled = (json.loads((tmp_path / f"t{t}.json").read_text()) for t in ("1", "2"))
    assert len(tiled) > len(whole)
    for image_id in {d["image_id"] for d in whole}:
        a = np.array([d["bbox"] for d in whole if d["image_id"] == image_id and d["score"] >= 0.3]).reshape(-1, 4)
        b = np.array([d["bbox"] for d in tiled if d["image_id"] == image_id]).reshape(-1, 4)
        if len(a):
            assert (box_iou(a, b).max(1) >= 0.7).all()  # every sure whole-image box survives the merge
