"""Reading and writing images and JSON safely.

Input policy (documented in docs/degradations.md): 8-bit images only. Grayscale is converted to RGB by
replicating the channel; an alpha channel is dropped; 16-bit and float images are refused, because their
tone curve (linear? log?) is unknown and a silent rescale would fake the degradation statistics.
EXIF orientation is ignored on purpose: annotations refer to the stored pixel grid.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from .files import atomic_write_bytes

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_rgb(path: str | Path) -> np.ndarray:
    """Read an image file as RGB uint8 HxWx3, or raise with one line naming the file and the problem."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, expected an image file")
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION) if data.size else None
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    if img.dtype != np.uint8:
        raise ValueError(f"{path}: {img.dtype} image; lqpose takes 8-bit images only (convert it to 8-bit sRGB first)")
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[..., 0], cv2.COLOR_GRAY2RGB)
    if channels == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if channels == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    raise ValueError(f"{path}: image with {channels} channels is not supported")


def encode_image(rgb: np.ndarray, ext: str) -> bytes:
    """Encode RGB uint8 to the format of `ext` (PNG lossless; JPEG at quality 95)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ValueError(f"OpenCV cannot encode images as {ext}")
    return buf.tobytes()


def write_image(path: str | Path, rgb: np.ndarray) -> None:
    """Atomically write an RGB uint8 image; the format follows the file extension."""
    path = Path(path)
    atomic_write_bytes(path, encode_image(rgb, path.suffix))


def read_images(
    files: list[Path], skipped: dict[str, str], desc: str, progress: bool = True
) -> Iterator[tuple[int, Path, np.ndarray]]:
    """Yield (index, path, RGB image) for every readable file, with a progress bar. A lone unreadable file
    raises its one-line error; in a set of files it is logged, recorded in `skipped` (name -> reason) and
    passed over."""
    for i, path in enumerate(tqdm(files, desc=desc, unit="img", disable=not progress or len(files) == 1)):
        try:
            img = read_rgb(path)
        except (OSError, ValueError) as e:
            if len(files) == 1:
                raise
            log.warning("skipped %s", e)
            skipped[path.name] = str(e)
            continue
        yield i, path, img
