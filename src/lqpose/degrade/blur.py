"""Blur family: out-of-focus, camera shake and generic optical softness.

Sizes are in pixels of the image as given: degrade full images at native resolution, before cropping people,
so kernels have realistic sizes relative to the scene.
"""

from __future__ import annotations

import cv2
import numpy as np

from .kernels import disk_kernel, gaussian_kernel_1d, motion_kernel

GAUSSIAN_BLUR_SIGMA = (0.8, 1.5, 2.5, 3.8, 5.5)
MOTION_BLUR_LENGTH = (5.0, 9.0, 15.0, 22.0, 31.0)
DEFOCUS_BLUR_RADIUS = (1.5, 2.5, 4.0, 6.0, 8.5)

BORDER = cv2.BORDER_REFLECT_101


def gaussian_blur_params(severity: int, rng: np.random.Generator) -> dict:
    return {"sigma": GAUSSIAN_BLUR_SIGMA[severity - 1]}


def apply_gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    k = gaussian_kernel_1d(sigma)
    return cv2.sepFilter2D(img, -1, k, k, borderType=BORDER)


def motion_blur_params(severity: int, rng: np.random.Generator) -> dict:
    return {"length": MOTION_BLUR_LENGTH[severity - 1], "angle": float(rng.uniform(0.0, 180.0))}


def apply_motion_blur(img: np.ndarray, length: float, angle: float) -> np.ndarray:
    return cv2.filter2D(img, -1, motion_kernel(length, angle), borderType=BORDER)


def defocus_blur_params(severity: int, rng: np.random.Generator) -> dict:
    return {"radius": DEFOCUS_BLUR_RADIUS[severity - 1]}


def apply_defocus_blur(img: np.ndarray, radius: float) -> np.ndarray:
    return cv2.filter2D(img, -1, disk_kernel(radius), borderType=BORDER)
