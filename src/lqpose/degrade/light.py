"""Light family: night captures, blown highlights and flat, hazy contrast."""

from __future__ import annotations

import cv2
import numpy as np

from .color import SRGB_TO_LINEAR_LUT, linear_to_uint8, to_float, to_linear, to_uint8
from .noise import _sub_seed, add_sensor_noise_linear

# (exposure scale, gamma, shot gain, read-noise std) in linear light: fewer photons, crushed shadows and the
# sensor noise that comes with them.
LOW_LIGHT = (
    (0.7, 1.03, 0.001, 0.001),
    (0.38, 1.1, 0.003, 0.0025),
    (0.18, 1.2, 0.005, 0.004),
    (0.09, 1.3, 0.008, 0.006),
    (0.04, 1.4, 0.012, 0.008),
)
OVEREXPOSURE_GAIN = (1.2, 1.6, 2.3, 3.4, 5.2)  # linear-light exposure multiplier, then sensor clipping
LOW_CONTRAST_FACTOR = (0.86, 0.68, 0.5, 0.35, 0.23)  # remaining contrast around the mean


def low_light_params(severity: int, rng: np.random.Generator) -> dict:
    scale, gamma, gain, read = LOW_LIGHT[severity - 1]
    return {"scale": scale, "gamma": gamma, "gain": gain, "read": read, "corr": 0.6, "seed": _sub_seed(rng)}


def apply_low_light(
    img: np.ndarray, scale: float, gamma: float, gain: float, read: float, corr: float, seed: int
) -> np.ndarray:
    lin = np.power(to_linear(img), np.float32(gamma)) * np.float32(scale)
    return linear_to_uint8(add_sensor_noise_linear(lin, gain, read, corr, seed))


def overexposure_params(severity: int, rng: np.random.Generator) -> dict:
    return {"gain": OVEREXPOSURE_GAIN[severity - 1]}


def apply_overexposure(img: np.ndarray, gain: float) -> np.ndarray:
    # a per-value mapping: compute it for the 256 codes and look it up
    return cv2.LUT(img, linear_to_uint8(SRGB_TO_LINEAR_LUT * np.float32(gain)))


def low_contrast_params(severity: int, rng: np.random.Generator) -> dict:
    return {"factor": LOW_CONTRAST_FACTOR[severity - 1]}


def apply_low_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    mean = np.float32(img.mean(dtype=np.float64) / 255.0)
    levels = to_float(np.arange(256, dtype=np.uint8))
    return cv2.LUT(img, to_uint8((levels - mean) * np.float32(factor) + mean))
