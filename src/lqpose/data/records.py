"""The one record every reader produces: one person in one image."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Instance:
    """One annotated (or detected) person.

    keypoints: (K, 3) float32 x, y, visibility (0 unlabelled, 1 labelled but occluded, 2 visible), in
    pixels of the stored image. bbox: x, y, w, h in pixels, clipped to the image.
    """

    image_path: str
    image_id: int
    bbox: np.ndarray
    keypoints: np.ndarray
    area: float
    image_size: tuple[int, int]  # (width, height)
    ann_id: int = -1
    iscrowd: int = 0
    score: float = 1.0  # detection score (1 for ground-truth boxes)
    extra: dict = field(default_factory=dict)  # e.g. head_size for MPII, crowd_index for CrowdPose

    @property
    def num_visible(self) -> int:
        return int((self.keypoints[:, 2] > 0).sum())

    @property
    def trainable(self) -> bool:
        """COCO trains only on people with at least one labelled keypoint and a real box."""
        return self.num_visible > 0 and self.iscrowd == 0 and self.bbox[2] >= 1 and self.bbox[3] >= 1


def clip_box(bbox, width: int, height: int) -> np.ndarray:
    """Clip an x, y, w, h box to the image; returns float32 (w or h may become 0)."""
    x, y, w, h = (float(v) for v in bbox)
    x1, y1 = min(max(x, 0.0), width - 1.0), min(max(y, 0.0), height - 1.0)
    x2, y2 = min(max(x + w, 0.0), width - 1.0), min(max(y + h, 0.0), height - 1.0)
    return np.array([x1, y1, max(0.0, x2 - x1), max(0.0, y2 - y1)], np.float32)
