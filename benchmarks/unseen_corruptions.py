"""How do the bundled model and MoveNet hold up under corruptions lqpose never trained on? Printed side by side.

The corruptions are imagecorruptions 1.1.2's (Michaelis et al. 2019, the code behind COCO-C and the other -C
benchmarks), in two groups: types with no counterpart among lqpose's 16 (zoom blur, snow, frost, spatter, saturate,
speckle noise: *unseen*), and imagecorruptions' own implementations of kinds lqpose trains on (noise, blur,
brightness, contrast, pixelate, JPEG: *same kind, another implementation*). elastic_transform is left out: it moves
image content, so the annotated joints would no longer be where the joints are; glass_blur, gaussian_blur and fog
do not run with today's scikit-image / numpy.

Each full image is corrupted at its native resolution (numpy's global generator seeded per image, type and
severity, as imagecorruptions draws from it) and the people are cropped with their ground-truth boxes, as `lqpose
make-bench` does with lqpose's own types. Scored: PCK@0.2 over the 12 limb joints (torso = right shoulder to left
hip), per type the mean over severities 1-5, mPC the mean over a group's types, and the bundle minus MoveNet with a
95 % interval from resampling the people (paired_bootstrap_mpc). The bundle runs as `lqpose.load()` does (ONNX
Runtime, flip test); MoveNet Lightning int8 through ai-edge-litert, one pass on a square crop.

imagecorruptions pulls the GUI opencv-python and old scikit-image calls; run it from its own environment:
    python -m venv --system-site-packages venv-ic && venv-ic/bin/pip install --no-deps imagecorruptions==1.1.2
    venv-ic/bin/python benchmarks/unseen_corruptions.py [--people 500] [--severities 1 2 3 4 5] [--sets lspet coco]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import tempfile
import warnings
from pathlib import Path

import numpy as np

from lqpose.bench.peers import build_peer
from lqpose.bench.run import OnnxModel
from lqpose.data.readers import PoseSet, read_coco, read_lspet
from lqpose.imageio import read_rgb, write_image
from lqpose.keypoints import COCO17
from lqpose.metrics.pck import pck_counts
from lqpose.metrics.robustness import paired_bootstrap_mpc
from lqpose.model_files import DEFAULT_ONNX

UNSEEN = ["zoom_blur", "snow", "frost", "spatter", "saturate", "speckle_noise"]
SAME_KIND = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "motion_blur", "brightness", "contrast",
             "pixelate", "jpeg_compression"]  # fmt: skip


def corruption_seed(image: str, name: str, severity: int) -> int:
    """A 32-bit seed per (image, type, severity): numpy's legacy global generator takes no more."""
    return int.from_bytes(hashlib.sha256(f"{Path(image).name}|{name}|{severity}".encode()).digest()[:4], "little")


def corrupted_split(people: list, name: str, severity: int, folder: Path) -> list:
    """The people with their images corrupted by imagecorruptions' `name` at `severity`, written under `folder`."""
    from imagecorruptions import corrupt

    out, done = [], {}
    for inst in people:
        if inst.image_path not in done:
            img = read_rgb(inst.image_path)
            np.random.seed(corruption_seed(inst.image_path, name, severity))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lq = np.asarray(corrupt(img, corruption_name=name, severity=severity), np.uint8)
            if lq.shape != img.shape:  # imagecorruptions returns some types at another size: back to the original
                import cv2

                lq = cv2.resize(lq, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_AREA)
            path = folder / f"{Path(inst.image_path).stem}.png"
            write_image(path, lq)
            done[inst.image_path] = str(path)
        out.append(dataclasses.replace(inst, image_path=done[inst.image_path]))
    return out


