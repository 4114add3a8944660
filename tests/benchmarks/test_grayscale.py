"""benchmarks/grayscale.py: monochrome copies of a set's images, and the students scored on them."""

from pathlib import Path

import cv2
import numpy as np

from lqpose.data import read_coco
from lqpose.imageio import read_rgb
from lqpose.metrics.pck import pck_counts


def test_monochrome_copies_hold_the_luma_and_leave_people_alone(benchmark_script, shared_data, tmp_path):
    m = benchmark_script("grayscale")
    gt = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    gray = m.monochrome(gt, tmp_path / "mono")
    assert len(gray.instances) == len(gt.instances) and len(list((tmp_path / "mono").glob("*.png"))) == 4
    for a, b in zip(gt.instances, gray.instances, strict=True):
        assert a.ann_id == b.ann_id and np.array_equal(a.keypoints, b.keypoints) and a.image_path != b.image_path
    luma = cv2.cvtColor(read_rgb(gt.instances[0].image_path), cv2.COLOR_RGB2GRAY)
    copy = read_rgb(gray.instances[0].image_path)
    assert np.array_equal(copy[..., 0], luma) and np.array_equal(copy[..., 0], copy[..., 2])
    first = tmp_path / "mono" / f"{Path(gt.instances[0].image_path).stem}.png"
    stamp = first.stat().st_mtime_ns
    m.monochrome(gt, tmp_path / "mono")  # written once
    assert first.stat().st_mtime_ns == stamp


def test_the_bundle_scores_the_coco_sample_in_its_own_layout(benchmark_script, shared_data, tmp_path):
    """A CrowdPose-14 student on a COCO-17 set: results come back in the set's layout, scored on shared joints."""
    m = benchmark_script("grayscale")
    gt = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    gt = gt.only_joints([n for n in gt.spec.names if n not in m.FACE])
    results = m.student_results("default", gt)
    assert len(results) == len([i for i in gt.instances if i.num_visible > 0])
    assert all(len(r["keypoints"]) == 17 * 3 for r in results)
    hits, totals = pck_counts(gt, results)
    assert (hits.sum(), totals.sum()) == (80, 135)  # PCK@0.2 0.593 over the 12 people's limb joints, flip test
