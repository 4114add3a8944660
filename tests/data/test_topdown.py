import numpy as np
import torch

from lqpose.codec import codec_for
from lqpose.data import read_coco
from lqpose.data.records import Instance
from lqpose.data.topdown import MEAN, STD, EpochSampler, LQConfig, TopDownDataset, crop_person
from lqpose.data.transforms import AugmentConfig, crop, occlude
from lqpose.degrade import degrade
from lqpose.imageio import read_rgb


def denorm(t: torch.Tensor) -> np.ndarray:
    return (t.numpy().transpose(1, 2, 0) * STD + MEAN).round().clip(0, 255).astype(np.uint8)


def test_sample_shapes_and_targets(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    ds = TopDownDataset(s.trainable(), s.spec, codec_for((192, 256)), train=True, seed=3)
    x = ds[0]
    assert x["image"].shape == (3, 256, 192) and x["heatmaps"].shape == (17, 64, 48)
    assert x["weights"].shape == (17,) and x["matrix"].shape == (2, 3)
    again = ds[0]
    assert torch.equal(x["image"], again["image"])  # randomness is a function of (seed, epoch, index)
    ds.set_epoch(1)
    assert not torch.equal(ds[0]["image"], x["image"])


def test_lq_member_is_the_same_crop_of_the_degraded_full_image(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    lq = LQConfig(mode="fixed", types=["gaussian_blur"], severities=[4])
    ds = TopDownDataset(s.trainable(), s.spec, codec_for((192, 256)), train=True, lq=lq, seed=0)
    x = ds[2]
    inst = s.trainable()[2]
    full = degrade(read_rgb(inst.image_path), "gaussian_blur", 4, seed=0)  # blur draws nothing random
    expected = crop(full, x["matrix"].numpy(), (192, 256))
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
        assert torch.equal(x[key], plain[key])
    rng = np.random.default_rng([0, 0, 2, 1])
    assert rng.random() < 1.0
    full = occlude(read_rgb(s.trainable()[2].image_path), x["matrix"].numpy(), (192, 256), aug, rng)
    np.testing.assert_array_equal(denorm(x["image"]), crop(full, x["matrix"].numpy(), (192, 256)))
    blurred = crop(degrade(full, "gaussian_blur", 4, seed=0), x["matrix"].numpy(), (192, 256))
    assert np.abs(denorm(x["lq_image"]).astype(int) - blurred.astype(int)).max() <= 1  # the LQ member's is degraded
    covered = (denorm(x["image"]) != denorm(plain["image"])).any(2).mean()
    assert 0.2**2 * 0.8 < covered < 0.4**2 * 1.3  # one occluder, 0.2-0.4 of each side


def test_eval_degrade_changes_the_input(shared_data):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    clean = TopDownDataset(s.trainable(), s.spec, codec_for((96, 128)))[0]["image"]
    dark = TopDownDataset(s.trainable(), s.spec, codec_for((96, 128)), eval_degrade=("low_light", 5))[0]["image"]
    assert dark.mean() < clean.mean() - 0.5


def test_unreadable_image_is_replaced_and_counted(shared_data, tmp_path):
    s = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    good = s.trainable()[0]
    bad = Instance(str(tmp_path / "bad.jpg"), 1, good.bbox, good.keypoints, good.area, good.image_size)
    ds = TopDownDataset([bad, good], s.spec, codec_for((96, 128)))
    x = ds[0]
    assert x["bad_reads"] == 1 and x["index"] == 1


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
    assert x.shape == (3, 128, 96)
    assert torch.equal(x, sample["image"])
    np.testing.assert_allclose(m, sample["matrix"].numpy(), atol=1e-6)
    # the box centre lands in the middle of the crop
    cx, cy = inst.bbox[0] + inst.bbox[2] / 2, inst.bbox[1] + inst.bbox[3] / 2
    px, py = m @ np.array([cx, cy, 1.0])
    assert abs(px - 47.5) < 0.6 and abs(py - 63.5) < 0.6
