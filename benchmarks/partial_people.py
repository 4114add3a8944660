"""Where the COCO-MINI gap lies: PCK@0.2 (clean and mPC over the LQ grid) per group of people by how many of the
12 limb joints carry a label. COCO labels only what is in the frame and visible enough to place, so few labels
mean a person cut by the frame or hidden; LSPET's training people are almost all whole. Then the same scores per
limb part (left and right together) and by the joint's label, hidden (COCO v=1) or visible (v=2); and where the
hips land: the median hip error in torso lengths along the person's torso (up: toward the shoulders) and across
it (outward: away from the other hip), on the clean split.

Reads a benchmark folder (`benchmarks/results.py` builds runs/results/bench_coco_mini) and prediction folders of
that benchmark (one json per split, as results.py caches them); prints one row per model. Only people with a
labelled torso count, as in PCK@0.2 everywhere in lqpose."""

from __future__ import annotations

import argparse

import numpy as np

from lqpose.bench.report import grid_splits
from lqpose.bench.run import PredictionsModel, load_bench
from lqpose.metrics.pck import keypoints_by_ann, pck_counts
from lqpose.metrics.robustness import mpc_weights

GROUPS = ((1, 8), (9, 11), (12, 12))  # labelled limb joints, inclusive
PARTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def labelled_limb_joints(gt) -> np.ndarray:
    """Per person with a labelled torso (the people PCK scores, in its order): labelled limb joints, the
    denominators `pck_counts` counts (no predictions needed for them)."""
    return pck_counts(gt, [])[1]


def in_group(counts: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Which people have between `lo` and `hi` labelled limb joints (inclusive)."""
    return (counts >= lo) & (counts <= hi)


def clean_and_weighted(pck: dict[str, float], splits: list[str]) -> tuple[float, float]:
    """(the clean split's PCK, mPC over `splits`) from PCK per split, mPC weighted as `mpc` weighs."""
    weights = mpc_weights(splits)
    return float(pck["clean"]), float(sum(w * pck[k] for w, k in zip(weights, splits, strict=True)))


def group_scores(gt, model: PredictionsModel, splits: list[str], counts: np.ndarray) -> list[tuple[float, float]]:
    """(clean PCK@0.2, mPC) per group: mPC weighs each split's PCK@0.2 within the group as `mpc` does."""
    per_split = {k: pck_counts(gt, model.results_for(k)) for k in ["clean", *splits]}
    out = []
    for lo, hi in GROUPS:
        sel = in_group(counts, lo, hi)
        pck = {k: h[sel].sum() / max(t[sel].sum(), 1) for k, (h, t) in per_split.items()}
        out.append(clean_and_weighted(pck, splits))
    return out


def clean_and_mpc(gt, model: PredictionsModel, splits: list[str], **pck_args) -> tuple[float, float]:
    """(clean PCK@0.2, mPC) over the joints `pck_counts(**pck_args)` counts."""
    pck = {}
    for k in ["clean", *splits]:
        hits, totals = pck_counts(gt, model.results_for(k), **pck_args)
        pck[k] = hits.sum() / max(totals.sum(), 1)
    return clean_and_weighted(pck, splits)


def part_scores(gt, model: PredictionsModel, splits: list[str]) -> list[tuple[float, float]]:
    """(clean PCK@0.2, mPC) per limb part of PARTS, left and right joints pooled."""
    return [clean_and_mpc(gt, model, splits, joints=[f"left_{p}", f"right_{p}"]) for p in PARTS]


def visibility_scores(gt, model: PredictionsModel, splits: list[str]) -> list[tuple[float, float]]:
    """(clean PCK@0.2, mPC) over the limb joints labelled hidden (COCO v=1), then over those labelled visible (2)."""
    return [clean_and_mpc(gt, model, splits, visibility=v) for v in (1, 2)]


def hip_offset(gt, model: PredictionsModel, split: str = "clean") -> tuple[float, float, int]:
    """Median hip error (up, outward) in torso lengths, over the people with both shoulders and both hips labelled
    and predicted, and how many hips. Up runs from the ground truth's mid-hip to its mid-shoulder, outward from the
    other hip: a model that places hips higher on the body than the annotators did reads up > 0."""
    names = gt.spec.names
    ls, rs, lh, rh = (names.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"))
    by_ann = keypoints_by_ann(model.results_for(split))
    errors = []
    for inst in gt.instances:
        k, pred = inst.keypoints, by_ann.get(inst.ann_id)
        if pred is None or not (k[[ls, rs, lh, rh], 2] > 0).all():
            continue
        up = (k[ls, :2] + k[rs, :2]) / 2 - (k[lh, :2] + k[rh, :2]) / 2
        torso = float(np.linalg.norm(up))
        across = k[lh, :2] - k[rh, :2]
        if torso == 0 or not np.linalg.norm(across) > 0:
            continue
        up, across = up / torso, across / np.linalg.norm(across)
        for joint, side in ((lh, 1.0), (rh, -1.0)):
            d = (pred[joint, :2] - k[joint, :2]) / torso
            errors.append((float(d @ up), float(side * d @ across)))
    if not errors:
        return float("nan"), float("nan"), 0
    up_med, out_med = np.median(np.asarray(errors), axis=0)
    return float(up_med), float(out_med), len(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="runs/results/bench_coco_mini")
    parser.add_argument("predictions", nargs="+", help="prediction folders of that benchmark, one per model")
    args = parser.parse_args()
    manifest, gt = load_bench(args.bench)
    grid = grid_splits(manifest["splits"])
    counts = labelled_limb_joints(gt)
    head = " | ".join(f"{lo}–{hi} joints ({int(in_group(counts, lo, hi).sum())} people): clean / mPC"
                      for lo, hi in GROUPS)  # fmt: skip
    print(f"PCK@0.2 by labelled limb joints, {args.bench} ({len(grid)} LQ splits in mPC)\n")
    print(f"| model | {head} |\n| --- |" + " ---: |" * len(GROUPS))
    for folder in args.predictions:
        m = PredictionsModel(folder)
        cells = " | ".join(f"{c:.3f} / {g:.3f}" for c, g in group_scores(gt, m, grid, counts))
        print(f"| {m.name} | {cells} |")
    flags = [int(pck_counts(gt, [], visibility=v)[1].sum()) for v in (1, 2)]  # labelled joints (the denominators)
    print("\nPCK@0.2 per limb part (left and right pooled) and per label, clean / mPC; hips: median error in torso "
          "lengths on the clean split\n")  # fmt: skip
    parts = [f"{p} ({int(pck_counts(gt, [], joints=[f'left_{p}', f'right_{p}'])[1].sum())})" for p in PARTS]
    head = " | ".join(parts) + f" | hidden ({flags[0]}) | visible ({flags[1]}) | hips up / outward (n)"
    print(f"| model | {head} |\n| --- |" + " ---: |" * (len(PARTS) + 3))
    for folder in args.predictions:
        m = PredictionsModel(folder)
        scores = part_scores(gt, m, grid) + visibility_scores(gt, m, grid)
        cells = " | ".join(f"{c:.3f} / {g:.3f}" for c, g in scores)
        up, out, n = hip_offset(gt, m)
        print(f"| {m.name} | {cells} | {up:+.3f} / {out:+.3f} ({n}) |")


if __name__ == "__main__":
    main()
