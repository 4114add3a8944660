import math

import numpy as np
import pytest

import lqpose
from lqpose.infer.track import DetectEvery, OneEuroFilter, PoseTracker, box_iou, boxes_from_people, jitter


def person(x: float, y: float, h: float = 100.0, k: int = 3, score: float = 0.9) -> dict:
    kps = np.zeros((k, 3), np.float32)
    kps[:, 0], kps[:, 1], kps[:, 2] = x + np.arange(k), y + np.arange(k), score
    return {"bbox": [x, y, h / 2, h], "keypoints": kps, "score": 0.8}


def test_box_iou_known_values():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5], [2, 2, 5, 5]])
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0, 25 / 100]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def test_one_euro_first_steps_match_the_formula():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0, d_cutoff=1.0)
    assert f(np.array([0.0]), 0.0)[0] == 0.0  # the first value passes through
    dt = 0.04
    alpha = 1 / (1 + 1 / (2 * math.pi * 1.0 * dt))  # cutoff 1 Hz at 25 fps
    assert f(np.array([10.0]), dt)[0] == pytest.approx(alpha * 10)
    assert f(np.array([10.0]), 2 * dt)[0] == pytest.approx(alpha * 10 + alpha * (10 - alpha * 10))


def test_one_euro_holds_a_constant_and_damps_alternating_noise():
    f = OneEuroFilter()
    assert f(np.full(4, 7.0), 0.0).tolist() == [7.0] * 4
    assert f(np.full(4, 7.0), 0.1).tolist() == [7.0] * 4
    g = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    out = [g(np.array([(-1.0) ** i]), i / 25)[0] for i in range(80)]
    alpha = 1 / (1 + 25 / (2 * math.pi))
    # a +-1 px shake at 25 fps settles at +-alpha / (2 - alpha): +-0.112 px, a ninth of it
    assert np.abs(out[-2:]) == pytest.approx([alpha / (2 - alpha)] * 2, rel=1e-3)


def test_one_euro_beta_trades_lag_for_speed_and_is_scale_free():
    ramp = [np.array([100.0 * i / 25]) for i in range(25)]  # 100 px/s, a 100 px person: 1 height per second
    lag = {}
    for beta in (0.0, 10.0):
        f = OneEuroFilter(min_cutoff=1.0, beta=beta)
        lag[beta] = ramp[-1][0] - [f(x, i / 25, scale=100.0) for i, x in enumerate(ramp)][-1][0]
    assert lag[10.0] < lag[0.0] / 3
    small, big = OneEuroFilter(beta=10.0), OneEuroFilter(beta=10.0)
    for i, x in enumerate(ramp):  # the same motion twice as large, with a person twice as tall: twice the output
        assert big(2 * x, i / 25, scale=200.0)[0] == pytest.approx(2 * small(x, i / 25, scale=100.0)[0])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="min_cutoff > 0"):
        PoseTracker(smooth={"min_cutoff": 0.0})
    with pytest.raises(ValueError, match="iou_thr"):
        PoseTracker(iou_thr=0.0)
    with pytest.raises(TypeError):
        PoseTracker(smooth={"cutoff": 1.0})


def test_tracker_keeps_ids_by_overlap_and_starts_new_ones():
    tr = PoseTracker(max_age=2)
    first = tr.update([person(0, 0), person(300, 0)], 0, 25)
    assert [p["track_id"] for p in first] == [0, 1]
    second = tr.update([person(305, 2), person(4, 1)], 1, 25)  # listed in the other order, both moved a little
    assert [p["track_id"] for p in second] == [1, 0]
    third = tr.update([person(600, 0), person(8, 2)], 2, 25)  # someone new enters far away
    assert [p["track_id"] for p in third] == [2, 0]
    assert tr.update([person(10, 2)], 5, 25)[0]["track_id"] == 0  # unseen for 2 frames: within max_age
    assert tr.update([person(310, 0)], 9, 25)[0]["track_id"] == 3  # track 1 unseen for 7 frames: gone
    assert "raw_keypoints" not in third[0]  # no smoothing asked: the model's keypoints as they came


def test_the_default_overlap_floor_bridges_two_missed_detections_of_a_walker():
    """A 50x100 box walking 10 px a frame, missed for two frames (dark or blurred ones): when it is found again it
    overlaps its last box by IoU 0.25, which keeps its id at the default floor of 0.2 (benchmarks/track_lq.py) and
    lost it at the old 0.3."""
    assert box_iou(np.array([[0, 0, 50, 100]]), np.array([[30, 0, 50, 100]]))[0, 0] == pytest.approx(20 / 80)
    for tracker, kept in ((PoseTracker(), True), (PoseTracker(iou_thr=0.3), False)):
        tracker.update([person(0, 0)], 0, 10)
        assert (tracker.update([person(30, 0)], 3, 10)[0]["track_id"] == 0) is kept


