"""Blur kernels shared by the numpy path and the batched torch path, so both blur identically.

Every kernel is odd-sized and centred: convolving with it never moves image content, so keypoint
annotations stay valid.
"""

from __future__ import annotations

import math

import numpy as np


def gaussian_kernel_1d(sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian of radius ceil(3 sigma)."""
    radius = max(1, math.ceil(3.0 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """Anti-aliased straight-line kernel of the given length (px) and direction, centred on the origin.

    Points along the segment are splatted bilinearly, so the kernel's centre of mass is exactly the centre.
    """
    length = max(float(length), 1.0)
    radius = math.ceil(length / 2.0) + 1
    size = 2 * radius + 1
    theta = math.radians(angle_deg)
    t = np.linspace(-length / 2.0, length / 2.0, max(2, int(math.ceil(length * 4))))
    xs = radius + t * math.cos(theta)
    ys = radius - t * math.sin(theta)
    k = np.zeros((size, size), np.float64)
    x0 = np.floor(xs).astype(int)
    y0 = np.floor(ys).astype(int)
    fx = xs - x0
    fy = ys - y0
    for dy, dx, w in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(k, (y0 + dy, x0 + dx), w)
    return (k / k.sum()).astype(np.float32)


def disk_kernel(radius: float, supersample: int = 8) -> np.ndarray:
    """Anti-aliased disk (defocus point-spread function) of the given radius in px."""
    r = max(float(radius), 0.5)
    half = math.ceil(r)
    size = 2 * half + 1
    s = supersample
    grid = (np.arange(size * s, dtype=np.float64) + 0.5) / s - half - 0.5
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    inside = (xx**2 + yy**2 <= r * r).astype(np.float64)
    k = inside.reshape(size, s, size, s).mean(axis=(1, 3))
    return (k / k.sum()).astype(np.float32)
