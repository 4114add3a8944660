"""Per-person latency and throughput of the default student on this CPU: torch eager vs ONNX Runtime at
batch 1 and 16, side by side in one run, and MediaPipe BlazePose-full on the same crops when installed.
Targets: ONNX Runtime >= 1.5x eager; student per-person time <= MediaPipe's."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lqpose.engine.checkpoint import save_checkpoint
from lqpose.export import OnnxPoseModel, export_onnx
from lqpose.keypoints import COCO17
from lqpose.models.ckd import export_student
from lqpose.models.student import StudentConfig, build_student


def per_person_ms(fn, batch: int, repeats: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats / batch * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(192, 256), metavar=("W", "H"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--onnx",
        help="an already exported default student (where `onnx` cannot import, e.g.\n"
        "beside mediapipe, which pins protobuf 4)",
    )
    args = parser.parse_args()
    w, h = args.size
    model = build_student(StudentConfig()).eval()
    kp = {"name": "coco", "names": list(COCO17.names), "skeleton": [list(p) for p in COCO17.skeleton]}
    cfg = {"model": {}, "data": {"input_size": [w, h]}}
    if args.onnx:
        ort_model = OnnxPoseModel(args.onnx)
    else:
        tmp = Path(tempfile.mkdtemp())
        save_checkpoint(tmp / "s.pt", export_student({"model": model.state_dict(), "config": cfg, "keypoints": kp}))
        ort_model = OnnxPoseModel(export_onnx(tmp / "s.pt", tmp / "s.onnx", dynamic_batch=True))
    print(
        f"default student (LCNet-0.5 + fuse head), input {w}x{h}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; ms per person (lower is better)"
    )
    print("| runtime | batch 1 | batch 16 | people/s at 16 |")
    print("| --- | ---: | ---: | ---: |")
    rows = {}
    for name, run in (
        ("torch eager", lambda x: model(x)),
        ("ONNX Runtime", lambda x: ort_model.forward_with_quality(x)),
    ):
        vals = []
        for b in (1, 16):
            x = torch.randn(b, 3, h, w)
            with torch.no_grad():
                vals.append(per_person_ms(lambda x=x, run=run: run(x), b, args.repeats))
        rows[name] = vals
        print(f"| {name} | {vals[0]:.2f} | {vals[1]:.2f} | {1000 / vals[1]:.0f} |")
    print(
        f"\nONNX Runtime / eager speed-up: batch 1 {rows['torch eager'][0] / rows['ONNX Runtime'][0]:.2f}x, "
        f"batch 16 {rows['torch eager'][1] / rows['ONNX Runtime'][1]:.2f}x (target >= 1.5x)"
    )
    try:
        import mediapipe as mp
    except ImportError:
        print("MediaPipe not installed (pip install 'lqpose[peers]'): no peer timing")
        return
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    from skimage.data import astronaut  # a real person, so BlazePose runs its landmark model too

    crop = np.ascontiguousarray(astronaut()[::2, ::2])
    mp_ms = per_person_ms(lambda: pose.process(crop), 1, args.repeats)
    print(
        f"MediaPipe BlazePose-full (detector + landmarks, static image mode) {mp_ms:.2f} ms per person; "
        f"student ONNX batch 1 is {mp_ms / rows['ONNX Runtime'][0]:.1f}x faster"
    )


if __name__ == "__main__":
    main()
