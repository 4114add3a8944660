"""Where the COCO-MINI gap lies: PCK@0.2 (clean and mPC over the LQ grid) per group of people by how many of the
12 limb joints carry a label. COCO labels only what is in the frame and visible enough to place, so few labels
mean a person cut by the frame or hidden; LSPET's training people are almost all whole.

Reads a benchmark folder (`benchmarks/results.py` builds runs/results/bench_coco_mini) and prediction folders of
that benchmark (one json per split, as results.py caches them); prints one row per model. Only people with a
labelled torso count, as in PCK@0.2 everywhere in lqpose."""

from __future__ import annotations

import argparse

import numpy as np

from lqpose.bench.report import grid_splits
from lqpose.bench.run import PredictionsModel, load_bench
from lqpose.metrics.pck import pck_counts
from lqpose.metrics.robustness import mpc_weights

GROUPS = ((1, 8), (9, 11), (12, 12))  # labelled limb joints, inclusive


def labelled_limb_joints(gt) -> np.ndarray:
    """Per person with a labelled torso (the people PCK scores, in its order): labelled limb joints, the
    denominators `pck_counts` counts (no predictions needed for them)."""
    return pck_counts(gt, [])[1]


def in_group(counts: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Which people have between `lo` and `hi` labelled limb joints (inclusive)."""
    return (counts >= lo) & (counts <= hi)


def group_scores(gt, model: PredictionsModel, splits: list[str], counts: np.ndarray) -> list[tuple[float, float]]:
    """(clean PCK@0.2, mPC) per group: mPC weighs each split's PCK@0.2 within the group as `mpc` does."""
    per_split = {k: pck_counts(gt, model.results_for(k)) for k in ["clean", *splits]}
    weights = mpc_weights(splits)
    out = []
    for lo, hi in GROUPS:
        sel = in_group(counts, lo, hi)
        pck = {k: h[sel].sum() / max(t[sel].sum(), 1) for k, (h, t) in per_split.items()}
        out.append((float(pck["clean"]), float(sum(w * pck[k] for w, k in zip(weights, splits, strict=True)))))
    return out


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


if __name__ == "__main__":
    main()
