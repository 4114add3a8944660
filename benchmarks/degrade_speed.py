"""Time lqpose's degradations against imagecorruptions 1.1.2 on the same 640x480 image, severities 1..5,
side by side in one run; print a table and the geometric-mean speed-up (target: >= 3x).

imagecorruptions is old and pulls the GUI opencv-python, so run this from its own environment
(see benchmarks/README.md). Without it the script still times lqpose and says why no ratio is printed.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import cv2
import numpy as np

from lqpose.degrade import degrade

# lqpose type -> imagecorruptions type (same kind of degradation; severity tables differ by design)
COMMON = {
    "gaussian_noise": "gaussian_noise",
    "shot_noise": "shot_noise",
    "impulse_noise": "impulse_noise",
    "gaussian_blur": "gaussian_blur",
    "defocus_blur": "defocus_blur",
    "motion_blur": "motion_blur",
    "fog": "fog",
    "overexposure": "brightness",
    "low_contrast": "contrast",
    "pixelate": "pixelate",
    "jpeg": "jpeg_compression",
}


def test_image() -> np.ndarray:
    from skimage.data import astronaut

    return cv2.resize(astronaut(), (640, 480), interpolation=cv2.INTER_AREA)


def time_call(fn, repeats: int) -> float:
    """Median wall time in ms of `repeats` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    img = test_image()
    try:
        from imagecorruptions import corrupt
    except Exception as e:  # noqa: BLE001 - any import failure means "no peer here"
        corrupt = None
        why = f"{type(e).__name__}: {e}"
    print(
        f"image 640x480, severities 1..5, median of {args.repeats} runs, cv2 {cv2.__version__}, "
        f"{cv2.getNumThreads()} OpenCV threads"
    )
    print("| lqpose type | imagecorruptions type | lqpose ms/img | imagecorruptions ms/img | speed-up |")
    print("| --- | --- | ---: | ---: | ---: |")
    ratios = []
    for ours, theirs in COMMON.items():
        ours_ms = statistics.mean(
            time_call(lambda s=s, n=ours: degrade(img, n, s, seed=s), args.repeats) for s in range(1, 6)
        )
        if corrupt is None:
            print(f"| {ours} | {theirs} | {ours_ms:.1f} | not installed | - |")
            continue
        try:
            theirs_ms = statistics.mean(
                time_call(lambda s=s, n=theirs: corrupt(img, corruption_name=n, severity=s), max(1, args.repeats // 2))
                for s in range(1, 6)
            )
        except Exception as e:  # noqa: BLE001 - report the peer's crash in the table
            msg = str(e).splitlines()[0][:70] if str(e) else ""
            print(f"| {ours} | {theirs} | {ours_ms:.1f} | crashes: {type(e).__name__}: {msg} | - |")
            continue
        ratio = theirs_ms / ours_ms
        ratios.append(ratio)
        print(f"| {ours} | {theirs} | {ours_ms:.1f} | {theirs_ms:.1f} | {ratio:.1f}x |")
    if corrupt is None:
        print(f"\nimagecorruptions is not importable here ({why}); see benchmarks/README.md. No ratio.")
        return
    gmean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"\nmedian speed-up: {statistics.median(ratios):.2f}x, slowest type: {min(ratios):.2f}x")
    print(
        f"geometric-mean speed-up over {len(ratios)} types that ran: {gmean:.2f}x (target >= 3x) -> "
        f"{'PASS' if gmean >= 3 else 'MISS'}"
    )


if __name__ == "__main__":
    main()
