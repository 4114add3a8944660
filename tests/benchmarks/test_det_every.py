import numpy as np
import pytest


def person(box, joints):
    return {"bbox": box, "keypoints": np.asarray(joints, np.float32).reshape(-1).tolist()}


def test_agreement_counts_kept_and_added_people_and_how_far_keypoints_moved(benchmark_script):
    de = benchmark_script("det_every")
    joints = [[10, 10, 0.9], [20, 40, 0.9], [15, 90, 0.1]]  # the last is unsure: not compared
    moved = [[12, 10, 0.9], [22, 40, 0.9], [50, 50, 0.9]]  # the sure joints 2 px off, in a 100 px box
    reference = [
        [person([0, 0, 30, 100], joints)],
        [person([0, 0, 30, 100], joints), person([200, 0, 30, 100], joints)],
    ]
    other = [[person([2, 0, 30, 100], moved), person([400, 0, 30, 100], joints)], [person([0, 0, 30, 100], joints)]]
    a = de.agreement(reference, other)
    assert a["kept"] == pytest.approx(2 / 3) and a["extra"] == 1  # one person missed, one added
    assert a["median"] == pytest.approx(0.01) and a["p90"] == pytest.approx(0.018)  # medians 0.02 and 0 per person
    assert de.agreement(reference, reference) == {"kept": 1.0, "extra": 0, "median": 0.0, "p90": 0.0}
    assert de.by_frame([{"image_id": 1, "bbox": [0, 0, 1, 1]}], 3) == [[], [{"image_id": 1, "bbox": [0, 0, 1, 1]}], []]
