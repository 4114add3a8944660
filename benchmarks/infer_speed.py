"""Per-person latency and throughput of the default student on this CPU: torch eager as trained, torch eager with
BatchNorm folded into the convolutions, folded + channels-last weights, the same with the 1x1 convolutions run as
matrix products (what `lqpose.load(runtime="torch")` runs), that with auto-gain toggled (`lqpose export --input-norm
gain|imagenet`: off for the bundle, which has it, on for others), the same through torch.compile
(`lqpose.load(compile=True)`) and ONNX Runtime (the batch-1 graph `lqpose export` writes, run crop by crop, and a
dynamic-batch one, run a batch per call), at batch 1 and 16, and the last ones again with the flip test
(`lqpose.load`'s default and how every accuracy figure was scored: the crops and their mirrors as one batch),
all timed in the same interleaved rounds
(a load spike hits every row alike), with MoveNet Lightning (int8, the issue's latency reference, on the results
table's real LSPET people) when its model file lies in ../shared/data, and MediaPipe BlazePose-full when
installed. Targets: ONNX Runtime >= 1.5x eager; student per-person time <= MediaPipe's and within 2x of MoveNet's.

The student is the bundled default model (`--model default`), any lqpose checkpoint, or (`--model fresh`) a
randomly initialised default-architecture student at `--size`: the speed does not depend on the weights."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from results import MOVENET, SHARED, interleaved_ms, real_crops, real_people  # the table script's timing and people

import lqpose
from lqpose.bench.peers import square_crop
from lqpose.data.transforms import crop_person
from lqpose.engine.checkpoint import load_student_checkpoint, save_checkpoint
from lqpose.engine.evaluate import predict_heatmaps, with_mirrors
from lqpose.keypoints import COCO17
from lqpose.models.ckd import export_student
from lqpose.models.fuse import compile_for_inference, fuse_conv_bn, is_pointwise, prepare_for_inference
from lqpose.models.student import StudentConfig, auto_gain, build_student, count_parameters

COMPILED = "torch.compile of `lqpose.load`'s model"
FLIP_EAGER = "`lqpose.load` eager, flip test (the default)"  # runtime="torch"; on a CPU the default runs FLIP_ORT
FLIP_COMPILED = "torch.compile, flip test"
FLIP_ORT = "ONNX Runtime, flip test"
ORT_DYNAMIC = "ONNX Runtime, dynamic-batch graph (one run per batch)"
FLIP_ORT_DYNAMIC = "ONNX Runtime, dynamic-batch graph, flip test"


def per_person_ms(fn, batch: int, repeats: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats / batch * 1000


def student_checkpoint(model_arg: str, size: tuple[int, int], tmp: Path) -> Path:
    """A checkpoint path for the student to time (the bundled model, a user checkpoint, or a fresh one)."""
    if model_arg != "fresh":
        from lqpose.model_files import resolve_model_path

        return resolve_model_path(model_arg)
    kp = {"name": "coco", "names": list(COCO17.names), "skeleton": [list(p) for p in COCO17.skeleton]}
    cfg = {"model": {}, "data": {"input_size": list(size)}}
    model = build_student(StudentConfig()).eval()
    save_checkpoint(tmp / "s.pt", export_student({"model": model.state_dict(), "config": cfg, "keypoints": kp}))
    return tmp / "s.pt"


def person_crops(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The astronaut (a real person) as the student's input crop and as the square RGB crop MediaPipe gets in
    the results table (`square_crop`, the box grown to a 1.25x square)."""
    from skimage.data import astronaut

    image = astronaut()
    box = np.array([20, 10, 350, 500], np.float32)
    student_in = crop_person(image, box, size)[0]
    return student_in, square_crop(image, box)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="'default' (bundled), a checkpoint, or 'fresh'")
    parser.add_argument("--size", type=int, nargs=2, default=(96, 128), metavar=("W", "H"), help="for 'fresh'")
    parser.add_argument("--repeats", type=int, default=100, help="batch-1 calls per row over 5 interleaved rounds")
    parser.add_argument("--movenet", default=str(SHARED / MOVENET), help="MoveNet .tflite ('' to leave it out)")
    parser.add_argument(
        "--onnx",
        help="the same student already exported (otherwise it is exported here, which needs `onnx`)",
    )
    args = parser.parse_args()
    from lqpose.onnx_model import OnnxPoseModel

    tmp = Path(tempfile.mkdtemp())
    ckpt = student_checkpoint(args.model, tuple(args.size), tmp)
    model, spec, codec = load_student_checkpoint(ckpt)
    model.eval()
    if args.onnx:
        onnx_path = Path(args.onnx)
    else:
        from lqpose.export import export_onnx

        onnx_path = export_onnx(ckpt, tmp / "s.onnx")  # batch 1, as `lqpose export` and `lqpose.load` make it
    ort_model = OnnxPoseModel(onnx_path)
    # the same student with a dynamic batch axis, run a whole batch per call: what lqpose exported before 2026-12-05
    ort_dynamic = OnnxPoseModel(export_onnx(ckpt, tmp / "s_dynamic.onnx", dynamic_batch=True))
    w, h = codec.input_size
    if ort_model.codec.input_size != (w, h):
        raise SystemExit(f"{args.onnx}: input {ort_model.codec.input_size} is not the checkpoint's {(w, h)}")
    student_in, square = person_crops((w, h))
    example = torch.from_numpy(student_in[None])
    fused, _ = fuse_conv_bn(model, example)
    channels_last = copy.deepcopy(fused).to(memory_format=torch.channels_last)
    prepared = prepare_for_inference(model, example)  # what `lqpose.load` runs
    if not any(is_pointwise(m) for m in channels_last.modules()):
        print("note: no 1x1 convolution here: the channels-last rows with and without the matmuls are one model")
    other_norm = "imagenet" if model.cfg.input_norm == "gain" else "gain"  # auto-gain toggled (`lqpose export`)
    toggled = copy.deepcopy(prepared)
    toggled.cfg = dataclasses.replace(toggled.cfg, input_norm=other_norm)
    compiled = compile_for_inference(copy.deepcopy(prepared), example)
    # `lqpose.load(compile=True)` with the flip test builds its graph for a person and its mirror
    compiled_flip = compile_for_inference(copy.deepcopy(prepared), with_mirrors(example))
    params = count_parameters(model) / 1e6
    print(
        f"student {ckpt.name} ({params:.2f} M parameters), input {w}x{h}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; ms per person (lower is better), one pass unless the row says flip "
        "test, median of 5 interleaved rounds"
    )
    runs = {
        "torch eager": lambda x: model(torch.from_numpy(x)),
        "torch eager, BN folded": lambda x: fused(torch.from_numpy(x)),
        "torch eager, folded + channels-last": lambda x: channels_last(torch.from_numpy(x)),
        "torch eager, folded + channels-last + 1x1 as matmul (`lqpose.load`)": lambda x: prepared(torch.from_numpy(x)),
        f"the same, input_norm {other_norm}": lambda x: toggled(torch.from_numpy(x)),
        COMPILED: lambda x: compiled(torch.from_numpy(x)),
        "ONNX Runtime": lambda x: ort_model.forward_with_quality(x),
        ORT_DYNAMIC: lambda x: ort_dynamic.forward_with_quality(x),
        FLIP_EAGER: lambda x: predict_heatmaps(prepared, torch.from_numpy(x), spec, True),
        FLIP_COMPILED: lambda x: predict_heatmaps(compiled_flip, torch.from_numpy(x), spec, True),
        FLIP_ORT: lambda x: predict_heatmaps(ort_model, torch.from_numpy(x), spec, True),
        FLIP_ORT_DYNAMIC: lambda x: predict_heatmaps(ort_dynamic, torch.from_numpy(x), spec, True),
    }
    timers = {}
    for b in (1, 16):
        x = np.ascontiguousarray(np.repeat(student_in[None], b, 0))
        calls = max(1, args.repeats // 5 // b)
        timers.update({(name, b): (run, [x] * calls) for name, run in runs.items()})
    # end to end, one person per call, as a user's serving loop runs it: `lqpose.load` on the checkpoint (torch) and
    # on its export (ONNX Runtime), flip test on, each real person's whole image and box (crop, network, flip test
    # and decoding timed together). A torch op left in the ONNX path shows here, not in the rows above
    ends = {}
    if (SHARED / "lspet").is_dir():
        people = real_people(SHARED, max(1, args.repeats // 5))
        ests = (("torch eager", lqpose.load(ckpt, runtime="torch")), ("ONNX Runtime", lqpose.load(onnx_path)))
        for name, est in ests:
            ends[name] = f"`lqpose.load` end to end, {name}, flip test"
            timers[ends[name], 1] = (lambda p, est=est: est(p[0], boxes=[p[1]]), people)
    movenet = None
    if args.movenet and Path(args.movenet).is_file():
        try:
            from lqpose.bench.peers import MoveNetPeer

            movenet = MoveNetPeer(args.movenet)
            # MoveNet resizes its square crop inside the call, so its time depends on the person's size: the
            # results table's real LSPET test people (the student's time does not: its crop is fixed)
            squares = real_crops(SHARED, (w, h), max(1, args.repeats // 5))[1]
            timers["MoveNet", 1] = (movenet.coco17, squares)
        except ImportError as e:
            print(f"MoveNet left out: {e}")
    with torch.inference_mode():
        ms = interleaved_ms(timers)
    rows = {name: [ms[name, 1], ms[name, 16] / 16] for name in runs}
    print("| runtime | batch 1 | batch 16 | people/s at 16 |")
    print("| --- | ---: | ---: | ---: |")
    for name, (b1, b16) in rows.items():
        print(f"| {name} | {b1:.2f} | {b16:.2f} | {1000 / b16:.0f} |")
    loaded = "torch eager, folded + channels-last + 1x1 as matmul (`lqpose.load`)"
    print(
        f"\nONNX Runtime / eager speed-up: batch 1 {rows['torch eager'][0] / rows['ONNX Runtime'][0]:.2f}x, "
        f"batch 16 {rows['torch eager'][1] / rows['ONNX Runtime'][1]:.2f}x (target >= 1.5x); BN folding / eager: "
        f"batch 1 {rows['torch eager'][0] / rows['torch eager, BN folded'][0]:.2f}x, "
        f"batch 16 {rows['torch eager'][1] / rows['torch eager, BN folded'][1]:.2f}x; folded + channels-last / "
        f"eager: batch 1 {rows['torch eager'][0] / rows['torch eager, folded + channels-last'][0]:.2f}x, "
        f"batch 16 {rows['torch eager'][1] / rows['torch eager, folded + channels-last'][1]:.2f}x; 1x1 as matmul / "
        f"folded + channels-last: batch 1 {rows['torch eager, folded + channels-last'][0] / rows[loaded][0]:.2f}x, "
        f"batch 16 {rows['torch eager, folded + channels-last'][1] / rows[loaded][1]:.2f}x"
    )
    if ends:
        print("end to end (crop + network + flip test + decoding, one real LSPET person per call): "
              + ", ".join(f"{name} {ms[key, 1]:.2f} ms" for name, key in ends.items()))  # fmt: skip
    eager_1 = rows[loaded][0]
    print(f"torch.compile / `lqpose.load` eager: batch 1 {eager_1 / rows[COMPILED][0]:.2f}x")
    if movenet is not None:
        mn = ms["MoveNet", 1]
        print(f"MoveNet Lightning (int8, 192x192, 2 threads) on real LSPET test people: {mn:.2f} ms; the student "
              f"at batch 1 takes {eager_1 / mn:.2f}x that in `lqpose.load`'s eager torch, "
              f"{rows['torch eager, folded + channels-last'][0] / mn:.2f}x without the 1x1 matmuls, "
              f"{rows[COMPILED][0] / mn:.2f}x compiled and "
              f"{rows['ONNX Runtime'][0] / mn:.2f}x in ONNX Runtime (target <= 2x); with the flip test (the "
              f"default, as scored) {rows[FLIP_EAGER][0] / mn:.2f}x eager, {rows[FLIP_COMPILED][0] / mn:.2f}x "
              f"compiled, {rows[FLIP_ORT][0] / mn:.2f}x ONNX Runtime (`lqpose.load`'s runtime on a CPU)")  # fmt: skip
        print("(ONNX Runtime shares this process with torch, whose OpenMP threads slow it; `lqpose.load` now runs it "
              "without torch: benchmarks/deploy_footprint.py times it that way, beside MoveNet)")  # fmt: skip
    x1 = torch.from_numpy(student_in[None])
    with torch.inference_mode():  # the op alone: steadier than the difference of two noisy rows
        gain_ms = per_person_ms(lambda: auto_gain(x1), 1, args.repeats * 5)
    print(f"auto-gain alone: {gain_ms:.3f} ms per person at batch 1")
    try:
        import mediapipe as mp
    except ImportError:
        print("MediaPipe not installed (pip install 'lqpose[peers]'): no peer timing")
        return
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    mp_ms = per_person_ms(lambda: pose.process(square), 1, args.repeats)
    print(
        f"MediaPipe BlazePose-full on the same person crop (detector + landmarks, static image mode): "
        f"{mp_ms:.2f} ms per person; the student in ONNX Runtime is {mp_ms / rows['ONNX Runtime'][0]:.1f}x "
        f"faster at batch 1, {mp_ms / rows['ONNX Runtime'][1]:.1f}x at batch 16 (target >= 1x)"
    )


if __name__ == "__main__":
    main()