def test_unsure_boxes_only_continue_tracks_when_new_track_score_is_set():
    """ByteTrack's second stage: a box scored below `new_track_score` keeps a live track going (at IoU >= 0.5) but
    never starts one; without the setting every box counts, as before."""
    sure, unsure = {"box_score": 0.9}, {"box_score": 0.2}
    tr = PoseTracker(new_track_score=0.3)
    assert [p["track_id"] for p in tr.update([{**person(0, 0), **sure}], 0, 10)] == [0]
    out = tr.update([{**person(3, 0), **unsure}, {**person(400, 0), **unsure}], 1, 10)  # the ghost far away goes
    assert [(p["track_id"], p["bbox"][0]) for p in out] == [(0, 3.0)]
    assert tr.update([{**person(30, 0), **unsure}], 2, 10) == []  # IoU 0.48 with the last box: below low_iou
    assert [p["track_id"] for p in tr.update([{**person(6, 0), **sure}], 3, 10)] == [0]
    # a sure box takes its track first; the unsure duplicate of the same person is then left out
    both = tr.update([{**person(8, 0), **unsure}, {**person(7, 0), **sure}], 4, 10)
    assert [(p["track_id"], p["box_score"]) for p in both] == [(0, 0.9)]
    plain = PoseTracker()
    plain.update([{**person(0, 0), **sure}], 0, 10)
    assert [p["track_id"] for p in plain.update([{**person(400, 0), **unsure}], 1, 10)] == [1]
    with pytest.raises(ValueError, match="new_track_score must be in"):
        PoseTracker(new_track_score=1.5)


def test_may_keep_drops_only_unsure_boxes_that_no_update_would_keep():
    """Before any pose is estimated, `may_keep` tells which boxes `update` could keep: sure boxes always, unsure ones
    only where they overlap a live track at IoU >= low_iou. On a random walk of sure and unsure boxes, tracking
    only the boxes it keeps gives the same ids, frame by frame, as tracking them all."""
    rng = np.random.default_rng(0)
    full, filtered = PoseTracker(new_track_score=0.3), PoseTracker(new_track_score=0.3)
    walkers = rng.uniform(0, 300, (4, 2))
    unsure_kept = dropped = 0
    for frame in range(60):
        walkers += rng.normal(0, 4, walkers.shape)  # four people walking, seen 80 % of the time, and ghosts
        seen = [xy for xy in walkers if rng.random() < 0.8] + list(rng.uniform(0, 300, (int(rng.integers(0, 3)), 2)))
        people = [{**person(*xy), "box_score": float(rng.uniform(0.1, 0.9))} for xy in seen]
        boxes = np.array([[*p["bbox"], p["box_score"]] for p in people]).reshape(-1, 5)
        keep = filtered.may_keep(boxes, frame)
        assert keep[boxes[:, 4] >= 0.3].all()  # sure boxes are always worth a pose
        by_full = full.update(people, frame, 10)
        by_filtered = filtered.update([p for p, k in zip(people, keep, strict=True) if k], frame, 10)
        assert [(p["track_id"], p["bbox"]) for p in by_filtered] == [(p["track_id"], p["bbox"]) for p in by_full]
        unsure_kept += sum(p["box_score"] < 0.3 for p in by_full)
        dropped += int((~keep).sum())
    assert unsure_kept > 20 and dropped >= 10  # unsure boxes both continued tracks and were dropped early
    tr = PoseTracker(new_track_score=0.3)
    tr.update([{**person(0, 0), "box_score": 0.9}], 0, 10)
    near, far = [3.0, 0.0, 50.0, 100.0, 0.2], [400.0, 0.0, 50.0, 100.0, 0.2]
    assert tr.may_keep(np.array([near, far]), 1).tolist() == [True, False]
    assert tr.may_keep(np.array([near]), 20).tolist() == [False]  # the track died (max_age 10): nothing to continue
    assert PoseTracker().may_keep(np.array([far]), 0).tolist() == [True]  # no second stage: every box counts


def test_two_people_never_share_an_id():
    tr = PoseTracker()
    tr.update([person(0, 0)], 0, 25)
    out = tr.update([person(2, 0), person(4, 0)], 1, 25)  # both overlap the one track
    assert sorted(p["track_id"] for p in out) == [0, 1]


