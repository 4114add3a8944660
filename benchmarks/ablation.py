"""CKD-LQPose ablation, end to end: train every config of a folder (the WQ teacher first), evaluate each
deployable student on WQ and LQ versions of the validation set, print and write one markdown table.

    python benchmarks/ablation.py                       # configs/ablation/*.yaml on LSPET, table in runs/ablation/
    python benchmarks/ablation.py --skip-train          # re-evaluate finished runs only

A run whose last checkpoint already reached its step budget is not trained again; an interrupted one resumes.
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from lqpose.codec import codec_for
from lqpose.config import load_config
from lqpose.data.readers import load_poseset
from lqpose.engine.checkpoint import load_checkpoint, load_student_checkpoint
from lqpose.engine.evaluate import predict, score
from lqpose.engine.train import TrainConfig, train
from lqpose.files import write_text
from lqpose.metrics import pck
from lqpose.models.student import count_flops, count_parameters

QUALITY_TYPES = ("gaussian_blur", "gaussian_noise", "low_light", "jpeg", "downscale")


def parse_split(text: str) -> tuple[str, tuple[str, int] | None]:
    if text == "clean":
        return text, None
    if text == "chain":
        return text, ("chain", 3)
    name, sev = text.split(":")
    return text, (name, int(sev))


def ensure_trained(path: Path, skip: bool) -> TrainConfig:
    cfg = load_config(TrainConfig, path)
    last = Path(cfg.out_dir) / "last.pt"
    done = last.is_file() and load_checkpoint(last)["step"] >= cfg.optim.steps
    if not done and not skip:
        print(f"training {path.name} -> {cfg.out_dir}", flush=True)
        train(cfg, resume=str(last) if last.is_file() else None)
    return cfg


def step_ms(run_dir: Path) -> float:
    rows = list(csv.DictReader(open(run_dir / "log.csv")))
    last = rows[-1]
    return 1000 * float(last["time"]) / max(1, int(last["step"]) - int(rows[0]["step"]) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=sorted(str(p) for p in Path("configs/ablation").glob("*.yaml")))
    parser.add_argument(
        "--splits", default="clean,gaussian_blur:3,gaussian_noise:3,low_light:3,jpeg:4,downscale:4,chain"
    )
    parser.add_argument("--limit", type=int, default=0, help="evaluate on the first N validation people only")
    parser.add_argument("--out", default="runs/ablation/ablation.md")
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    paths = sorted((Path(p) for p in args.configs), key=lambda p: (p.stem != "teacher", p.stem))
    splits = [parse_split(s) for s in args.splits.split(",")]
    rows, quality_lines = [], []
    for path in paths:
        cfg = ensure_trained(path, args.skip_train)
        run = Path(cfg.out_dir)
        if not (run / "student.pt").is_file():
            print(f"{path.name}: no trained student in {run}, skipped")
            continue
        model, spec, codec = load_student_checkpoint(run / "student.pt")
        val = load_poseset(cfg.data.format, cfg.data.val_ann, cfg.data.val_images, cfg.data.keypoints)
        people = [i for i in val.instances if i.num_visible > 0]
        if args.limit:
            people = people[: args.limit]
            val.instances = people
        codec = codec_for(tuple(cfg.data.input_size), cfg.data.sigma or None)
        t0 = time.perf_counter()
        row = {"config": path.stem}
        for name, degradation in splits:
            res = predict(model, people, spec, codec, 64, True, degradation, progress=False)
            row[f"{name} AP"] = score(val, res)["AP"]
            row[f"{name} PCK"] = pck(val, res)
        lq = [k for k in row if k.endswith(" AP") and not k.startswith("clean")]
        row["LQ mean AP"] = float(np.mean([row[k] for k in lq]))
        row["params (M)"] = count_parameters(model) / 1e6
        row["GFLOPs"] = count_flops(model, tuple(cfg.data.input_size))
        row["train ms/step"] = step_ms(run)
        rows.append(row)
        if model.quality is not None:
            q, sev = [], []
            sub = people[:200]
            for s_ in (0, 1, 3, 5):
                for t in QUALITY_TYPES if s_ else ("clean",):
                    res = predict(model, sub, spec, codec, 64, False, None if s_ == 0 else (t, s_), progress=False)
                    q += [r["quality"] for r in res]
                    sev += [s_] * len(res)
            rho = spearmanr(q, sev).statistic
            quality_lines.append(
                f"- {path.stem}: Spearman rank correlation of the quality score with severity "
                f"(clean = 0; {', '.join(QUALITY_TYPES)} at 1/3/5; {len(sub)} people): {rho:.3f}"
            )
        print(f"{path.stem}: evaluated in {time.perf_counter() - t0:.0f} s", flush=True)
    keys = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(keys) + " |", "| " + " | ".join("---" for _ in keys) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(v if isinstance(v, str) else f"{v:.3f}" for v in r.values()) + " |")
    text = "\n".join(lines) + "\n\n" + "\n".join(quality_lines) + "\n"
    print(text)
    write_text(args.out, text)


if __name__ == "__main__":
    main()
