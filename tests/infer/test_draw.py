import numpy as np
import pytest

from lqpose.infer.draw import DRAW_KPT_THR, draw_pose
from lqpose.keypoints import KeypointSpec


def _drawn(scores: tuple[float, float], kp_thr: float = DRAW_KPT_THR) -> np.ndarray:
    """Two keypoints joined by a limb on a black image; the box is off to the side, out of their way."""
    spec = KeypointSpec("two", ("a", "b"), ((0, 1),))
    person = {"keypoints": np.array([[20, 50, scores[0]], [80, 50, scores[1]]], np.float32),
              "bbox": [0, 90, 5, 5], "score": 0.9}  # fmt: skip
    return draw_pose(np.zeros((100, 100, 3), np.uint8), person, spec, kp_thr)


def test_keypoints_and_limbs_are_drawn_only_above_the_threshold():
    both = _drawn((0.9, 0.9))
    assert both[50, 20].any() and both[50, 80].any() and both[50, 50].any()  # two marks and the limb between
    one = _drawn((0.9, 0.1))  # b below the default 0.2: a's mark alone, no limb
    assert one[50, 20].any() and not one[50, 80].any() and not one[50, 50].any()
    low = _drawn((0.9, 0.1), kp_thr=0.05)
    assert low[50, 80].any() and low[50, 50].any()
    assert not _drawn((0.9, 0.9), kp_thr=0.95)[30:70, 10:90].any()  # nothing that sure: no mark, no limb
    assert DRAW_KPT_THR == 0.2


def test_a_loaded_model_draws_its_people_on_a_copy(astronaut):
    import lqpose

    model = lqpose.load()
    people = model(astronaut)
    drawn = model.draw(astronaut, people)
    assert drawn.shape == astronaut.shape and drawn is not astronaut
    assert (drawn != astronaut).any(-1).sum() > 1000  # the skeleton, marks and box of the photo's person
    expected = draw_pose(astronaut.copy(), people[0], model.spec)
    assert np.array_equal(drawn, expected)  # as lqpose infer draws it
    nothing = model.draw(astronaut, people, kpt_thr=1.0)
    assert 0 < (nothing != astronaut).any(-1).sum() < (drawn != astronaut).any(-1).sum()  # box and label alone
    with pytest.raises(ValueError, match="kpt_thr must be a keypoint score within 0..1, got 2"):
        model.draw(astronaut, people, kpt_thr=2)
