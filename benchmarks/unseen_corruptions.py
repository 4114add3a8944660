"""How do the bundled model and MoveNet hold up under corruptions lqpose never trained on? Printed side by side.

The corruptions are imagecorruptions 1.1.2's (Michaelis et al. 2019, the code behind COCO-C and the other -C
benchmarks), in two groups: types with no counterpart among lqpose's 16 (zoom blur, snow, frost, spatter, saturate,
speckle noise: *unseen*), and imagecorruptions' own implementations of kinds lqpose trains on (noise, blur,
brightness, contrast, pixelate, JPEG: *same kind, another implementation*). elastic_transform is left out: it moves
image content, so the annotated joints would no longer be where the joints are; glass_blur, gaussian_blur and fog
do not run with today's scikit-image / numpy.

Each full image is corrupted at its native resolution (numpy's global generator seeded per image, type and severity,
as imagecorruptions draws from it; scikit-image's random_noise, behind impulse_noise, given the same seed) and the
people are cropped with their ground-truth boxes, as `lqpose make-bench` does with lqpose's own types. Scored:
PCK@0.2 over the 12 limb joints (torso = right shoulder to left hip), per type the mean over severities 1-5, mPC the
mean over a group's types, and the first model minus each other one with a 95 % interval from resampling the people
(paired_bootstrap_mpc), per group and for the *colour pair* (saturate and brightness, the global colour shifts a
camera's white balance and gain make). lqpose students run as `lqpose.load()` runs them (flip test; an .onnx through
ONNX Runtime, a checkpoint through torch); MoveNet Lightning int8 through ai-edge-litert, one pass on a square crop.
Every model sees the same corrupted images.

imagecorruptions pulls the GUI opencv-python and old scikit-image calls; run it from its own environment:
    python -m venv --system-site-packages venv-ic && venv-ic/bin/pip install --no-deps imagecorruptions==1.1.2
    venv-ic/bin/python benchmarks/unseen_corruptions.py [--people 500] [--severities 1 2 3 4 5] [--sets lspet coco]
    venv-ic/bin/python benchmarks/unseen_corruptions.py --checkpoint "colour=runs/lspet/r39_color/student.onnx" \
        --checkpoint "control=runs/lspet/r39_control/student.onnx" --checkpoint "bundle=default"
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import tempfile
from pathlib import Path

import numpy as np

from lqpose.bench.peers import build_peer
from lqpose.bench.run import CheckpointModel, OnnxModel
from lqpose.data.readers import PoseSet, read_coco, read_lspet
from lqpose.degrade.corruptions import corrupt_seeded
from lqpose.imageio import read_rgb, write_image
from lqpose.keypoints import COCO17
from lqpose.metrics.pck import pck_counts
from lqpose.metrics.robustness import paired_bootstrap_mpc
from lqpose.model_files import DEFAULT_ONNX

UNSEEN = ["zoom_blur", "snow", "frost", "spatter", "saturate", "speckle_noise"]
SAME_KIND = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "motion_blur", "brightness", "contrast",
             "pixelate", "jpeg_compression"]  # fmt: skip
COLOUR = ["saturate", "brightness"]  # one of each group: the global colour shifts of a camera's white balance and gain
GROUPS = {"unseen": UNSEEN, "same kind": SAME_KIND, "all": UNSEEN + SAME_KIND, "colour pair": COLOUR}
MOVENET = "models/movenet/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"


def corruption_seed(image: str, name: str, severity: int) -> int:
    """A 32-bit seed per (image, type, severity): numpy's legacy global generator takes no more."""
    return int.from_bytes(hashlib.sha256(f"{Path(image).name}|{name}|{severity}".encode()).digest()[:4], "little")


