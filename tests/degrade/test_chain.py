import json

import numpy as np
import pytest

from lqpose.config import ConfigError, load_config
from lqpose.degrade import ChainConfig, ChainRound, random_chain, random_chain_with_params, replay_chain, sample_chain


def test_same_seed_same_bytes_different_seed_differs(small_image):
    a = random_chain(small_image, seed=1)
    assert a.tobytes() == random_chain(small_image, seed=1).tobytes()
    assert a.shape == small_image.shape and a.dtype == np.uint8
    outs = {random_chain(small_image, seed=s).tobytes() for s in range(6)}
    assert len(outs) == 6


def test_recorded_ops_replay_exactly(astronaut):
    for seed in range(5):
        out, ops = random_chain_with_params(astronaut, seed)
        assert replay_chain(astronaut, json.loads(json.dumps(ops))).tobytes() == out.tobytes()


def test_chain_is_two_rounds_with_a_resize_back():
    cfg = ChainConfig()
    rng = np.random.default_rng(0)
    chains = [sample_chain((300, 200, 3), rng, cfg) for _ in range(200)]
    kinds = [op["op"] for ops in chains for op in ops]
    # every family of stage appears, and the second round doubles blur/noise/compression often
    for kind in (
        "gaussian_blur",
        "motion_blur",
        "defocus_blur",
        "resize",
        "gaussian_noise",
        "shot_noise",
        "sensor_noise",
        "jpeg",
        "webp",
        "low_light",
    ):
        assert kind in kinds
    assert np.mean([sum(op["op"] == "jpeg" or op["op"] == "webp" for op in ops) for ops in chains]) > 1.5
    for ops in chains:
        sizes = [(op["height"], op["width"]) for op in ops if op["op"] == "resize"]
        if sizes:
            assert sizes[-1] == (300, 200)
            assert all(h >= 300 * cfg.min_scale - 1 for h, _ in sizes)


def test_probabilities_are_respected():
    off = ChainConfig(second_prob=0.0, low_light_prob=0.0)
    off.first.blur_prob = off.first.resize_prob = off.first.noise_prob = 0.0
    off.first.compression_prob = 1.0
    ops = sample_chain((64, 64, 3), np.random.default_rng(3), off)
    assert [op["op"] for op in ops] in (["jpeg"], ["webp"])


def test_chain_keeps_content_in_place():
    h, w, cy, cx = 160, 200, 70.4, 120.7
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.repeat((20 + 220 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 50.0))[..., None], 3, 2).astype(np.uint8)
    cfg = ChainConfig(low_light_prob=0.0)
    cfg.first.noise_prob = cfg.second.noise_prob = 0.0  # noise would only blur the centroid estimate
    for seed in range(10):
        out = random_chain(img, seed, cfg).astype(np.float64).mean(2)
        win = np.clip(out - np.median(out), 0, None)
        y = (win * yy).sum() / win.sum()
        x = (win * xx).sum() / win.sum()
        assert abs(y - cy) < 0.6 and abs(x - cx) < 0.6, (seed, y, x)


