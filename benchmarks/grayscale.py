"""Monochrome images: PCK@0.2 and OKS AP on LSPET test and COCO-MINI val (12 limb joints), as shot and reduced to
luma (replicated to three channels), for lqpose students and MoveNet, with paired 95 % bootstrap intervals.

Infrared night cameras and black-and-white feeds deliver such frames, and COCO itself holds black-and-white photos;
none of the benchmark's degradations removes colour, so the benchmark does not see this. Ground-truth boxes, flip
test for the students (as every lqpose figure is scored), MoveNet on the same box grown to a square, as in
`lqpose bench`. The monochrome copies are written once to --work (PNG, from the decoded originals). Rows: each
model's clean and monochrome scores; then the first checkpoint minus each other model, on monochrome images and
as shot (PCK@0.2, intervals over the people with a labelled torso, as everywhere in lqpose).

    python benchmarks/grayscale.py                                       # the bundle and MoveNet
    python benchmarks/grayscale.py --checkpoint "gray=runs/lspet/r38_grayscale/student.pt" \\
        --checkpoint "control=runs/lspet/r38_control/student.pt" --checkpoint "bundle=default"
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import cv2
import numpy as np

from lqpose.bench.peers import MoveNetPeer
from lqpose.data import read_coco
from lqpose.data.readers import PoseSet, read_lspet
from lqpose.engine.checkpoint import load_student_checkpoint
from lqpose.engine.evaluate import predict, to_layout
from lqpose.imageio import read_rgb, write_image
from lqpose.keypoints import COCO17
from lqpose.metrics.coco import coco_keypoint_ap
from lqpose.metrics.pck import pck_counts
from lqpose.metrics.robustness import paired_bootstrap_mpc

FACE = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
MOVENET = "models/movenet/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"


def monochrome(gt: PoseSet, work: Path) -> PoseSet:
    """`gt` with every image replaced by its luma copy under `work` (written once, lossless)."""
    work.mkdir(parents=True, exist_ok=True)
    copies = {}
    for path in sorted({i.image_path for i in gt.instances}):
        out = work / f"{Path(path).stem}.png"
        if not out.exists():
            gray = cv2.cvtColor(read_rgb(path), cv2.COLOR_RGB2GRAY)
            write_image(out, cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB))
        copies[path] = str(out)
    instances = [dataclasses.replace(i, image_path=copies[i.image_path]) for i in gt.instances]
    return dataclasses.replace(gt, instances=instances)


def student_results(path: str, gt: PoseSet) -> list[dict]:
    model, spec, codec = load_student_checkpoint(path, "cpu", for_inference=True)
    people = [i for i in gt.instances if i.num_visible > 0]
    results = predict(model, people, spec, codec, progress=False)
    return results if spec.names == gt.spec.names else to_layout(results, spec, gt.spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", action="append", metavar="NAME=PATH",
                        help="a student to score (repeatable; default: the bundle)")  # fmt: skip
    parser.add_argument("--movenet", default=None, help="MoveNet .tflite (default: the shared copy; 'none': skip)")
    parser.add_argument("--shared", default="../shared/data", type=Path)
    parser.add_argument("--work", default="runs/results/grayscale", type=Path, help="where the monochrome copies go")
    args = parser.parse_args()
    students = dict(c.split("=", 1) for c in args.checkpoint or ["the bundle (round 26)=default"])
    movenet = args.movenet or str(args.shared / MOVENET)
    mini = args.shared / "coco-mini"
    sets = {
        "LSPET test (500 people)": read_lspet(args.shared / "lspet", "test"),
        "COCO-MINI val, 12 limb joints (66 people)": read_coco(
            mini / "annotations/person_keypoints_val2017.json", mini / "val2017"
        ).only_joints([n for n in COCO17.names if n not in FACE]),
    }
    models = {name: (lambda g, p=path: student_results(p, g)) for name, path in students.items()}
    if movenet != "none" and Path(movenet).is_file():
        peer = MoveNetPeer(movenet)
        models["MoveNet Lightning (int8)"] = lambda g: peer.predict(g.instances, g.spec, progress=False)
    for title, gt in sets.items():
        gray = monochrome(gt, args.work / title.split(" ")[0].lower().replace("-", "_"))
        scores, hits = {}, {}
        for name, run in models.items():
            for condition, data in (("as shot", gt), ("monochrome", gray)):
                results = run(data)
                h, totals = pck_counts(data, results)
                hits[name, condition] = h
                scores[name, condition] = (h.sum() / totals.sum(), coco_keypoint_ap(data, results)["AP"])
        print(f"\n### {title}: as shot and in monochrome (ground-truth boxes)\n")
        print("| model | PCK@0.2 as shot | AP as shot | PCK@0.2 monochrome | AP monochrome | PCK lost |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in models:
            (pc, ac), (pm, am) = scores[name, "as shot"], scores[name, "monochrome"]
            print(f"| {name} | {pc:.3f} | {ac:.3f} | {pm:.3f} | {am:.3f} | {pc - pm:+.3f} |")
        first, *others = models
        if others:
            print(f"\n{first} minus each model, PCK@0.2 with its paired 95 % interval over {len(totals)} people:\n")
            print("| minus | monochrome | as shot |")
            print("| --- | ---: | ---: |")
            for other in others:
                cells = []
                for condition in ("monochrome", "as shot"):
                    d = paired_bootstrap_mpc(hits[first, condition][None], hits[other, condition][None], totals,
                                             np.ones(1))  # fmt: skip
                    cells.append(f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]")
                print(f"| {other} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
