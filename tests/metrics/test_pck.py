import numpy as np
import pytest

from lqpose.data.readers import PoseSet
from lqpose.data.records import Instance
from lqpose.keypoints import COCO17
from lqpose.metrics.pck import pck, pck_counts

NAMES = list(COCO17.names)


def person(ann_id: int, torso: float, hidden: tuple[str, ...] = (), unlabelled: tuple[str, ...] = ()) -> Instance:
    """A COCO-17 person whose right shoulder and left hip lie `torso` pixels apart (vertically), every joint labelled
    visible (2) except `hidden` (1) and `unlabelled` (0)."""
    k = np.zeros((17, 3), np.float32)
    k[:, 0] = 100 + 10 * np.arange(17)
    k[:, 1] = 100
    k[NAMES.index("left_hip"), :2] = (k[NAMES.index("right_shoulder"), 0], 100 + torso)
    k[:, 2] = 2
    for n in hidden:
        k[NAMES.index(n), 2] = 1
    for n in unlabelled:
        k[NAMES.index(n), 2] = 0
    return Instance("x.jpg", ann_id, np.array([0, 0, 400, 400], np.float32), k, 1.0, (400, 400), ann_id=ann_id)


def results(instances, move: dict[str, float] | None = None) -> list[dict]:
    """The ground truth as predictions, each named joint moved right by its fraction of the person's torso."""
    out = []
    for inst in instances:
        k = inst.keypoints.copy()
        torso = np.linalg.norm(k[NAMES.index("right_shoulder"), :2] - k[NAMES.index("left_hip"), :2])
        for n, frac in (move or {}).items():
            k[NAMES.index(n), 0] += frac * torso
        out.append({"ann_id": inst.ann_id, "keypoints": k.reshape(-1).tolist()})
    return out


def test_known_perturbation_and_missing_people():
    a = person(1, torso=50.0, hidden=("left_knee", "right_knee"), unlabelled=("left_ankle",))
    b = person(2, torso=200.0)
    gt = PoseSet(COCO17, [a, b], {})
    assert pck(gt, results([a, b])) == 1.0
    # wrists moved 0.19 torso (inside @0.2), elbows 0.21 (outside): 4 of the 12 limb joints wrong in each person
    moved = results([a, b], {"left_wrist": 0.19, "right_wrist": 0.19, "left_elbow": 0.21, "right_elbow": 0.21})
    hits, totals = pck_counts(gt, moved)
    assert hits.tolist() == [9, 10] and totals.tolist() == [11, 12]  # a's unlabelled ankle counts nowhere
    assert pck(gt, moved) == pytest.approx(19 / 23)
    assert pck(gt, moved, thr=0.25) == 1.0
    # a person without a prediction scores 0 of its labelled joints
    assert pck(gt, results([b])) == pytest.approx(12 / 23)


def test_visibility_counts_hidden_and_visible_joints_apart():
    a = person(1, torso=80.0, hidden=("left_knee", "right_knee", "left_hip"))
    gt = PoseSet(COCO17, [a], {})
    moved = results([a], {"left_knee": 0.5, "left_shoulder": 0.5})  # one hidden and one visible joint wrong
    assert [t.tolist() for t in pck_counts(gt, moved, visibility=1)] == [[2], [3]]
    assert [t.tolist() for t in pck_counts(gt, moved, visibility=2)] == [[8], [9]]
    assert [t.tolist() for t in pck_counts(gt, moved)] == [[10], [12]]  # the two together


def test_people_without_a_labelled_torso_are_left_out():
    a = person(1, torso=50.0, unlabelled=("left_hip",))
    b = person(2, torso=50.0)
    gt = PoseSet(COCO17, [a, b], {})
    hits, totals = pck_counts(gt, results([b]))
    assert hits.tolist() == [12] and totals.tolist() == [12]
