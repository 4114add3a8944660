import numpy as np
import pytest

from lqpose.data.mix import convert_layout, repeat
from lqpose.data.records import Instance
from lqpose.keypoints import COCO17, CROWDPOSE14, MPII16, KeypointSpec


def person(keypoints: np.ndarray, image_id: int = 1) -> Instance:
    return Instance(
        image_path=f"{image_id}.jpg",
        image_id=image_id,
        bbox=np.array([0, 0, 100, 200], np.float32),
        keypoints=keypoints.astype(np.float32),
        area=20000.0,
        image_size=(640, 480),
    )


def numbered(k: int) -> np.ndarray:
    """Joint j at (10 j, 10 j + 1), visible: every coordinate says which joint it came from."""
    return np.stack([np.arange(k) * 10.0, np.arange(k) * 10.0 + 1, np.full(k, 2.0)], 1)


def test_coco_people_keep_their_twelve_limb_joints_by_name_and_leave_head_and_neck_unlabelled():
    (out,), dropped = convert_layout([person(numbered(17))], COCO17, CROWDPOSE14, "coco.json")
    assert dropped == 0
    # CrowdPose-14 limb joint j is COCO-17 joint j + 5 (both list shoulders to ankles left/right in the same order)
    np.testing.assert_array_equal(out.keypoints[:12], numbered(17)[5:])
    np.testing.assert_array_equal(out.keypoints[12:], np.zeros((2, 3)))
    assert out.extra["source"] == "coco.json" and out.bbox is not None and out.image_path == "1.jpg"


def test_conversion_commutes_with_the_horizontal_flip():
    # a converted person flipped in the training layout is the flipped person converted: left stays left
    kps = numbered(17)
    (a,), _ = convert_layout([person(kps)], COCO17, CROWDPOSE14)
    (b,), _ = convert_layout([person(kps[COCO17.flip_index])], COCO17, CROWDPOSE14)
    np.testing.assert_array_equal(a.keypoints[CROWDPOSE14.flip_index], b.keypoints)


def test_mpii_head_top_and_upper_neck_become_crowdpose_head_and_neck():
    (out,), _ = convert_layout([person(numbered(16))], MPII16, CROWDPOSE14)
    head, neck = CROWDPOSE14.names.index("head"), CROWDPOSE14.names.index("neck")
    np.testing.assert_array_equal(out.keypoints[head], numbered(16)[MPII16.names.index("head_top")])
    np.testing.assert_array_equal(out.keypoints[neck], numbered(16)[MPII16.names.index("upper_neck")])
    np.testing.assert_array_equal(out.keypoints[0], numbered(16)[MPII16.names.index("left_shoulder")])


def test_people_left_without_a_labelled_joint_are_dropped_and_counted():
    face_only = numbered(17)
    face_only[5:, 2] = 0
    people = [person(numbered(17), 1), person(face_only, 2), person(numbered(17), 3)]
    out, dropped = convert_layout(people, COCO17, CROWDPOSE14, "coco.json")
    assert dropped == 1 and [p.image_id for p in out] == [1, 3]


def test_the_same_layout_passes_through_and_the_input_is_not_modified():
    kps = numbered(17)
    people = [person(kps)]
    out, dropped = convert_layout(people, COCO17, COCO17)
    assert dropped == 0 and out[0] is people[0]
    convert_layout(people, COCO17, CROWDPOSE14)
    np.testing.assert_array_equal(people[0].keypoints, numbered(17))
    assert "source" not in people[0].extra


def test_a_layout_sharing_no_joint_is_an_error_naming_the_file():
    fins = KeypointSpec("fish", ("dorsal_fin", "tail_fin"), ())
    with pytest.raises(ValueError, match=r"^fish\.json: its keypoint layout 'fish' shares no joint with .*'crowdpose'"):
        convert_layout([person(numbered(2))], fins, CROWDPOSE14, "fish.json")


def test_repeat_gives_each_person_times_copies_in_order():
    people = [person(numbered(17), i) for i in (1, 2)]
    assert [p.image_id for p in repeat(people, 3)] == [1, 1, 1, 2, 2, 2]
    assert repeat(people, 1) == people
    with pytest.raises(ValueError, match=r"^extra\.json: repeat must be at least 1, got 0"):
        repeat(people, 0, "extra.json")
