"""imagecorruptions' corruptions as lqpose degradation types `ic_<name>`, seeded and replayable like lqpose's own.

imagecorruptions (Michaelis et al. 2019) is the code behind COCO-C and the other -C benchmarks, written after
Hendrycks & Dietterich's ImageNet-C. With these types `lqpose make-bench`, `bench` and `degrade` give COCO-C-style
splits of any pose set, scored with the same mPC and rPC, beside lqpose's own 16 types. It is optional:
    pip install --no-deps imagecorruptions==1.1.2
(--no-deps: it asks for the GUI opencv-python, which would shadow opencv-python-headless; its other needs, numpy,
scipy, scikit-image and Pillow, come with lqpose).

imagecorruptions draws from numpy's global generator, and its impulse_noise from scikit-image's own: both are
seeded from the type's recorded `seed` for one call and numpy's global state is put back afterwards, so a
manifest replays byte for byte (with the same imagecorruptions, numpy and scikit-image). Left out: elastic_transform
moves image content, so the annotated joints would no longer lie on the joints; glass_blur, gaussian_blur and fog
do not run with today's scikit-image and numpy.
"""

from __future__ import annotations

import contextlib
import warnings

import cv2
import numpy as np

IC_PREFIX = "ic_"
# imagecorruptions' types that run and keep content in place, with ImageNet-C's category (its four, and where its
# extra types go: speckle noise with the noise, spatter with the weather, saturate with the digital)
IC_CATEGORIES = {
    "gaussian_noise": "noise",
    "shot_noise": "noise",
    "impulse_noise": "noise",
    "speckle_noise": "noise",
    "defocus_blur": "blur",
    "motion_blur": "blur",
    "zoom_blur": "blur",
    "snow": "weather",
    "frost": "weather",
    "spatter": "weather",
    "brightness": "weather",
    "contrast": "digital",
    "pixelate": "digital",
    "jpeg_compression": "digital",
    "saturate": "digital",
}
INSTALL = "pip install --no-deps imagecorruptions==1.1.2"


def require_imagecorruptions():
    """imagecorruptions' `corrupt`, or a one-line error saying how to install it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from imagecorruptions import corrupt
    except ImportError as e:  # a ModuleNotFoundError of our own wording: the CLI prints it as one line
        raise ModuleNotFoundError(f"the ic_* degradation types need imagecorruptions ({e}): {INSTALL}",
                                  name="imagecorruptions") from None  # fmt: skip
    return corrupt


@contextlib.contextmanager
def skimage_noise_seeded(seed: int):
    """skimage.util.random_noise (imagecorruptions' impulse_noise) draws from a fresh generator of its own unless
    given `rng`, so numpy's global seed leaves it unseeded and every run different: hand it `seed` while this lasts.
    It swaps the module's function for the call, as numpy's global seed is process-wide anyway: one call at a time
    per process (make-bench's workers are processes)."""
    import skimage.util

    original = skimage.util.random_noise

    def random_noise(image, **kwargs):
        kwargs.setdefault("rng", seed)
        return original(image, **kwargs)

    skimage.util.random_noise = random_noise
    try:
        yield
    finally:
        skimage.util.random_noise = original


def corrupt_seeded(img: np.ndarray, corruption: str, severity: int, seed: int) -> np.ndarray:
    """imagecorruptions' `corruption` at `severity` with every random draw from `seed` (32-bit, as numpy's global
    generator takes); RGB uint8 in, RGB uint8 of the same size out (truncated to uint8 as imagecorruptions' own
    scripts do; a type that returns another size is resized back)."""
    corrupt = require_imagecorruptions()
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        with warnings.catch_warnings(), skimage_noise_seeded(seed):
            warnings.simplefilter("ignore")
            out = np.asarray(corrupt(img, corruption_name=corruption, severity=int(severity)), np.uint8)
    finally:
        np.random.set_state(state)  # a caller's own use of numpy's global generator is left as it was
    if out.shape != img.shape:
        out = cv2.resize(out, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_AREA)
    return out


def ic_params(severity: int, rng: np.random.Generator) -> dict:
    """The one random draw: the seed of imagecorruptions' own draws."""
    return {"severity": int(severity), "seed": int(rng.integers(2**32))}


def ic_apply(corruption: str):
    """apply(img, severity, seed) for one imagecorruptions type."""

    def apply(img: np.ndarray, severity: int, seed: int) -> np.ndarray:
        return corrupt_seeded(img, corruption, severity, seed)

    apply.__name__ = f"apply_{IC_PREFIX}{corruption}"
    return apply
