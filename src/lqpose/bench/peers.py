"""Outside pose estimators scored by the same benchmark: MediaPipe BlazePose (extra `[peers]`).

Top-down like lqpose: each person's box (padded 1.25, square) is cropped and given to the peer; its
landmarks are mapped back to the image and to the dataset's keypoint layout.
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from ..data.records import Instance
from ..imageio import read_rgb
from ..keypoints import COCO17, KeypointSpec

# BlazePose's 33 landmarks -> COCO-17 (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles)
BLAZEPOSE_TO_COCO = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def blazepose_to_layout(landmarks: np.ndarray, spec: KeypointSpec) -> np.ndarray:
    """(33, 3) x, y, score -> (K, 3) in `spec`'s layout. CrowdPose's `neck` is the shoulders' midpoint and its
    `head` (top of the head) is extrapolated from the ears' midpoint away from the neck, as BlazePose has no
    head-top landmark; joints a layout has and BlazePose lacks get score 0."""
    coco = {n: landmarks[i] for n, i in zip(COCO17.names, BLAZEPOSE_TO_COCO, strict=True)}
    neck = 0.5 * (coco["left_shoulder"] + coco["right_shoulder"])
    ears = 0.5 * (coco["left_ear"] + coco["right_ear"])
    head = ears + 0.6 * (ears - neck)
    head[2] = min(coco["left_ear"][2], coco["right_ear"][2])
    extra = {"neck": neck, "head": head, "upper_neck": neck, "head_top": head}
    out = np.zeros((spec.num_keypoints, 3), np.float32)
    for k, name in enumerate(spec.names):
        src = coco.get(name, extra.get(name))
        if src is not None:
            out[k] = src
    return out


class MediaPipePeer:
    """MediaPipe BlazePose-full (mediapipe==0.10.14, bundled model; complexity 1 runs offline)."""

    name = "mediapipe-blazepose-full"

    def __init__(self, min_confidence: float = 0.1):
        try:
            import mediapipe as mp
        except ImportError as e:
            raise ImportError(
                "the MediaPipe peer needs mediapipe: pip install 'lqpose[peers]' (mediapipe==0.10.14)"
            ) from e
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, min_detection_confidence=min_confidence
        )

    def predict(self, instances: list[Instance], spec: KeypointSpec, progress: bool = True) -> list[dict]:
        results, cache = [], {}
        for inst in tqdm(instances, desc=self.name, unit="person", disable=not progress):
            if inst.image_path not in cache:
                cache.clear()
                cache[inst.image_path] = read_rgb(inst.image_path)
            img = cache[inst.image_path]
            x, y, w, h = (float(v) for v in inst.bbox)
            side = max(w, h) * 1.25
            cx, cy = x + w / 2, y + h / 2
            x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
            size = max(1, int(round(side)))
            pad = np.zeros((size, size, 3), np.uint8)
            sx0, sy0 = max(0, x0), max(0, y0)
            sx1, sy1 = min(img.shape[1], x0 + size), min(img.shape[0], y0 + size)
            if sx1 > sx0 and sy1 > sy0:
                pad[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = img[sy0:sy1, sx0:sx1]
            res = self._pose.process(pad)
            if res.pose_landmarks is None:
                kps = np.zeros((spec.num_keypoints, 3), np.float32)
                kps[:, :2] = [cx, cy]
                kps[:, 2] = 1e-3  # keep scores positive: a miss, not a dropped result
                score = 1e-3
            else:
                lm = np.array([[p.x * size + x0, p.y * size + y0, p.visibility] for p in res.pose_landmarks.landmark])
                kps = blazepose_to_layout(lm, spec)
                kps[:, 2] = np.clip(kps[:, 2], 1e-3, 1.0)
                score = float(inst.score * kps[:, 2].mean())
            results.append({"image_id": inst.image_id, "category_id": 1, "keypoints": kps.reshape(-1).round(3).tolist(),
                            "score": score, "ann_id": inst.ann_id})  # fmt: skip
        return results
