"""The table of degradation types and the seeded entry points.

Each type is a pair of plain functions: `params(severity, rng) -> dict` draws everything random (direction,
noise sub-seed, airlight...) and `apply(img, **params)` is deterministic. Recording the parameters therefore
records the image: a benchmark manifest can be replayed byte for byte.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import blur, compression, corruptions, light, noise, resolution, weather

SEVERITIES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class DegradationSpec:
    """One degradation type: its family, its severity table (the main parameter at severities 1..5)."""

    name: str
    family: str
    severity_table: tuple
    params: Callable[[int, np.random.Generator], dict]
    apply: Callable[..., np.ndarray]
    doc: str

    def __call__(self, img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
        """Degrade `img` (RGB uint8 HxWx3) at `severity` (1..5) with randomness from `rng`."""
        check_image(img)
        check_severity(severity)
        return self.apply(img, **self.params(severity, rng))


def _spec(name: str, family: str, module, table: tuple, doc: str) -> DegradationSpec:
    return DegradationSpec(
        name, family, tuple(table), getattr(module, f"{name}_params"), getattr(module, f"apply_{name}"), doc
    )


DEGRADATIONS: dict[str, DegradationSpec] = {
    s.name: s
    for s in [
        _spec("gaussian_blur", "blur", blur, blur.GAUSSIAN_BLUR_SIGMA, "Gaussian blur, sigma px"),
        _spec("motion_blur", "blur", blur, blur.MOTION_BLUR_LENGTH, "camera shake, line length px, random direction"),
        _spec("defocus_blur", "blur", blur, blur.DEFOCUS_BLUR_RADIUS, "out of focus, disk radius px"),
        _spec("gaussian_noise", "noise", noise, noise.GAUSSIAN_NOISE_SIGMA, "additive Gaussian noise, std"),
        _spec("shot_noise", "noise", noise, noise.SHOT_NOISE_PHOTONS, "Poisson noise, photons at full white"),
        _spec("impulse_noise", "noise", noise, noise.IMPULSE_NOISE_AMOUNT, "salt and pepper, fraction of values"),
        _spec("sensor_noise", "noise", noise, noise.SENSOR_NOISE, "linear-light read+shot noise, (gain, read, corr)"),
        _spec("low_light", "light", light, light.LOW_LIGHT, "night capture, (exposure, gamma, gain, read)"),
        _spec("overexposure", "light", light, light.OVEREXPOSURE_GAIN, "exposure gain with clipping"),
        _spec("low_contrast", "light", light, light.LOW_CONTRAST_FACTOR, "remaining contrast"),
        _spec("jpeg", "compression", compression, compression.JPEG_QUALITY, "JPEG quality"),
        _spec("webp", "compression", compression, compression.WEBP_QUALITY, "WebP quality"),
        _spec("downscale", "resolution", resolution, resolution.DOWNSCALE_FACTOR, "area down, bicubic up, factor"),
        _spec("pixelate", "resolution", resolution, resolution.PIXELATE_FACTOR, "area down, nearest up, factor"),
        _spec("fog", "weather", weather, weather.FOG_TRANSMISSION, "haze with airlight, mean transmission"),
        _spec("rain", "weather", weather, weather.RAIN, "rain streaks, (density, length, opacity, veil)"),
    ]
}

FAMILIES: dict[str, list[str]] = {}
for _spec_ in DEGRADATIONS.values():
    FAMILIES.setdefault(_spec_.family, []).append(_spec_.name)

# imagecorruptions' types (COCO-C's code), optional: asked for by name (ic_snow, ...), never part of the defaults
# (make-bench's types, the training mix), and needing `pip install --no-deps imagecorruptions==1.1.2`
IMAGECORRUPTIONS: dict[str, DegradationSpec] = {
    s.name: s
    for s in [
        DegradationSpec(f"{corruptions.IC_PREFIX}{name}", f"ic {category}", SEVERITIES, corruptions.ic_params,
                        corruptions.ic_apply(name), f"imagecorruptions' {name} (COCO-C), its own severity scale")
        for name, category in corruptions.IC_CATEGORIES.items()
    ]
}  # fmt: skip


def check_image(img: np.ndarray) -> None:
    """Refuse anything but an RGB uint8 HxWx3 array, naming what was given."""
    if not isinstance(img, np.ndarray):
        raise TypeError(f"expected an RGB uint8 HxWx3 numpy array, got {type(img).__name__}")
    if img.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 HxWx3 image, got dtype {img.dtype} (convert to 8-bit first)")
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 HxWx3 image, got shape {img.shape} (convert to 3 channels first)")
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise ValueError(f"image is too small to degrade: shape {img.shape}")


def check_severity(severity: int) -> None:
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity not in SEVERITIES:
        raise ValueError(f"severity must be an integer 1..5, got {severity!r}")


def get_spec(name: str) -> DegradationSpec:
    """The spec for `name`, or an error that suggests the closest known names."""
    spec = DEGRADATIONS.get(name) or IMAGECORRUPTIONS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, [*DEGRADATIONS, *IMAGECORRUPTIONS], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(DEGRADATIONS)}, ic_*"
        raise ValueError(f"unknown degradation type {name!r}{hint}")
    return spec


def image_seed(global_seed: int, image_id: int | str, name: str, severity: int | str) -> int:
    """Per-image seed from (global seed, image id, type, severity): stable across runs, processes and machines
    (sha256, not Python's salted hash), so any single image of a benchmark can be rebuilt on its own."""
    key = f"lqpose|{int(global_seed)}|{image_id}|{name}|{severity}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") & (2**63 - 1)


def degrade_with_params(img: np.ndarray, name: str, severity: int, seed: int) -> tuple[np.ndarray, dict]:
    """Degrade and return the image plus every parameter drawn (JSON-able; replay with `spec.apply`)."""
    spec = get_spec(name)
    check_image(img)
    check_severity(severity)
    params = spec.params(int(severity), np.random.default_rng(seed))
    return spec.apply(img, **params), params


def degrade(img: np.ndarray, name: str, severity: int, seed: int) -> np.ndarray:
    """Degrade an RGB uint8 image with type `name` at `severity` 1..5; same inputs and seed give identical
    bytes. The output has the input's shape and dtype and content does not move."""
    return degrade_with_params(img, name, severity, seed)[0]
