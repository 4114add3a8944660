"""Conversions between uint8 sRGB images, float images and linear light.

Sensor-like degradations (shot/read noise, darkening, over-exposure) act on photon counts, i.e. in linear
light; everything else works on display values. Lookup tables keep the conversions fast and exact-repeatable.
"""

from __future__ import annotations

import numpy as np

_LINEAR_LEVELS = 16384


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)


# uint8 sRGB code -> linear light in [0, 1]
SRGB_TO_LINEAR_LUT = _srgb_to_linear(np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)
# quantised linear light -> sRGB in [0, 1] (fine enough that the 8-bit result is exact to <1 code)
LINEAR_TO_SRGB_LUT = _linear_to_srgb(np.linspace(0.0, 1.0, _LINEAR_LEVELS)).astype(np.float32)


def to_float(img: np.ndarray) -> np.ndarray:
    """uint8 image -> float32 in [0, 1]."""
    return img.astype(np.float32) * np.float32(1.0 / 255.0)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """float image in [0, 1] -> uint8, rounding half up and saturating."""
    y = x * np.float32(255.0)
    y += np.float32(0.5)
    np.clip(y, 0.0, 255.0, out=y)
    return y.astype(np.uint8)


def to_linear(img: np.ndarray) -> np.ndarray:
    """uint8 sRGB image -> float32 linear light in [0, 1]."""
    return SRGB_TO_LINEAR_LUT[img]


def linear_to_uint8(lin: np.ndarray) -> np.ndarray:
    """float linear light (any range; clipped to [0, 1]) -> uint8 sRGB."""
    idx = lin * np.float32(_LINEAR_LEVELS - 1)
    idx += np.float32(0.5)
    np.clip(idx, 0, _LINEAR_LEVELS - 1, out=idx)
    return to_uint8(LINEAR_TO_SRGB_LUT[idx.astype(np.int32)])
