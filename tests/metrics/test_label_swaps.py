import numpy as np

from lqpose.data.records import Instance
from lqpose.keypoints import CROWDPOSE14
from lqpose.metrics.label_swaps import lr_fit, swap_counts, swapped_people

NAMES = list(CROWDPOSE14.names)
FLIP = np.asarray(CROWDPOSE14.flip_index)


def person(ann_id: int, torso_labelled: bool = True) -> Instance:
    """A CrowdPose-14 person, every joint labelled: left joints at x = 200, right ones at x = 100, each pair at one
    height, the hips 100 px below the shoulders (so the torso, right shoulder to left hip, is sqrt(2) x 100 px)."""
    height = {"shoulder": 0, "elbow": 40, "wrist": 70, "hip": 100, "knee": 150, "ankle": 200}
    k = np.zeros((14, 3), np.float32)
    for i, n in enumerate(NAMES):
        k[i, 0] = 200 if n.startswith("left") else 100 if n.startswith("right") else 150
        k[i, 1] = height.get(n.split("_")[-1], -30)
    k[:, 2] = 2
    if not torso_labelled:
        k[NAMES.index("left_hip"), 2] = 0
    return Instance("x.jpg", ann_id, np.array([0, 0, 300, 300], np.float32), k, 1.0, (300, 300), ann_id=ann_id)


def predictions(people, exchange=frozenset()) -> list[dict]:
    return [{"ann_id": p.ann_id, "keypoints": (p.keypoints[FLIP] if p.ann_id in exchange else p.keypoints).ravel()}
            for p in people]  # fmt: skip


def test_exact_predictions_fit_as_given_and_exchanged_ones_fit_exchanged():
    people = [person(1), person(2), person(3, torso_labelled=False)]
    fits = lr_fit(people, CROWDPOSE14, predictions(people, exchange={2}))
    assert set(fits) == {1, 2}  # no labelled torso, not scored
    torso = np.hypot(100, 100)
    # every limb joint lies 100 px from its partner: exchanged labels are 100 px off, 0.707 torso
    assert fits[1][0] == 0.0 and np.isclose(fits[1][1], 100 / torso, rtol=1e-3)
    assert fits[2][1] == 0.0 and np.isclose(fits[2][0], 100 / torso, rtol=1e-3)
    assert swap_counts(fits, margin=0.1) == (2, 1, 1)
    assert swap_counts(fits, margin=0.8) == (2, 0, 0)  # 0.707 torso apart: below a margin of 0.8


def test_several_models_list_only_the_people_all_of_them_fit_exchanged():
    people = [person(i) for i in range(1, 5)]
    a = lr_fit(people, CROWDPOSE14, predictions(people, exchange={1, 2, 3}))
    b = lr_fit(people, CROWDPOSE14, predictions(people, exchange={2, 3, 4}))
    c = lr_fit(people[:2], CROWDPOSE14, predictions(people[:2], exchange={2}))  # scored only people 1 and 2
    assert swapped_people([a]) == [1, 2, 3]
    assert swapped_people([a, b]) == [2, 3]
    assert swapped_people([a, b, c]) == [2]
    assert swapped_people([]) == []
