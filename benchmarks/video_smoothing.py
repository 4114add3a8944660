"""Does One-Euro smoothing of tracked keypoints help on video? Two measurements, printed side by side in one run.

1. Labelled, with known motion. Real LSPET people (val by default, where the settings were chosen; `--split test`
   reports) made into clips at 25 fps: each frame is the whole image shifted sideways by A sin(2 pi t / T) with
   A = a quarter of the person's height, then given a fresh draw of sensor noise and JPEG (severity 3: a noisy,
   compressed camera; a new seed every frame, as a real sensor), the ground-truth box and joints shifted with
   it. Still (A = 0), a slow sway (T = 3 s: peak 0.5 heights/s, walking pace) and a fast one (T = 1 s: peak 1.6
   heights/s, a runner's limbs). Raw against smoothed: mean error of the 12 limb joints in torso lengths and
   PCK@0.2, every frame counted (the filter's first frames included).
2. Real, unlabelled: vtest.avi (CCTV, 10 fps) with YOLOX-nano boxes, tracked by lqpose.infer.track: jitter (median
   frame-to-frame acceleration in person heights) and how far smoothing moves the keypoints.
3. `--heatmap-fusion`: the other temporal idea, averaging a person's heatmaps over frames (exponentially) before
   decoding, on the same kind of clips, with the box following the sway or fixed while the person sways inside it.

    python benchmarks/video_smoothing.py [--people 40] [--frames 50] [--split val|test] [--video-frames 200]
    python benchmarks/video_smoothing.py --heatmap-fusion --people 20 --frames 40 --video-frames 0
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

import lqpose
from lqpose.codec import decode_crops
from lqpose.data.readers import read_lspet
from lqpose.data.transforms import crop_person
from lqpose.degrade import degrade
from lqpose.engine.evaluate import predict_heatmaps
from lqpose.imageio import read_rgb
from lqpose.infer.detectors import build_detector
from lqpose.infer.track import OneEuroFilter, PoseTracker, jitter

FPS = 25.0
MOTIONS = {"still": 0.0, "slow sway (T 3 s)": 3.0, "fast sway (T 1 s)": 1.0}  # period in seconds; 0 = still
SETTINGS = {  # OneEuroFilter(min_cutoff Hz, beta per height/s); the first is what `--smooth` uses
    "min_cutoff 1, beta 10 (the default)": dict(min_cutoff=1.0, beta=10.0),
    "min_cutoff 3, beta 30": dict(min_cutoff=3.0, beta=30.0),
    "min_cutoff 1, beta 4": dict(min_cutoff=1.0, beta=4.0),
    "min_cutoff 1, beta 1": dict(min_cutoff=1.0, beta=1.0),
    "min_cutoff 0.5, beta 1": dict(min_cutoff=0.5, beta=1.0),
}
R_SHOULDER, L_HIP, LIMBS = 1, 6, 12  # CrowdPose-14 order: the torso for PCK, then the 12 limb joints


def shifted(img: np.ndarray, dx: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, 0]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def labelled_people(shared: Path, split: str, people: int):
    """The first `people` LSPET people of `split` with a labelled torso: (image, (K, 3) joints, box, torso length)."""
    gt = read_lspet(shared / "lspet", split)
    chosen = [i for i in gt.instances if i.keypoints[R_SHOULDER, 2] > 0 and i.keypoints[L_HIP, 2] > 0][:people]
    for inst in chosen:
        kps = np.asarray(inst.keypoints, np.float64)
        torso = float(np.linalg.norm(kps[R_SHOULDER, :2] - kps[L_HIP, :2]))
        yield read_rgb(inst.image_path), kps, np.asarray(inst.bbox, np.float64), torso


def clip_frame(img: np.ndarray, height: float, person: int, f: int, period: float, severity: int):
    """Frame `f` of a person's clip: the image swayed sideways (period in s; 0 = still) under a fresh draw of
    sensor noise + JPEG. Returns (frame, the sideways shift in pixels)."""
    dx = 0.25 * height * math.sin(2 * math.pi * f / (period * FPS)) if period else 0.0
    seed = person * 100_000 + f
    return degrade(degrade(shifted(img, dx), "sensor_noise", severity, seed), "jpeg", severity, seed), dx


def clips(model, split: str, people: int, frames: int, shared: Path, severity: int) -> list[dict]:
    """Raw predictions for every (person, motion, frame), with the ground truth they are scored against."""
    out = []
    for n, (img, kps, box, torso) in enumerate(labelled_people(shared, split, people)):
        for motion, period in MOTIONS.items():
            raw, truth = [], []
            for f in range(frames):
                frame, dx = clip_frame(img, box[3], n, f, period, severity)
                moved_box = box + np.array([dx, 0, 0, 0])
                raw.append(model(frame, boxes=moved_box[None])[0]["keypoints"][:, :2].astype(np.float64))
                truth.append(kps[:, :2] + np.array([dx, 0]))
            out.append({"motion": motion, "raw": raw, "truth": truth, "vis": kps[:LIMBS, 2] > 0, "torso": torso,
                        "height": float(box[3])})  # fmt: skip
        print(f"\r  clips: {n + 1}/{people} people", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def heatmap_fusion(model, split: str, people: int, frames: int, shared: Path, severity: int) -> None:
    """PCK@0.2 of limb joints when each frame's heatmaps are blended into the last ones: h = w h_new + (1 - w) h."""
    weights = (1.0, 0.5, 0.3)  # 1.0: each frame alone, as shipped
    modes = {
        "still": (0.0, True),
        "sway, box follows (T 1 s)": (1.0, True),
        "sway inside a fixed box (T 1 s)": (1.0, False),
    }
    hits: dict[tuple[str, float], list[np.ndarray]] = {}
    count = 0
    for n, (img, kps, box, torso) in enumerate(labelled_people(shared, split, people)):
        count += 1
        vis = kps[:LIMBS, 2] > 0
        for mode, (period, follow) in modes.items():
            blended = dict.fromkeys(weights)
            for f in range(frames):
                frame, dx = clip_frame(img, box[3], n, f, period, severity)
                x, mat = crop_person(frame, box + np.array([dx if follow else 0.0, 0, 0, 0]), model.codec.input_size)
                heat = predict_heatmaps(model.model, torch.from_numpy(x[None]), model.spec, True)[0].float().numpy()
                for w in weights:
                    blended[w] = heat if blended[w] is None else w * heat + (1 - w) * blended[w]
                    pose = decode_crops(model.codec, blended[w], mat[None], np.ones(1))[0][0]
                    err = np.linalg.norm(pose[:LIMBS, :2] - (kps[:LIMBS, :2] + [dx, 0]), axis=1)[vis] / torso
                    hits.setdefault((mode, w), []).append(err < 0.2)
        print(f"\r  fusion clips: {n + 1}/{people} people", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"\nHeatmap fusion, LSPET {split}, {count} people x {frames} frames, severity {severity}: PCK@0.2")
    print("| heatmaps | " + " | ".join(modes) + " |")
    print("| --- |" + " ---: |" * len(modes))
    for w in weights:
        name = "each frame alone (as shipped)" if w == 1.0 else f"blended, weight {w} on the new frame"
        print(f"| {name} | " + " | ".join(f"{np.mean(np.concatenate(hits[(m, w)])):.3f}" for m in modes) + " |")


