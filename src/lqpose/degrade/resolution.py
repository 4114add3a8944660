"""Resolution family: far-away or cheap cameras. Both return the original size; OpenCV resizes with
half-pixel-centred sampling, so down-then-up keeps content where it was (keypoints stay valid)."""

from __future__ import annotations

import cv2
import numpy as np

DOWNSCALE_FACTOR = (0.7, 0.5, 0.35, 0.25, 0.17)
PIXELATE_FACTOR = (0.6, 0.42, 0.3, 0.2, 0.13)


def scaled_size(shape: tuple, factor: float) -> tuple[int, int]:
    """(width, height) of an image of `shape` scaled by `factor`, at least 1x1."""
    h, w = shape[:2]
    return max(1, round(w * factor)), max(1, round(h * factor))


def downscale_params(severity: int, rng: np.random.Generator) -> dict:
    return {"factor": DOWNSCALE_FACTOR[severity - 1]}


def apply_downscale(img: np.ndarray, factor: float) -> np.ndarray:
    h, w = img.shape[:2]
    small = cv2.resize(img, scaled_size(img.shape, factor), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def pixelate_params(severity: int, rng: np.random.Generator) -> dict:
    return {"factor": PIXELATE_FACTOR[severity - 1]}


def apply_pixelate(img: np.ndarray, factor: float) -> np.ndarray:
    h, w = img.shape[:2]
    small = cv2.resize(img, scaled_size(img.shape, factor), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
