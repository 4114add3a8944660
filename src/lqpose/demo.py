"""`lqpose demo`: the quick-start job on embedded real photos (scikit-image's astronaut).

Degrades the photo with every type at a few severities and saves one labelled grid PNG plus a JSON of every
parameter drawn, so a new user sees at once what each degradation does and how severity scales it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from . import __version__
from .degrade import DEGRADATIONS, degrade_with_params, image_seed
from .files import write_json
from .imageio import write_image

CELL = 224
LABEL_W = 190
HEADER_H = 34


def astronaut() -> np.ndarray:
    """scikit-image's astronaut photo (512x512 RGB, public domain, ships inside the wheel)."""
    from skimage.data import astronaut as _astronaut

    return np.ascontiguousarray(_astronaut())


def _text(canvas: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.55, bold: int = 1) -> None:
    cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), bold, cv2.LINE_AA)


def _cell(img: np.ndarray, crop: tuple[slice, slice]) -> np.ndarray:
    """A native-resolution crop (no resampling, so noise and blur show at their true scale)."""
    patch = img[crop]
    return cv2.resize(patch, (CELL, CELL), interpolation=cv2.INTER_AREA) if patch.shape[0] != CELL else patch


def degradation_grid(
    img: np.ndarray,
    severities: tuple[int, ...] = (1, 3, 5),
    seed: int = 0,
    image_id: str = "astronaut",
    crop: tuple[slice, slice] | None = None,
    blocks: int = 2,
) -> tuple[np.ndarray, dict]:
    """Labelled grid: one row per type (clean + each severity), split into `blocks` side-by-side columns."""
    h, w = img.shape[:2]
    crop = crop or (slice(0, min(h, CELL)), slice(max(0, w // 2 - CELL // 2), max(0, w // 2 - CELL // 2) + CELL))
    names = list(DEGRADATIONS)
    rows_per_block = -(-len(names) // blocks)
    block_w = LABEL_W + CELL * (1 + len(severities))
    canvas = np.full((HEADER_H + rows_per_block * CELL, blocks * block_w, 3), 255, np.uint8)
    clean = _cell(img, crop)
    record: dict = {
        "lqpose_version": __version__,
        "image": image_id,
        "seed": seed,
        "severities": list(severities),
        "crop_yx": [crop[0].start, crop[0].stop, crop[1].start, crop[1].stop],
        "types": {},
    }
    for b in range(blocks):
        x0 = b * block_w
        _text(canvas, "clean", (x0 + LABEL_W + 8, 24))
        for j, s in enumerate(severities):
            _text(canvas, f"severity {s}", (x0 + LABEL_W + CELL * (j + 1) + 8, 24))
    for i, name in enumerate(names):
        b, r = divmod(i, rows_per_block)
        x0, y0 = b * block_w, HEADER_H + r * CELL
        _text(canvas, name, (x0 + 8, y0 + CELL // 2), 0.6, 2)
        _text(canvas, f"({DEGRADATIONS[name].family})", (x0 + 8, y0 + CELL // 2 + 24))
        canvas[y0 : y0 + CELL, x0 + LABEL_W : x0 + LABEL_W + CELL] = clean
        record["types"][name] = {"family": DEGRADATIONS[name].family}
        for j, s in enumerate(severities):
            per_image = image_seed(seed, image_id, name, s)
            out, params = degrade_with_params(img, name, s, per_image)
            xs = x0 + LABEL_W + CELL * (j + 1)
            canvas[y0 : y0 + CELL, xs : xs + CELL] = _cell(out, crop)
            record["types"][name][str(s)] = {"seed": per_image, "params": params}
    return canvas, record


def run_demo(out_dir: str | Path, seed: int = 0) -> dict[str, Path]:
    """Write degradations.png and degradations.json into `out_dir`; return their paths."""
    out_dir = Path(out_dir)
    grid, record = degradation_grid(astronaut(), seed=seed)
    paths = {"grid": out_dir / "degradations.png", "params": out_dir / "degradations.json"}
    write_image(paths["grid"], grid)
    write_json(paths["params"], record)
    return paths
