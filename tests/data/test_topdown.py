import cv2
import numpy as np
import pytest

from lqpose.codec import codec_for
from lqpose.data import read_coco
from lqpose.data.records import Instance
from lqpose.data.topdown import EpochSampler, LQConfig, TopDownDataset
from lqpose.data.transforms import MEAN, STD, AugmentConfig, crop, crop_person, occlude
from lqpose.degrade import degrade
from lqpose.imageio import read_rgb


def denorm(t: np.ndarray) -> np.ndarray:
    return (t.transpose(1, 2, 0) * STD + MEAN).round().clip(0, 255).astype(np.uint8)


def test_sample_shapes_and_targets(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    ds = TopDownDataset(s.trainable(), s.spec, codec_for((192, 256)), train=True, seed=3)
    x = ds[0]
    assert all(isinstance(x[k], np.ndarray) for k in ("image", "heatmaps", "weights", "keypoints", "matrix"))
    assert x["image"].dtype == np.float32 and x["heatmaps"].dtype == np.float32  # what training's tensors were
    assert x["image"].shape == (3, 256, 192) and x["heatmaps"].shape == (17, 64, 48)
    assert x["weights"].shape == (17,) and x["matrix"].shape == (2, 3)
    again = ds[0]
    assert np.array_equal(x["image"], again["image"])  # randomness is a function of (seed, epoch, index)
    ds.set_epoch(1)
    assert not np.array_equal(ds[0]["image"], x["image"])


def test_joint_weights_scale_the_labelled_joints_and_leave_unlabelled_ones_at_zero(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    people = s.trainable()
    plain = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, seed=3)
    hips = s.spec.joint_weights({"left_hip": 1.5, "right_hip": 1.5})
    weighted = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, seed=3, joint_weights=hips)
    seen = []
    for i in range(len(people)):
        a, b = plain[i], weighted[i]
        assert np.array_equal(a["heatmaps"], b["heatmaps"])  # the targets and the draws are unchanged
        np.testing.assert_array_equal(b["weights"], a["weights"] * hips)
        seen.append(b["weights"])
    hip_weights = np.stack(seen)[:, hips != 1]
    assert set(np.unique(hip_weights)) <= {0.0, 1.5} and (hip_weights == 1.5).any()  # labelled hips count 1.5


