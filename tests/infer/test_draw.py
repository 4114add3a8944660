import numpy as np

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
