"""Weather family: haze/fog (atmospheric scattering model) and rain streaks."""

from __future__ import annotations

import cv2
import numpy as np

from .color import to_float, to_uint8
from .kernels import gaussian_kernel_1d, motion_kernel
from .noise import _sub_seed

FOG_TRANSMISSION = (0.88, 0.74, 0.6, 0.46, 0.33)  # mean fraction of scene light that reaches the camera
# (streak density per pixel, streak length px, streak opacity, overall veiling)
RAIN = (
    (0.0015, 12.0, 0.35, 0.02),
    (0.003, 16.0, 0.45, 0.04),
    (0.005, 21.0, 0.55, 0.06),
    (0.008, 27.0, 0.65, 0.09),
    (0.012, 34.0, 0.75, 0.12),
)


def smooth_field(shape: tuple, rng: np.random.Generator, cells: int = 4) -> np.ndarray:
    """Zero-mean, unit-ish, low-frequency random field of size HxW (bicubic-upsampled coarse noise)."""
    h, w = shape[:2]
    coarse = rng.standard_normal((cells + 1, cells + 1)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def fog_params(severity: int, rng: np.random.Generator) -> dict:
    return {
        "transmission": FOG_TRANSMISSION[severity - 1],
        "airlight": round(float(rng.uniform(0.78, 0.92)), 4),
        "variation": 0.06,
        "seed": _sub_seed(rng),
    }


def apply_fog(img: np.ndarray, transmission: float, airlight: float, variation: float, seed: int) -> np.ndarray:
    """Depth-free haze I = J t + A (1 - t), with a gently varying transmission t so fog is not a flat veil."""
    rng = np.random.default_rng(seed)
    t = np.float32(transmission) + np.float32(variation) * smooth_field(img.shape, rng)
    np.clip(t, 0.05, 1.0, out=t)
    t = t[..., None]
    return to_uint8(to_float(img) * t + np.float32(airlight) * (1.0 - t))


def rain_params(severity: int, rng: np.random.Generator) -> dict:
    density, length, opacity, veil = RAIN[severity - 1]
    return {
        "density": density,
        "length": length,
        "opacity": opacity,
        "veil": veil,
        "angle": round(float(90.0 + rng.uniform(-20.0, 20.0)), 3),
        "seed": _sub_seed(rng),
    }


def apply_rain(
    img: np.ndarray, density: float, length: float, opacity: float, veil: float, angle: float, seed: int
) -> np.ndarray:
    """Random drops smeared along one falling direction into bright, semi-transparent streaks."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    u = rng.random((h, w), dtype=np.float32)
    drops = np.where(u < density, 0.6 + 0.4 * u / np.float32(density), 0.0).astype(np.float32)
    streaks = cv2.filter2D(drops, -1, motion_kernel(length, angle), borderType=cv2.BORDER_REFLECT_101)
    k = gaussian_kernel_1d(0.6)
    streaks = cv2.sepFilter2D(streaks * np.float32(length * 0.7), -1, k, k)
    np.clip(streaks, 0.0, 1.0, out=streaks)
    a = (np.float32(opacity) * streaks)[..., None]
    x = to_float(img) * np.float32(1.0 - veil) + np.float32(veil * 0.75)
    return to_uint8(x * (1.0 - a) + np.float32(0.92) * a)
