"""`lqpose demo`: the quick-start job on embedded real photos (scikit-image's astronaut and camera).

1. poses.png / poses.json: each photo clean and degraded (blur, noise, low light, JPEG, downscale, the random
   camera chain) at a few severities, with the bundled default model's skeleton and quality score drawn on it.
2. degradations.png / degradations.json: the astronaut under every degradation type at severities 1/3/5, with
   every parameter drawn, so a new user sees what each type does and how severity scales it.
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


def camera() -> np.ndarray:
    """scikit-image's cameraman photo (512x512 grayscale, public domain) as RGB."""
    from skimage.data import camera as _camera

    return np.ascontiguousarray(np.repeat(_camera()[:, :, None], 3, axis=2))


# The person in each embedded photo (x, y, w, h): both are upper-body shots the demo needs no detector for.
DEMO_PHOTOS = {"astronaut": (astronaut, (20.0, 10.0, 350.0, 500.0)), "camera": (camera, (0.0, 60.0, 330.0, 452.0))}
DEMO_CONDITIONS = (("clean", 0), ("gaussian_blur", 3), ("gaussian_noise", 3), ("low_light", 4), ("jpeg", 5),
                   ("downscale", 4), ("chain", 3))  # fmt: skip
POSE_CELL = 256


def pose_grid(estimator, seed: int = 0) -> tuple[np.ndarray, dict]:
    """One row per embedded photo, one column per condition: the LQ input with the predicted skeleton, the
    mean keypoint confidence and the quality score (when the model has the head)."""
    from .degrade.chain import random_chain_with_params
    from .infer.draw import draw_pose

    cols, rows = len(DEMO_CONDITIONS), len(DEMO_PHOTOS)
    canvas = np.full((HEADER_H + rows * (POSE_CELL + 22), cols * POSE_CELL, 3), 255, np.uint8)
    record: dict = {"lqpose_version": __version__, "seed": seed, "photos": {}}
    for j, (name, sev) in enumerate(DEMO_CONDITIONS):
        _text(canvas, "clean" if sev == 0 else f"{name} {sev}", (j * POSE_CELL + 6, 24), 0.55, 1)
    for i, (photo, (load, box)) in enumerate(DEMO_PHOTOS.items()):
        img = load()
        record["photos"][photo] = {"bbox": list(box), "conditions": {}}
        for j, (name, sev) in enumerate(DEMO_CONDITIONS):
            per_image = image_seed(seed, photo, name, sev)
            if name == "clean":
                lq, params = img, {}
            elif name == "chain":
                lq, params = random_chain_with_params(img, per_image)
            else:
                lq, params = degrade_with_params(img, name, sev, per_image)
            person = estimator(lq, boxes=np.array([box], np.float32))[0]
            scale = POSE_CELL / max(lq.shape[:2])
            shown = cv2.resize(
                lq, (round(lq.shape[1] * scale), round(lq.shape[0] * scale)), interpolation=cv2.INTER_AREA
            )
            drawn = dict(person, keypoints=person["keypoints"] * [scale, scale, 1], bbox=[v * scale for v in box])
            shown = draw_pose(np.ascontiguousarray(shown), drawn, estimator.spec)
            y0, x0 = HEADER_H + i * (POSE_CELL + 22), j * POSE_CELL
            canvas[y0 : y0 + shown.shape[0], x0 : x0 + shown.shape[1]] = shown
            conf = float(np.mean(person["keypoints"][:, 2]))
            label = f"conf {conf:.2f}" + (
                f"  quality {person['quality']:.2f}" if person.get("quality") is not None else ""
            )
            _text(canvas, label, (x0 + 6, y0 + POSE_CELL + 16), 0.45, 1)
            record["photos"][photo]["conditions"][f"{name}/{sev}"] = {
                "seed": per_image, "params": params, "keypoints": np.round(person["keypoints"], 2).tolist(),
                "score": person["score"], "quality": person.get("quality")}  # fmt: skip
    return canvas, record


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


def run_demo(out_dir: str | Path, seed: int = 0, model: str | Path = "default") -> dict[str, Path]:
    """Write poses.png/json (the bundled or given model) and degradations.png/json into `out_dir`."""
    from .api import load

    out_dir = Path(out_dir)
    estimator = load(model, flip_test=True)
    poses, pose_record = pose_grid(estimator, seed)
    pose_record["model"] = str(model)
    grid, record = degradation_grid(astronaut(), seed=seed)
    paths = {"poses": out_dir / "poses.png", "poses_json": out_dir / "poses.json",
             "grid": out_dir / "degradations.png", "params": out_dir / "degradations.json"}  # fmt: skip
    write_image(paths["poses"], poses)
    write_json(paths["poses_json"], pose_record)
    write_image(paths["grid"], grid)
    write_json(paths["params"], record)
    return paths
