"""What a deployment pays: wall time from a fresh interpreter to the first person predicted, the process's peak
resident memory (VmHWM; ru_maxrss would carry this script's own peak over into the child), and the steady time per
person after, for the bundled model served five ways and MoveNet, each in its own child process:

- "safetensors, exported at load": `lqpose.load(COPY.safetensors)`, a copy of the bundled weights: torch builds the
  student and exports it to ONNX at load, then ONNX Runtime runs it (what `lqpose.load()` did before the bundle
  shipped its ONNX export, and what any other checkpoint still does on a CPU);
- "a dynamic-batch export": the bundle exported with a variable batch axis (`lqpose export --dynamic-batch`; what
  every export was before 2026-12-05), run a whole batch per call; every other way runs the batch-1 graph, crop
  by crop;
- "the shipped .onnx, torch imported": `lqpose.load()` in a process that has imported torch, as every ONNX load
  did before the ONNX path stopped importing it;
- "the shipped .onnx, torch installed": `lqpose.load()` as it runs now (`lqpose infer`, `lqpose demo`);
- "the shipped .onnx, no torch": the same where torch cannot be imported at all (a deployment with numpy, OpenCV
  and onnxruntime only);
- "MoveNet Lightning (int8)": the issue's reference peer, its .tflite through ai-edge-litert (lqpose's MoveNet
  adapter: a square crop of each person, one pass), when the file lies in ../shared/data and the runtime is
  installed.

Steady times: the astronaut photo as one person per call, and as 16 people per call (a 4x4 grid of boxes; MoveNet
takes them one after another), flip test for lqpose. Rounds are interleaved (every way once per round), so a load
spike hits them alike; the table prints medians and the ratios to the torch-free way.

    python benchmarks/deploy_footprint.py --rounds 5
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MOVENET = "models/movenet/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"

NO_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "timm"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoTorch())
"""

SERVE = """
import json, re, sys, time
import numpy as np
import lqpose
from skimage.data import astronaut
image = np.ascontiguousarray(astronaut())
grid = [[x, y, 128, 128] for y in range(0, 512, 128) for x in range(0, 512, 128)]  # 16 people per call
model = lqpose.load(MODEL)
model(image)
first = time.perf_counter()
t = time.perf_counter()
for _ in range(CALLS):
    model(image)
steady = (time.perf_counter() - t) / CALLS * 1000
t = time.perf_counter()
for _ in range(max(1, CALLS // 16)):
    model(image, boxes=grid)
steady16 = (time.perf_counter() - t) / (16 * max(1, CALLS // 16)) * 1000
print(json.dumps({"first_done": first, "steady_ms": steady, "steady16_ms": steady16,
                  "peak_mib": int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read())[1]) / 1024,
                  "torch": "torch" in sys.modules}))
"""


MOVENET_SERVE = """
import json, re, sys, time
import numpy as np
from skimage.data import astronaut
from lqpose.bench.peers import MoveNetPeer, square_crop
image = np.ascontiguousarray(astronaut())
model = MoveNetPeer(MODEL)
grid = [[x, y, 128, 128] for y in range(0, 512, 128) for x in range(0, 512, 128)]  # 16 people, one after another
crop = lambda box: square_crop(image, box)[0]  # as the benchmark crops each person
whole = (0, 0, image.shape[1], image.shape[0])
model.coco17(crop(whole))
first = time.perf_counter()
t = time.perf_counter()
for _ in range(CALLS):
    model.coco17(crop(whole))
steady = (time.perf_counter() - t) / CALLS * 1000
t = time.perf_counter()
for _ in range(max(1, CALLS // 16)):
    for box in grid:
        model.coco17(crop(box))
steady16 = (time.perf_counter() - t) / (16 * max(1, CALLS // 16)) * 1000
print(json.dumps({"first_done": first, "steady_ms": steady, "steady16_ms": steady16,
                  "peak_mib": int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read())[1]) / 1024,
                  "torch": "torch" in sys.modules}))
"""


def child(prelude: str, model: str, calls: int) -> dict:
    serve = MOVENET_SERVE if model.endswith(".tflite") else SERVE
    code = prelude + serve.replace("MODEL", repr(model)).replace("CALLS", str(calls))
    start = time.perf_counter()  # perf_counter is system-wide on Linux: the child's reading compares with ours
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed: {done.stderr.strip().splitlines()[-1]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["to_first_s"] = out["first_done"] - start
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=100, help="steady-state calls per child after the first")
    args = ap.parse_args()

    from lqpose.export import export_onnx
    from lqpose.model_files import DEFAULT_MODEL

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bundle.safetensors"  # not the bundled path, which loads the shipped ONNX instead
        shutil.copyfile(DEFAULT_MODEL, copy)
        dynamic = export_onnx(DEFAULT_MODEL, Path(tmp) / "dynamic.onnx", dynamic_batch=True)
        ways = {
            "safetensors, exported at load": ("", str(copy)),
            "a dynamic-batch export, torch installed": ("", str(dynamic)),
            "the shipped .onnx, torch imported": ("import torch\n", "default"),
            "the shipped .onnx, torch installed": ("", "default"),
            "the shipped .onnx, no torch": (NO_TORCH, "default"),
        }
        movenet = SHARED / MOVENET
        if movenet.is_file() and importlib.util.find_spec("ai_edge_litert") is not None:
            ways["MoveNet Lightning (int8), ai-edge-litert"] = ("", str(movenet))
        else:
            print(f"MoveNet left out: needs {movenet} and ai-edge-litert ('lqpose[peers]')", file=sys.stderr)
        runs: dict[str, list[dict]] = {name: [] for name in ways}
        names = list(ways)
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                prelude, model = ways[name]
                runs[name].append(child(prelude, model, args.calls))
            print(f"\rround {r + 1}/{args.rounds}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)

    def med(name: str, key: str) -> float:
        return float(np.median([x[key] for x in runs[name]]))

    base = "the shipped .onnx, no torch"
    print(f"Median of {args.rounds} interleaved rounds, one fresh process per way and round; the bundled model,")
    print("flip test; steady time per person with 1 and with 16 people per call (lqpose's crops in one call,")
    print("MoveNet's one after another).\n")
    print("| way | torch loaded | start to first pose (s) | × no torch | peak memory (MiB) | × no torch | ms/person, 1 "
          "| ms/person, 16 |")  # fmt: skip
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        loaded = {x["torch"] for x in runs[name]}
        torch_loaded = "mixed" if len(loaded) > 1 else "yes" if loaded.pop() else "no"
        first, peak = med(name, "to_first_s"), med(name, "peak_mib")
        print(f"| {name} | {torch_loaded} | {first:.2f} | {first / med(base, 'to_first_s'):.2f} | {peak:.0f} | "
              f"{peak / med(base, 'peak_mib'):.2f} | {med(name, 'steady_ms'):.2f} | "
              f"{med(name, 'steady16_ms'):.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
