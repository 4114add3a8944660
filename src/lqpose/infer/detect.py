"""`lqpose detect`: person boxes as COCO detection results, the `--boxes` file of `lqpose eval`, `bench` and `infer`.

Top-down poses depend on their boxes, so models compared on one set should share them, as COCO's published
person-detection files are shared: detect once, then score or run any number of pose models on the same file. An
annotated set gives one entry per box with its `image_id` (and `file_name`), read on the stored pixel grid as its
annotations are; images and folders give `file_name` (read upright, as `lqpose infer` reads them) and a video the
0-based frame index as `image_id`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data.readers import PoseSet, images_by_id
from ..files import write_json
from ..imageio import image_files, read_images, read_rgb
from .detectors import takes_score_thr
from .video import VideoFrames, is_video_file

log = logging.getLogger(__name__)


def person_boxes(detector, img: np.ndarray, score_thr: float) -> np.ndarray:
    """(N, 5) boxes scoring `score_thr` or more: asked of a detector that takes a threshold per call (YOLOX, below
    its own default if need be), filtered from any other's."""
    boxes = detector(img, score_thr=score_thr) if takes_score_thr(detector) else detector(img)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 5)
    return boxes[(boxes[:, 4] >= score_thr) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)]


def _entries(boxes: np.ndarray, image_id: int, file_name: str | None = None) -> list[dict]:
    named = {"file_name": file_name} if file_name is not None else {}
    return [{"image_id": image_id, **named, "category_id": 1, "bbox": [round(float(v), 2) for v in b[:4]],
             "score": round(float(b[4]), 5)} for b in boxes]  # fmt: skip


def detect_set(detector, gt: PoseSet, images_dir: str | Path, score_thr: float, progress: bool = True) -> dict:
    """Every image of an annotated set, people or not (detections in an empty image are false positives AP must
    see). Returns {"detections", "images", "skipped"}."""
    if not gt.images:
        raise ValueError(f"{gt.source or 'the set'}: lists no images")
    paths = images_by_id(gt, images_dir)
    detections, skipped = [], {}
    for image_id in tqdm(sorted(gt.images), desc="detect", unit="img", disable=not progress):
        info = gt.images[image_id]
        try:
            img = read_rgb(paths[image_id])
        except (OSError, ValueError) as e:
            log.warning("skipped %s", e)
            skipped[info["file_name"]] = str(e)
            continue
        detections += _entries(person_boxes(detector, img, score_thr), int(image_id), info["file_name"])
    if len(skipped) == len(gt.images):
        raise ValueError(f"{images_dir}: none of the {len(gt.images)} images of {gt.source or 'the set'} could be read")
    return {"detections": detections, "images": len(gt.images) - len(skipped), "skipped": len(skipped)}


def detect_path(detector, source: str | Path, score_thr: float, progress: bool = True) -> dict:
    """An image, a folder of images (`file_name`; `image_id` its index in name order) or a video (`image_id` the
    frame index from 0)."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    if is_video_file(source):
        detections, frames = [], 0
        with VideoFrames(source, live=False) as video:
            for index, rgb in tqdm(video, total=video.total, desc="detect", unit="frame", disable=not progress):
                detections += _entries(person_boxes(detector, rgb, score_thr), index)
                frames += 1
        if frames == 0:
            raise ValueError(f"{source}: no frames could be read")
        return {"detections": detections, "frames": frames}
    files = image_files(source)
    if not files:
        raise ValueError(f"{source}: no images")
    detections, skipped, read = [], {}, 0
    for index, path, img in read_images(files, skipped, "detect", progress, upright=True):
        detections += _entries(person_boxes(detector, img, score_thr), index, path.name)
        read += 1
    if read == 0:
        raise ValueError(f"{source}: none of the {len(files)} images could be read")
    return {"detections": detections, "images": read, "skipped": len(skipped)}


def check_detections_path(out: str | Path) -> Path:
    """The detections file to write: a .json, checked before any detection runs."""
    out = Path(out)
    if out.suffix.lower() != ".json":
        raise ValueError(f"{out}: --out is the detections file to write, a .json")
    return out


def write_detections(summary: dict, out: str | Path) -> dict:
    """Write summary["detections"] atomically as a COCO detection-results json; returns the summary's counts."""
    write_json(check_detections_path(out), summary["detections"])
    return {"boxes": len(summary["detections"]), **{k: v for k, v in summary.items() if k != "detections"}}
