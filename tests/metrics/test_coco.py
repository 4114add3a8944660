import json

import numpy as np
import pytest

from lqpose.data import read_coco
from lqpose.metrics import coco_keypoint_ap, oks_nms

RECALL_THRESHOLDS = np.linspace(0.0, 1.0, 101)  # COCO's 101-point interpolation
OKS_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def gt_as_results(s, score=1.0):
    out = []
    for inst in s.instances:
        if inst.num_visible == 0:
            continue
        kps = inst.keypoints.copy()
        kps[:, 2] = 1.0
        out.append({"image_id": inst.image_id, "category_id": 1, "keypoints": kps.reshape(-1).tolist(), "score": score})
    return out


SETS = [("coco", "test_coco.json"), ("crowdpose", "test_crowdpose.json"), ("ochuman", "test_ochuman.json"),
        ("exlpose", "test_exlpose.json")]  # fmt: skip


@pytest.mark.parametrize("folder, ann", SETS)
def test_ground_truth_scores_ap_one(shared_data, folder, ann):
    s = read_coco(shared_data / "mmpose-samples" / folder / ann)
    m = coco_keypoint_ap(s, gt_as_results(s))
    assert m["AP"] == 1.0 and m["AP50"] == 1.0 and m["AP75"] == 1.0 and m["AR"] == 1.0


def test_known_perturbation_gives_the_closed_form_ap(shared_data):
    """Shift every keypoint of person i by a known offset; OKS_i follows from COCO's formula by hand, and with
    scores ordered like OKS the AP at each threshold t is the 101-point count of recalls <= k_t / N."""
    path = shared_data / "mmpose-samples/coco/test_coco.json"
    raw = json.loads(path.read_text())
    sigmas = np.array([.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107, .087, .087,
                       .089, .089])  # fmt: skip
    people = [a for a in raw["annotations"] if a["num_keypoints"] > 0]
    n = len(people)
    results, oks_values = [], []
    for i, ann in enumerate(people):
        kps = np.array(ann["keypoints"], float).reshape(17, 3)
        shift = 1.5 + 2.5 * i  # px along x and y
        d2 = 2 * shift**2
        vis = kps[:, 2] > 0
        oks = np.mean(np.exp(-d2 / ((2 * sigmas[vis]) ** 2) / ann["area"] / 2))
        oks_values.append(oks)
        pred = kps.copy()
        pred[:, :2] += shift
        pred[:, 2] = 1.0
        results.append({"image_id": ann["image_id"], "category_id": 1, "keypoints": pred.reshape(-1).tolist(),
                        "score": float(oks)})  # fmt: skip
    oks_values = np.array(oks_values)
    ap_t, ar_t = [], []
    for t in OKS_THRESHOLDS:
        k = int((oks_values >= t).sum())
        ap_t.append(np.count_nonzero(RECALL_THRESHOLDS <= k / n) / 101 if k else 0.0)
        ar_t.append(k / n)
    m = coco_keypoint_ap(read_coco(path), results)
    assert 0.0 < m["AP"] < 1.0  # the perturbation is neither trivial nor total
    assert m["AP"] == pytest.approx(np.mean(ap_t), abs=1e-12)
    assert m["AP50"] == pytest.approx(ap_t[0], abs=1e-12)
    assert m["AP75"] == pytest.approx(ap_t[5], abs=1e-12)
    assert m["AR"] == pytest.approx(np.mean(ar_t), abs=1e-12)


def test_no_predictions_scores_zero_not_a_crash(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    assert coco_keypoint_ap(s, [])["AP"] == 0.0


def test_crowdpose_difficulty_bands(shared_data):
    s = read_coco(shared_data / "mmpose-samples/crowdpose/test_crowdpose.json")
    m = coco_keypoint_ap(s, gt_as_results(s))
    # both sample images have crowd index in [0.2, 0.8): medium only
    assert m["AP_medium"] == 1.0 and np.isnan(m["AP_easy"]) and np.isnan(m["AP_hard"])


def test_annotation_id_zero_still_matches(shared_data):
    # ExLPose numbers annotations from 0, which pycocotools reads as "unmatched" unless renumbered
    s = read_coco(shared_data / "mmpose-samples/exlpose/test_exlpose.json")
    assert min(i.ann_id for i in s.instances) == 0
    assert coco_keypoint_ap(s, gt_as_results(s))["AR"] == 1.0


def test_oks_nms_drops_duplicates_keeps_distinct():
    sig = np.full(3, 0.1)
    a = {"image_id": 1, "keypoints": [10, 10, 1, 20, 20, 1, 30, 30, 1], "score": 0.9, "area": 400.0}
    dup = {**a, "keypoints": [10.5, 10, 1, 20, 20.5, 1, 30, 30, 1], "score": 0.5}
    far = {**a, "keypoints": [110, 10, 1, 120, 20, 1, 130, 30, 1], "score": 0.4}
    kept = oks_nms([dup, a, far], sig, 0.9)
    assert [k["score"] for k in kept] == [0.9, 0.4]


def test_wrong_number_of_keypoints_is_refused(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    with pytest.raises(ValueError, match="has 3 values, expected 51"):
        coco_keypoint_ap(s, [{"image_id": 785, "category_id": 1, "keypoints": [1, 2, 3], "score": 1}])
