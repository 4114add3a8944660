"""How well `PoseTracker` keeps identities when a degraded video makes the detector miss people.

On low-quality video (dark, blurred, noisy, over-compressed frames) a detector misses people in some frames, and a
tracker that matches boxes by overlap then gives a person a new id after the gap or hands their id to a neighbour.
This script measures that on the real CCTV clip `../shared/data/videos/vtest.avi` (795 frames, people 60-100 px),
with no identity labels, by a reference that needs none:

1. YOLOX-nano boxes on the clean frames, tracked by `PoseTracker` at its old setting (IoU >= 0.3), are cut into
   *sure segments*: runs of consecutive frames whose boxes overlap by IoU >= 0.5 (one person each, whatever the
   tracker), at least 3 frames long.
2. Each frame is degraded (`lqpose.degrade`, seeded per frame) and the detector runs again; a degraded box takes
   the segment of the clean box it overlaps by IoU >= 0.5. The trackers below track the degraded boxes.
3. Errors: a *switch* is a change of track id between two consecutive kept boxes of one segment (a person split
   in two); a *merge* is one track id given to two segments that exist at the same time (two people joined,
   certainly wrong). Lower is better; `ids` is the number of track ids made (fewer = less fragmented).

Each tracker setting is scored on the same boxes, side by side: IoU floors on the boxes scored >= 0.3 (YOLOX's
usual threshold), and the two-stage tracker of `lqpose infer` on video (IoU >= 0.2, and boxes scored 0.1-0.3 may
continue a track but not start one: ByteTrack's second stage). `tracked` is the share of the sure segments' boxes
that come out of the tracker with an id (what a user sees drawn). The reference favours plain IoU matching a little
(its segments are IoU runs), so a setting that wins here against it is not flattered by it.

    python benchmarks/track_lq.py [--shared ../shared/data] [--severity 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from lqpose.degrade import degrade
from lqpose.infer.detectors import YoloxDetector
from lqpose.infer.run import LOW_BOX_SCORE
from lqpose.infer.track import PoseTracker, box_iou, greedy_pairs

DEGRADATIONS = ("low_light", "motion_blur", "sensor_noise", "jpeg")


def detect_video(path: Path, detector, degradation: tuple[str, int] | None = None, max_frames: int = 0) -> list:
    """Per frame, the detector's (N, 5) boxes x, y, w, h, score, on the frames as read or degraded."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while not max_frames or len(frames) < max_frames:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if degradation is not None:
            rgb = degrade(rgb, degradation[0], degradation[1], 1000 + len(frames))
        frames.append(np.asarray(detector(rgb), np.float64).reshape(-1, 5))
    cap.release()
    return frames


def track(frames: list[np.ndarray], tracker: PoseTracker, fps: float = 10.0) -> dict[tuple[int, int], int]:
    """(frame, box index) -> track id."""
    ids = {}
    for f, boxes in enumerate(frames):
        people = [{"bbox": b[:4].tolist(), "keypoints": np.zeros((1, 3)), "score": float(b[4]), "box": k}
                  for k, b in enumerate(boxes)]  # fmt: skip
        for person in tracker.update(people, f, fps):
            ids[f, person["box"]] = person["track_id"]
    return ids


def sure_segments(frames: list[np.ndarray], ids: dict, min_iou: float = 0.5, min_len: int = 3) -> list[list]:
    """Runs of one track over consecutive frames whose boxes overlap by >= min_iou: one person each."""
    by_track: dict[int, list] = {}
    for key, tid in sorted(ids.items()):
        by_track.setdefault(tid, []).append(key)
    segments = []
    for seq in by_track.values():
        run = [seq[0]]
        for (f0, k0), (f1, k1) in zip(seq, seq[1:]):  # noqa: B905 - shifted views
            if f1 == f0 + 1 and box_iou(frames[f0][k0, :4], frames[f1][k1, :4])[0, 0] >= min_iou:
                run.append((f1, k1))
            else:
                segments.append(run)
                run = [(f1, k1)]
        segments.append(run)
    return [s for s in segments if len(s) >= min_len]


