"""The results table of the default model (docs/results.md, README): lqpose's CKD student, baseline student
and WQ teacher against MoveNet Lightning and MediaPipe BlazePose-full, on LSPET test (im09501-im10000) and
COCO-MINI val (12 limb joints), clean and under the benchmark's LQ grid and mixed chains, and on the real
low-light ExLPose sample as captured, with GT boxes.

Everything printed comes from this run. Predictions are cached under --out per model and split, so a rerun
only computes what is missing; a student's cache (and its ONNX export) is keyed by the checkpoint's content
hash, so a retrained checkpoint under the same name is never scored from stale predictions. Run it in an
environment with `lqpose[peers]` (which keeps `onnx` at a release that imports under MediaPipe's protobuf 4),
or leave MediaPipe out. See docs/results.md for the exact commands.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import time
from pathlib import Path

import numpy as np
import torch

from lqpose.bench.make import make_bench, sha256_file
from lqpose.bench.peers import MediaPipePeer, MoveNetPeer, square_crop
from lqpose.bench.report import recipe_difference, seed_summary, summarize, write_report
from lqpose.bench.run import CheckpointModel, PredictionsModel, load_bench, predictions_file, run_bench
from lqpose.data import read_coco
from lqpose.data.readers import read_lspet
from lqpose.data.transforms import crop_person
from lqpose.degrade import DEGRADATIONS
from lqpose.engine.evaluate import predict_heatmaps, with_mirrors
from lqpose.files import write_text
from lqpose.imageio import read_rgb
from lqpose.keypoints import COCO17
from lqpose.metrics.robustness import mpc
from lqpose.models.fuse import compile_for_inference
from lqpose.models.student import count_flops

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MOVENET = "models/movenet/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
EXLPOSE = "mmpose-samples/exlpose/test_exlpose.json"
FACE = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def coco_mini_limbs(shared: Path, split: str = "val"):
    """COCO-MINI val (or train) with the face joints unlabelled, so OKS (COCO sigmas) and PCK use the 12 limb
    joints that LSPET-trained models predict."""
    mini = shared / "coco-mini"
    gt = read_coco(mini / f"annotations/person_keypoints_{split}2017.json", mini / f"{split}2017")
    return gt.only_joints([n for n in COCO17.names if n not in FACE])  # as `lqpose eval` scores an LSPET model


def build_benches(out: Path, shared: Path, severities: list[int], workers: int, exlpose: str) -> dict[str, Path]:
    """The two graded sets (clean + the LQ grid + mixed chains) and, when `exlpose` names its annotation file,
    the real low-light frames as captured (one "real" split)."""
    benches = {"LSPET test": out / "bench_lspet", "COCO-MINI val (limbs)": out / "bench_coco_mini"}
    sources = {
        "LSPET test": (lambda: read_lspet(shared / "lspet", "test"), shared / "lspet", "lspet"),
        "COCO-MINI val (limbs)": (lambda: coco_mini_limbs(shared), shared / "coco-mini/val2017", "coco"),
    }
    if exlpose:
        benches["ExLPose sample (real low light)"] = out / "bench_exlpose"
        sources["ExLPose sample (real low light)"] = (lambda: read_coco(exlpose), Path(exlpose).parent, "exlpose")
    for name, path in benches.items():
        print(f"benchmark {name}: {path}", flush=True)
        read, images, dataset = sources[name]
        make_bench(read(), path, dataset, None, severities, mixed=2, workers=workers, progress=True,
                   images_dir=images)  # fmt: skip
    return benches


def is_real(run: dict) -> bool:
    """A real-capture set: every model was scored on the one "real" split (the frames as captured)."""
    return all(set(scores) == {"real"} for scores in run["scores"].values())


def real_table(bench_name: str, run: dict) -> list[str]:
    """A real-capture set has one split, the images as they are: PCK@0.2 and OKS AP per model."""
    lines = [f"### {bench_name} ({len(run['people'])} people, ground-truth boxes, the frames as captured)", "",
             "| model | PCK@0.2 | AP |", "| --- | ---: | ---: |"]  # fmt: skip
    for model, scores in run["scores"].items():
        pck, ap = summarize(scores, "PCK@0.2")["real"], summarize(scores, "AP")["real"]
        lines.append(f"| {model} | {_f(pck)} | {_f(ap)} |")
    return [*lines, ""]


def cached_predictions(bench: Path, model, folder: Path) -> PredictionsModel:
    """Run `model` on every split of `bench` unless its predictions are all cached in `folder/<name>`."""
    manifest, _ = load_bench(bench)
    target = folder / model.name
    if not all(predictions_file(target, k).is_file() for k in manifest["splits"]):
        t = time.perf_counter()
        run_bench(bench, [model], progress=False, out_predictions=folder)
        print(f"  {model.name}: {len(manifest['splits'])} splits in {time.perf_counter() - t:.0f} s", flush=True)
    return PredictionsModel(str(target))


def real_people(shared: Path, n: int) -> list[tuple[np.ndarray, tuple[float, float, float, float]]]:
    """n real LSPET test people as (whole RGB image, ground-truth box x, y, w, h)."""
    gt = read_lspet(shared / "lspet", "test")
    return [(read_rgb(inst.image_path), inst.bbox) for inst in gt.instances[:n]]


def real_crops(shared: Path, size: tuple[int, int], n: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """n real LSPET test people: normalised student crops (n, 3, H, W) and the peers' square RGB crops."""
    xs, squares = [], []
    for img, box in real_people(shared, n):
        xs.append(crop_person(img, box, size)[0])
        squares.append(square_crop(img, box)[0])
    return np.asarray(xs, np.float32), squares


