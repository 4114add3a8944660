"""Outside pose estimators scored by the same benchmark: MediaPipe BlazePose and MoveNet Lightning (extra
`[peers]`).

Top-down like lqpose: each person's box (padded 1.25, square) is cropped and given to the peer; its
landmarks are mapped back to the image and to the dataset's keypoint layout.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..data.records import Instance
from ..imageio import read_rgb
from ..keypoints import COCO17, KeypointSpec

# BlazePose's 33 landmarks -> COCO-17 (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles)
BLAZEPOSE_TO_COCO = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def coco_to_layout(coco17: np.ndarray, spec: KeypointSpec) -> np.ndarray:
    """(17, 3) COCO-17 x, y, score -> (K, 3) in `spec`'s layout. CrowdPose's `neck` is the shoulders' midpoint
    and its `head` (top of the head) is extrapolated from the ears' midpoint away from the neck, as COCO has no
    head-top; joints a layout has and COCO lacks get score 0."""
    coco = {n: coco17[i] for i, n in enumerate(COCO17.names)}
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


def blazepose_to_layout(landmarks: np.ndarray, spec: KeypointSpec) -> np.ndarray:
    """(33, 3) BlazePose landmarks -> (K, 3) in `spec`'s layout (through COCO-17)."""
    return coco_to_layout(np.asarray(landmarks, np.float32)[list(BLAZEPOSE_TO_COCO)], spec)


def square_crop(img: np.ndarray, bbox) -> tuple[np.ndarray, float, float, int]:
    """The box grown to a square of 1.25 x its longer side around its centre, zero-padded where it leaves the
    image: (crop, x0, y0, side). Crop pixel (u, v) is image pixel (x0 + u, y0 + v)."""
    x, y, w, h = (float(v) for v in bbox)
    side = max(w, h) * 1.25
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    size = max(1, int(round(side)))
    pad = np.zeros((size, size, 3), np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(img.shape[1], x0 + size), min(img.shape[0], y0 + size)
    if sx1 > sx0 and sy1 > sy0:
        pad[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return pad, x0, y0, size


class CropPeer:
    """A single-person peer run on each person's square crop; subclasses give COCO-17 keypoints in the crop's
    pixels (or None when the peer finds nobody)."""

    name = "peer"

    def coco17(self, crop: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def predict(self, instances: list[Instance], spec: KeypointSpec, progress: bool = True) -> list[dict]:
        results, cache = [], {}
        for inst in tqdm(instances, desc=self.name, unit="person", disable=not progress):
            if inst.image_path not in cache:
                cache.clear()
                cache[inst.image_path] = read_rgb(inst.image_path)
            crop, x0, y0, size = square_crop(cache[inst.image_path], inst.bbox)
            found = self.coco17(crop)
            if found is None:
                x, y, w, h = (float(v) for v in inst.bbox)
                kps = np.zeros((spec.num_keypoints, 3), np.float32)
                kps[:, :2] = [x + w / 2, y + h / 2]
                kps[:, 2] = 1e-3  # keep scores positive: a miss, not a dropped result
                score = 1e-3
            else:
                found = np.asarray(found, np.float32).copy()
                found[:, 0] += x0
                found[:, 1] += y0
                kps = coco_to_layout(found, spec)
                kps[:, 2] = np.clip(kps[:, 2], 1e-3, 1.0)
                score = float(inst.score * kps[:, 2].mean())
            results.append({"image_id": inst.image_id, "category_id": 1, "keypoints": kps.reshape(-1).round(3).tolist(),
                            "score": score, "ann_id": inst.ann_id})  # fmt: skip
        return results


class MediaPipePeer(CropPeer):
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

    def coco17(self, crop: np.ndarray) -> np.ndarray | None:
        res = self._pose.process(crop)
        if res.pose_landmarks is None:
            return None
        size = crop.shape[0]
        lm = np.array([[p.x * size, p.y * size, p.visibility] for p in res.pose_landmarks.landmark], np.float32)
        return lm[list(BLAZEPOSE_TO_COCO)]


class MoveNetPeer(CropPeer):
    """MoveNet SinglePose Lightning (int8 .tflite) through ai-edge-litert: a 192x192 uint8 RGB crop in,
    (y, x, score) per COCO-17 keypoint out, normalised to the crop."""

    name = "movenet-lightning"

    def __init__(self, model_path: str | Path, num_threads: int = 2):
        model_path = Path(model_path)
        if not model_path.is_file():
            raise FileNotFoundError(f"{model_path}: no such MoveNet .tflite file")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise ImportError("the MoveNet peer needs ai-edge-litert: pip install 'lqpose[peers]'") from e
        try:
            self._net = Interpreter(model_path=str(model_path), num_threads=num_threads)
            self._net.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ValueError(f"{model_path}: not a loadable TFLite model ({e})") from None
        inp, out = self._net.get_input_details()[0], self._net.get_output_details()[0]
        if tuple(out["shape"]) != (1, 1, 17, 3):
            raise ValueError(f"{model_path}: output shape {tuple(out['shape'])} is not MoveNet's (1, 1, 17, 3)")
        self._in, self._out = inp, out
        self._size = int(inp["shape"][1])

    def coco17(self, crop: np.ndarray) -> np.ndarray:
        x = cv2.resize(crop, (self._size, self._size), interpolation=cv2.INTER_AREA if crop.shape[0] > self._size
                       else cv2.INTER_LINEAR)[None]  # fmt: skip
        self._net.set_tensor(self._in["index"], x.astype(self._in["dtype"]))
        self._net.invoke()
        yxs = self._net.get_tensor(self._out["index"])[0, 0]
        side = crop.shape[0]
        return np.stack([yxs[:, 1] * side, yxs[:, 0] * side, yxs[:, 2]], axis=1).astype(np.float32)


def build_peer(text: str):
    """`mediapipe` or `movenet:PATH/TO/model.tflite`."""
    name, _, arg = text.partition(":")
    if name == "mediapipe":
        return MediaPipePeer()
    if name == "movenet":
        if not arg:
            raise ValueError("--peer movenet needs the model file: movenet:PATH/TO/movenet_lightning.tflite")
        return MoveNetPeer(arg)
    raise ValueError(f"unknown peer {text!r}; known: mediapipe, movenet:PATH")
