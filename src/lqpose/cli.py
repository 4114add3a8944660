"""The single `lqpose` entry point. Each subcommand parses its arguments and calls library functions;
no logic lives here. Errors become one line on stderr and a non-zero exit status."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from . import __version__
from .devices import gpu_driver_possible


def _cmd_degrade(args: argparse.Namespace) -> int:
    from .degrade import DEGRADATIONS, IMAGECORRUPTIONS, ChainConfig
    from .degrade.run import CHAIN, degrade_path

    if args.list:
        for spec in DEGRADATIONS.values():
            print(f"{spec.name}\t{spec.family}")
        print(f"{CHAIN}\tchain (random high-order training chain)")
        for spec in IMAGECORRUPTIONS.values():  # optional: pip install --no-deps imagecorruptions==1.1.2
            print(f"{spec.name}\t{spec.family} (imagecorruptions, COCO-C)")
        return 0
    if args.input is None or args.output is None:
        raise ValueError("degrade needs IN and OUT (or --list)")
    if args.type is None:
        raise ValueError("degrade needs --type NAME (see `lqpose degrade --list`)")
    chain_config = None
    if args.type == CHAIN:
        from .config import load_config

        chain_config = load_config(ChainConfig, args.chain_config, args.set)
        try:
            chain_config.validate()
        except ValueError as e:  # name the YAML, as config errors do
            raise ValueError(f"{args.chain_config}: {e}" if args.chain_config else str(e)) from None
    elif args.severity is None:
        raise ValueError(f"--type {args.type} needs --severity 1..5")
    record = degrade_path(
        args.input, args.output, args.type, args.severity, args.seed, chain_config, keep_ext=args.keep_ext
    )
    print(
        f"wrote {len(record['images'])} image(s) to {args.output}"
        + (f"; skipped {len(record['skipped'])} unreadable" if record["skipped"] else "")
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    paths = run_demo(args.out, seed=args.seed, model=args.model)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _train_config(args: argparse.Namespace):
    """The TrainConfig of `args.config` with `--set` overrides, checked before anything runs (errors name the file)."""
    from .config import ConfigError, load_config
    from .engine.train import TrainConfig, check_train_config

    cfg = load_config(TrainConfig, args.config, args.set)
    try:
        check_train_config(cfg)
    except ConfigError as e:
        raise ConfigError(f"{args.config}: {e}") from None
    return cfg


def _cmd_train(args: argparse.Namespace) -> int:
    from .engine.train import train

    run_dir = train(_train_config(args), resume=args.resume)
    print(f"run folder: {run_dir}")
    return 0


def _cmd_browse(args: argparse.Namespace) -> int:
    from .browse import browse
    from .engine.train import training_set

    summary = browse(training_set(_train_config(args)), args.out, args.num, args.epoch, args.cols)
    lq = Counter(s["lq_type"] for s in summary["samples"] if s["lq_type"])
    print(f"{len(summary['samples'])} of {summary['people']} training people, epoch {args.epoch}"
          + (f"; LQ: {', '.join(f'{k} x{v}' for k, v in lq.most_common())}" if lq else "; no LQ member")
          + f" -> {Path(args.out) / 'samples.png'}")  # fmt: skip
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .data.readers import load_poseset
    from .engine.evaluate import format_metrics, run_eval

    degradation = None
    if args.degrade:
        from .degrade import check_severity, get_spec
        from .degrade.run import CHAIN

        name, _, sev = args.degrade.partition(":")
        if name == CHAIN:  # the random camera chain, seeded per image (severity ignored)
            sev = sev or "3"
        else:
            get_spec(name)
        if not sev.isdigit():
            raise ValueError(f"--degrade wants TYPE:SEVERITY or chain, got {args.degrade!r}")
        check_severity(int(sev))
        degradation = (name, int(sev))
    gt = load_poseset(args.format, args.ann, args.images or "", args.keypoints or "")
    device = args.device or _default_device(args.checkpoint)
    metrics = run_eval(gt, args.out, args.checkpoint, args.predictions, args.boxes, args.score_thr, degradation,
                       not args.no_flip, args.batch_size, args.seed, device)  # fmt: skip
    print(format_metrics(metrics))
    if "scored_joints" in metrics:
        print(f"scored on the {len(metrics['scored_joints'])} joints the model and the annotations share: "
              + ", ".join(metrics["scored_joints"]))  # fmt: skip
    print(f"wrote {args.out}/results.json and {args.out}/metrics.json")
    return 0


def _parse_severities(text: str) -> list[int]:
    """'1,3,5' or '1-5' -> the severities; anything else (a reversed range, a word) is an error, not an empty grid."""
    try:
        if "-" in text:
            lo, hi = (int(v) for v in text.split("-", 1))
            if lo > hi:
                raise ValueError
            return list(range(lo, hi + 1))
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--severities wants a list such as 1,3,5 or a range such as 1-5, got {text!r}") from None
    if not values:
        raise ValueError(f"--severities wants a list such as 1,3,5 or a range such as 1-5, got {text!r}")
    return values


def _cmd_make_bench(args: argparse.Namespace) -> int:
    import time

    from .bench.make import make_bench
    from .data.readers import load_poseset

    fmt = {"coco": "coco", "crowdpose": "coco", "ochuman": "coco", "exlpose": "coco", "mpii": "mpii", "lspet": "lspet"}
    if args.dataset not in fmt:
        raise ValueError(f"--dataset must be one of {', '.join(fmt)}, got {args.dataset!r}")
    gt = load_poseset(fmt[args.dataset], args.ann, args.images or "")
    if args.joints_of:
        from .keypoints import MIN_SHARED_JOINTS, get_spec, shared_joints

        names = shared_joints(get_spec(args.joints_of), gt.spec)
        if len(names) < MIN_SHARED_JOINTS * gt.spec.num_keypoints:  # the bar lqpose eval and bench set
            raise ValueError(f"--joints-of {args.joints_of}: shares {len(names)} of {args.ann}'s "
                             f"{gt.spec.num_keypoints} joints, too few to score")  # fmt: skip
        gt = gt.only_joints(names)
        print(f"scored on the {len(names)} joints {args.joints_of!r} shares with {gt.spec.name!r}: {', '.join(names)}")
    types = None if args.types in (None, "all") else [t for t in args.types.split(",") if t]
    t0 = time.perf_counter()
    manifest = make_bench(gt, args.out, args.dataset, types, _parse_severities(args.severities), args.mixed,
                          args.seed, args.workers, images_dir=args.images)  # fmt: skip
    files = sum(len(v) for v in manifest["splits"].values())
    print(f"wrote {len(manifest['splits'])} splits, {files} files to {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import matplotlib  # noqa: F401 - the report's plots: a missing install fails here, not after every prediction

    from .bench.report import write_report
    from .bench.run import CheckpointModel, OnnxModel, PredictionsModel, run_bench

    models = [CheckpointModel(c, args.device or _default_device(c)) for c in args.checkpoint]
    models += [OnnxModel(m, device=args.device or "auto") for m in args.onnx]
    models += [PredictionsModel(p) for p in args.predictions]
    if args.peer:
        from .bench.peers import build_peer

        models += [build_peer(p) for p in args.peer]
    if not models:
        raise ValueError("give at least one --checkpoint, --onnx, --predictions or --peer")
    saved = f"{args.report}/predictions" if args.save_predictions else None
    run = run_bench(args.bench, models, args.boxes, args.score_thr, out_predictions=saved)
    summaries = write_report(run, args.report, "detections " + args.boxes if args.boxes else "ground-truth boxes")
    for model, s in summaries.items():
        shown = {k: s[k] for k in ("clean", "mPC", "rPC", "mixed", "real") if s[k] is not None and s[k] == s[k]}
        print(f"{model}: " + "  ".join(f"{k} {v:.4f}" for k, v in shown.items()))
    print(f"report: {args.report}/report.md")
    return 0


def _one_euro(text: str) -> dict:
    """'MIN_CUTOFF,BETA' (e.g. 1,10) -> OneEuroFilter arguments."""
    try:
        min_cutoff, beta = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN_CUTOFF,BETA such as 1,10, got {text!r}") from None
    if min_cutoff <= 0 or beta < 0:
        raise argparse.ArgumentTypeError(f"min_cutoff must be > 0 and beta >= 0, got {text!r}")
    return {"min_cutoff": min_cutoff, "beta": beta}


def _cmd_infer(args: argparse.Namespace) -> int:
    from .api import load
    from .infer.detectors import build_detector
    from .infer.draw import DRAW_KPT_THR
    from .infer.run import infer_path

    if len(args.paths) > 2:
        raise ValueError(f"expected [MODEL] INPUT, got {len(args.paths)} paths")
    model, args.input = args.paths if len(args.paths) == 2 else ["default", args.paths[0]]
    device = args.device or ("cpu" if args.runtime == "onnxruntime" else _default_device(model))  # auto: cuda if any
    if args.boxes and args.tiles > 1:
        raise ValueError("--tiles runs the detector on tiles; with --boxes there is no detector to run")
    detector = None if args.boxes else build_detector(args.detector, device, args.threads, args.tiles)
    estimator = load(model, detector=detector, device=device, flip_test=not args.no_flip, runtime=args.runtime,
                     threads=args.threads)  # fmt: skip
    summary = infer_path(estimator, args.input, args.out, args.boxes, args.score_thr, smooth=args.smooth,
                         sequence_fps=args.sequence, every_frame=args.every_frame,
                         segment_minutes=args.segment, draw=not args.json_only, det_every=args.det_every,
                         kpt_thr=DRAW_KPT_THR if args.kpt_thr is None else args.kpt_thr)  # fmt: skip
    print(", ".join(f"{k}: {v}" for k, v in summary.items()) + f" -> {args.out}")
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    from .infer.detect import check_detections_path, detect_path, detect_set, write_detections
    from .infer.detectors import build_detector

    if (args.input is None) == (args.ann is None):
        raise ValueError("give INPUT (an image, a folder of images or a video) or --ann (an annotated set), not both")
    if args.ann is None and (args.images or args.keypoints or args.format != "coco"):
        raise ValueError("--images, --keypoints and --format describe --ann; an INPUT is read as it is")
    if not 0.0 <= args.score_thr <= 1.0:
        raise ValueError(f"--score-thr must be within 0..1, got {args.score_thr}")
    check_detections_path(args.out)
    detector = build_detector(args.detector, tiles=args.tiles)
    if args.ann is not None:
        from .data.readers import load_poseset

        gt = load_poseset(args.format, args.ann, args.images or "", args.keypoints or "")
        summary = detect_set(detector, gt, args.images or Path(args.ann).parent, args.score_thr)
    else:
        summary = detect_path(detector, args.input, args.score_thr)
    counts = write_detections(summary, args.out)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()) + f" -> {args.out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_onnx, export_safetensors

    if not (args.onnx or args.safetensors):
        raise ValueError("give --onnx OUT.onnx and/or --safetensors OUT.safetensors")
    if args.input_norm and not args.safetensors:
        raise ValueError("--input-norm goes with --safetensors (export the switched model, then --onnx from it)")
    bad = [item for item in args.info if "=" not in item]
    if bad:
        raise ValueError(f"--info takes KEY=VALUE (got {bad})")
    info = dict(item.split("=", 1) for item in args.info)
    for flag, out, suffix in (("--onnx", args.onnx, ".onnx"), ("--safetensors", args.safetensors, ".safetensors")):
        if out and Path(out).suffix != suffix:  # `lqpose.load` and `infer` tell a model's format by its suffix
            raise ValueError(f"{out}: {flag} writes a {suffix} file; give the name that suffix")
    if args.onnx:
        print(f"wrote {export_onnx(args.checkpoint, args.onnx, args.opset, args.dynamic_batch, info)}")
    if args.safetensors:
        path = export_safetensors(args.checkpoint, args.safetensors, info, args.drop_quality_head, args.input_norm)
        print(f"wrote {path}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    import json

    from .model_files import model_info

    about = model_info(args.model)
    print(json.dumps(about, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in about.items()))
    return 0


def _cmd_average(args: argparse.Namespace) -> int:
    from .engine.average import average_students, write_average

    try:
        weights = [float(w) for w in args.weights.split(",")] if args.weights else None
    except ValueError:
        raise ValueError(f"--weights wants comma-separated numbers, got {args.weights!r}") from None
    if Path(args.out).suffix == ".safetensors":  # a pickle under that name would load nowhere: export it as such
        from .export import export_safetensors

        average = average_students(args.students, weights, force=args.force)
        print(f"wrote {export_safetensors(average, args.out)}")
        return 0
    print(f"wrote {write_average(args.students, args.out, weights, force=args.force)}")
    return 0


def _cmd_import_checkpoint(args: argparse.Namespace) -> int:
    from .import_checkpoint import import_checkpoint

    report = import_checkpoint(args.src, args.arch, args.out, args.allow_partial, args.input_size, args.keypoints,
                               args.unsafe_load)  # fmt: skip
    print(report.summary())
    print(f"wrote {args.out}")
    return 0


def _cmd_relabel(args: argparse.Namespace) -> int:
    from .data.readers import load_poseset
    from .data.relabel import Relabel, write_relabel
    from .engine.evaluate import read_results
    from .metrics.label_swaps import lr_fit, swap_counts, swapped_people

    gt = load_poseset(args.format, args.ann, args.images or "", args.keypoints or "")
    fits = []
    print(f"| predictions | people | fit exchanged labels better by > {args.margin} | fit the labels as given better |")
    print("| --- | ---: | ---: | ---: |")
    for path in args.predictions:
        results = read_results(path)
        if any("ann_id" not in r for r in results):
            raise ValueError(f"{path}: every prediction needs the 'ann_id' of its person (lqpose eval writes it)")
        if not {r["ann_id"] for r in results} & {p.ann_id for p in gt.instances}:
            raise ValueError(f"{path}: none of its predictions is for a person of {args.ann} (another split?)")
        fits.append(lr_fit(gt.instances, gt.spec, results))
        people, swapped, given = swap_counts(fits[-1], args.margin)
        print(f"| {path} | {people} | {swapped} | {given} |")
    ids = swapped_people(fits, args.margin)
    note = (
        f"{len(ids)} people of {args.format} {args.ann} that all of {len(fits)} models fit better with left "
        f"and right exchanged (mean limb-joint error lower by > {args.margin} torso); action: {args.action}"
    )
    relabel = Relabel(exchange=ids, note=note) if args.action == "exchange" else Relabel(drop=ids, note=note)
    made_by = {"format": args.format, "ann": args.ann, "predictions": list(args.predictions), "margin": args.margin}
    write_relabel(args.out, relabel, made_by)
    print(f"{note}\nwrote {args.out} (name it in data.train_relabel)")
    return 0


def _input_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 192x256, got {text!r}") from None
    return w, h


DEVICE_HELP = (
    "cpu, cuda, cuda:1 ... (default: cuda when available; an .onnx model: onnxruntime-gpu's CUDA provider where it "
    "starts, else cpu)"
)


def _default_device(model: str | None = None) -> str:
    """cuda where torch sees a GPU, else cpu. Where it can see none (gpu_driver_possible), torch is not imported
    only to ask: `lqpose infer` on the CPU then runs the bundled ONNX without torch in the process (first pose in
    0.4 s instead of 1.4 s). An .onnx `model` gets 'auto': ONNX Runtime's CUDA provider where onnxruntime-gpu has
    one that starts, else the CPU (torch is not asked)."""
    if model is not None and str(model).endswith(".onnx"):
        return "auto"
    if not gpu_driver_possible():
        return "cpu"
    try:
        import torch
    except ModuleNotFoundError:  # a torch-free deployment: ONNX Runtime on the CPU
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _at_least(convert, low, what: str):
    """An argparse type: `convert(text)`, refused below `low` (and nan) with a message saying `what` it wants."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value >= low:  # also refuses nan
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _at_least(int, 1, "a positive integer")
_non_negative_float = _at_least(float, 0.0, "a number >= 0")


