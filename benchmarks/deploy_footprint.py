"""What a deployment pays before its first pose: wall time from a fresh interpreter to the first person predicted,
and the process's peak resident memory (VmHWM; ru_maxrss would carry this script's own peak over into the child),
for the bundled model served four ways, each in its own child process:

- "safetensors, exported at load": `lqpose.load(COPY.safetensors)`, a copy of the bundled weights: torch builds the
  student and exports it to ONNX at load, then ONNX Runtime runs it (what `lqpose.load()` did before the bundle
  shipped its ONNX export, and what any other checkpoint still does on a CPU);
- "the shipped .onnx, torch imported": `lqpose.load()` in a process that has imported torch, as every ONNX load
  did before the ONNX path stopped importing it;
- "the shipped .onnx, torch installed": `lqpose.load()` as it runs now (`lqpose infer`, `lqpose demo`);
- "the shipped .onnx, no torch": the same where torch cannot be imported at all (a deployment with numpy, OpenCV
  and onnxruntime only);
- "MoveNet Lightning (int8)": the issue's reference peer, its .tflite through ai-edge-litert (lqpose's MoveNet
  adapter: a square crop of the same person, one pass), when the file lies in ../shared/data and the runtime is
  installed; its steady time is per call on the same crop, as lqpose's is.

Rounds are interleaved (every way once per round), so a load spike hits them alike; the table prints medians and the
ratios to the torch-free way, and the steady per-person time of each way (flip test, one person per call, the
astronaut photo as one person), which should not differ: the same ONNX graph runs in all four.

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
model = lqpose.load(MODEL)
model(image)
first = time.perf_counter()
t = time.perf_counter()
for _ in range(CALLS):
    model(image)
steady = (time.perf_counter() - t) / CALLS * 1000
print(json.dumps({"first_done": first, "steady_ms": steady,
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
crop = lambda: square_crop(image, (0, 0, image.shape[1], image.shape[0]))[0]  # as the benchmark crops each call
model.coco17(crop())
first = time.perf_counter()
t = time.perf_counter()
for _ in range(CALLS):
    model.coco17(crop())
steady = (time.perf_counter() - t) / CALLS * 1000
print(json.dumps({"first_done": first, "steady_ms": steady,
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

    from lqpose.bundle import DEFAULT_MODEL

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bundle.safetensors"  # not the bundled path, which loads the shipped ONNX instead
        shutil.copyfile(DEFAULT_MODEL, copy)
        ways = {
            "safetensors, exported at load": ("", str(copy)),
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
    print("flip test, one person per call.\n")
    print("| way | torch loaded | start to first pose (s) | × no torch | peak memory (MiB) | × no torch | ms/person |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        loaded = {x["torch"] for x in runs[name]}
        torch_loaded = "mixed" if len(loaded) > 1 else "yes" if loaded.pop() else "no"
        first, peak = med(name, "to_first_s"), med(name, "peak_mib")
        print(f"| {name} | {torch_loaded} | {first:.2f} | {first / med(base, 'to_first_s'):.2f} | {peak:.0f} | "
              f"{peak / med(base, 'peak_mib'):.2f} | {med(name, 'steady_ms'):.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
