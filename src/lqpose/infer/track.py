"""People across video frames: track ids by box overlap, and optional One-Euro smoothing of each track's keypoints.

A top-down model sees every frame afresh, so on noisy, compressed CCTV frames its keypoints shake from frame to
frame even when the person stands still. Two things a video user expects, neither touching the model:

- `PoseTracker` gives each person a `track_id` that persists while their box keeps overlapping: greedy matching
  by IoU between this frame's boxes and each live track's last box, highest overlap first (the matching of
  MMPose's and most top-down pipelines' video demos). A track survives `max_age` frames unseen. The IoU floor is
  0.2: on degraded CCTV video, where the detector misses people, it split people into fewer pieces than 0.3 with
  as few wrong joins. With `new_track_score`, boxes the detector is unsure of may continue a track but not start
  one (ByteTrack's second stage), which draws more of the people in dark or blurred frames
  (benchmarks/track_lq.py; docs/inference.md, "Video").
- `OneEuroFilter` (Casiez, Roussel and Vogel, CHI 2012) smooths a signal with a low-pass whose cutoff rises with
  its speed: still joints are held steady, fast ones follow with little lag. Speeds are measured in person heights
  per second, so one setting serves a 60 px pedestrian and a 600 px close-up alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between (N, 4) and (M, 4) boxes given as x, y, w, h -> (N, M)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ax1, ay1, ax2, ay2 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx1, by1, bx2, by2 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    union = a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def keypoint_centre(person: dict, min_score: float = 0.3, min_joints: int = 3) -> np.ndarray | None:
    """The centre of the extent of a person's keypoints scoring above `min_score` (the model's own where smoothing
    replaced them), or None with fewer than `min_joints` of them."""
    kps = np.asarray(person.get("raw_keypoints", person["keypoints"]), np.float32).reshape(-1, 3)
    sure = kps[kps[:, 2] > min_score, :2]
    return (sure.min(0) + sure.max(0)) / 2 if len(sure) >= min_joints else None


def boxes_from_people(people: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(N, 5) boxes x, y, w, h, score to look for this frame's people in the next one, without a detector: each
    person's own box, with their detector score (`box_score`, else `score`), for every person with a
    `keypoint_centre` (returned alongside, one per box)."""
    boxes, centres = [], []
    for p in people:
        centre = keypoint_centre(p)
        if centre is None:
            continue
        score = p.get("box_score") if p.get("box_score") is not None else p["score"]
        boxes.append([*(float(v) for v in p["bbox"]), score])
        centres.append(centre)
    return np.asarray(boxes, np.float32).reshape(-1, 5), centres


class DetectEvery:
    """Run the detector on every `n`-th frame only (rtmlib's det_frequency): `boxes()` says, frame by frame, None
    (run it: every n-th frame, and any frame after one where no one was found) or the last frame's people's boxes
    (`boxes_from_people`), where the pose model looks for them again; `saw(people)` takes the model's people of that
    frame (one per box, in order) and returns them, on a followed frame with each box moved as the centre of its
    keypoints moved. A box keeps the detector's size and its offset from the keypoints, so the next detection is
    compared, by the tracker, with where the person now is. Given boxes (a detections file) pass through.
    `detected` counts the detector's frames.

        follow = DetectEvery(3)
        for i, frame in video:
            people = tracker.update(follow.saw(model(frame, boxes=follow.boxes())), i, video.fps)

    Found on vtest.avi with detection every 2nd frame: boxes centred on the keypoints' extent, padded as LSPET's
    (rtmlib's way), were so much narrower than YOLOX's for pedestrians seen from above, and lagged a frame, that the
    tracker's overlap fell below its floor when the detector came back: 118 tracks where every frame's detection
    gives 79; moving each box with its keypoints gives 83 (docs/inference.md, benchmarks/det_every.py)."""

    def __init__(self, n: int):
        if not (isinstance(n, int) and n >= 1):
            raise ValueError(f"detect every n frames needs a whole n >= 1, got {n!r}")
        self.n, self.frames, self.detected, self.last = n, 0, 0, []
        self.centres: list[np.ndarray] | None = None  # per followed box: its person's keypoint centre when it was made

    def boxes(self, given: np.ndarray | None = None) -> np.ndarray | None:
        self.frames += 1
        self.centres = None
        if given is not None:
            return given
        if (self.frames - 1) % self.n == 0 or not self.last:
            self.detected += 1
            return None
        boxes, self.centres = boxes_from_people(self.last)
        return boxes

    def saw(self, people: list[dict]) -> list[dict]:
        if self.centres is not None:
            if len(people) != len(self.centres):
                raise ValueError(f"DetectEvery.saw: {len(people)} people for {len(self.centres)} boxes; give the "
                                 "model's people of this frame, one per box, before any filtering")  # fmt: skip
            moved = []
            for p, before in zip(people, self.centres, strict=True):
                now = keypoint_centre(p)
                if now is not None:
                    x, y, w, h = (float(v) for v in p["bbox"])
                    dx, dy = (float(v) for v in now - before)
                    p = {**p, "bbox": [x + dx, y + dy, w, h]}
                moved.append(p)
            people = moved
        self.last = people
        return people


