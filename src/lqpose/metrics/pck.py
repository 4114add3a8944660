"""PCK@thr normalised by torso size (LSP convention): a joint is correct when within thr x the distance
between the right shoulder and the left hip of the ground truth. Only labelled joints count."""

from __future__ import annotations

import numpy as np

from ..data.readers import PoseSet

LIMB_PARTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def limb_joints(names) -> list[str]:
    """The limb joints among `names`, shoulders to ankles, in their order: the joints COCO-17, CrowdPose-14/LSP and
    MPII share, which PCK scores by default."""
    return [n for n in names if n.split("_")[-1] in LIMB_PARTS]


def keypoints_by_ann(results: list[dict]) -> dict[int, np.ndarray]:
    """COCO-style results (each with the `ann_id` of the person it was predicted for) as ann_id -> (K, 3) array."""
    return {int(r["ann_id"]): np.asarray(r["keypoints"], np.float64).reshape(-1, 3) for r in results}


def torso_length(keypoints: np.ndarray, names) -> float | None:
    """The LSP torso (right shoulder to left hip) in pixels, the length PCK and the left/right probe normalise by;
    None when either joint is unlabelled."""
    rs, lh = names.index("right_shoulder"), names.index("left_hip")
    if keypoints[rs, 2] <= 0 or keypoints[lh, 2] <= 0:
        return None
    return float(np.linalg.norm(keypoints[rs, :2] - keypoints[lh, :2]))


def pck_counts(
    gt: PoseSet, results: list[dict], thr: float = 0.2, joints: list[str] | None = None, visibility: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per person (those with a labelled torso, in `gt.instances` order): correct joints and labelled joints over
    `joints`; a person without a prediction scores 0 of its labelled joints. PCK is hits.sum() / totals.sum().
    `visibility` counts only the joints labelled with that flag (COCO: 1 hidden, 2 visible); the torso that sets the
    threshold may carry either."""
    names = gt.spec.names
    joints = joints or limb_joints(names)
    idx = [names.index(n) for n in joints]
    by_ann = keypoints_by_ann(results)
    hits, totals = [], []
    for inst in gt.instances:
        k = inst.keypoints
        torso = torso_length(k, names)
        if torso is None:
            continue
        vis = k[idx, 2] > 0 if visibility is None else k[idx, 2] == visibility
        pred = by_ann.get(inst.ann_id)
        hit = 0
        if pred is not None:
            d = np.linalg.norm(pred[idx, :2] - k[idx, :2], axis=1)
            hit = int(((d <= thr * torso) & vis).sum())
        hits.append(hit)
        totals.append(int(vis.sum()))
    return np.asarray(hits, np.int64), np.asarray(totals, np.int64)


def pck(gt: PoseSet, results: list[dict], thr: float = 0.2, joints: list[str] | None = None) -> float:
    """PCK@thr in [0, 1] over `joints` (default: the 12 limb joints, shoulders to ankles, which COCO-17,
    CrowdPose-14/LSP and MPII share). Results carry `ann_id`; people whose torso is not labelled are left out."""
    hits, totals = pck_counts(gt, results, thr, joints)
    return int(hits.sum()) / max(int(totals.sum()), 1)