def match_boxes(lq: list[np.ndarray], clean: list[np.ndarray], min_iou: float = 0.5) -> dict:
    """(frame, degraded box) -> (frame, clean box): greedy by IoU, one to one, IoU >= min_iou."""
    pairs = {}
    for f, (a, b) in enumerate(zip(lq, clean, strict=True)):
        if not len(a) or not len(b):
            continue
        pairs.update({(f, i): (f, j) for i, j in greedy_pairs(box_iou(a[:, :4], b[:, :4]), min_iou)})
    return pairs


def identity_errors(segments: list[list], ids: dict) -> tuple[int, int]:
    """(switches, merges) of a tracking `ids` ((frame, clean box) -> id) against the sure segments."""
    switches = 0
    segment_of, span = {}, []
    for n, seg in enumerate(segments):
        seen = [ids[key] for key in seg if key in ids]
        switches += sum(a != b for a, b in zip(seen, seen[1:]))  # noqa: B905 - shifted views
        segment_of.update({key: n for key in seg})
        span.append((seg[0][0], seg[-1][0]))
    members: dict[int, set] = {}
    for key, tid in ids.items():
        if key in segment_of:
            members.setdefault(tid, set()).add(segment_of[key])
    merges = 0
    for segs in members.values():
        segs = sorted(segs)
        merges += sum(span[a][0] <= span[b][1] and span[b][0] <= span[a][1]
                      for i, a in enumerate(segs) for b in segs[i + 1 :])  # fmt: skip
    return switches, merges


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--severity", type=int, default=4, help="of each degradation, 1..5")
    ap.add_argument("--score-thr", type=float, default=0.3, help="detector score kept (lqpose's YOLOX default)")
    ap.add_argument("--frames", type=int, default=0, help="first N frames only (0: all 795)")
    ap.add_argument("--iou", default="0.3,0.2,0.1", help="PoseTracker iou_thr settings to compare")
    args = ap.parse_args()
    video, model = args.shared / "videos/vtest.avi", args.shared / "models/yolox/yolox_nano.onnx"
    if not (video.is_file() and model.is_file()):
        print(f"{video} or {model}: not found (the shared data folder)", file=sys.stderr)
        return 1
    settings = [float(v) for v in args.iou.split(",")]
    detector = YoloxDetector(model, score_thr=LOW_BOX_SCORE)  # filtered below: NMS keeps the surer boxes alike
    t = time.perf_counter()
    low_clean = detect_video(video, detector, max_frames=args.frames)
    clean = [b[b[:, 4] >= args.score_thr] for b in low_clean]
    segments = sure_segments(clean, track(clean, PoseTracker(iou_thr=0.3)))
    held = sum(map(len, segments))
    print(f"vtest.avi: {len(clean)} frames, {sum(map(len, clean))} clean boxes (YOLOX-nano, score >= "
          f"{args.score_thr}); {len(segments)} sure segments holding {held} of them. Cells: switches + merges = "
          f"errors (track ids made), tracked share of the sure segments' boxes\n")  # fmt: skip
    columns = [f"IoU >= {s}" for s in settings] + [f"two-stage (IoU >= 0.2, boxes >= {LOW_BOX_SCORE} continue)"]
    print("| frames | " + " | ".join(columns) + " |")
    print("| --- | " + " | ".join("---:" for _ in columns) + " |")
    for name in ("clean", *DEGRADATIONS):
        low = low_clean if name == "clean" else detect_video(video, detector, (name, args.severity), args.frames)
        sure = [b[b[:, 4] >= args.score_thr] for b in low]
        runs = [(sure, PoseTracker(iou_thr=s)) for s in settings]
        runs.append((low, PoseTracker(iou_thr=0.2, new_track_score=args.score_thr)))
        cells = []
        for boxes, tracker in runs:
            pairs = match_boxes(boxes, clean)
            ids = {pairs[key]: tid for key, tid in track(boxes, tracker).items() if key in pairs}
            sw, mg = identity_errors(segments, ids)
            tracked = sum(key in ids for seg in segments for key in seg) / held
            cells.append(f"{sw} + {mg} = {sw + mg} ({tracker.next_id}), {tracked:.2f}")
        label = name if name == "clean" else f"{name} {args.severity}"
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\n{time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
