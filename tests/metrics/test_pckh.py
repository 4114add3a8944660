import numpy as np
import pytest

from lqpose.data import read_mpii
from lqpose.metrics import pckh


def results_from(s, move=None):
    out = []
    for inst in s.instances:
        kps = inst.keypoints.copy()
        if move is not None:
            move(inst, kps)
        out.append({"ann_id": inst.ann_id, "keypoints": kps.reshape(-1).tolist()})
    return out


def test_ground_truth_scores_100(shared_data):
    s = read_mpii(shared_data / "mmpose-samples/mpii/test_mpii.json")
    m = pckh(s, results_from(s))
    assert m["PCKh"] == 100.0 and m["PCKh@0.1"] == 100.0 and m["Wrist"] == 100.0


def test_known_perturbation(shared_data):
    """Move both wrists of every person 0.4 head sizes (inside @0.5) and both ankles 0.6 (outside)."""
    s = read_mpii(shared_data / "mmpose-samples/mpii/test_mpii.json")
    names = s.spec.names

    def move(inst, kps):
        h = inst.extra["head_size"]
        for n, f in (("left_wrist", 0.4), ("right_wrist", 0.4), ("left_ankle", 0.6), ("right_ankle", 0.6)):
            kps[names.index(n), 0] += f * h

    m = pckh(s, results_from(s, move))
    vis = np.array([i.keypoints[:, 2] > 0 for i in s.instances])
    counted = vis[:, [j for j, n in enumerate(names) if n not in ("pelvis", "thorax")]].sum()
    wrists = vis[:, [names.index("left_wrist"), names.index("right_wrist")]].sum()
    ankles = vis[:, [names.index("left_ankle"), names.index("right_ankle")]].sum()
    assert m["Wrist"] == 100.0 and m["Ankle"] == 0.0 and m["Knee"] == 100.0
    assert m["PCKh"] == pytest.approx(100.0 * (counted - ankles) / counted)
    assert m["PCKh@0.1"] == pytest.approx(100.0 * (counted - ankles - wrists) / counted)
    assert m["per_joint"]["left_ankle"] == 0.0


def test_missing_prediction_counts_as_wrong(shared_data):
    s = read_mpii(shared_data / "mmpose-samples/mpii/test_mpii.json")
    m = pckh(s, results_from(s)[1:])
    vis = np.array([i.keypoints[:, 2] > 0 for i in s.instances])
    keep = [j for j, n in enumerate(s.spec.names) if n not in ("pelvis", "thorax")]
    assert m["PCKh"] == pytest.approx(100.0 * vis[1:, keep].sum() / vis[:, keep].sum())
    assert np.isfinite(m["Head"])
