"""WiSE-FT probe: move a YOLOX-started student's backbone back toward the COCO-trained detector weights it started
from (Wortsman et al. 2022, "Robust fine-tuning of zero-shot models"; the head stays the student's) and print, per
mixing weight alpha (1 = the student), what the selection rule reads — LSPET val PCK@0.2 / AP under the random
camera chain — and a COCO-domain check the student must not have trained on: COCO-MINI *train*'s 12 limb joints,
clean and the mean over the 16 degradation types at severity 3 (COCO-MINI val stays the table's). Since round 17
the bundle trains on COCO-MINI train (`data.extra_train`), so the round-16 figures came from the round-14 bundle:

    python benchmarks/wise_ft.py --student runs/lspet/r14_ckd_heat_kd_separable_long_yolox_nano_256/student.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

from results import SHARED, coco_mini_limbs

from lqpose.bench.make import make_bench
from lqpose.bench.report import summarize
from lqpose.bench.run import CheckpointModel, run_bench
from lqpose.data.readers import read_lspet
from lqpose.engine.checkpoint import load_model_file, save_checkpoint
from lqpose.engine.evaluate import run_eval
from lqpose.models.ckd import export_student
from lqpose.models.student import StudentConfig, build_student


def interpolate_backbone(student: dict, start: dict, alpha: float) -> dict:
    """alpha * the student's backbone + (1 - alpha) * the starting weights; every other tensor the student's."""
    return {
        k: alpha * v + (1 - alpha) * start[k] if k.startswith("backbone.") and v.is_floating_point() else v
        for k, v in student["model"].items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", required=True, help="a student whose backbone started from --detector and "
                        "that never trained on COCO-MINI train (not the bundle since round 17)")  # fmt: skip
    parser.add_argument("--detector", default=str(SHARED / "models/yolox/yolox_nano.onnx"))
    parser.add_argument("--alphas", default="1,0.9,0.8,0.7,0.5")
    parser.add_argument("--shared", default=str(SHARED))
    parser.add_argument("--out", default="runs/wise_ft")
    args = parser.parse_args()
    shared, out = Path(args.shared), Path(args.out)
    student = load_model_file(args.student)
    cfg = dict(student["config"]["model"])
    if not str(cfg.get("backbone", "")).startswith("yolox"):
        parser.error(f"{args.student}: backbone {cfg.get('backbone')!r} did not start from a YOLOX detector")
    seen = [e.get("ann", "") for e in student["config"].get("data", {}).get("extra_train", [])]
    if any("person_keypoints_train2017" in a for a in seen):
        parser.error(f"{args.student}: trained on COCO-MINI train ({seen}), the people this probe holds out")
    start = build_student(StudentConfig(**{**cfg, "weights": args.detector})).state_dict()

    val = read_lspet(shared / "lspet", "val")
    bench = out / "bench_coco_mini_train_s3"
    make_bench(coco_mini_limbs(shared, "train"), bench, "coco", None, [3], mixed=1, workers=2, progress=False,
               images_dir=shared / "coco-mini/train2017")  # fmt: skip
    print("| alpha | LSPET val chain PCK@0.2 | chain AP | COCO-MINI train clean PCK@0.2 | mPC (severity 3) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for alpha in [float(a) for a in args.alphas.split(",")]:
        path = out / f"alpha_{alpha:.2f}" / "student.pt"
        save_checkpoint(path, export_student({**student, "model": interpolate_backbone(student, start, alpha)}))
        chain = run_eval(val, path.parent / "val_chain", str(path), degradation=("chain", 3))
        model = CheckpointModel(str(path))
        model.name = f"alpha_{alpha:.2f}"
        pck = summarize(run_bench(bench, [model], progress=False)["scores"][model.name], "PCK@0.2")
        print(f"| {alpha:.2f} | {chain['PCK@0.2']:.3f} | {chain['AP']:.3f} | {pck['clean']:.3f} | {pck['mPC']:.3f} |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