def greedy_pairs(iou: np.ndarray, floor: float) -> list[tuple[int, int]]:
    """One-to-one (row, column) pairs of an IoU matrix, highest overlap first, each at IoU >= floor."""
    pairs, rows, cols = [], set(), set()
    for i, j in zip(*np.unravel_index(np.argsort(-iou, axis=None), iou.shape), strict=True):
        if iou[i, j] < floor:
            break
        if i not in rows and j not in cols:
            pairs.append((int(i), int(j)))
            rows.add(i)
            cols.add(j)
    return pairs


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One-Euro filter over an array of coordinates (e.g. (K, 2) keypoints), one filter per element.

    `min_cutoff` (Hz): the cutoff for a still signal; lower = steadier, more lag on slow moves.
    `beta`: how fast the cutoff rises with speed, per (scale units per second); higher = less lag on fast moves.
    `d_cutoff` (Hz): the cutoff of the speed estimate itself.
    Call with the raw values, the time in seconds and the scale that speeds are divided by (the person's height in
    pixels, so `beta` means the same for near and far people). The defaults (1 Hz, 10) cut the shake of CCTV
    keypoints by about a quarter (0.72 of raw on vtest.avi) for 0.8-2.4 PCK points on noisy labelled clips;
    benchmarks/video_smoothing.py measures gentler and stronger settings beside them (docs/inference.md, "Video")."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 10.0, d_cutoff: float = 1.0):
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f"One-Euro needs min_cutoff > 0, d_cutoff > 0 and beta >= 0, got "
                             f"{min_cutoff}, {d_cutoff}, {beta}")  # fmt: skip
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None
        self.t: float | None = None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.x is None or self.t is None or t <= self.t:
            self.x, self.dx, self.t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self.t
        speed = (x - self.x) / dt
        self.dx = self.dx + _alpha(self.d_cutoff, dt) * (speed - self.dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self.dx) / max(scale, 1e-6)
        self.x = self.x + _alpha(cutoff, dt) * (x - self.x)
        self.t = t
        return self.x.copy()


@dataclass
class _Track:
    track_id: int
    box: np.ndarray
    last_frame: int
    filter: OneEuroFilter | None = None