def interleaved_ms(timers: dict, rounds: int = 5) -> dict:
    """Median per-person ms of each `(fn, items)` over `rounds` passes through its items, every model once per
    round and the order rotated each round, so a load spike or a clock change hits all models alike instead of
    whichever ran at that moment (timed one after another, two copies of one architecture differed by 30 %)."""
    for fn, items in timers.values():
        fn(items[0])  # warm-up: first-call allocation, lazy init
    samples = {key: [] for key in timers}
    keys = list(timers)
    for r in range(rounds):
        for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
            fn, items = timers[key]
            t = time.perf_counter()
            for x in items:
                fn(x)
            samples[key].append((time.perf_counter() - t) / len(items) * 1000)
    return {key: float(np.median(v)) for key, v in samples.items()}


def _as_scored(model, spec, flip_test: bool):
    """One person through `model` the way the accuracy rows scored it: `predict_heatmaps`, the function
    evaluation, `lqpose infer` and the API call, with the flip test (the crop and its mirror as one batch of two,
    averaged) or one pass. Crops and decoding are left out: they are the same for every runtime."""

    def forward(x):
        return predict_heatmaps(model, torch.from_numpy(x[None]), spec, flip_test)

    return forward


def cost_rows(students: dict[str, CheckpointModel], onnx_dir: Path | None, peers: dict, shared: Path) -> dict:
    """Params, GFLOPs (as trained) and batch-1 per-person latency on the same real crops, each student timed as
    its accuracy rows were scored (flip test or one pass, `_as_scored`), torch as `lqpose.load(runtime="torch")` runs
    it (BatchNorm folded into the convolutions), every runtime timed in the same interleaved rounds
    (`interleaved_ms`)."""
    rows, timers, crops = {}, {}, {}
    for name, m in students.items():
        size = tuple(m.codec.input_size)
        if size not in crops:  # students of one input size share the crops (read once)
            crops[size] = real_crops(shared, size, 50)[0]
        xs = crops[size]
        flip = m.flip_test
        timers[name, "torch_ms"] = (_as_scored(m.model.eval(), m.spec, flip), list(xs))
        # what `lqpose.load(compile=True)` runs (a copy: compiling replaces the forward methods), built for the
        # batch it will see: one person, or one person and its mirror
        example = torch.from_numpy(xs[:1])
        example = with_mirrors(example) if flip else example
        compiled = compile_for_inference(copy.deepcopy(m.model), example)
        timers[name, "compiled_ms"] = (_as_scored(compiled, m.spec, flip), list(xs))
        onnx = onnx_dir / f"{m.name}.onnx" if onnx_dir else None
        if onnx is not None and not onnx.is_file():
            try:
                from lqpose.export import export_onnx

                export_onnx(m.path, onnx)
            except ImportError:
                print(f"  {onnx}: missing and `onnx` cannot import here; no ONNX Runtime timing for {name}")
        if onnx is not None and onnx.is_file():
            from lqpose.onnx_model import OnnxPoseModel

            timers[name, "ort_ms"] = (_as_scored(OnnxPoseModel(onnx), m.spec, flip), list(xs))
        # FLOPs of the folded model: the counter counts convolutions, which the fold leaves as they were
        rows[name] = {"params_M": m.params / 1e6, "GFLOPs": count_flops(m.model, size), "torch_ms": None,
                      "compiled_ms": None, "ort_ms": None, "input": f"{size[0]}x{size[1]}",
                      "passes": "flip test (2)" if flip else "1"}  # fmt: skip
    squares = real_crops(shared, (96, 128), 50)[1] if peers else []  # the peers' square crops, read once
    for name, peer in peers.items():
        timers[name, "runtime_ms"] = (peer.coco17, squares)
        rows[name] = {"params_M": None, "GFLOPs": None, "torch_ms": None, "compiled_ms": None,
                      "ort_ms": None, "runtime_ms": None, "input": peer.input, "passes": "1"}  # fmt: skip
    for (name, column), ms in interleaved_ms(timers).items():
        rows[name][column] = ms
    return rows


