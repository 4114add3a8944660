"""What does running the detector on every N-th frame only (`lqpose infer --det-every N`) buy and cost on real
CCTV video? Printed side by side in one run.

vtest.avi (a real 10 fps pedestrian video, people 60-100 px tall) with YOLOX-nano boxes and the bundled model
(flip test), run through `lqpose infer`'s own loop on the first `--frames` frames (read as a frame folder with
`--sequence`, JSON only), once per N and `--rounds` times with the order rotated: seconds and frames/s (median of
the rounds), and how the output agrees with detection on every frame, which is all there is to compare against
(the video has no labels): the share of every-frame people found again (same frame, box IoU >= 0.3, one to one),
the people it adds, how far the keypoints both are sure of (score > 0.3) moved, in box heights, and the tracks.

`--labelled P` adds a check against ground truth: P LSPET test people made into 25 fps clips as
benchmarks/video_smoothing.py makes them (each frame a fresh draw of sensor noise + JPEG, severity 3; the person
still, or swaying sideways a quarter of their height with a period of 3 s or 1 s), YOLOX-nano on the detector's
frames, and PCK@0.2 of the 12 limb joints of the person whose box overlaps the annotated one most (a miss when no
box overlaps it by IoU 0.3).

    python benchmarks/det_every.py [--frames 400] [--rounds 2] [--every 1 2 3 5] [--labelled 30] [--shared ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import lqpose
from lqpose.imageio import write_image
from lqpose.infer.run import infer_path
from lqpose.infer.track import DetectEvery, box_iou, greedy_pairs
from lqpose.infer.video import VideoFrames

SURE = 0.3  # keypoint score above which a joint counts as found (as boxes_from_people counts them)


def by_frame(results: list[dict], frames: int) -> list[list[dict]]:
    """COCO-style results (image_id = frame) -> per frame, its people."""
    out: list[list[dict]] = [[] for _ in range(frames)]
    for r in results:
        out[r["image_id"]].append(r)
    return out


def agreement(reference: list[list[dict]], other: list[list[dict]]) -> dict:
    """How `other` agrees with `reference`, frame by frame: the share of reference people matched one to one at box
    IoU >= 0.3, the unmatched people of `other`, and the median and 90th-percentile distance of the keypoints both
    are sure of, in the reference box's height."""
    matched = extra = total = 0
    dists: list[float] = []
    for ref, oth in zip(reference, other, strict=True):
        total += len(ref)
        if not ref or not oth:
            extra += len(oth)
            continue
        iou = box_iou(np.array([p["bbox"] for p in ref]), np.array([p["bbox"] for p in oth]))
        pairs = greedy_pairs(iou, 0.3)
        matched += len(pairs)
        extra += len(oth) - len(pairs)
        for i, j in pairs:
            a = np.reshape(ref[i]["keypoints"], (-1, 3))
            b = np.reshape(oth[j]["keypoints"], (-1, 3))
            both = (a[:, 2] > SURE) & (b[:, 2] > SURE)
            if both.any():
                d = np.linalg.norm(a[both, :2] - b[both, :2], axis=1) / max(ref[i]["bbox"][3], 1.0)
                dists.append(float(np.median(d)))
    return {"kept": matched / max(total, 1), "extra": extra,
            "median": float(np.median(dists)) if dists else float("nan"),
            "p90": float(np.percentile(dists, 90)) if dists else float("nan")}  # fmt: skip


