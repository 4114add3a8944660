"""COCO-style keypoint AP through pycocotools' COCOeval (never an in-loop stand-in).

pycocotools instead of xtcocotools (whose wheel breaks under numpy 2): `params.kpt_oks_sigmas` takes any
layout's sigmas; the CrowdPose area rule is met by writing area = 0.53 w h into the ground truth (the readers
do); CrowdPose AP(E/M/H) is the same evaluation restricted to the images of each crowd-index band.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..data.readers import PoseSet
from .pck import keypoints_by_ann

STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
CROWD_BANDS = {"AP_easy": (0.0, 0.2), "AP_medium": (0.2, 0.8), "AP_hard": (0.8, 1.01)}


def to_coco_gt(gt: PoseSet) -> dict:
    """The ground truth as a COCO dataset dict (areas as the layout's OKS rule wants them)."""
    anns = []
    for i, inst in enumerate(gt.instances):
        anns.append({
            # pycocotools treats id 0 as "unmatched" (ExLPose numbers annotations from 0): renumber 1..N
            "id": i + 1,
            "image_id": inst.image_id,
            "category_id": 1,
            "bbox": [float(v) for v in inst.bbox],
            "area": float(inst.area),
            "iscrowd": int(inst.iscrowd),
            "num_keypoints": inst.num_visible,
            "keypoints": [float(v) for v in inst.keypoints.reshape(-1)],
        })  # fmt: skip
    images = [{"id": i, "file_name": v["file_name"], "width": v["width"], "height": v["height"]}
              for i, v in gt.images.items()]  # fmt: skip
    cats = [{"id": 1, "name": "person", "keypoints": list(gt.spec.names),
             "skeleton": [[a + 1, b + 1] for a, b in gt.spec.skeleton]}]  # fmt: skip
    return {"images": images, "annotations": anns, "categories": cats}


def _coco(dataset: dict) -> COCO:
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _run(gt_coco: COCO, results: list[dict], sigmas: np.ndarray, img_ids: list[int] | None) -> np.ndarray:
    if not results:
        return np.zeros(len(STAT_NAMES))
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt_coco.loadRes([dict(r) for r in results])  # loadRes adds keys to the dicts it is given
        ev = COCOeval(gt_coco, dt, "keypoints")
        ev.params.kpt_oks_sigmas = sigmas
        if img_ids is not None:
            ev.params.imgIds = img_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.maximum(np.asarray(ev.stats[: len(STAT_NAMES)], np.float64), 0.0)


def coco_keypoint_ap(gt: PoseSet, results: list[dict], sigmas=None, crowd_bands: bool | None = None) -> dict:
    """AP, AP50, AP75, APm, APl, AR, ... for COCO-format keypoint results (list of image_id, category_id,
    keypoints [x, y, score] * K, score). With CrowdPose-style crowd indices, adds AP_easy/medium/hard."""
    sigmas = gt.spec.sigmas if sigmas is None else sigmas
    if sigmas is None:
        raise ValueError(f"keypoint layout {gt.spec.name!r} has no OKS sigmas; pass them to score OKS AP")
    sigmas = np.asarray(sigmas, np.float64)
    k = gt.spec.num_keypoints
    for r in results:
        if len(r["keypoints"]) != 3 * k:
            raise ValueError(f"result for image {r.get('image_id')} has {len(r['keypoints'])} values, expected {3 * k}")
    results = [r for r in results if r["image_id"] in gt.images]
    gt_coco = _coco(to_coco_gt(gt))
    stats = _run(gt_coco, results, sigmas, None)
    out = {name: float(v) for name, v in zip(STAT_NAMES, stats, strict=True)}
    if crowd_bands is None:
        crowd_bands = gt.spec.name == "crowdpose" and any(v["crowd_index"] > 0 for v in gt.images.values())
    if crowd_bands:
        for name, (lo, hi) in CROWD_BANDS.items():
            ids = [i for i, v in gt.images.items() if lo <= v["crowd_index"] < hi]
            out[name] = (
                float(_run(gt_coco, [r for r in results if r["image_id"] in set(ids)], sigmas, ids)[0])
                if ids
                else float("nan")
            )
    return out


def oks(a: np.ndarray, b: np.ndarray, area: float, sigmas: np.ndarray) -> float:
    """OKS between two (K, 3) poses, `a` acting as the reference (its visible joints count)."""
    var = (2 * sigmas) ** 2
    d2 = ((a[:, :2] - b[:, :2]) ** 2).sum(-1)
    e = d2 / var / (area + np.spacing(1)) / 2
    vis = a[:, 2] > 0
    return float(np.exp(-e[vis]).mean()) if vis.any() else float(np.exp(-e).mean())


def oks_nms(results: list[dict], sigmas, threshold: float = 0.9) -> list[dict]:
    """Greedy OKS non-maximum suppression per image (top-down with detected boxes keeps duplicates else)."""
    sigmas = np.asarray(sigmas, np.float64)
    by_image: dict[int, list[dict]] = {}
    for r in results:
        by_image.setdefault(r["image_id"], []).append(r)
    kept = []
    for rs in by_image.values():
        rs = sorted(rs, key=lambda r: -r["score"])
        poses = [np.asarray(r["keypoints"], np.float64).reshape(-1, 3) for r in rs]
        alive = [True] * len(rs)
        for i in range(len(rs)):
            if not alive[i]:
                continue
            kept.append(rs[i])
            area = float(rs[i].get("area", 1.0))
            for j in range(i + 1, len(rs)):
                if alive[j] and oks(poses[i], poses[j], area, sigmas) > threshold:
                    alive[j] = False
    return kept


def per_keypoint_similarity(gt: PoseSet, results: list[dict], sigmas=None) -> dict[str, float]:
    """Mean per-keypoint OKS term exp(-d^2 / (2 s^2 (2 sigma)^2)) over labelled GT joints, for results that
    name their person (`ann_id`, as top-down predictions on ground-truth boxes do): the per-keypoint
    breakdown behind an AP."""
    sigmas = np.asarray(gt.spec.sigmas if sigmas is None else sigmas, np.float64)
    by_ann = keypoints_by_ann([r for r in results if "ann_id" in r])
    sums = np.zeros(gt.spec.num_keypoints)
    counts = np.zeros(gt.spec.num_keypoints)
    for inst in gt.instances:
        pred = by_ann.get(inst.ann_id)
        vis = inst.keypoints[:, 2] > 0
        if pred is None or not vis.any():
            continue
        d2 = ((pred[:, :2] - inst.keypoints[:, :2]) ** 2).sum(1)
        sim = np.exp(-d2 / ((2 * sigmas) ** 2) / (inst.area + np.spacing(1)) / 2)
        sums += np.where(vis, sim, 0.0)
        counts += vis
    return {n: float(sums[i] / counts[i]) if counts[i] else float("nan") for i, n in enumerate(gt.spec.names)}