def _f(v, digits: int = 3) -> str:
    return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def _ms(pair: tuple[float, float]) -> str:
    mean, sd = pair
    return _f(mean) if np.isnan(sd) else f"{mean:.3f} ± {sd:.3f}"


def recipe_tables(runs: dict, recipes: dict[str, list[str]], pairs: list[tuple[str, str]] | None = None) -> list[str]:
    """Mean ± sample sd over seeds per recipe, then each pair's difference (default: the first recipe minus each
    other one) ± its standard error: a gap smaller than about two standard errors is not a measured difference."""
    keys = [("PCK@0.2", "clean"), ("PCK@0.2", "mPC"), ("PCK@0.2", "mixed"), ("AP", "clean"), ("AP", "mPC")]
    head = "| clean PCK@0.2 | mPC (PCK) | mixed PCK | clean AP | mPC (AP) |"
    lines = ["### Recipes over seeds (mean ± sample standard deviation)", "",
             "| set | recipe | seeds " + head, "| --- | --- | ---: |" + " ---: |" * len(keys)]  # fmt: skip
    diffs = []
    first, *others = recipes
    pairs = pairs or [(first, other) for other in others]
    for bench_name, run in runs.items():
        summ = {(r, metric): seed_summary(run["scores"], models, metric)
                for r, models in recipes.items() for metric in ("PCK@0.2", "AP")}  # fmt: skip
        for r, models in recipes.items():
            cells = " | ".join(_ms(summ[r, metric][key]) for metric, key in keys)
            lines.append(f"| {bench_name} | {r} | {len(models)} | {cells} |")
        for a, b in pairs:
            cells = []
            for metric, key in keys:
                d, se = recipe_difference(summ[a, metric], summ[b, metric], key)
                d = round(d, 3) + 0.0  # no "-0.000"
                cells.append(f"{d:+.3f} ± {se:.3f}" if not np.isnan(se) else f"{d:+.3f}")
            diffs.append(f"| {bench_name} | {a} − {b} | " + " | ".join(cells) + " |")
    if diffs:
        note = "Difference of the seed means ± its standard error (a one-seed recipe borrows the other's sd):"
        lines += ["", note, "",
                  "| set | difference " + head, "| --- | --- |" + " ---: |" * len(keys), *diffs]  # fmt: skip
    return [*lines, ""]


