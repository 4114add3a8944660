"""Overlays: skeleton, per-keypoint confidence (green = confident, red = unsure) and the quality score."""

from __future__ import annotations

import cv2
import numpy as np

from ..keypoints import KeypointSpec

DRAW_KPT_THR = 0.2  # keypoints scored at or below this are not drawn (MMPose's demo draws from 0.3, rtmlib from 0.5)


def check_kpt_thr(kpt_thr: float, what: str = "kpt_thr") -> float:
    """`kpt_thr`, refused (NaN too) unless it is a keypoint score within 0..1, in a one-line error naming `what`."""
    if not 0.0 <= kpt_thr <= 1.0:
        raise ValueError(f"{what} must be a keypoint score within 0..1, got {kpt_thr}")
    return kpt_thr


def _color(score: float) -> tuple[int, int, int]:
    s = float(np.clip(score, 0, 1))
    return int(255 * (1 - s)), int(200 * s), 40


def draw_pose(img: np.ndarray, person: dict, spec: KeypointSpec, kp_thr: float = DRAW_KPT_THR) -> np.ndarray:
    """Draw one person (dict with keypoints (K, 3), bbox, score, optional quality) onto an RGB image; a keypoint
    is drawn, and a limb between two, only where its score is above `kp_thr`."""
    out = img
    kps = np.asarray(person["keypoints"], np.float32).reshape(-1, 3)
    x, y, w, h = person["bbox"]
    # marks scale with the image and shrink for small people (CCTV crowds), so neighbours stay readable
    by_image = max(img.shape[:2]) / 400
    thick = max(1, round(min(by_image, h / 50)))
    big = int(h >= 100)  # people this tall get the bolder marks
    font = float(np.clip(h / 250, 0.3, 0.4 * max(1, round(by_image)) + 0.1))
    for a, b in spec.skeleton:
        if kps[a, 2] > kp_thr and kps[b, 2] > kp_thr:
            pa, pb = tuple(np.round(kps[a, :2]).astype(int)), tuple(np.round(kps[b, :2]).astype(int))
            cv2.line(out, pa, pb, (60, 160, 255), thick + big, cv2.LINE_AA)
    for kx, ky, s in kps:
        if s > kp_thr:
            cv2.circle(out, (int(round(kx)), int(round(ky))), thick + 1 + big, _color(s), -1, cv2.LINE_AA)
    cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), (255, 255, 255), 1)
    label = f"{person['score']:.2f}" + (f" q {person['quality']:.2f}" if person.get("quality") is not None else "")
    if person.get("track_id") is not None:
        label = f"#{person['track_id']} {label}"
    cv2.putText(out, label, (int(x), max(12, int(y) - 4)), cv2.FONT_HERSHEY_SIMPLEX, font,
                (255, 255, 0), 1, cv2.LINE_AA)  # fmt: skip
    return out