def labelled(model, shared: Path, people: int, frames: int, every: list[int]) -> None:
    """PCK@0.2 on LSPET sway clips with the detector on 1 frame in n (module docstring)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import video_smoothing as vs  # noqa: E402 - a sibling script: its clips, made the same way

    hits = {(n, m): [] for n in every for m in vs.MOTIONS}
    for k, (img, kps, box, torso) in enumerate(vs.labelled_people(shared, "test", people)):
        vis = kps[: vs.LIMBS, 2] > 0
        for motion, period in vs.MOTIONS.items():
            clip = [vs.clip_frame(img, box[3], k, f, period, 3) for f in range(frames)]
            for n in every:
                follow = DetectEvery(n)
                for frame, dx in clip:
                    people_found = follow.saw(model(frame, boxes=follow.boxes()))
                    truth_box = box + np.array([dx, 0, 0, 0])
                    iou = box_iou(truth_box[None], np.array([p["bbox"] for p in people_found]).reshape(-1, 4))[0]
                    if len(iou) == 0 or iou.max() < 0.3:
                        hits[n, motion].append(np.zeros(int(vis.sum()), bool))
                        continue
                    pred = people_found[int(iou.argmax())]["keypoints"][: vs.LIMBS, :2]
                    err = np.linalg.norm(pred - (kps[: vs.LIMBS, :2] + [dx, 0]), axis=1)[vis] / torso
                    hits[n, motion].append(err < 0.2)
        print(f"\r  labelled clips: {k + 1}/{people} people", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"\nLSPET test, {people} people x {frames} frames at 25 fps, sensor noise + JPEG (severity 3), YOLOX-nano: "
          "PCK@0.2 of the 12 limb joints")  # fmt: skip
    print("| detector on | " + " | ".join(vs.MOTIONS) + " |")
    print("| --- |" + " ---: |" * len(vs.MOTIONS))
    for n in every:
        name = "every frame" if n == 1 else f"1 frame in {n}"
        print(f"| {name} | " + " | ".join(f"{np.mean(np.concatenate(hits[n, m])):.3f}" for m in vs.MOTIONS) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--every", type=int, nargs="+", default=[1, 2, 3, 5])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data")
    parser.add_argument("--labelled", type=int, default=0, metavar="P", help="also P labelled LSPET sway clips")
    parser.add_argument("--labelled-frames", type=int, default=25)
    args = parser.parse_args()
    if 1 not in args.every:
        args.every = [1, *args.every]  # the reference
    model = lqpose.load(detector=f"yolox:{args.shared / 'models/yolox/yolox_nano.onnx'}")
    if args.labelled:
        labelled(model, args.shared, args.labelled, args.labelled_frames, args.every)
    if args.frames <= 0:
        return
    with tempfile.TemporaryDirectory(prefix="lqpose-det-every-") as tmp:
        folder = Path(tmp) / "vtest"
        with VideoFrames(args.shared / "videos/vtest.avi") as video:
            fps = video.fps
            for i, frame in video:
                if i >= args.frames:
                    break
                write_image(folder / f"{i:05d}.png", frame)
        frames = len(list(folder.iterdir()))
        seconds: dict[int, list[float]] = {n: [] for n in args.every}
        outputs: dict[int, dict] = {}
        for r in range(args.rounds):
            order = args.every[r % len(args.every) :] + args.every[: r % len(args.every)]
            for n in order:
                out = Path(tmp) / f"out_{n}"
                t = time.perf_counter()
                summary = infer_path(model, folder, out, progress=False, sequence_fps=fps, draw=False, det_every=n)
                seconds[n].append(time.perf_counter() - t)
                outputs[n] = {"summary": summary, "results": json.loads((out / "results.json").read_text())}
    reference = by_frame(outputs[1]["results"], frames)
    base = float(np.median(seconds[1]))
    print(
        f"vtest.avi, first {frames} frames, YOLOX-nano + the bundled model (flip test), `lqpose infer --sequence "
        f"{fps:g} --json-only`, median of {args.rounds} rounds on this CPU"
    )
    print(
        "| detector on | s | frames/s | speed | detector frames | people | kept | added | keypoints moved, "
        "median / p90 (box heights) | tracks |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.every:
        s = float(np.median(seconds[n]))
        summary = outputs[n]["summary"]
        a = agreement(reference, by_frame(outputs[n]["results"], frames))
        print(f"| {'every frame' if n == 1 else f'1 frame in {n}'} | {s:.1f} | {frames / s:.1f} | {base / s:.2f}x "
              f"| {summary.get('detector_frames', frames)} | {summary['people']} | {a['kept']:.3f} | {a['extra']} "
              f"| {a['median']:.3f} / {a['p90']:.3f} | {summary['tracks']} |")  # fmt: skip


if __name__ == "__main__":
    main()