def test_smoothing_steadies_a_shaking_person_and_keeps_the_raw_keypoints():
    tr = PoseTracker(smooth=True)
    shakes = []
    for f in range(30):
        p = person(100 + (3 if f % 2 else -3), 50)
        out = tr.update([p], f, 25)[0]
        assert out["track_id"] == 0
        np.testing.assert_array_equal(out["raw_keypoints"], p["keypoints"])
        np.testing.assert_array_equal(out["keypoints"][:, 2], p["keypoints"][:, 2])  # scores as predicted
        shakes.append(out["keypoints"][0, 0])
    assert np.ptp(shakes[10:]) < 6 * 0.8  # the +-3 px shake comes out at least a fifth smaller
    assert lqpose.PoseTracker is PoseTracker


def test_jitter_known_values():
    h = 100.0
    steady = {0: [(f, np.array([[2.0 * f, 0.0]]), h) for f in range(5)]}  # constant speed: no acceleration
    assert jitter(steady) == 0.0
    shake = {0: [(f, np.array([[float(f % 2), 0.0]]), h) for f in range(5)]}  # 0 1 0 1 0: |x'' | = 2 px
    assert jitter(shake) == pytest.approx(2 / h)
    gap = {0: [(0, np.zeros((1, 2)), h), (1, np.ones((1, 2)), h), (3, np.zeros((1, 2)), h)]}
    assert math.isnan(jitter(gap))  # no three consecutive frames


def _person(box, keypoints, score=0.9, box_score=0.8, **extra):
    return {"bbox": list(box), "keypoints": np.asarray(keypoints, np.float32), "score": score, "box_score": box_score,
            **extra}  # fmt: skip


def test_boxes_from_people_keep_each_box_and_drop_people_with_too_few_sure_joints():
    sure = [[10, 20, 0.9], [30, 60, 0.8], [20, 40, 0.5], [90, 90, 0.1]]  # the last is unsure: not counted
    unsure = [[10, 20, 0.9], [30, 60, 0.2], [20, 40, 0.1], [90, 90, 0.1]]
    boxes, centres = boxes_from_people([_person((5, 10, 40, 70), sure), _person((0, 0, 9, 9), unsure)])
    np.testing.assert_allclose(boxes, [[5, 10, 40, 70, 0.8]])  # the detector's box and score, as they were
    np.testing.assert_allclose(centres, [[20, 40]])  # the centre of the sure joints' extent
    smoothed = _person((5, 10, 40, 70), np.zeros((4, 3)), raw_keypoints=np.asarray(sure, np.float32))
    assert len(boxes_from_people([smoothed])[0]) == 1  # the model's own keypoints, not the smoothed ones


def test_detect_every_runs_the_detector_every_nth_frame_and_moves_boxes_with_the_keypoints():
    assert lqpose.DetectEvery is DetectEvery
    follow = DetectEvery(3)
    joints = np.array([[10, 20, 0.9], [30, 60, 0.9], [20, 40, 0.9]], np.float32)
    assert follow.boxes() is None  # frame 1: detect
    people = follow.saw([_person((0, 10, 40, 70), joints)])
    boxes = follow.boxes()  # frame 2: followed, where the person was
    np.testing.assert_allclose(boxes, [[0, 10, 40, 70, 0.8]])
    moved = joints + [5, -2, 0]  # the model found the person 5 px right, 2 px up
    people = follow.saw([_person(boxes[0, :4], moved)])
    assert people[0]["bbox"] == [5, 8, 40, 70]  # the box moved as the keypoints did, its size kept
    np.testing.assert_allclose(follow.boxes(), [[5, 8, 40, 70, 0.8]])  # frame 3: followed again
    with pytest.raises(ValueError, match="0 people for 1 boxes; give the model's people of this frame, one per box"):
        follow.saw([])  # told of fewer people than it had boxes (filtered first): the motion would go to others
    follow.saw([_person((5, 8, 40, 70), moved)])
    assert follow.boxes() is None  # frame 4: the detector's turn
    follow.saw([])  # it found no one
    assert follow.boxes() is None  # frame 5: no one on the last frame: detect at once, not at frame 7
    given = np.zeros((1, 5), np.float32)
    assert follow.saw([]) == [] and follow.boxes(given) is given and follow.detected == 3  # given boxes pass through
    with pytest.raises(ValueError, match=r"whole n >= 1, got 0"):
        DetectEvery(0)