def _severity(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"severity must be an integer 1..5, got {text!r}") from None
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError(f"severity must be 1..5, got {value}")
    return value


def _add_tiles(p: argparse.ArgumentParser) -> None:
    """--tiles, as `detect` and `infer` both take it (lqpose.infer.detectors.TiledDetector)."""
    p.add_argument("--tiles", type=_positive_int, default=1, metavar="N",
                   help="also run the detector on N x N overlapping tiles of each image, for people too small for "
                   "its input (CCTV, drones; SAHI-style); 1 + N^2 detector runs an image (default 1: the whole "
                   "image)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lqpose", description="Pose estimation on low-quality images.")
    parser.add_argument("--version", action="version", version=f"lqpose {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("degrade", help="degrade an image or a folder of images")
    p.add_argument("input", nargs="?", help="image file or folder")
    p.add_argument("output", nargs="?", help="output image file or folder")
    p.add_argument("--list", action="store_true", help="list degradation types with their family")
    p.add_argument("--type", help="degradation type, or 'chain' for the random training chain")
    p.add_argument("--severity", type=_severity, help="1 (barely visible) .. 5 (hard)")
    p.add_argument("--seed", type=int, default=0, help="global seed (per-image seeds derive from it)")
    p.add_argument("--keep-ext", action="store_true", help="keep input extensions instead of lossless PNG")
    p.add_argument("--chain-config", help="YAML with a ChainConfig (only for --type chain)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="ChainConfig override")
    p.set_defaults(func=_cmd_degrade)

    p = sub.add_parser("train", help="train a student from a YAML config")
    p.add_argument("config", help="YAML TrainConfig (see configs/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. optim.lr=1e-3")
    p.add_argument("--resume", help="checkpoint to continue from (exact resume)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("browse", help="a training config's samples as the student will see them (WQ, LQ, targets)")
    p.add_argument("config", help="YAML TrainConfig (see configs/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. data.lq.mode=chain")
    p.add_argument("--out", required=True, help="folder for samples.png and samples.json")
    p.add_argument("--num", type=_positive_int, default=16, help="how many people (default 16)")
    p.add_argument(
        "--epoch",
        type=_at_least(int, 0, "an epoch >= 0"),
        default=0,
        help="the epoch whose draws to show (default 0: the first people the run trains on)",
    )
    p.add_argument("--cols", type=_positive_int, default=4, help="tiles per row (default 4)")
    p.set_defaults(func=_cmd_browse)

    p = sub.add_parser("eval", help="score a checkpoint or outside predictions on an annotated set")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--checkpoint", help="a training checkpoint, student.pt, .safetensors, .onnx export or 'default' (bundled)"
    )
    src.add_argument("--predictions", help="COCO-format keypoint results json from any source")
    p.add_argument("--ann", required=True, help="annotation file (COCO-style json or MPII json)")
    p.add_argument("--images", help="image folder (default: the annotation file's folder)")
    p.add_argument(
        "--format",
        default="coco",
        choices=["coco", "mpii", "lspet"],
        help="lspet: --ann is the split (train/val/test), --images the LSPET folder",
    )
    p.add_argument("--keypoints", help="keypoint layout name when the file does not name its keypoints")
    p.add_argument("--boxes", help="person detections json (COCO results); default: ground-truth boxes")
    p.add_argument("--score-thr", type=float, default=0.0, help="minimum detection score")
    p.add_argument(
        "--degrade",
        metavar="TYPE:SEVERITY",
        help="degrade each image before cropping; 'chain' = "
        "the random camera chain, seeded per image (an LQ validation that is not one benchmark type)",
    )
    p.add_argument("--no-flip", action="store_true", help="disable flip test")
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help=DEVICE_HELP)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("make-bench", help="build deterministic LQ splits of a dataset (+ manifest)")
    p.add_argument("--dataset", required=True, help="coco, crowdpose, ochuman, exlpose (real split), mpii, lspet")
    p.add_argument("--ann", required=True, help="annotation file (lspet: the split name)")
    p.add_argument("--images", help="image folder (default: the annotation file's folder)")
    p.add_argument("--out", required=True, help="benchmark folder to write (splits + manifest)")
    p.add_argument("--types", default="all", help="comma-separated degradation types, or all")
    p.add_argument("--severities", default="1-5", help="e.g. 1,3,5 or 1-5")
    p.add_argument("--mixed", type=int, default=0, help="number of mixed camera-pipeline splits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=_positive_int, default=1)
    p.add_argument("--joints-of", choices=("coco", "crowdpose", "mpii"), metavar="LAYOUT",
                   help="score only the joints this layout (coco, crowdpose, mpii) shares with the set, the others "
                   "unlabelled, so models of that layout are ranked on what they predict: crowdpose on COCO keeps "
                   "the 12 limb joints of CrowdPose-14 models such as the bundled one")  # fmt: skip
    p.set_defaults(func=_cmd_make_bench)

    p = sub.add_parser("bench", help="score models on every split of a benchmark and write a report")
    p.add_argument("--bench", required=True, help="folder built by make-bench")
    p.add_argument("--checkpoint", action="append", default=[], help="lqpose checkpoint (repeatable)")
    p.add_argument("--onnx", action="append", default=[], help="ONNX model from `lqpose export` (repeatable)")
    p.add_argument("--predictions", action="append", default=[], help="folder of per-split COCO results")
    p.add_argument("--peer", action="append", default=[], help="outside model: mediapipe, movenet:PATH.tflite")
    p.add_argument("--boxes", help="person detections json (on the clean images); default: ground-truth boxes")
    p.add_argument("--score-thr", type=float, default=0.0, help="drop people whose score is below this")
    p.add_argument("--device", help=DEVICE_HELP)
    p.add_argument("--report", required=True, help="report folder")
    p.add_argument("--save-predictions", action="store_true",
                   help="keep each predicting model's results per split in REPORT/predictions/NAME/ "
                   "(what --predictions reads back, and benchmarks/ probes read)")  # fmt: skip
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("detect", help="person boxes as COCO detection results (the --boxes of eval, bench, infer)")
    p.add_argument("input", nargs="?", help="an image, a folder of images or a video (or give --ann)")
    p.add_argument("--ann", help="an annotated set instead: every image it lists, with its image_id")
    p.add_argument("--images", help="image folder of --ann (default: the annotation file's folder)")
    p.add_argument("--format", default="coco", choices=["coco", "mpii", "lspet"],
                   help="of --ann; lspet: --ann is the split (train/val/test), --images the LSPET folder")  # fmt: skip
    p.add_argument("--keypoints", help="keypoint layout name when --ann does not name its keypoints")
    p.add_argument("--detector", required=True, help="yolox:PATH/TO/yolox_nano.onnx, hog, or whole")
    _add_tiles(p)
    p.add_argument("--score-thr", type=float, default=0.05,
                   help="keep boxes from this score up (default 0.05: low-score boxes still add recall to AP; "
                   "lqpose infer's own YOLOX threshold is 0.3)")  # fmt: skip
    p.add_argument("--out", required=True, help="the detections .json to write")
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("infer", help="poses on an image, a folder of images, a video or a stream")
    p.add_argument("paths", nargs="+", metavar="[MODEL] INPUT",
                   help="MODEL: 'default' (the bundled model, also when left out), a checkpoint, .safetensors or "
                   ".onnx; INPUT: an image, a folder of images, a video, a stream URL (rtsp://, http://, file://) "
                   "or camera:N (streams run until they end or Ctrl-C, which keeps what was done)")  # fmt: skip
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--boxes", help="detections json, COCO results (bbox, score; file_name, or image_id = the file "
                   "stem, or the frame index from 0 in a video); an image or frame it skips has no people")  # fmt: skip
    p.add_argument("--detector", default="whole", help="whole, hog, or yolox:PATH/TO/yolox_nano.onnx")
    _add_tiles(p)
    p.add_argument("--score-thr", type=float, default=0.0, help="drop people whose score is below this")
    p.add_argument("--device", help=DEVICE_HELP[:-1] + "; cpu for --runtime onnxruntime)")
    p.add_argument("--no-flip", action="store_true",
                   help="one forward pass per person instead of the flip test (faster; -0.011 LSPET mPC)")  # fmt: skip
    p.add_argument(
        "--threads",
        type=_at_least(int, 0, "a thread count >= 0"),
        default=0,
        help="CPU threads for the pose model and the detector (default 0: every core; e.g. 1 per process "
        "when several share a machine)",
    )
    p.add_argument("--runtime", choices=("auto", "torch", "onnxruntime"), default="auto",
                   help="onnxruntime: export the model at start (under a second) and run it in ONNX Runtime, the "
                   "fastest CPU path (an .onnx MODEL always runs there); torch: eager torch; auto (default): ONNX "
                   "Runtime on the CPU, torch on a GPU")  # fmt: skip
    p.add_argument("--smooth", nargs="?", const=True, default=False, type=_one_euro, metavar="MIN_CUTOFF,BETA",
                   help="video or --sequence: One-Euro-smooth each tracked person's keypoints (default 1,10: a "
                   "quarter less shake; steadier drawing, not more accurate keypoints; raw ones kept in the "
                   "json)")  # fmt: skip
    p.add_argument("--sequence", nargs="?", const=25.0, default=None, type=float, metavar="FPS",
                   help="INPUT is a folder of one clip's frames (e.g. PoseTrack's), in natural name order, taken at "
                   "FPS (default 25): track ids in results.json and on the overlays, as for a video")  # fmt: skip
    p.add_argument("--every-frame", action="store_true",
                   help="a live stream (camera:N, rtsp://, an http camera): read every frame even when the model is "
                   "slower than the camera, falling further behind (default: take the newest frame, drop the stale "
                   "ones in between and count them)")  # fmt: skip
    p.add_argument("--json-only", action="store_true",
                   help="write the results json only: no overlay images, no annotated video (a dataset's poses; a "
                   "camera watched for its poses alone)")  # fmt: skip
    p.add_argument("--kpt-thr", type=float, default=None, metavar="SCORE",
                   help="draw keypoints scored above this (default 0.2: lqpose.infer.draw.DRAW_KPT_THR); the json "
                   "keeps every keypoint with its score")  # fmt: skip
    p.add_argument(
        "--det-every", type=_positive_int, default=1, metavar="N",
        help="a video, stream or --sequence: run the detector on every N-th frame (and after a frame with no one), "
        "following people by their keypoints in between (rtmlib's det_frequency); on vtest.avi 5 gave 1.6x the "
        "frames/s and 92%% of the people found on every frame (benchmarks/det_every.py)",
    )  # fmt: skip
    p.add_argument("--segment", type=float, metavar="MINUTES",
                   help="a live stream: cut its video into files this long (default 10), each playable once the next "
                   "begins; its people go to a .frames.jsonl as they are found, one line per frame")  # fmt: skip
    p.set_defaults(func=_cmd_infer)

    p = sub.add_parser("export", help="export the deployable student to ONNX")
    p.add_argument("checkpoint", help="a training checkpoint, student.pt, .safetensors or 'default' (bundled)")
    p.add_argument("--onnx", help="output .onnx path")
    p.add_argument("--safetensors", help="output .safetensors path (the deployable student, no pickle)")
    p.add_argument(
        "--drop-quality-head",
        action="store_true",
        help="leave the quality head out of the .safetensors (when it was not trained well enough)",
    )
    p.add_argument("--info", action="append", default=[], metavar="KEY=VALUE",
                   help="metadata stored in the exported file (repeatable), e.g. licence='research use'; a "
                        ".safetensors source's own info is kept, these override it key by key")  # fmt: skip
    p.add_argument("--input-norm", metavar="NORM",
                   help="switch the .safetensors' input normalisation (imagenet, crop or gain); 'gain' brightens "
                        "dark crops (night scenes) and passes the others unchanged, no retraining needed")  # fmt: skip
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--dynamic-batch", action="store_true",
                   help="a variable batch size (for runtimes that batch, e.g. TensorRT); ONNX Runtime on a CPU ran "
                   "the default batch-1 graph faster, crop by crop, at every batch size measured")  # fmt: skip
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("info", help="what a model file holds: layout, input size, architecture, licence and data")
    p.add_argument("model", nargs="?", default="default",
                   help="'default' (the bundled model), a checkpoint, .safetensors or .onnx")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print it as JSON")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("average", help="average the weights of students fine-tuned from one parent (a model soup)")
    p.add_argument("students", nargs="+", help="two or more checkpoints, student.pt or .safetensors, one architecture")
    p.add_argument(
        "--out", required=True, help="the averaged student.pt to write (export it like any other), or OUT.safetensors"
    )
    p.add_argument("--weights", help="comma-separated weights, one per student (default: equal)")
    p.add_argument("--force", action="store_true",
                   help="average even students whose weights do not look like continuations of one model")  # fmt: skip
    p.set_defaults(func=_cmd_average)

    from .import_checkpoint import ARCHS  # the table only: torch is imported where an import runs

    p = sub.add_parser("import-checkpoint", help="map an HRNet / SimpleBaseline / MMPose checkpoint into a student")
    p.add_argument("src", help="official HRNet / SimpleBaseline .pth or MMPose 0.x/1.x top-down heatmap checkpoint")
    p.add_argument("--arch", required=True, choices=list(ARCHS))
    p.add_argument("--out", required=True, help="lqpose checkpoint to write")
    p.add_argument("--input-size", type=_input_size, default=(192, 256), help="WIDTHxHEIGHT it was trained at")
    p.add_argument("--keypoints", default="", help="layout name when the keypoint count is ambiguous")
    p.add_argument("--allow-partial", action="store_true", help="accept weights that leave parts random")
    p.add_argument("--unsafe-load", action="store_true", help="unpickle non-tensor objects (trusted files only)")
    p.set_defaults(func=_cmd_import_checkpoint)

    p = sub.add_parser("relabel", help="list a training set's people whose left/right labels look exchanged")
    p.add_argument("--ann", required=True, help="annotation file, or the LSPET split with --format lspet")
    p.add_argument("--images", help="image folder (lspet: the LSPET folder)")
    p.add_argument("--format", default="coco", choices=["coco", "mpii", "lspet"])
    p.add_argument("--keypoints", help="keypoint layout name when the file does not name its keypoints")
    p.add_argument(
        "--predictions",
        required=True,
        action="append",
        metavar="RESULTS_JSON",
        help="lqpose eval results.json on that set; repeat it: a person is listed when every model agrees",
    )
    p.add_argument("--margin", type=_non_negative_float, default=0.1,
                   help="torso lengths of mean limb-joint error (default 0.1)")  # fmt: skip
    p.add_argument("--action", default="exchange", choices=["exchange", "drop"], help="what training does with them")
    p.add_argument("--out", required=True, help="label-correction JSON to write")
    p.set_defaults(func=_cmd_relabel)

    p = sub.add_parser("demo", help="quick-start job on embedded photos")
    p.add_argument("--out", default="demo", help="output folder (default: demo/)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="default", help="the bundled model (default) or another checkpoint")
    p.set_defaults(func=_cmd_demo)
    return parser


# import name -> what pip installs it as, where they differ (for a missing-module message that can be acted on)
PIP_NAMES = {"yaml": "pyyaml", "skimage": "scikit-image", "cv2": "opencv-python-headless", "PIL": "pillow",
             "sklearn": "scikit-learn", "mediapipe": "mediapipe==0.10.14"}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, KeyError, RuntimeError) as e:
        if args.verbose:
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, OSError) and e.filename is not None and e.strerror:  # the file first, as our own errors
            msg = f"{e.filename}: {e.strerror}" + (f" (-> {e.filename2})" if e.filename2 else "")
        print(f"lqpose {args.command}: error: {msg}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as e:  # e.g. torch, in a deployment that runs exported ONNX models only
        if args.verbose:
            raise
        ours = not str(e).startswith("No module named")  # lqpose's own message says what to do instead
        package = PIP_NAMES.get(str(e.name).split(".")[0], e.name)
        msg = str(e) if ours else f"this needs {e.name}, which is not installed (pip install {package})"
        print(f"lqpose {args.command}: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lqpose {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
