"""Photometric degradations that turn well-quality images into realistic low-quality ones.

Knows nothing of pose: every function maps an RGB uint8 HxWx3 image to one of the same shape and dtype and
never moves content, so keypoint annotations stay valid. See docs/degradations.md.
"""

from .chain import (
    ChainConfig,
    ChainRound,
    random_chain,
    random_chain_with_params,
    replay_chain,
    sample_camera_chain,
    sample_chain,
)
from .registry import (
    DEGRADATIONS,
    FAMILIES,
    IMAGECORRUPTIONS,
    SEVERITIES,
    DegradationSpec,
    check_image,
    check_severity,
    degrade,
    degrade_with_params,
    get_spec,
    image_seed,
)

# Names with a batched torch implementation (see lqpose.degrade.batch.degrade_batch; imported lazily so
# that the numpy path never pays torch's import time).
BATCHED = (
    "gaussian_blur",
    "motion_blur",
    "defocus_blur",
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "sensor_noise",
    "low_light",
    "overexposure",
    "low_contrast",
    "downscale",
)


def degrade_batch(*args, **kwargs):
    """Batched torch path; see lqpose.degrade.batch.degrade_batch."""
    from .batch import degrade_batch as _degrade_batch

    return _degrade_batch(*args, **kwargs)


__all__ = [
    "BATCHED",
    "ChainConfig",
    "ChainRound",
    "DEGRADATIONS",
    "DegradationSpec",
    "FAMILIES",
    "IMAGECORRUPTIONS",
    "SEVERITIES",
    "check_image",
    "check_severity",
    "degrade",
    "degrade_batch",
    "degrade_with_params",
    "get_spec",
    "image_seed",
    "random_chain",
    "random_chain_with_params",
    "replay_chain",
    "sample_camera_chain",
    "sample_chain",
]