def type_tables(runs: dict, types: list[str], note: str) -> list[str]:
    """PCK@0.2 per listed degradation type (mean over the grid's severities) and the mean over those types."""
    lines = []
    for bench_name, run in runs.items():
        lines += [f"PCK@0.2 per type, {note} ({bench_name}; mean over severities):", "",
                  "| model | " + " | ".join(types) + " | mean |", "| --- |" + " ---: |" * (len(types) + 1)]  # fmt: skip
        for model, scores in run["scores"].items():
            grid = summarize(scores, "PCK@0.2")["grid"]
            missing = [t for t in types if t not in grid]
            if missing:
                raise KeyError(f"{bench_name}: no split for {missing} in {model}'s scores")
            cells = [_f(mpc({t: grid[t]})) for t in types] + [_f(mpc({t: grid[t] for t in types}))]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def cost_table(costs: dict) -> list[str]:
    """The cost rows as markdown, with each runtime's ratio to MoveNet's time in the same run."""
    ref = next((c.get("runtime_ms") for name, c in costs.items() if name.startswith("MoveNet")), None)
    lines = ["### Cost on this CPU (batch 1, one person per call, each model as its accuracy rows were scored; "
             "50 real LSPET crops)", "",
              "Median of 5 interleaved rounds (every runtime once per round); passes: the flip test runs the crop "
              "and its mirror as one batch of two, 1 is one forward pass; torch: eager, as "
              "`lqpose.load(runtime=\"torch\")` runs it; torch.compile: `lqpose.load(compile=True)`; ONNX Runtime: "
              "`lqpose.load`'s default on a CPU. × MoveNet: the ratio to MoveNet's time in the same run.", "",
              "| model | input | passes | params (M) | GFLOPs | torch ms/person | torch.compile ms/person "
              "| ONNX Runtime ms/person | own runtime ms/person | torch × MoveNet | torch.compile × MoveNet "
              "| ONNX Runtime × MoveNet |",
              "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    runtimes = ("torch_ms", "compiled_ms", "ort_ms")
    for name, c in costs.items():
        ratios = " | ".join(_f(None if ref is None or c.get(k) is None else c[k] / ref, 2) for k in runtimes)
        times = " | ".join(_f(c.get(k), 2) for k in runtimes)
        lines.append(f"| {name} | {c['input']} | {c.get('passes', '1')} | {_f(c['params_M'], 2)} | "
                     f"{_f(c['GFLOPs'], 3)} | {times} | "
                     f"{_f(c.get('runtime_ms'), 2)} | {ratios} |")  # fmt: skip
    return lines


def tables(runs: dict, costs: dict, severities: list[int], families: bool = True,
           recipes: dict[str, list[str]] | None = None, pairs: list[tuple[str, str]] | None = None,
           types: list[str] | None = None, types_note: str = "") -> str:  # fmt: skip
    real = {name: run for name, run in runs.items() if is_real(run)}
    runs = {name: run for name, run in runs.items() if name not in real}
    lines = recipe_tables(runs, recipes, pairs) if recipes else []
    for bench_name, run in runs.items():
        lines += [f"### {bench_name} ({len(run['people'])} people, ground-truth boxes)", "",
                  "| model | clean PCK@0.2 | mPC (PCK) | rPC (PCK) | mixed PCK "
                  "| clean AP | mPC (AP) | rPC (AP) | mixed AP |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
        for model, scores in run["scores"].items():
            p, a = summarize(scores, "PCK@0.2"), summarize(scores, "AP")
            lines.append(f"| {model} | {_f(p['clean'])} | {_f(p['mPC'])} | {_f(p['rPC'])} | {_f(p['mixed'])} | "
                         f"{_f(a['clean'])} | {_f(a['mPC'])} | {_f(a['rPC'])} | {_f(a['mixed'])} |")  # fmt: skip
        lines.append("")
        if not families:
            continue
        fams = sorted({f for s in run["scores"].values() for f in summarize(s, "PCK@0.2")["families"]})
        lines += [f"PCK@0.2 per degradation family ({bench_name}):", "",
                  "| model | " + " | ".join(fams) + " |", "| --- |" + " ---: |" * len(fams)]  # fmt: skip
        for model, scores in run["scores"].items():
            fam = summarize(scores, "PCK@0.2")["families"]
            lines.append(f"| {model} | " + " | ".join(_f(fam.get(f)) for f in fams) + " |")
        lines.append("")
    if types:
        lines += type_tables(runs, types, types_note)
    for bench_name, run in real.items():
        lines += real_table(bench_name, run)
    lines += cost_table(costs)
    lines += ["", f"Grid: 16 degradation types x severities {severities} + 2 mixed random-chain splits per set, "
              "seed 0 (`lqpose make-bench`); mPC = mean over the grid, rPC = mPC / clean."]  # fmt: skip
    return "\n".join(lines)


def replace_block(path: Path, text: str, block: str = "results") -> None:
    """Replace the text between the `block` markers of a markdown file (atomically)."""
    src = path.read_text()
    pattern = re.compile(rf"(<!-- {re.escape(block)}:start -->\n).*?(<!-- {re.escape(block)}:end -->)", re.S)
    if not pattern.search(src):
        raise ValueError(f"{path}: no <!-- {block}:start --> / <!-- {block}:end --> markers")
    write_text(path, pattern.sub(lambda m: m.group(1) + text + "\n" + m.group(2), src))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", action="append", default=[], metavar="NAME=CKPT",
                        help="lqpose model to rank, e.g. 'CKD student=runs/lspet/ckd/student.pt'")  # fmt: skip
    parser.add_argument("--recipe", action="append", default=[], metavar="NAME=STUDENT|STUDENT|...",
                        help="group --student names trained the same way with different seeds into one recipe; "
                             "prints mean ± sd over seeds and the first recipe minus the others")  # fmt: skip
    parser.add_argument("--compare", action="append", default=[], metavar="RECIPE_A|RECIPE_B",
                        help="a recipe difference to print (default: first recipe minus each other)")  # fmt: skip
    parser.add_argument("--one-pass", action="append", default=[], metavar="NAME",
                        help="score (and time) this --student with one forward pass per person instead of the "
                             "flip test; list the same checkpoint twice under two names to get both rows")  # fmt: skip
    parser.add_argument("--types", default="", help="comma-separated degradation types for a per-type PCK table")
    parser.add_argument("--types-note", default="selected types", help="what the --types have in common (a title)")
    parser.add_argument("--movenet", default=str(SHARED / MOVENET), help="MoveNet .tflite ('' to leave it out)")
    parser.add_argument("--no-mediapipe", action="store_true")
    parser.add_argument("--exlpose", default=str(SHARED / EXLPOSE),
                        help="ExLPose annotation json (real low light, as captured; '' to leave it out)")  # fmt: skip
    parser.add_argument("--shared", default=str(SHARED))
    parser.add_argument("--out", default="runs/results")
    parser.add_argument("--onnx-dir", help="exported students, NAME.onnx (default: OUT/onnx)")
    parser.add_argument("--severities", default="1,3,5")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-docs", action="store_true", help="update docs/results.md and the README block")
    parser.add_argument("--costs-only", action="store_true",
                        help="only re-time the cost table (no benchmark predictions); printed and written to "
                             "OUT/costs.md and OUT/costs.json")  # fmt: skip
    parser.add_argument(
        "--block",
        default="results",
        help="which marked block --write-docs rewrites (<!-- BLOCK:start --> ... <!-- BLOCK:end -->)",
    )
    args = parser.parse_args()
    shared, out = Path(args.shared), Path(args.out)
    severities = [int(s) for s in args.severities.split(",")]
    student_paths = dict(item.partition("=")[::2] for item in args.student)  # display name -> checkpoint
    if set(args.one_pass) - set(student_paths):
        parser.error(f"--one-pass: {sorted(set(args.one_pass) - set(student_paths))} not among the --student names")
    recipes = {}
    for item in args.recipe:
        name, _, members = item.partition("=")
        recipes[name] = [m.strip() for m in members.split("|")]
        unknown = [m for m in recipes[name] if m not in student_paths]
        if unknown:
            parser.error(f"--recipe {name}: {unknown} not among the --student names")
    pairs = [tuple(c.split("|")) for c in args.compare]  # checked before the long run, not after it
    for pair in pairs:
        if len(pair) != 2 or not set(pair) <= set(recipes):
            parser.error(f"--compare {'|'.join(pair)}: expected two --recipe names, A|B")
    if args.costs_only and args.write_docs:
        parser.error("--costs-only prints a cost table of its own; the docs blocks need the whole run")
    types = [t for t in args.types.split(",") if t]
    if set(types) - set(DEGRADATIONS):
        parser.error(f"--types: unknown degradation types {sorted(set(types) - set(DEGRADATIONS))}")
    benches = {} if args.costs_only else build_benches(out, shared, severities, args.workers, args.exlpose)

    students = {}
    for name, path in student_paths.items():
        m = CheckpointModel(path, flip_test=name not in args.one_pass)
        # cache key: the weights' content, the crop (rounds <= 10 were predicted with the plain bilinear crop) and
        # the passes (a one-pass prediction is never read as a flip-test one)
        passes = "" if m.flip_test else "-1pass"
        m.name, m.path = f"{name.replace(' ', '_')}-{sha256_file(Path(path))[:10]}-aa{passes}", path
        students[name] = m
    peers = {}
    if args.movenet:
        peers["MoveNet Lightning (int8)"] = MoveNetPeer(args.movenet)
        peers["MoveNet Lightning (int8)"].input = "192x192"
    if not args.no_mediapipe:
        try:
            peers["MediaPipe BlazePose-full"] = MediaPipePeer()
            peers["MediaPipe BlazePose-full"].input = "256x256"
        except ImportError as e:
            print(f"MediaPipe left out: {e}")
    for name, peer in peers.items():
        peer.name = re.sub(r"\W+", "_", name).strip("_")

    onnx_dir = Path(args.onnx_dir) if args.onnx_dir else out / "onnx"
    if args.costs_only:
        costs = cost_rows(students, onnx_dir, peers, shared)
        text = "\n".join(cost_table(costs))
        write_text(out / "costs.md", text + "\n")
        write_text(out / "costs.json", json.dumps(costs, indent=1))
        print(text)
        return
    runs = {}
    for bench_name, bench in benches.items():
        folder = out / "predictions" / bench.name
        print(f"predicting on {bench_name}", flush=True)
        cached = [cached_predictions(bench, m, folder) for m in [*students.values(), *peers.values()]]
        for c, display in zip(cached, [*students, *peers], strict=True):
            c.name = display
        run = run_bench(bench, cached, progress=False)
        write_report(run, out / f"report_{bench.name}")
        runs[bench_name] = run
    costs = cost_rows(students, onnx_dir, peers, shared)
    extra = {"recipes": recipes, "pairs": pairs, "types": types, "types_note": args.types_note}
    text = tables(runs, costs, severities, **extra)
    write_text(out / "results.md", text + "\n")
    write_text(out / "costs.json", json.dumps(costs, indent=1))
    print(text)
    if args.write_docs:
        root = Path(__file__).resolve().parents[1]
        replace_block(root / "docs/results.md", text, args.block)
        readme = root / "README.md"  # carries the latest rounds only; the older ones live in docs/results.md
        if f"<!-- {args.block}:start -->" in readme.read_text():
            replace_block(readme, tables(runs, costs, severities, families=False, **extra), args.block)
            print("updated docs/results.md and README.md")
        else:
            print(f"updated docs/results.md (README.md has no {args.block} block)")


if __name__ == "__main__":
    main()
