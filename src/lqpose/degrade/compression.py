"""Compression family: the block and ringing artefacts of lossy codecs, encoded and decoded in memory."""

from __future__ import annotations

import cv2
import numpy as np

JPEG_QUALITY = (50, 30, 18, 10, 5)
WEBP_QUALITY = (40, 20, 10, 4, 1)


def _roundtrip(img: np.ndarray, ext: str, flag: int, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(ext, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [flag, int(quality)])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode {ext} at quality {quality}")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def jpeg_params(severity: int, rng: np.random.Generator) -> dict:
    return {"quality": JPEG_QUALITY[severity - 1]}


def apply_jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    return _roundtrip(img, ".jpg", cv2.IMWRITE_JPEG_QUALITY, quality)


def webp_params(severity: int, rng: np.random.Generator) -> dict:
    return {"quality": WEBP_QUALITY[severity - 1]}


def apply_webp(img: np.ndarray, quality: int) -> np.ndarray:
    return _roundtrip(img, ".webp", cv2.IMWRITE_WEBP_QUALITY, max(1, quality))
