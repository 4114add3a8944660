import numpy as np
import pytest

from lqpose.codec import HeatmapCodec, codec_for


def random_keypoints(rng, n=17, w=192, h=256):
    xy = rng.uniform([0, 0], [w - 1, h - 1], (n, 2))
    return np.concatenate([xy, np.full((n, 1), 2.0)], 1).astype(np.float32)


def test_encode_decode_recovers_keypoints_at_256x192():
    codec = codec_for((192, 256))
    assert codec.heatmap_size == (48, 64) and codec.sigma == 2.0
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(40):  # anywhere in the crop, borders included
        kps = random_keypoints(rng)
        heatmaps, weights = codec.encode(kps)
        coords, scores = codec.decode(heatmaps[None])
        worst = max(worst, float(np.abs(coords[0] - kps[:, :2]).max()))
        assert weights.tolist() == [1.0] * 17 and scores.min() > 0.5
    assert worst < 0.1


def test_unbiased_stride_and_weights():
    codec = HeatmapCodec((192, 256), (48, 64), 2.0)
    np.testing.assert_allclose(codec.stride, [191 / 47, 255 / 63])
    kps = np.array([[0, 0, 2], [95.5, 127.5, 0], [-50, 10, 2], [191, 255, 1]], np.float32)
    heatmaps, weights = codec.encode(kps)
    assert weights.tolist() == [1.0, 0.0, 0.0, 1.0]
    assert heatmaps[0, 0, 0] == pytest.approx(1.0) and heatmaps[3, 63, 47] == pytest.approx(1.0)
    assert heatmaps[1].max() == 0.0


def test_decode_is_robust_to_noise_and_shapes():
    codec = codec_for((192, 256))
    rng = np.random.default_rng(1)
    kps = random_keypoints(rng, 5, 150, 200) + np.array([20, 20, 0], np.float32)
    heatmaps, _ = codec.encode(kps)
    noisy = heatmaps + rng.normal(0, 0.02, heatmaps.shape).astype(np.float32)
    coords, scores = codec.decode(np.stack([noisy, noisy]))
    assert coords.shape == (2, 5, 2) and scores.shape == (2, 5)
    assert np.abs(coords[0] - kps[:, :2]).max() < 1.0  # DARK's smoothing keeps noise from dominating