def score_set(gt: PoseSet, people: list, models: dict, severities: list[int]) -> dict:
    """{group: {model: {type: mean PCK over severities}}}, and per model the (splits, people) hit counts."""
    hits: dict[str, list[np.ndarray]] = {m: [] for m in models}
    grid: dict[str, dict[str, list[float]]] = {m: {} for m in models}
    totals = None
    splits = []
    with tempfile.TemporaryDirectory(prefix="lqpose-unseen-") as tmp:
        for name in UNSEEN + SAME_KIND:
            for severity in severities:
                folder = Path(tmp) / f"{name}_{severity}"
                split = corrupted_split(people, name, severity, folder)
                for m, model in models.items():
                    results = model.predict(split, gt.spec, progress=False)
                    h, t = pck_counts(gt, results)
                    hits[m].append(h)
                    totals = t
                    grid[m].setdefault(name, []).append(h.sum() / max(t.sum(), 1))
                splits.append(name)
                for p in folder.iterdir():
                    p.unlink()
            print(f"  {name}: " + ", ".join(f"{m} {np.mean(grid[m][name]):.3f}" for m in models), flush=True)
    return {"grid": {m: {k: float(np.mean(v)) for k, v in g.items()} for m, g in grid.items()},
            "hits": {m: np.stack(h) for m, h in hits.items()}, "totals": totals, "splits": splits}  # fmt: skip


def clean_pck(gt: PoseSet, people: list, model) -> float:
    h, t = pck_counts(gt, model.predict(people, gt.spec, progress=False))
    return h.sum() / max(t.sum(), 1)


def report(title: str, gt: PoseSet, people: list, models: dict, severities: list[int]) -> None:
    print(f"\n{title}: {len(people)} people, severities {severities}", flush=True)
    gt = dataclasses.replace(gt, instances=people)  # the people scored are the people predicted
    clean = {m: clean_pck(gt, people, model) for m, model in models.items()}
    scored = score_set(gt, people, models, severities)
    a, b = list(models)
    print(f"| type | group | {a} | {b} | {a} - {b} |")
    print("| --- | --- | ---: | ---: | ---: |")
    print(f"| clean | | {clean[a]:.3f} | {clean[b]:.3f} | {clean[a] - clean[b]:+.3f} |")
    for group, names in (("unseen", UNSEEN), ("same kind", SAME_KIND)):
        for n in names:
            ga, gb = scored["grid"][a][n], scored["grid"][b][n]
            print(f"| {n} | {group} | {ga:.3f} | {gb:.3f} | {ga - gb:+.3f} |")
    for group, names in (("unseen", UNSEEN), ("same kind", SAME_KIND), ("all", UNSEEN + SAME_KIND)):
        rows = [i for i, s in enumerate(scored["splits"]) if s in names]
        w = np.full(len(rows), 1.0 / len(rows))  # every type has the same severities: a plain mean is the mPC
        mpc = {m: float(np.mean([scored["grid"][m][n] for n in names])) for m in models}
        d = paired_bootstrap_mpc(scored["hits"][a][rows], scored["hits"][b][rows], scored["totals"], w)
        print(f"| **mPC, {group}** | | {mpc[a]:.3f} | {mpc[b]:.3f} | {d['diff']:+.3f} [{d['lo']:+.3f}, "
              f"{d['hi']:+.3f}] |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data")
    parser.add_argument("--people", type=int, default=500, help="the first N LSPET test people")
    parser.add_argument("--severities", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--sets", nargs="+", choices=("lspet", "coco"), default=["lspet", "coco"])
    args = parser.parse_args()
    movenet = args.shared / "models/movenet/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
    models = {"lqpose (bundle)": OnnxModel(str(DEFAULT_ONNX)), "MoveNet": build_peer(f"movenet:{movenet}")}
    if "lspet" in args.sets:
        lspet = read_lspet(args.shared / "lspet", "test")
        people = [i for i in lspet.instances if i.num_visible > 0][: args.people]
        report("LSPET test", lspet, people, models, args.severities)
    if "coco" in args.sets:
        coco = args.shared / "coco-mini"
        gt = read_coco(coco / "annotations/person_keypoints_val2017.json", coco / "val2017", COCO17)
        report("COCO-MINI val (12 limb joints)", gt, [i for i in gt.instances if i.num_visible > 0], models,
               args.severities)  # fmt: skip


if __name__ == "__main__":
    main()
