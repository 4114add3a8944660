import numpy as np
import pytest

from lqpose.keypoints import get_spec


def test_joint_weights_by_name_leave_the_other_joints_at_one():
    spec = get_spec("crowdpose")
    w = spec.joint_weights({"left_hip": 1.5, "right_hip": 1.5, "head": 0.0})
    expected = np.ones(14, np.float32)
    expected[[spec.index("left_hip"), spec.index("right_hip")]] = 1.5
    expected[spec.index("head")] = 0.0
    np.testing.assert_array_equal(w, expected)
    np.testing.assert_array_equal(spec.joint_weights({}), np.ones(14, np.float32))


def test_joint_weights_name_the_setting_on_a_bad_joint_or_weight():
    spec = get_spec("coco")
    with pytest.raises(ValueError, match=r"^data.joint_weights: 'hip' is not a joint of the coco layout \(nose, "):
        spec.joint_weights({"hip": 2.0}, "data.joint_weights")
    with pytest.raises(ValueError, match=r"^joint_weights: the weight of 'nose' must be >= 0, got -1.0"):
        spec.joint_weights({"nose": -1.0})
    with pytest.raises(ValueError, match="must be >= 0, got nan"):
        spec.joint_weights({"nose": float("nan")})
