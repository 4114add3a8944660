"""How many people a model fits better with their left and right labels exchanged: a probe of left/right label
noise. LSPET's crowd-sourced labels are meant to be person-centric (the person's own left), but some annotators
label from the viewer's side; a good model then lands on the exchanged labels. Counted per person with a labelled
torso: the mean limb-joint error in torso lengths against the labels as given and against them exchanged, and a
person counts as "swapped" when the exchanged labels fit better by more than `--margin` (and "as given" likewise).

Reads a benchmark folder and prediction folders of it (as `benchmarks/results.py` caches them); one row per model,
on the clean split."""

from __future__ import annotations

import argparse

import numpy as np

from lqpose.bench.run import PredictionsModel, load_bench
from lqpose.metrics.pck import LIMB_PARTS, keypoints_by_ann


def swap_counts(gt, model: PredictionsModel, margin: float = 0.1, split: str = "clean") -> tuple[int, int, int]:
    """(people, people fitting the exchanged labels better by > margin, people fitting the given ones better)."""
    names = gt.spec.names
    flip = np.asarray(gt.spec.flip_index)
    limbs = [i for i, n in enumerate(names) if n.split("_")[-1] in LIMB_PARTS]
    rs, lh = names.index("right_shoulder"), names.index("left_hip")
    by_ann = keypoints_by_ann(model.results_for(split))
    people = swapped = given = 0
    for inst in gt.instances:
        k, pred = inst.keypoints, by_ann.get(inst.ann_id)
        if pred is None or k[rs, 2] <= 0 or k[lh, 2] <= 0:
            continue
        exchanged = k[flip]
        both = [j for j in limbs if k[j, 2] > 0 and exchanged[j, 2] > 0]  # joints labelled on both sides
        torso = float(np.linalg.norm(k[rs, :2] - k[lh, :2]))
        if not both or torso == 0:
            continue
        as_given = np.linalg.norm(pred[both, :2] - k[both, :2], axis=1).mean() / torso
        as_swapped = np.linalg.norm(pred[both, :2] - exchanged[both, :2], axis=1).mean() / torso
        people += 1
        swapped += int(as_swapped < as_given - margin)
        given += int(as_given < as_swapped - margin)
    return people, swapped, given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="runs/results/bench_lspet")
    parser.add_argument("--margin", type=float, default=0.1, help="in torso lengths of mean limb-joint error")
    parser.add_argument("predictions", nargs="+", help="prediction folders of that benchmark, one per model")
    args = parser.parse_args()
    _, gt = load_bench(args.bench)
    print(f"Left/right exchanged labels, {args.bench}, clean split, margin {args.margin} torso\n")
    print("| model | people | fit exchanged labels better | fit the labels as given better |")
    print("| --- | ---: | ---: | ---: |")
    for folder in args.predictions:
        m = PredictionsModel(folder)
        people, swapped, given = swap_counts(gt, m, args.margin)
        share = [f"{n} ({n / max(people, 1):.1%})" for n in (swapped, given)]
        print(f"| {m.name} | {people} | {share[0]} | {share[1]} |")


if __name__ == "__main__":
    main()
