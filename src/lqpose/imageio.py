"""Reading and writing images and JSON safely.

Input policy (documented in docs/degradations.md): 8-bit images only. Grayscale is converted to RGB by
replicating the channel; an alpha channel is dropped; 16-bit and float images are refused, because their
tone curve (linear? log?) is unknown and a silent rescale would fake the degradation statistics.
EXIF orientation: datasets, degradation and evaluation keep the stored pixel grid, because annotations refer to it
(COCO's were drawn on it); inference reads a photo the way a viewer shows it (`upright=True`), because a phone's
portrait shot is stored on its side with an orientation tag, and its people would be seen lying down.
"""

from __future__ import annotations

import io
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


EXIF_ORIENTATION_TAG = 0x0112


def exif_orientation(image: str | Path | bytes | np.ndarray) -> int:
    """The EXIF orientation (1-8; 1 = as stored) of an image file or its encoded bytes, 1 when it has none or it
    cannot be read. Pillow reads the tag from the header alone (JPEG, WebP, TIFF); OpenCV returns no tag. A PNG's
    eXIf chunk counts where it comes before the pixel data, as writers put it: Pillow looks for one after them by
    decoding the whole image (7 ms for a 768x576 frame here, twice per image in `lqpose infer` on a folder)."""
    from PIL import Image

    source = image if isinstance(image, (str, Path)) else io.BytesIO(bytes(image))
    try:
        with Image.open(source) as im:
            if im.format == "PNG" and "exif" not in im.info:
                return 1
            value = im.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block, or a format Pillow does not know, means no orientation
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """The stored image as a viewer shows it under EXIF `orientation` (TIFF/EXIF 2.3 tag 274: 2 mirrored, 3 turned
    180 degrees, 4 flipped, 5 transposed, 6 turned 90 degrees clockwise to display, 7 transversed, 8 turned 90
    degrees counter-clockwise)."""
    if orientation == 2:
        img = img[:, ::-1]
    elif orientation == 3:
        img = img[::-1, ::-1]
    elif orientation == 4:
        img = img[::-1]
    elif orientation == 5:
        img = img.swapaxes(0, 1)
    elif orientation == 6:
        img = img.swapaxes(0, 1)[:, ::-1]
    elif orientation == 7:
        img = img.swapaxes(0, 1)[::-1, ::-1]
    elif orientation == 8:
        img = img.swapaxes(0, 1)[::-1]
    return np.ascontiguousarray(img)


def image_files(source: Path) -> list[Path]:
    """The image files of a folder, in name order, or the file itself."""
    if not source.is_dir():
        return [source]
    return sorted(p for p in source.iterdir() if p.is_file() and is_image_path(p))


def read_rgb(path: str | Path, upright: bool = False) -> np.ndarray:
    """Read an image file as RGB uint8 HxWx3, or raise with one line naming the file and the problem. `upright`:
    apply the file's EXIF orientation, as photo viewers do (inference); otherwise the stored pixel grid, which
    annotations refer to (training, evaluation, the benchmark)."""
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
    rgb = _as_rgb(img, path)
    return apply_orientation(rgb, exif_orientation(data)) if upright else rgb


def _as_rgb(img: np.ndarray, path: Path) -> np.ndarray:
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
    files: list[Path], skipped: dict[str, str], desc: str, progress: bool = True, upright: bool = False
) -> Iterator[tuple[int, Path, np.ndarray]]:
    """Yield (index, path, RGB image) for every readable file, with a progress bar. A lone unreadable file
    raises its one-line error; in a set of files it is logged, recorded in `skipped` (name -> reason) and
    passed over. `upright`: as read_rgb."""
    for i, path in enumerate(tqdm(files, desc=desc, unit="img", disable=not progress or len(files) == 1)):
        try:
            img = read_rgb(path, upright)
        except (OSError, ValueError) as e:
            if len(files) == 1:
                raise
            log.warning("skipped %s", e)
            skipped[path.name] = str(e)
            continue
        yield i, path, img
