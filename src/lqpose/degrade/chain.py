"""Real-ESRGAN-style high-order degradation chain for training.

Two rounds of blur -> resize -> noise -> compression, each stage taken with a probability, its parameters
drawn from ranges, the stage order sometimes shuffled, and an optional night-capture stage. The chain is
first *sampled* into a list of plain ops (JSON-able) and then *replayed*, so a recorded chain rebuilds the
same image. The last op always resizes back to the input size: keypoints stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .blur import apply_defocus_blur, apply_gaussian_blur, apply_motion_blur
from .compression import apply_jpeg, apply_webp
from .light import apply_low_light
from .noise import apply_gaussian_noise, apply_sensor_noise, apply_shot_noise
from .registry import check_image

INTERPOLATIONS = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}


@dataclass
class ChainRound:
    """Probabilities and uniform ranges of one round."""

    blur_prob: float = 1.0
    blur_kind_weights: tuple[float, float, float] = (0.6, 0.2, 0.2)  # gaussian, motion, defocus
    gaussian_sigma: tuple[float, float] = (0.2, 3.0)
    motion_length: tuple[float, float] = (3.0, 15.0)
    defocus_radius: tuple[float, float] = (1.0, 4.0)
    resize_prob: float = 0.8
    resize_scale: tuple[float, float] = (0.3, 1.2)
    noise_prob: float = 0.8
    poisson_prob: float = 0.3  # else Gaussian noise ...
    sensor_prob: float = 0.2  # ... or linear-light sensor noise
    gaussian_sigma_noise: tuple[float, float] = (1.0 / 255, 25.0 / 255)
    poisson_photons: tuple[float, float] = (15.0, 300.0)
    gray_noise_prob: float = 0.4
    compression_prob: float = 0.9
    webp_prob: float = 0.15  # else JPEG
    quality: tuple[float, float] = (30.0, 95.0)

    def validate(self, where: str = "") -> None:
        """One line naming the key, before any image is drawn: a probability above 1 or a reversed range would
        otherwise train or write on a chain other than the one asked for, without a word."""
        for key in ("blur_prob", "resize_prob", "noise_prob", "poisson_prob", "sensor_prob", "gray_noise_prob",
                    "compression_prob", "webp_prob"):  # fmt: skip
            _check_prob(getattr(self, key), where + key)
        if self.poisson_prob + self.sensor_prob > 1:
            raise ValueError(f"{where}poisson_prob + sensor_prob must be <= 1 (the rest is Gaussian noise), got "
                             f"{self.poisson_prob} + {self.sensor_prob}")  # fmt: skip
        weights = self.blur_kind_weights
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"{where}blur_kind_weights must be >= 0 with a positive sum, got {list(weights)}")
        _check_range(self.gaussian_sigma, where + "gaussian_sigma", low=0.0)
        _check_range(self.motion_length, where + "motion_length", low=1.0)
        _check_range(self.defocus_radius, where + "defocus_radius", low=0.0)
        _check_range(self.resize_scale, where + "resize_scale", low=0.0, open_low=True)
        _check_range(self.gaussian_sigma_noise, where + "gaussian_sigma_noise", low=0.0)
        _check_range(self.poisson_photons, where + "poisson_photons", low=0.0, open_low=True)
        _check_range(self.quality, where + "quality", low=1.0, high=100.0)


def _check_prob(value: float, key: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{key} is a probability, within [0, 1]; got {value}")


def _check_range(
    lo_hi: tuple[float, float], key: str, low: float, high: float | None = None, open_low: bool = False
) -> None:
    lo, hi = lo_hi
    if lo > hi:
        raise ValueError(f"{key} is a range [low, high] with low <= high; got {list(lo_hi)}")
    if (lo <= low if open_low else lo < low) or (high is not None and hi > high):
        bound = f"> {low}" if open_low else f">= {low}"
        bound += f" and <= {high}" if high is not None else ""
        raise ValueError(f"{key} must lie {bound}; got {list(lo_hi)}")


def _second_round() -> ChainRound:
    return ChainRound(
        blur_prob=0.8,
        gaussian_sigma=(0.2, 1.5),
        motion_length=(3.0, 9.0),
        defocus_radius=(1.0, 2.5),
        resize_scale=(0.5, 1.2),
        gaussian_sigma_noise=(1.0 / 255, 20.0 / 255),
        poisson_photons=(25.0, 300.0),
    )


@dataclass
class ChainConfig:
    """The whole chain: two rounds, the chance to shuffle a round's stage order, and a night stage."""

    first: ChainRound = field(default_factory=ChainRound)
    second: ChainRound = field(default_factory=_second_round)
    second_prob: float = 1.0
    shuffle_prob: float = 0.3
    low_light_prob: float = 0.15
    low_light_scale: tuple[float, float] = (0.05, 0.6)
    # Of the night stages, the share at extreme light (ExLPose-like, mean pixel < 1 of 255): the light scale is
    # drawn log-uniform from extreme_scale and the sensor noise is set relative to it (read noise from a tenth
    # of the light scale to all of it), so after 8-bit quantisation a noisy trace of the person is left. The
    # chain's later noise and compression stages are skipped: that sensor noise is the frame's noise, and a codec
    # on a frame this dark leaves flat blocks (ExLPose's frames are lossless; a camera that compresses applies
    # its gain first, which the ordinary night stage covers). 0 = off, the default, which leaves the sampled
    # ops of every earlier config unchanged.
    extreme_low_light_prob: float = 0.0
    extreme_scale: tuple[float, float] = (3e-4, 0.02)
    extreme_read: tuple[float, float] = (0.1, 1.0)  # read-noise std / light scale, log-uniform
    extreme_gain: tuple[float, float] = (0.01, 0.2)  # shot-noise gain / light scale, log-uniform
    min_scale: float = 0.15  # the intermediate image never shrinks below this fraction of the input

    def validate(self, where: str = "") -> None:
        """Every probability within [0, 1] and every range ordered and in its domain, named by its key."""
        self.first.validate(where + "first.")
        self.second.validate(where + "second.")
        for key in ("second_prob", "shuffle_prob", "low_light_prob", "extreme_low_light_prob"):
            _check_prob(getattr(self, key), where + key)
        _check_range(self.low_light_scale, where + "low_light_scale", low=0.0, high=1.0, open_low=True)
        for key in ("extreme_scale", "extreme_read", "extreme_gain"):  # drawn log-uniform: above zero
            _check_range(getattr(self, key), where + key, low=0.0, open_low=True)
        if not 0.0 < self.min_scale <= 1.0:
            raise ValueError(f"{where}min_scale must lie in (0, 1]; got {self.min_scale}")