def score(clip_list: list[dict], setting: dict | None) -> dict[str, tuple[float, float]]:
    """motion -> (mean error in torso lengths, PCK@0.2) over the 12 limb joints of every frame."""
    errs: dict[str, list[np.ndarray]] = {}
    for c in clip_list:
        filt = OneEuroFilter(**setting) if setting else None
        for f, (pred, truth) in enumerate(zip(c["raw"], c["truth"], strict=True)):
            if filt is not None:
                pred = filt(pred, f / FPS, scale=c["height"])
            e = np.linalg.norm(pred[:LIMBS] - truth[:LIMBS], axis=1)[c["vis"]] / c["torso"]
            errs.setdefault(c["motion"], []).append(e)
    return {m: (float(np.mean(np.concatenate(v))), float(np.mean(np.concatenate(v) < 0.2))) for m, v in errs.items()}


def video_tracks(model, path: Path, frames: int) -> tuple[dict[int, list], float]:
    """Tracked raw keypoints on the first `frames` frames: track id -> [(frame, (K, 3) keypoints, height)], fps."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    tracker = PoseTracker()
    tracks: dict[int, list] = {}
    for f in range(frames):
        ok, bgr = cap.read()
        if not ok:
            break
        for p in tracker.update(model(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)), f, fps):
            tracks.setdefault(p["track_id"], []).append((f, p["keypoints"], p["bbox"][3]))
    cap.release()
    return tracks, fps


def smoothed_tracks(tracks: dict[int, list], fps: float, setting: dict) -> tuple[dict[int, list], float]:
    """The same tracks through a One-Euro filter each, as PoseTracker(smooth=setting) would give them, and the
    median distance smoothing moved a keypoint, in person heights."""
    out, moves = {}, []
    for tid, seq in tracks.items():
        filt = OneEuroFilter(**setting)
        out[tid] = []
        for f, kps, h in seq:
            xy = filt(kps[:, :2], f / fps, scale=h)
            out[tid].append((f, xy, h))
            moves.append(np.linalg.norm(xy - kps[:, :2], axis=1) / h)
    return out, float(np.median(np.concatenate(moves)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--people", type=int, default=40)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--split", default="val", choices=("val", "test"))
    ap.add_argument("--video-frames", type=int, default=200)
    ap.add_argument("--severity", type=int, default=3, help="of the per-frame sensor noise and JPEG, 1..5")
    ap.add_argument("--heatmap-fusion", action="store_true", help="measure heatmap averaging over frames instead")
    args = ap.parse_args()
    if not (args.shared / "lspet").is_dir():
        print(f"{args.shared / 'lspet'}: not found (the shared data folder)", file=sys.stderr)
        return 1
    model = lqpose.load("default")  # the bundled model, flip test, as shipped
    if args.heatmap_fusion:
        heatmap_fusion(model, args.split, args.people, args.frames, args.shared, args.severity)
        return 0
    clip_list = clips(model, args.split, args.people, args.frames, args.shared, args.severity)
    rows = {"raw (no smoothing)": score(clip_list, None)}
    rows.update({name: score(clip_list, s) for name, s in SETTINGS.items()})
    print(f"\nLSPET {args.split}, {args.people} people x {args.frames} frames at {FPS:.0f} fps, fresh sensor noise + "
          "JPEG (severity "
          f"{args.severity}) every frame; mean limb-joint error in torso lengths / PCK@0.2")  # fmt: skip
    print("| keypoints | " + " | ".join(MOTIONS) + " |")
    print("| --- |" + " ---: |" * len(MOTIONS))
    for name, by_motion in rows.items():
        print(f"| {name} | " + " | ".join(f"{by_motion[m][0]:.4f} / {by_motion[m][1]:.3f}" for m in MOTIONS) + " |")

    vtest = args.shared / "videos" / "vtest.avi"
    if vtest.is_file() and (args.shared / "models/yolox/yolox_nano.onnx").is_file():
        model.detector = build_detector(f"yolox:{args.shared / 'models/yolox/yolox_nano.onnx'}")
        print(f"\nvtest.avi, first {args.video_frames} frames (10 fps), YOLOX-nano boxes, tracked; jitter = median "
              "frame-to-frame acceleration of a keypoint, in person heights")  # fmt: skip
        tracks, fps = video_tracks(model, vtest, args.video_frames)
        j_raw = jitter(tracks)
        print(f"{len(tracks)} tracks; raw jitter {j_raw:.4f}")
        print("| setting | jitter smoothed | of raw | median move by smoothing (heights) |")
        print("| --- | ---: | ---: | ---: |")
        for name, setting in SETTINGS.items():
            smooth, move = smoothed_tracks(tracks, fps, setting)
            j = jitter(smooth)
            print(f"| {name} | {j:.4f} | {j / j_raw:.2f} | {move:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
