"""MPII PCKh: a joint is correct when within thr x head size of the truth (head size = 0.6 x head-box
diagonal; see data.readers.read_mpii). Only visible joints count; the mean leaves out pelvis and thorax."""

from __future__ import annotations

import numpy as np

from ..data.readers import PoseSet
from .pck import keypoints_by_ann

GROUPS = {
    "Head": ("head_top", "upper_neck"),
    "Shoulder": ("left_shoulder", "right_shoulder"),
    "Elbow": ("left_elbow", "right_elbow"),
    "Wrist": ("left_wrist", "right_wrist"),
    "Hip": ("left_hip", "right_hip"),
    "Knee": ("left_knee", "right_knee"),
    "Ankle": ("left_ankle", "right_ankle"),
}


def _hits(gt: PoseSet, results: list[dict], thr: float) -> tuple[np.ndarray, np.ndarray]:
    by_ann = keypoints_by_ann(results)
    hits, visible = [], []
    for inst in gt.instances:
        pred = by_ann.get(inst.ann_id)
        vis = inst.keypoints[:, 2] > 0
        if pred is None:
            hit = np.zeros(len(vis), bool)
        else:
            dist = np.linalg.norm(pred[:, :2] - inst.keypoints[:, :2], axis=1)
            hit = dist <= thr * inst.extra["head_size"]
        hits.append(hit & vis)
        visible.append(vis)
    return np.array(hits), np.array(visible)


def pckh(gt: PoseSet, results: list[dict], thr: float = 0.5) -> dict:
    """PCKh@thr (percent) overall, per MPII group and per joint, plus Mean@0.1. Results carry `ann_id`."""
    names = gt.spec.names
    out: dict = {}
    for t, key in ((thr, "PCKh"), (0.1, "PCKh@0.1")):
        hits, vis = _hits(gt, results, t)
        per_joint = 100.0 * hits.sum(0) / np.maximum(vis.sum(0), 1)
        used = np.array([n not in ("pelvis", "thorax") for n in names]) & (vis.sum(0) > 0)
        out[key] = float(100.0 * hits[:, used].sum() / max(vis[:, used].sum(), 1))
        if key == "PCKh":
            out["per_joint"] = {n: float(v) for n, v in zip(names, per_joint, strict=True)}
            for g, joints in GROUPS.items():
                idx = [names.index(j) for j in joints]
                out[g] = float(100.0 * hits[:, idx].sum() / max(vis[:, idx].sum(), 1))
    return out
