import json
from pathlib import Path

import numpy as np
import pytest

from lqpose.data import read_coco, read_detections, read_mpii, read_posetrack_folder
from lqpose.keypoints import COCO17, CROWDPOSE14, MPII16

# folder, annotation file, expected layout name (or number of keypoints), people, trainable people
COCO_STYLE = [
    ("coco", "test_coco.json", "coco", 14, 12),
    ("crowdpose", "test_crowdpose.json", "crowdpose", 5, 4),
    ("ochuman", "test_ochuman.json", "coco", 5, 5),
    ("exlpose", "test_exlpose.json", "crowdpose", 6, 6),
    ("humanart", "test_humanart.json", "coco", 4, 4),
    ("aic", "test_aic.json", 14, 9, 9),
    ("mhp", "test_mhp.json", 16, 4, 4),
    ("jhmdb", "test_jhmdb_sub1.json", 15, 3, 3),
]


@pytest.mark.parametrize("folder, ann, layout, people, trainable", COCO_STYLE)
def test_every_coco_style_sample_reads(shared_data, folder, ann, layout, people, trainable):
    root = shared_data / "mmpose-samples" / folder
    s = read_coco(root / ann, root)
    if isinstance(layout, str):
        assert s.spec.name == layout
    else:
        assert s.spec.num_keypoints == layout
    assert len(s.instances) == people and len(s.trainable()) == trainable
    for inst in s.instances:
        assert Path(inst.image_path).is_file(), inst.image_path
        assert inst.keypoints.shape == (s.spec.num_keypoints, 3)
        w, h = inst.image_size
        x, y, bw, bh = inst.bbox
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h


def test_coco_values_and_zero_keypoint_people(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    first = next(i for i in s.instances if i.ann_id == 442619)
    assert first.image_id == 785 and first.image_size == (640, 425)
    np.testing.assert_allclose(first.keypoints[0], [367, 81, 2])
    assert first.area == pytest.approx(27789.11055)
    # COCO keeps people without labelled keypoints for evaluation but never trains on them
    assert sum(i.num_visible == 0 for i in s.instances) == 2 and all(i.trainable for i in s.trainable())


def test_crowdpose_area_rule_and_crowd_index(shared_data):
    s = read_coco(shared_data / "mmpose-samples/crowdpose/test_crowdpose.json")
    assert s.spec is CROWDPOSE14
    for inst in s.instances:
        assert inst.area == pytest.approx(0.53 * inst.bbox[2] * inst.bbox[3], rel=1e-5)
    assert s.images[106848]["crowd_index"] == pytest.approx(0.33)


def test_posetrack_per_video_folder(shared_data):
    root = shared_data / "mmpose-samples/posetrack18"
    s = read_posetrack_folder(root / "annotations/val", root)
    assert len(s.instances) == 14 and all(Path(i.image_path).is_file() for i in s.instances)


def test_mpii_reader(shared_data):
    s = read_mpii(shared_data / "mmpose-samples/mpii/test_mpii.json")
    assert s.spec is MPII16 and s.kind == "mpii" and len(s.instances) == 5
    inst = next(i for i in s.instances if i.image_path.endswith("005808361.jpg"))
    head = 0.6 * np.sqrt(2) * np.hypot(982.7591 - 962.2409, 235.9694 - 80.0306)
    assert inst.extra["head_size"] == pytest.approx(head, rel=1e-5)
    assert inst.keypoints[:, 2].tolist() == [2.0] * 16


def test_detections_with_threshold(shared_data):
    root = shared_data / "mmpose-samples/coco"
    gt = read_coco(root / "test_coco.json")
    dets = read_detections(root / "test_coco_det_AP_H_56.json", gt, score_thr=0.5)
    assert 0 < len(dets) < 118 and all(d.score >= 0.5 for d in dets)
    assert len(read_detections(root / "test_coco_det_AP_H_56.json", gt)) > len(dets)


def test_detections_under_a_pixel_inside_the_image_are_skipped_and_counted(shared_data, tmp_path, caplog):
    root = shared_data / "mmpose-samples/coco"
    gt = read_coco(root / "test_coco.json")
    image_id = gt.instances[0].image_id
    w = gt.images[image_id]["width"]
    dets = [{"image_id": image_id, "bbox": [10, 10, 50, 80], "score": 0.9},
            {"image_id": image_id, "bbox": [w + 5, 10, 50, 80], "score": 0.9},  # wholly right of the image
            {"image_id": image_id, "bbox": [20, 20, 0.5, 80], "score": 0.9}]  # fmt: skip
    (tmp_path / "d.json").write_text(json.dumps(dets))
    with caplog.at_level("WARNING"):
        kept = read_detections(tmp_path / "d.json", gt)
    assert [list(k.bbox) for k in kept] == [[10, 10, 50, 80]]
    assert "d.json: 2 boxes are under a pixel wide or high inside their image; skipped" in caplog.text


def test_boxes_are_clipped_and_bad_files_refused(tmp_path):
    ann = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [-10, 50, 200, 60], "iscrowd": 0,
                         "keypoints": [10, 60, 2] + [0, 0, 0] * 16, "area": 100.0}],
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17.names)}],
    }  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps(ann))
    s = read_coco(tmp_path / "a.json")
    np.testing.assert_allclose(s.instances[0].bbox, [0, 50, 99, 29])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        read_coco(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError, match="nope.json: no such annotation file"):
        read_coco(tmp_path / "nope.json")


def test_read_detections_names_the_file_and_entry_of_a_bad_detection(shared_data, tmp_path):
    gt = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    det = tmp_path / "dets.json"
    det.write_text('[{"image_id": 785, "bbox": [1, 2, 3, 4]}, {"image_id": 785, "bbox": [1, 2, "x", 4]}]')
    with pytest.raises(ValueError, match=r"dets.json: detection 1 needs image_id and bbox \[x, y, w, h\]"):
        read_detections(det, gt)
    with pytest.raises(FileNotFoundError, match="missing.json: no such detections file"):
        read_detections(tmp_path / "missing.json", gt)


def test_only_joints_unlabels_the_rest_and_drops_people_left_with_none(shared_data):
    """COCO-MINI val scored on its 12 limb joints (what an LSPET model predicts): the face is unlabelled, and the 2
    people labelled only on the face leave (68 annotated, 66 scored, as in docs/results.md's COCO-MINI tables)."""
    mini = shared_data / "coco-mini"
    gt = read_coco(mini / "annotations/person_keypoints_val2017.json", mini / "val2017")
    limbs = [n for n in COCO17.names if n not in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]
    scored = gt.only_joints(limbs)
    labelled = [i for i in gt.instances if i.num_visible > 0]
    assert len(labelled) == 68 and len(scored.instances) == 66 and scored.spec is gt.spec
    assert all((i.keypoints[:5, 2] == 0).all() for i in scored.instances)
    by_id = {i.ann_id: i for i in gt.instances}
    for inst in scored.instances:  # the limbs are untouched
        np.testing.assert_array_equal(inst.keypoints[5:], by_id[inst.ann_id].keypoints[5:])
    assert sum((i.keypoints[:5, 2] > 0).any() for i in gt.instances) == 52  # the set it came from keeps its faces
    with pytest.raises(ValueError, match="no joint named head in 'coco'"):
        gt.only_joints(["head", "left_hip"])