def corrupted_split(people: list, name: str, severity: int, folder: Path) -> list:
    """The people with their images corrupted by imagecorruptions' `name` at `severity`, written under `folder`
    (lqpose's ic_* degradation types make the same call, seeded the same way: lqpose.degrade.corruptions)."""
    out, done = [], {}
    for inst in people:
        if inst.image_path not in done:
            img = read_rgb(inst.image_path)
            lq = corrupt_seeded(img, name, severity, corruption_seed(inst.image_path, name, severity))
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
    """Per type, each model's PCK@0.2 (mean over severities); per group, each model's mPC; then the first model minus
    each other one, per group, with its paired 95 % interval over the people."""
    print(f"\n{title}: {len(people)} people, severities {severities}", flush=True)
    gt = dataclasses.replace(gt, instances=people)  # the people scored are the people predicted
    clean = {m: clean_pck(gt, people, model) for m, model in models.items()}
    scored = score_set(gt, people, models, severities)
    names = list(models)
    print("| type | group | " + " | ".join(names) + " |")
    print("| --- | --- |" + " ---: |" * len(names))
    print("| clean | | " + " | ".join(f"{clean[m]:.3f}" for m in names) + " |")
    for group, types in (("unseen", UNSEEN), ("same kind", SAME_KIND)):
        for n in types:
            print(f"| {n} | {group} | " + " | ".join(f"{scored['grid'][m][n]:.3f}" for m in names) + " |")
    for group, types in GROUPS.items():  # every type has the same severities: a plain mean is the mPC
        print(f"| **mPC, {group}** | | " + " | ".join(f"{np.mean([scored['grid'][m][n] for n in types]):.3f}"
                                                    for m in names) + " |")  # fmt: skip
    first, *others = names
    print(f"\n{first} minus each model, PCK@0.2 with its paired 95 % interval over {len(scored['totals'])} people:\n")
    print("| minus | clean | " + " | ".join(f"mPC, {g}" for g in GROUPS) + " |")
    print("| --- |" + " ---: |" * (len(GROUPS) + 1))
    for other in others:
        cells = [f"{clean[first] - clean[other]:+.3f}"]
        for types in GROUPS.values():
            rows = [i for i, s in enumerate(scored["splits"]) if s in types]
            w = np.full(len(rows), 1.0 / len(rows))
            d = paired_bootstrap_mpc(scored["hits"][first][rows], scored["hits"][other][rows], scored["totals"], w)
            cells.append(f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]")
        print(f"| {other} | " + " | ".join(cells) + " |", flush=True)


def build_models(checkpoints: list[str] | None, movenet: str) -> dict:
    """NAME=PATH students (an .onnx, a checkpoint, or `default`: the bundle's export), then MoveNet unless 'none'."""
    models = {}
    for text in checkpoints or ["lqpose (bundle)=default"]:
        name, sep, path = text.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--checkpoint {text!r}: expected NAME=PATH")
        if path == "default":
            path = str(DEFAULT_ONNX)
        if not Path(path).is_file():
            raise SystemExit(f"--checkpoint {name}: {path}: no such file")
        models[name] = OnnxModel(path) if path.endswith(".onnx") else CheckpointModel(path)
    if movenet != "none":
        if not Path(movenet).is_file():
            raise SystemExit(f"--movenet {movenet}: no such file (pass 'none' to leave MoveNet out)")
        models["MoveNet"] = build_peer(f"movenet:{movenet}")
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data")
    parser.add_argument("--people", type=int, default=500, help="the first N LSPET test people")
    parser.add_argument("--severities", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--sets", nargs="+", choices=("lspet", "coco"), default=["lspet", "coco"])
    parser.add_argument("--checkpoint", action="append", metavar="NAME=PATH",
                        help="a student: .onnx, checkpoint or 'default' (repeatable; default: the bundle)")  # fmt: skip
    parser.add_argument("--movenet", default=None, help="MoveNet .tflite (default: the shared copy; 'none': skip)")
    args = parser.parse_args()
    models = build_models(args.checkpoint, args.movenet or str(args.shared / MOVENET))
    if len(models) < 2:
        raise SystemExit("nothing to compare: give two students, or leave MoveNet in")
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
