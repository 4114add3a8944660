"""Batched torch path of the degradations that pay off on a GPU during training (blur, noise, light,
downscale). Same kernels and severity tables as the numpy path, so both agree statistically (tested);
randomness comes from a torch.Generator, so the streams differ from numpy's by design.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from . import blur, light, noise, resolution
from .kernels import disk_kernel, gaussian_kernel_1d, motion_kernel
from .registry import check_severity, get_spec


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055).clamp_min(0) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.clamp_min(1e-12) ** (1 / 2.4) - 0.055)


def _depthwise(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Convolve each image of x (B,C,H,W) with its own 2-D kernel (B,k,k), reflect-101 borders."""
    b, c, h, w = x.shape
    k = kernels.shape[-1]
    pad = k // 2
    xp = F.pad(x.reshape(1, b * c, h, w), (pad, pad, pad, pad), mode="reflect")
    weight = kernels.to(x).repeat_interleave(c, dim=0).unsqueeze(1)  # (B*C,1,k,k)
    return F.conv2d(xp, weight, groups=b * c).reshape(b, c, h, w)


def _separable(x: torch.Tensor, k1d: np.ndarray) -> torch.Tensor:
    b, c, h, w = x.shape
    k = torch.from_numpy(k1d).to(x)
    pad = k.numel() // 2
    y = x.reshape(b * c, 1, h, w)
    y = F.conv2d(F.pad(y, (pad, pad, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    y = F.conv2d(F.pad(y, (0, 0, pad, pad), mode="reflect"), k.view(1, 1, -1, 1))
    return y.reshape(b, c, h, w)


def _stack_kernels(kernels: list[np.ndarray]) -> torch.Tensor:
    size = max(k.shape[0] for k in kernels)
    out = np.zeros((len(kernels), size, size), np.float32)
    for i, k in enumerate(kernels):
        o = (size - k.shape[0]) // 2
        out[i, o : o + k.shape[0], o : o + k.shape[1]] = k
    return torch.from_numpy(out)


def _sensor(lin: torch.Tensor, gain: float, read: float, corr: float, g: torch.Generator) -> torch.Tensor:
    b, _, h, w = lin.shape
    shared = torch.randn((b, 1, h, w), generator=g, device=lin.device, dtype=lin.dtype)
    own = torch.randn(lin.shape, generator=g, device=lin.device, dtype=lin.dtype)
    z = own * math.sqrt(1.0 - corr) + shared * math.sqrt(corr)
    return lin + torch.sqrt(lin.clamp_min(0) * gain + read * read) * z


def _apply(x: torch.Tensor, name: str, severity: int, g: torch.Generator) -> torch.Tensor:
    """x: float (B,3,H,W) in [0,1] -> degraded float, unclipped."""
    i = severity - 1
    b, _, h, w = x.shape
    if name == "gaussian_blur":
        return _separable(x, gaussian_kernel_1d(blur.GAUSSIAN_BLUR_SIGMA[i]))
    if name == "motion_blur":
        angles = torch.rand(b, generator=g, device=x.device).mul(180.0).tolist()
        return _depthwise(x, _stack_kernels([motion_kernel(blur.MOTION_BLUR_LENGTH[i], a) for a in angles]))
    if name == "defocus_blur":
        return _depthwise(x, torch.from_numpy(disk_kernel(blur.DEFOCUS_BLUR_RADIUS[i]))[None].expand(b, -1, -1))
    if name == "gaussian_noise":
        return x + torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype) * noise.GAUSSIAN_NOISE_SIGMA[i]
    if name == "shot_noise":
        photons = noise.SHOT_NOISE_PHOTONS[i]
        return torch.poisson(x * photons, generator=g) / photons
    if name == "impulse_noise":
        amount = noise.IMPULSE_NOISE_AMOUNT[i]
        u = torch.rand(x.shape, generator=g, device=x.device)
        return torch.where(u < amount / 2, 0.0, torch.where(u < amount, 1.0, x))
    if name == "sensor_noise":
        gain, read, corr = noise.SENSOR_NOISE[i]
        return linear_to_srgb(_sensor(srgb_to_linear(x), gain, read, corr, g))
    if name == "low_light":
        scale, gamma, gain, read = light.LOW_LIGHT[i]
        return linear_to_srgb(_sensor(srgb_to_linear(x) ** gamma * scale, gain, read, 0.6, g))
    if name == "overexposure":
        return linear_to_srgb(srgb_to_linear(x) * light.OVEREXPOSURE_GAIN[i])
    if name == "low_contrast":
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) * light.LOW_CONTRAST_FACTOR[i] + mean
    if name == "downscale":
        f = resolution.DOWNSCALE_FACTOR[i]
        size = (max(1, round(h * f)), max(1, round(w * f)))
        if h % size[0] == 0 and w % size[1] == 0:  # integer ratio: box filter, exactly OpenCV's INTER_AREA
            small = F.interpolate(x, size=size, mode="area")
        else:  # torch's "area" is not a weighted area filter at fractional ratios; antialiased bicubic is closer
            small = F.interpolate(x, size=size, mode="bicubic", antialias=True, align_corners=False)
        return F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False)
    raise ValueError(f"degradation {name!r} has no batched torch path; use lqpose.degrade.degrade per image")


def degrade_batch(
    images: torch.Tensor, name: str, severity: int, seed: int | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Degrade a batch (B,3,H,W) of RGB images on their device (CPU or CUDA).

    uint8 input gives uint8 output (rounded like the numpy path); float input must be in [0, 1] and gives
    float output clipped to [0, 1]. Pass `seed` or a `generator` on the images' device for repeatable noise.
    """
    get_spec(name)
    check_severity(severity)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected a (B,3,H,W) RGB batch, got shape {tuple(images.shape)}")
    if generator is None:
        generator = torch.Generator(device=images.device)
        generator.manual_seed(int(seed) if seed is not None else int(torch.seed() % (2**63)))
    is_uint8 = images.dtype == torch.uint8
    x = images.float() / 255.0 if is_uint8 else images
    with torch.no_grad():
        y = _apply(x, name, int(severity), generator).clamp_(0.0, 1.0)
    if is_uint8:
        return (y * 255.0 + 0.5).floor_().clamp_(0, 255).to(torch.uint8)
    return y.to(images.dtype)
