"""How transfer to unseen people grows with the number of training people (round 40, configs/lspet/round40/).

Scores students trained on nested subsets of one set (`data.train_people`) with the flip test, clean, ground-truth
boxes, on LSPET test (500 people) and on COCO-MINI val + train (150 people with a labelled limb joint, scored on the
12 limb joints; PCK@0.2 counts the 91 with a labelled torso): PCK@0.2 and OKS AP. Then fits PCK@0.2 against
log2(people) by least squares: the gain per doubling, with a 95 % interval from resampling people (one resample
shared by every model, so the arms stay paired). Optional reference rows (MoveNet, other seeds) are scored on the
same people; where the fit's COCO gain per doubling is above zero, it prints how many doublings (and people) a
log-linear curve would need to add `--gap` PCK@0.2 (round 40: 0.160, the bundle's clean gap to MoveNet on COCO-MINI
val in docs/results.md; the bundle itself is no fair row here, as it trained on the COCO-MINI train people).

What the extrapolation is worth: a fixed schedule leaves the larger sets less converged (it understates their
gain), a log-linear fit extrapolated far ignores the flattening that learning curves usually show (it overstates
it), and LSPET people are not COCO people (a COCO person would teach COCO people more than an LSPET person does).

    python benchmarks/data_scaling.py --run 1125=runs/lspet/r40_people_1125/student.pt \\
        --run 2250=... --run 4500=... --run 9000=... --reference MoveNet=$MOVENET --gap 0.160
    # MOVENET=movenet:../shared/data/models/movenet/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from lqpose.data.readers import PoseSet, read_coco, read_lspet
from lqpose.engine.evaluate import run_eval, score
from lqpose.files import write_json
from lqpose.metrics.pck import limb_joints, pck_counts

SHARED = Path(__file__).resolve().parents[1] / "../shared/data"


def coco_mini(root: Path) -> PoseSet:
    """COCO-MINI val and train as one set (image and annotation ids are unique across COCO's splits)."""
    parts = [
        read_coco(root / f"annotations/person_keypoints_{s}2017.json", root / f"{s}2017") for s in ("val", "train")
    ]
    return PoseSet(spec=parts[0].spec, instances=parts[0].instances + parts[1].instances,
                   images={**parts[0].images, **parts[1].images}, source="COCO-MINI val+train")  # fmt: skip


def predictions(name: str, model: str, gt: PoseSet, set_name: str, out: Path) -> list[dict]:
    """Clean predictions of `model` (a checkpoint, .onnx, 'default', a MoveNet .tflite, or a peer as `lqpose bench
    --peer` names it: movenet:PATH, mediapipe) for `gt`'s people, cached in OUT/<set>/<name>/results.json (delete
    the folder to score again)."""
    folder = out / set_name / re.sub(r"[^A-Za-z0-9.+-]+", "_", name)
    cached = folder / "results.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    if model.endswith(".tflite") or model.startswith(("movenet:", "mediapipe")):
        from lqpose.bench.peers import build_peer

        peer = build_peer(model if model.startswith(("movenet:", "mediapipe")) else f"movenet:{model}")
        write_json(cached, peer.predict([i for i in gt.instances if i.num_visible > 0], gt.spec))
        return json.loads(cached.read_text())
    run_eval(gt, folder, checkpoint=model)
    return json.loads(cached.read_text())


def fit_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x."""
    x = x - x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum())


def slope_interval(people: np.ndarray, hits: np.ndarray, totals: np.ndarray, n_boot: int = 2000, seed: int = 0):
    """The PCK-on-log2(people) slope and its 2.5-97.5 % interval over resampled people. hits: (arms, people)."""
    x = np.log2(people.astype(float))
    full = fit_slope(x, hits.sum(1) / totals.sum())
    rng = np.random.default_rng(seed)
    n = totals.shape[0]
    boot = []
    for _ in range(n_boot):
        draw = np.bincount(rng.integers(0, n, n), minlength=n)
        boot.append(fit_slope(x, (hits @ draw) / max(totals @ draw, 1)))
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return full, float(lo), float(hi)


def people_for(gap: float, slope: float, largest: int) -> str:
    """The doublings (and people) past `largest` a log-linear curve of `slope` per doubling needs to add `gap`."""
    if slope <= 0:
        return "never (no gain per doubling)"
    doublings = gap / slope
    return f"{doublings:.1f} doublings, ~{largest * 2**doublings:,.0f} people"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="append", required=True, metavar="PEOPLE=PATH",
                    help="a student trained on PEOPLE people (repeat, at least 3)")  # fmt: skip
    ap.add_argument("--reference", action="append", default=[], metavar="NAME=PATH",
                    help="a reference row: checkpoint, .onnx, 'default' or a MoveNet .tflite")  # fmt: skip
    ap.add_argument("--gap", type=float, default=None, help="the COCO-MINI PCK@0.2 gap to extrapolate to")
    ap.add_argument("--data", default=str(SHARED), help="the shared data folder (lspet/, coco-mini/)")
    ap.add_argument("--out", default="runs/results/data_scaling", help="prediction cache")
    args = ap.parse_args()

    runs = sorted((int(k), v) for k, v in (r.split("=", 1) for r in args.run))
    if len(runs) < 3:
        ap.error("--run: give at least three people counts, or the slope has no interval worth printing")
    refs = [tuple(r.split("=", 1)) for r in args.reference]
    data, out = Path(args.data), Path(args.out)
    sets = {
        "LSPET test": read_lspet(data / "lspet", "test"),
        "COCO-MINI val+train (limbs)": coco_mini(data / "coco-mini"),
    }
    people = np.array([n for n, _ in runs])
    rows = [(str(n), f"{n:,} people", path) for n, path in runs] + [(k, f"{k} (reference)", v) for k, v in refs]
    for set_name, gt in sets.items():
        key = set_name.split()[0].lower()
        # LSPET: its 14 CrowdPose joints, as everywhere in lqpose; COCO-MINI: the 12 limb joints every model predicts
        scored = gt if key == "lspet" else gt.only_joints(limb_joints(gt.spec.names))
        print(f"\n### {set_name} ({len(pck_counts(gt, [])[1])} people with a labelled torso), clean, flip test\n")
        print("| model | PCK@0.2 | AP |\n| --- | ---: | ---: |")
        hits = []
        for name, label, model in rows:
            results = predictions(name, model, scored, key, out)
            h, totals = pck_counts(gt, results)
            print(f"| {label} | {h.sum() / totals.sum():.3f} | {score(scored, results)['AP']:.3f} |")
            if name not in dict(refs):
                hits.append(h)
        slope, lo, hi = slope_interval(people, np.stack(hits), totals)
        print(f"\nPCK@0.2 per doubling of training people: {slope:+.3f} [{lo:+.3f}, {hi:+.3f}] "
              f"(least squares on log2 people, {len(runs)} runs; interval: people resampled)")  # fmt: skip
        gap = args.gap
        if key == "coco-mini" and gap is not None:
            largest = int(people.max())
            print(f"To add {gap:.3f} PCK@0.2 here: {people_for(gap, slope, largest)} at the fit; "
                  f"{people_for(gap, hi, largest)} at its upper bound, "
                  f"{people_for(gap, lo, largest)} at its lower")  # fmt: skip


if __name__ == "__main__":
    main()