def _u(rng: np.random.Generator, lo_hi: tuple[float, float], digits: int = 4) -> float:
    return round(float(rng.uniform(lo_hi[0], lo_hi[1])), digits)


def _sig4(v: float) -> float:
    return float(f"{v:.4g}")


def _log_u(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return _sig4(np.exp(rng.uniform(np.log(lo_hi[0]), np.log(lo_hi[1]))))


def _low_light_op(cfg: ChainConfig, rng: np.random.Generator) -> tuple[dict, bool]:
    """The night stage: a dim scene (linear light x scale, gamma) and the sensor noise it brings; and whether
    it was drawn at extreme light (its noise then scales with the light). Draw order: scale, gamma, gain, read,
    seed, as before the extreme share existed."""
    extreme = cfg.extreme_low_light_prob > 0 and rng.random() < cfg.extreme_low_light_prob
    scale = _log_u(rng, cfg.extreme_scale) if extreme else _u(rng, cfg.low_light_scale)
    gamma = _u(rng, (1.0, 1.3))
    if extreme:
        gain, read = _sig4(scale * _log_u(rng, cfg.extreme_gain)), _sig4(scale * _log_u(rng, cfg.extreme_read))
    else:
        gain, read = _u(rng, (0.001, 0.01), 5), _u(rng, (0.001, 0.006), 5)
    op = {"op": "low_light", "scale": scale, "gamma": gamma, "gain": gain, "read": read, "corr": 0.6,
          "seed": _seed(rng)}  # fmt: skip
    return op, extreme


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))