def test_chain_config_from_yaml_with_overrides(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text("shuffle_prob: 0.0\nfirst:\n  quality: [40, 60]\n")
    cfg = load_config(ChainConfig, path, ["second.blur_prob=0.5", "low_light_prob=0"])
    assert cfg.shuffle_prob == 0.0 and cfg.first.quality == (40.0, 60.0)
    assert cfg.second.blur_prob == 0.5 and cfg.low_light_prob == 0.0
    with pytest.raises(ConfigError, match="did you mean 'shuffle_prob'"):
        load_config(ChainConfig, path, ["shufle_prob=0.1"])
    with pytest.raises(ConfigError, match="expected a number"):
        load_config(ChainConfig, None, ["second.blur_prob=high"])


def test_shipped_chain_yaml_is_the_default():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "configs" / "chain.yaml"
    assert load_config(ChainConfig, path) == ChainConfig()


def test_extreme_low_light_is_off_by_default_and_leaves_earlier_chains_unchanged(astronaut):
    # extreme_low_light_prob=0 draws nothing extra from the rng, so every earlier config samples the same ops
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    a = [sample_chain((300, 200, 3), rng_a, ChainConfig()) for _ in range(50)]
    b = [sample_chain((300, 200, 3), rng_b, ChainConfig(extreme_low_light_prob=0.0)) for _ in range(50)]
    assert a == b
    scales = [op["scale"] for ops in a for op in ops if op["op"] == "low_light"]
    assert scales and min(scales) >= 0.05


def test_extreme_low_light_leaves_an_exlpose_dark_noisy_trace(astronaut):
    cfg = ChainConfig(low_light_prob=1.0, extreme_low_light_prob=1.0, second_prob=0.0)
    cfg.first.blur_prob = cfg.first.resize_prob = cfg.first.noise_prob = cfg.first.compression_prob = 0.0
    rng = np.random.default_rng(0)
    means, stds = [], []
    for _ in range(20):
        ops = sample_chain(astronaut.shape, rng, cfg)
        (op,) = ops
        assert op["op"] == "low_light" and 3e-4 <= op["scale"] <= 0.02
        assert op["scale"] * 0.1 * 0.999 <= op["read"] <= op["scale"] * 1.001  # noise relative to the light
        out = replay_chain(astronaut, ops)
        means.append(out.mean())
        stds.append(out.astype(np.float32).std())
    # ExLPose's low-light frames average 0.2-0.3 of 255; the darkest draws here reach that, the brightest stay
    # far below the ordinary night stage's 5 % floor (an sRGB mean of ~50 on this photo)
    assert min(means) < 1.0 and max(means) < 30.0
    assert all(s > 0 for s in stds)  # never a blank frame: a trace of the scene and its noise is left


def test_an_extreme_night_stage_is_the_frames_only_noise_and_no_codec_follows():
    cfg = ChainConfig(low_light_prob=1.0, extreme_low_light_prob=1.0)
    cfg.first.noise_prob = cfg.second.noise_prob = cfg.first.compression_prob = cfg.second.compression_prob = 1.0
    rng = np.random.default_rng(1)
    for _ in range(30):
        kinds = [op["op"] for op in sample_chain((120, 90, 3), rng, cfg)]
        after = kinds[kinds.index("low_light") + 1 :]
        assert not {"gaussian_noise", "shot_noise", "sensor_noise", "jpeg", "webp"} & set(after), kinds
    ordinary = ChainConfig(low_light_prob=1.0, shuffle_prob=0.0)
    ordinary.first.noise_prob = 1.0
    kinds = [op["op"] for op in sample_chain((120, 90, 3), np.random.default_rng(1), ordinary)]
    assert kinds[kinds.index("low_light") + 1] in ("gaussian_noise", "shot_noise", "sensor_noise")


def test_every_shipped_config_passes_validation_and_the_training_lq_config_checks_the_chain():
    """configs/chain.yaml and every training config's data.lq validate; a bad chain inside a training config is
    named by its full key."""
    from pathlib import Path

    from lqpose.data.topdown import LQConfig
    from lqpose.engine.train import TrainConfig

    root = Path(__file__).resolve().parents[2] / "configs"
    load_config(ChainConfig, root / "chain.yaml").validate()
    trains = [p for p in root.rglob("*.yaml") if p.name != "chain.yaml"]
    assert len(trains) > 50
    for path in trains:
        load_config(TrainConfig, path).data.lq.validate()
    with pytest.raises(ValueError, match=r"^lq\.chain\.second\.blur_prob is a probability, within \[0, 1\]; got 3"):
        LQConfig(mode="chain", chain=ChainConfig(second=ChainRound(blur_prob=3.0))).validate()
    with pytest.raises(ValueError, match=r"^lq\.clean_prob is a probability"):
        LQConfig(mode="mix", clean_prob=1.5).validate()