def test_lq_member_is_the_same_crop_of_the_degraded_full_image(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    lq = LQConfig(mode="fixed", types=["gaussian_blur"], severities=[4])
    ds = TopDownDataset(s.trainable(), s.spec, codec_for((192, 256)), train=True, lq=lq, seed=0)
    x = ds[2]
    inst = s.trainable()[2]
    full = degrade(read_rgb(inst.image_path), "gaussian_blur", 4, seed=0)  # blur draws nothing random
    expected = crop(full, x["matrix"], (192, 256))
    assert np.abs(denorm(x["lq_image"]).astype(int) - expected.astype(int)).max() <= 1
    assert x["lq_severity"] == 4
    wq = denorm(x["image"])
    assert np.abs(wq.astype(int) - expected.astype(int)).mean() > 1  # the pair differs only by the blur


def test_occluder_shows_in_both_members_and_leaves_targets_and_other_draws_alone(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    lq = LQConfig(mode="fixed", types=["gaussian_blur"], severities=[4])
    plain = TopDownDataset(s.trainable(), s.spec, codec_for((192, 256)), train=True, lq=lq, seed=0)[2]
    aug = AugmentConfig(occlusion_prob=1.0)
    ds = TopDownDataset(s.trainable(), s.spec, codec_for((192, 256)), train=True, augment=aug, lq=lq, seed=0)
    x = ds[2]
    for key in ("matrix", "keypoints", "heatmaps", "weights"):  # same geometry; labels of hidden joints kept
        assert np.array_equal(x[key], plain[key])
    rng = np.random.default_rng([0, 0, 2, 1])
    assert rng.random() < 1.0
    full = occlude(read_rgb(s.trainable()[2].image_path), x["matrix"], (192, 256), aug, rng)
    np.testing.assert_array_equal(denorm(x["image"]), crop(full, x["matrix"], (192, 256)))
    blurred = crop(degrade(full, "gaussian_blur", 4, seed=0), x["matrix"], (192, 256))
    assert np.abs(denorm(x["lq_image"]).astype(int) - blurred.astype(int)).max() <= 1  # the LQ member's is degraded
    covered = (denorm(x["image"]) != denorm(plain["image"])).any(2).mean()
    assert 0.2**2 * 0.8 < covered < 0.4**2 * 1.3  # one occluder, 0.2-0.4 of each side


def test_grayscale_makes_both_members_monochrome_and_leaves_targets_and_other_draws_alone(shared_data):
    """`augment.grayscale_prob` (an infrared night camera): the image is reduced to its luma before the LQ member is
    made, so both members are monochrome; geometry, targets and the LQ draw are those of the run without it; at
    0.5 about half the crops are monochrome, drawn from their own generator."""
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    lq = LQConfig(mode="fixed", types=["gaussian_blur"], severities=[4])
    people = s.trainable()  # people 1 and 2 stand in a black-and-white photo (000000040083.jpg): COCO has them too
    plain = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, lq=lq, seed=0)[3]
    aug = AugmentConfig(grayscale_prob=1.0)
    x = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, augment=aug, lq=lq, seed=0)[3]
    for key in ("matrix", "keypoints", "heatmaps", "weights"):
        assert np.array_equal(x[key], plain[key])
    assert np.ptp(denorm(plain["image"]).astype(int), axis=2).max() > 100  # a colour photo
    gray = cv2.cvtColor(cv2.cvtColor(read_rgb(people[3].image_path), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    np.testing.assert_array_equal(denorm(x["image"]), crop(gray, x["matrix"], (192, 256)))
    blurred = crop(degrade(gray, "gaussian_blur", 4, seed=0), x["matrix"], (192, 256))
    assert np.abs(denorm(x["lq_image"]).astype(int) - blurred.astype(int)).max() <= 1
    half = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, augment=AugmentConfig(grayscale_prob=0.5))
    colour = [i for i in range(len(people)) if i not in (1, 2)]
    mono = [bool((np.ptp(denorm(half[i]["image"]).astype(int), axis=2) <= 1).all()) for i in colour]
    assert mono == [np.random.default_rng([0, 0, i, 3]).random() < 0.5 for i in colour] and 2 <= sum(mono) <= 8
    with pytest.raises(ValueError, match="augment.grayscale_prob must be within 0..1, got 1.5"):
        AugmentConfig(grayscale_prob=1.5).validate()


def test_color_jitter_changes_the_colours_of_both_members_and_nothing_else(shared_data):
    """`augment.color_prob` (a camera's white balance, saturation and gain): drawn from its own generator, before
    the LQ member is made; geometry, targets and every other draw stay those of the run without it."""
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    lq = LQConfig(mode="fixed", types=["gaussian_blur"], severities=[4])
    people = s.trainable()
    plain = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, lq=lq, seed=0)[3]
    aug = AugmentConfig(color_prob=1.0, color_brightness=(0.6, 0.6), color_saturation=(1.0, 1.0), color_hue=0.0)
    x = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, augment=aug, lq=lq, seed=0)[3]
    for key in ("matrix", "keypoints", "heatmaps", "weights", "lq_severity", "lq_type"):
        assert np.array_equal(x[key], plain[key])
    ratio = denorm(x["image"]).astype(float).mean() / denorm(plain["image"]).astype(float).mean()
    assert ratio == pytest.approx(0.6, abs=0.02)  # every channel scaled by the drawn brightness
    lq_ratio = denorm(x["lq_image"]).astype(float).mean() / denorm(plain["lq_image"]).astype(float).mean()
    assert lq_ratio == pytest.approx(0.6, abs=0.02)  # the LQ member is made from the jittered image


def test_truncation_edge_blanks_the_frame_beyond_it_and_unlabels_its_joints():
    from lqpose.data.transforms import Truncation, sample_truncation

    cut = Truncation(axis=1, at=60.0, keep_low=True)  # a bottom edge at y = 60
    img = np.full((100, 80, 3), 200, np.uint8)
    out = cut.blank(img)
    assert (out[60:] == 0).all() and (out[:60] == 200).all() and (img == 200).all()  # a copy
    assert cut.clip_box([10, 20, 30, 70]) == [10.0, 20.0, 30.0, 40.0]
    left = Truncation(axis=0, at=25.0, keep_low=False)  # a left edge at x = 25: x < 25 is gone
    assert (left.blank(img)[:, :25] == 0).all() and (left.blank(img)[:, 25:] == 200).all()
    assert left.clip_box([10, 20, 30, 70]) == [25.0, 20.0, 15.0, 70.0]
    pts = np.array([[15, 30], [30, 59], [30, 61]], np.float32)
    assert cut.outside(pts).tolist() == [False, False, True] and left.outside(pts).tolist() == [True, False, False]
    # a standing person, head at y = 0, feet at y = 130: a bottom cut keeps 35-80 % of the box
    kps = np.zeros((14, 3), np.float32)
    kps[:, 0], kps[:, 1], kps[:, 2] = 50, np.linspace(0, 130, 14), 2
    cfg = AugmentConfig(truncation_prob=1.0, truncation_sides=(1, 0, 0, 0))
    for seed in range(20):
        c = sample_truncation([40, 0, 20, 130], kps, cfg, np.random.default_rng(seed))
        assert c.axis == 1 and c.keep_low and 0.35 * 130 <= c.at <= 0.8 * 130
        assert (~c.outside(kps[:, :2])).sum() >= 3
    few = kps.copy()
    few[2:, 2] = 0  # only the two top joints labelled: no cut leaves three
    assert sample_truncation([40, 0, 20, 130], few, cfg, np.random.default_rng(0)) is None