def _blur_op(r: ChainRound, rng: np.random.Generator) -> dict:
    w = np.asarray(r.blur_kind_weights, dtype=np.float64)
    kind = ["gaussian_blur", "motion_blur", "defocus_blur"][int(rng.choice(3, p=w / w.sum()))]
    if kind == "gaussian_blur":
        return {"op": kind, "sigma": _u(rng, r.gaussian_sigma)}
    if kind == "motion_blur":
        return {"op": kind, "length": _u(rng, r.motion_length), "angle": _u(rng, (0.0, 180.0))}
    return {"op": kind, "radius": _u(rng, r.defocus_radius)}


def _noise_op(r: ChainRound, rng: np.random.Generator) -> dict:
    u = rng.random()
    if u < r.poisson_prob:
        return {"op": "shot_noise", "photons": _u(rng, r.poisson_photons), "seed": _seed(rng)}
    if u < r.poisson_prob + r.sensor_prob:
        return {
            "op": "sensor_noise",
            "gain": _u(rng, (0.001, 0.015), 5),
            "read": _u(rng, (0.001, 0.01), 5),
            "corr": 0.6,
            "seed": _seed(rng),
        }
    return {
        "op": "gaussian_noise",
        "sigma": _u(rng, r.gaussian_sigma_noise, 5),
        "seed": _seed(rng),
        "gray": bool(rng.random() < r.gray_noise_prob),
    }


def _compression_op(r: ChainRound, rng: np.random.Generator) -> dict:
    kind = "webp" if rng.random() < r.webp_prob else "jpeg"
    return {"op": kind, "quality": int(round(rng.uniform(*r.quality)))}


def sample_chain(shape: tuple, rng: np.random.Generator, config: ChainConfig | None = None) -> list[dict]:
    """Draw the list of ops for an image of `shape` (H, W, ...)."""
    cfg = config or ChainConfig()
    h0, w0 = shape[:2]
    h, w = h0, w0
    ops: list[dict] = []
    extreme = False  # an extreme night stage was drawn: no further noise or compression stages
    rounds = [cfg.first] + ([cfg.second] if rng.random() < cfg.second_prob else [])
    for i, r in enumerate(rounds):
        stages = ["blur", "resize", "noise", "compression"]
        if rng.random() < cfg.shuffle_prob:
            stages = [stages[j] for j in rng.permutation(len(stages))]
        if i == 0 and rng.random() < cfg.low_light_prob:
            stages.insert(stages.index("noise"), "low_light")
        for stage in stages:
            if stage == "blur" and rng.random() < r.blur_prob:
                ops.append(_blur_op(r, rng))
            elif stage == "resize" and rng.random() < r.resize_prob:
                s = float(rng.uniform(*r.resize_scale))
                nh = max(2, round(np.clip(h * s, h0 * cfg.min_scale, h0 * 1.5)))
                nw = max(2, round(np.clip(w * s, w0 * cfg.min_scale, w0 * 1.5)))
                if (nh, nw) != (h, w):
                    mode = str(rng.choice(list(INTERPOLATIONS)))
                    ops.append({"op": "resize", "width": nw, "height": nh, "interpolation": mode})
                    h, w = nh, nw
            elif stage == "noise" and not extreme and rng.random() < r.noise_prob:
                ops.append(_noise_op(r, rng))
            elif stage == "compression" and not extreme and rng.random() < r.compression_prob:
                ops.append(_compression_op(r, rng))
            elif stage == "low_light":
                op, extreme = _low_light_op(cfg, rng)
                ops.append(op)
    if (h, w) != (h0, w0):
        mode = str(rng.choice(list(INTERPOLATIONS)))
        ops.append({"op": "resize", "width": w0, "height": h0, "interpolation": mode})
    return ops


