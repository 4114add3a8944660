"""`lqpose make-bench` throughput: images/s and files/s with 1 and 2 workers, side by side in one run, on the
first --limit images of LSPET's test split (small real photos), or on a COCO-style --ann/--images."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from lqpose.bench.make import make_bench
from lqpose.data import read_coco
from lqpose.data.readers import read_lspet

LSPET = Path(__file__).resolve().parents[2] / "shared/data/lspet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ann", help="COCO-style annotation file (default: LSPET test split)")
    parser.add_argument("--images")
    parser.add_argument("--limit", type=int, default=120, help="images to build")
    parser.add_argument("--severities", default="3")
    args = parser.parse_args()
    gt = read_coco(args.ann, args.images) if args.ann else read_lspet(LSPET, "test")
    keep = sorted({i.image_id for i in gt.instances})[: args.limit]
    gt.instances = [i for i in gt.instances if i.image_id in set(keep)]
    gt.images = {k: v for k, v in gt.images.items() if k in set(keep)}
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
            m = make_bench(gt, out, "bench-speed", None, severities, mixed=1, workers=workers, progress=False,
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
