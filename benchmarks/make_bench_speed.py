"""`lqpose make-bench` throughput: images/s and files/s with 1 and 2 workers, side by side in one run, on the
shared COCO sample (or --ann/--images)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from lqpose.bench.make import make_bench
from lqpose.data import read_coco

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/mmpose-samples/coco/test_coco.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ann", default=str(DEFAULT))
    parser.add_argument("--images")
    parser.add_argument("--severities", default="1,3,5")
    args = parser.parse_args()
    gt = read_coco(args.ann, args.images)
    severities = [int(s) for s in args.severities.split(",")]
    n_images = len({i.image_id for i in gt.instances})
    print(f"{n_images} images, 16 types x {len(severities)} severities + clean + 1 mixed split")
    print("| workers | seconds | source images/s | files/s |")
    print("| ---: | ---: | ---: | ---: |")
    rates = {}
    for workers in (1, 2):
        out = Path(tempfile.mkdtemp(prefix="lqpose-bench-speed-"))
        try:
            t = time.perf_counter()
            m = make_bench(gt, out, "coco", None, severities, mixed=1, workers=workers, progress=False,
                           images_dir=args.images)  # fmt: skip
            dt = time.perf_counter() - t
        finally:
            shutil.rmtree(out, ignore_errors=True)
        files = sum(len(v) for v in m["splits"].values())
        rates[workers] = files / dt
        print(f"| {workers} | {dt:.1f} | {n_images / dt:.2f} | {files / dt:.1f} |")
    print(f"\nspeed-up with 2 workers: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