def sample_camera_chain(shape: tuple, rng: np.random.Generator) -> list[dict]:
    """A realistic camera-pipeline sequence for the benchmark's mixed splits, in the order the effects happen:
    camera shake during exposure, a dim scene and the sensor noise it brings (or sensor noise alone), a
    small/far sensor (downscale), and the codec; then back to the input size."""
    h0, w0 = shape[:2]
    ops: list[dict] = []
    if rng.random() < 0.5:
        ops.append({"op": "motion_blur", "length": _u(rng, (3.0, 15.0)), "angle": _u(rng, (0.0, 180.0))})
    if rng.random() < 0.6:
        ops.append({"op": "low_light", "scale": _u(rng, (0.05, 0.5)), "gamma": _u(rng, (1.0, 1.3)),
                    "gain": _u(rng, (0.002, 0.012), 5), "read": _u(rng, (0.001, 0.008), 5), "corr": 0.6,
                    "seed": _seed(rng)})  # fmt: skip
    elif rng.random() < 0.6:
        ops.append({"op": "sensor_noise", "gain": _u(rng, (0.001, 0.015), 5), "read": _u(rng, (0.001, 0.01), 5),
                    "corr": 0.6, "seed": _seed(rng)})  # fmt: skip
    resized = rng.random() < 0.6
    if resized:
        f = float(rng.uniform(0.3, 0.8))
        ops.append({"op": "resize", "width": max(2, round(w0 * f)), "height": max(2, round(h0 * f)),
                    "interpolation": "area"})  # fmt: skip
    if rng.random() < 0.9:
        ops.append({"op": "jpeg", "quality": int(round(rng.uniform(20, 80)))})
    if resized:
        ops.append({"op": "resize", "width": w0, "height": h0, "interpolation": "bicubic"})
    return ops


def _resize(img: np.ndarray, width: int, height: int, interpolation: str) -> np.ndarray:
    flag = INTERPOLATIONS[interpolation]
    if flag == cv2.INTER_AREA and (width > img.shape[1] or height > img.shape[0]):
        flag = cv2.INTER_LINEAR  # area is meant for shrinking
    return cv2.resize(img, (width, height), interpolation=flag)


OPS = {
    "gaussian_blur": apply_gaussian_blur,
    "motion_blur": apply_motion_blur,
    "defocus_blur": apply_defocus_blur,
    "resize": _resize,
    "gaussian_noise": apply_gaussian_noise,
    "shot_noise": apply_shot_noise,
    "sensor_noise": apply_sensor_noise,
    "low_light": apply_low_light,
    "jpeg": apply_jpeg,
    "webp": apply_webp,
}


def replay_chain(img: np.ndarray, ops: list[dict]) -> np.ndarray:
    """Apply recorded ops in order (deterministic)."""
    check_image(img)
    for op in ops:
        params = {k: v for k, v in op.items() if k != "op"}
        img = OPS[op["op"]](img, **params)
    return img


def random_chain_with_params(img: np.ndarray, seed: int, config: ChainConfig | None = None) -> tuple[np.ndarray, list]:
    """Degrade with a freshly drawn chain; return the image and the ops that made it."""
    check_image(img)
    ops = sample_chain(img.shape, np.random.default_rng(seed), config)
    return replay_chain(img, ops), ops


def random_chain(img: np.ndarray, seed: int, config: ChainConfig | None = None) -> np.ndarray:
    """Degrade with a random high-order chain; same image and seed give identical bytes."""
    return random_chain_with_params(img, seed, config)[0]
