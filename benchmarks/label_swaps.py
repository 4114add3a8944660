"""How many people a model fits better with their left and right labels exchanged: a probe of left/right label
noise (see `lqpose.metrics.label_swaps`). LSPET's crowd-sourced labels are meant to be person-centric (the person's
own left), but some annotators label from the viewer's side; a good model then lands on the exchanged labels.

Reads a benchmark folder and prediction folders of it (as `benchmarks/results.py` caches them); one row per model,
on the clean split."""

from __future__ import annotations

import argparse

from lqpose.bench.run import PredictionsModel, load_bench
from lqpose.metrics.label_swaps import lr_fit, swap_counts


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
        people, swapped, given = swap_counts(lr_fit(gt.instances, gt.spec, m.results_for("clean")), args.margin)
        share = [f"{n} ({n / max(people, 1):.1%})" for n in (swapped, given)]
        print(f"| {m.name} | {people} | {share[0]} | {share[1]} |")


if __name__ == "__main__":
    main()