def test_truncated_sample_is_cut_in_both_members_and_trains_only_the_joints_left(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    lq = LQConfig(mode="fixed", types=["gaussian_noise"], severities=[5])
    aug = AugmentConfig(
        truncation_prob=1.0,
        truncation_sides=(1, 0, 0, 0),
        rotation_prob=0.0,
        flip_prob=0.0,
        scale=(1.0, 1.0),
        shift=0.0,
        half_body_prob=0.0,
    )  # the crop: the kept box, padded 1.25x
    people = s.trainable()
    i = max(range(len(people)), key=lambda j: int((people[j].keypoints[:, 2] > 0).sum()))  # the most labelled
    ds = TopDownDataset(people, s.spec, codec_for((192, 256)), train=True, augment=aug, lq=lq, seed=0)
    x = ds[i]
    labelled = people[i].keypoints[:, 2] > 0
    kept = x["weights"] > 0
    assert 3 <= kept.sum() < labelled.sum()  # some joints left the frame, at least three stayed
    assert not (kept & ~labelled).any()
    # below the edge both members are exactly the crop's padding (normalised black), noise included
    black = ((0 - MEAN) / STD).astype(np.float32).reshape(3, 1, 1)
    for key in ("image", "lq_image"):
        rows = np.abs(x[key] - black).max(axis=(0, 2)) < 1e-5
        assert rows[-1] and 0 < rows.mean() < 1, key  # the crop's bottom rows are beyond the edge
    ys = x["keypoints"][:, 1]
    r = rows
    edge = len(r) - int(np.argmin(r[::-1]))  # the first row of the trailing black run: the frame's edge
    assert 0 < edge < len(r) and (ys[kept] < edge).all()  # every joint still trained lies above the edge


def test_eval_degrade_changes_the_input(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    clean = TopDownDataset(s.trainable(), s.spec, codec_for((96, 128)))[0]["image"]
    dark = TopDownDataset(s.trainable(), s.spec, codec_for((96, 128)), eval_degrade=("low_light", 5))[0]["image"]
    assert dark.mean() < clean.mean() - 0.5


def test_unreadable_training_image_is_replaced_and_counted(shared_data, tmp_path):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    good = s.trainable()[0]
    bad = Instance(str(tmp_path / "bad.jpg"), 1, good.bbox, good.keypoints, good.area, good.image_size)
    ds = TopDownDataset([bad, good], s.spec, codec_for((96, 128)), train=True)
    x = ds[0]
    assert x["bad_reads"] == 1 and x["index"] == 1 and x["readable"]
    with pytest.raises(RuntimeError, match=r"none of the 1 training people's images could be read"):
        TopDownDataset([bad], s.spec, codec_for((96, 128)), train=True)[0]


def test_unreadable_evaluation_image_is_marked_not_replaced(shared_data, tmp_path):
    """In evaluation a stand-in would be another person's crop scored as this one's (and that person twice)."""
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    good = s.trainable()[0]
    bad = Instance(str(tmp_path / "bad.jpg"), 1, good.bbox, good.keypoints, good.area, good.image_size)
    ds = TopDownDataset([bad, good], s.spec, codec_for((96, 128)), eval_degrade=("fog", 3))
    x, y = ds[0], ds[1]
    assert x["index"] == 0 and x["bad_reads"] == 1 and not x["readable"]
    assert y["index"] == 1 and y["readable"] and x["image"].shape == y["image"].shape


def test_epoch_sampler_shards_and_resumes_mid_epoch():
    a = EpochSampler(10, 2, seed=1, rank=0, world=2)
    b = EpochSampler(10, 2, seed=1, rank=1, world=2)
    ia, ib = list(a), list(b)
    assert len(ia) == len(ib) == 4 and not set(ia) & set(ib)
    a.set_epoch(0, start_batch=1)
    assert list(a) == ia[2:]
    a.set_epoch(1)
    assert list(a) != ia


def test_crop_person_is_the_evaluation_crop(shared_data):
    """Inference (api, benchmarks) and evaluation must see the very same input for the same box."""
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    ds = TopDownDataset(s.trainable(), s.spec, codec_for((96, 128)), train=False)
    inst = s.trainable()[1]
    x, m = crop_person(read_rgb(inst.image_path), inst.bbox, (96, 128))
    sample = ds[1]
    assert isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == (3, 128, 96)  # numpy: no torch to deploy
    assert np.array_equal(x, sample["image"])
    np.testing.assert_allclose(m, sample["matrix"], atol=1e-6)
    # the box centre lands in the middle of the crop
    cx, cy = inst.bbox[0] + inst.bbox[2] / 2, inst.bbox[1] + inst.bbox[3] / 2
    px, py = m @ np.array([cx, cy, 1.0])
    assert abs(px - 47.5) < 0.6 and abs(py - 63.5) < 0.6