class PoseTracker:
    """Assigns `track_id` to the people of consecutive frames and, with `smooth`, smooths their keypoints.

    `update(people, frame_index, fps)` takes the people of one frame (dicts with bbox x, y, w, h and keypoints
    (K, 3)) and returns them with `track_id` set; with smoothing, `keypoints` holds the smoothed x, y (scores as
    predicted) and `raw_keypoints` the model's own. `new_track_score` (0: off): boxes the detector scores below it
    may only continue a track, never start one (ByteTrack's second stage; on degraded video it tracks people the
    detector is unsure of, benchmarks/track_lq.py). `smooth`: False, True (OneEuroFilter's defaults) or a dict of
    OneEuroFilter arguments. Smoothing steadies what is drawn; it does not make keypoints more accurate (measured:
    docs/inference.md, "Video").

        tracker = PoseTracker(smooth=True)
        people = tracker.update(model(frame), frame_index, fps)
    """

    def __init__(
        self,
        iou_thr: float = 0.2,
        max_age: int = 10,
        smooth: bool | dict = False,
        new_track_score: float = 0.0,
        low_iou: float = 0.5,
    ):
        if not 0 < iou_thr <= 1 or not 0 < low_iou <= 1:
            raise ValueError(f"iou_thr and low_iou must be in (0, 1], got {iou_thr} and {low_iou}")
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0 frames, got {max_age}")
        if not 0 <= new_track_score <= 1:
            raise ValueError(f"new_track_score must be in [0, 1], got {new_track_score}")
        self.iou_thr, self.max_age = iou_thr, max_age
        self.new_track_score, self.low_iou = new_track_score, low_iou
        self.smooth = ({} if smooth is True else dict(smooth)) if smooth else None
        if self.smooth is not None:
            OneEuroFilter(**self.smooth)  # refuse bad settings now, not at the first person
        self.tracks: list[_Track] = []
        self.next_id = 0

    def _match(self, boxes: np.ndarray, rows: list[int], tracks: list[_Track], floor: float) -> dict[int, _Track]:
        """Greedy IoU matching of boxes[rows] to `tracks`, highest overlap first, at IoU >= floor."""
        iou = box_iou(boxes[rows], np.array([tr.box for tr in tracks]).reshape(-1, 4))
        return {rows[i]: tracks[j] for i, j in greedy_pairs(iou, floor)}

    def _live(self, frame_index: int) -> list[_Track]:
        return [tr for tr in self.tracks if frame_index - tr.last_frame <= self.max_age + 1]

    def may_keep(self, boxes: np.ndarray, frame_index: int) -> np.ndarray:
        """(N,) bool: which of a frame's detector boxes (N, 5: x, y, w, h, score) `update` could keep, before any
        pose is estimated. A box scoring under `new_track_score` is kept only if it continues a live track at IoU >=
        `low_iou`; one that overlaps no live track that much never is, so its pose need not be computed (161 of YOLOX's
        1,222 boxes from 0.1 up on vtest.avi's first 150 frames). Dropping them first leaves `update`'s result
        unchanged."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 5)
        keep = boxes[:, 4] >= self.new_track_score
        live = self._live(frame_index)
        if keep.all() or not live:
            return keep
        iou = box_iou(boxes[:, :4], np.array([tr.box for tr in live]).reshape(-1, 4))
        return keep | (iou.max(1) >= self.low_iou)

    def update(self, people: list[dict], frame_index: int, fps: float) -> list[dict]:
        """The people of one frame with `track_id` set. With `new_track_score`, people whose box scores below it
        (`box_score`, else `score`) only continue a track that this frame's surer boxes left unmatched, at IoU >=
        `low_iou` (ByteTrack's second stage); those that continue none are left out of the result."""
        self.tracks = self._live(frame_index)
        boxes = np.array([p["bbox"] for p in people], np.float64).reshape(-1, 4)
        scores = [float(p.get("box_score", p.get("score", 1.0))) for p in people]
        sure = [i for i, s in enumerate(scores) if s >= self.new_track_score]
        unsure = [i for i, s in enumerate(scores) if s < self.new_track_score]
        assigned = self._match(boxes, sure, self.tracks, self.iou_thr)
        if unsure:
            taken = {id(tr) for tr in assigned.values()}
            assigned |= self._match(boxes, unsure, [tr for tr in self.tracks if id(tr) not in taken], self.low_iou)
        t = frame_index / fps
        out = []
        for i, person in enumerate(people):
            track = assigned.get(i)
            if track is None and scores[i] < self.new_track_score:
                continue  # an unsure box that continues no one: likely no one
            if track is None:
                track = _Track(self.next_id, boxes[i], frame_index)
                self.next_id += 1
                self.tracks.append(track)
            else:
                track.box, track.last_frame = boxes[i], frame_index
            person = {**person, "track_id": track.track_id}
            if self.smooth is not None:
                if track.filter is None:
                    track.filter = OneEuroFilter(**self.smooth)
                raw = np.asarray(person["keypoints"], np.float32)
                smoothed = raw.copy()
                smoothed[:, :2] = track.filter(raw[:, :2], t, scale=float(boxes[i, 3]))
                person["raw_keypoints"], person["keypoints"] = raw, smoothed
            out.append(person)
        return out


def jitter(tracks: dict[int, list[tuple[int, np.ndarray, float]]]) -> float:
    """Median frame-to-frame acceleration of keypoints, in person heights: |x[t+1] - 2 x[t] + x[t-1]| / height,
    over every joint of every track at three consecutive frames. `tracks`: track id -> [(frame, (K, 2+) keypoints,
    height)]. A still person with a steady model reads 0; the shake of a per-frame model reads above it."""
    values = []
    for seq in tracks.values():
        seq = sorted(seq, key=lambda s: s[0])
        for (f0, a, _), (f1, b, h), (f2, c, _) in zip(seq, seq[1:], seq[2:]):  # noqa: B905 - shifted views
            if f1 - f0 == 1 and f2 - f1 == 1 and h > 0:
                acc = np.asarray(c)[:, :2] - 2 * np.asarray(b)[:, :2] + np.asarray(a)[:, :2]
                values.append(np.linalg.norm(acc, axis=1) / h)
    return float(np.median(np.concatenate(values))) if values else float("nan")
