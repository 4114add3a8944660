"""`lqpose infer MODEL INPUT --out DIR`: poses on an image, a folder of images, a video or a stream.

Images: OUT/results.json (COCO keypoint results; OUT/images.json maps image ids to file names) and
OUT/overlays/<stem>.png; with `--sequence` (a folder of one clip's frames), also OUT/<folder>.mp4 of the overlays
at the clip's rate. A photo is read upright, as a viewer shows it (its EXIF orientation applied and recorded in
images.json), so boxes and keypoints refer to that view. Video (a file, a URL such as rtsp://..., or camera:N):
OUT/<stem>.mp4 (annotated) and OUT/<stem>.frames.json (people per frame, each with a `track_id` kept across frames;
with `smooth`, One-Euro-smoothed keypoints and the model's own in `raw_keypoints`). Streams run until they end or
Ctrl-C. A live stream (camera:N, rtsp://...) never has to end, so nothing of it is held in memory: its frames go to
OUT/<stem>_<start time>.frames.jsonl as they are done (one JSON line per frame, with its wall-clock `time`), and its
video to OUT/<stem>_<start time>.mp4 segments of `segment_minutes` each, every one complete once the next begins.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..data.readers import is_box, load_json
from ..files import write_json
from ..imageio import exif_orientation, image_files, read_images, write_image
from .detectors import takes_score_thr
from .draw import DRAW_KPT_THR, check_kpt_thr, draw_pose
from .track import DetectEvery, PoseTracker
from .video import VideoFrames, is_live_source, is_video_file, redact_url, stream_source

log = logging.getLogger(__name__)


def read_boxes(path: str | Path) -> dict[str, np.ndarray]:
    """A detections json: a COCO results list, each entry a person box (bbox x, y, w, h; score and category_id
    optional) and where it belongs: `file_name`, or `image_id` = the file stem for images and the 0-based frame
    index for a video. Returns {file stem or frame index as text: (N, 5) boxes with scores}."""
    path = Path(path)
    dets = load_json(path, "detections file")
    if not isinstance(dets, list):
        raise ValueError(f"{path}: expected a list of detections (COCO results), got a {type(dets).__name__}")
    out: dict[str, list] = {}
    empty = 0
    for i, d in enumerate(dets):
        if not isinstance(d, dict) or ("file_name" not in d and "image_id" not in d):
            raise ValueError(f"{path}: detection {i} names no file_name or image_id, got {d!r:.80}")
        if not is_box(d.get("bbox")):
            raise ValueError(f"{path}: detection {i} needs bbox [x, y, w, h], got {d.get('bbox')!r:.80}")
        if d.get("category_id", 1) != 1:
            continue
        if d["bbox"][2] <= 0 or d["bbox"][3] <= 0:  # a detector's degenerate box: nothing to crop
            empty += 1
            continue
        key = Path(str(d["file_name"])).stem if "file_name" in d else str(d["image_id"])
        out.setdefault(key, []).append([*d["bbox"], float(d.get("score", 1.0))])
    if empty:
        log.warning("%s: skipped %d detections with zero or negative width or height", path, empty)
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


NO_BOXES = np.zeros((0, 5), np.float32)


def _flat(kps) -> list[float]:
    return [round(float(v), 3) for v in np.asarray(kps, np.float32).reshape(-1)]


def _as_result(person: dict, image_id: int) -> dict:
    r = {"image_id": image_id, "category_id": 1, "bbox": [round(v, 2) for v in person["bbox"]],
         "keypoints": _flat(person["keypoints"]), "score": round(person["score"], 6)}  # fmt: skip
    if person.get("box_score") is not None:  # the detector's own score, before the keypoints rescore it
        r["box_score"] = round(person["box_score"], 6)
    if person.get("quality") is not None:
        r["quality"] = round(person["quality"], 4)
    if person.get("track_id") is not None:
        r["track_id"] = person["track_id"]
    if person.get("raw_keypoints") is not None:
        r["raw_keypoints"] = _flat(person["raw_keypoints"])
    return r


def infer_path(estimator, source: str | Path, out: str | Path, boxes: str | None = None, score_thr: float = 0.0,
               progress: bool = True, smooth: bool | dict = False, sequence_fps: float | None = None,
               every_frame: bool = False, segment_minutes: float | None = None, draw: bool = True,
               det_every: int = 1, kpt_thr: float = DRAW_KPT_THR) -> dict:  # fmt: skip
    """Run `estimator` (lqpose.api.PoseEstimator) on `source`: an image, a folder of images, a video file, a URL
    or 'camera:N' (streams run until they end or Ctrl-C); returns a summary. `sequence_fps`: the folder's images
    are the frames of one clip (PoseTrack-style frame folders) taken at this rate, in natural name order
    (frame2 before frame10): its people get `track_id`s as in a video. `smooth` (videos and sequences): True or
    OneEuroFilter arguments to smooth each track's keypoints (lqpose.infer.track), False for the model's own.
    When people are tracked (videos, streams, sequences) without `boxes` and the estimator's detector takes a score
    threshold per call (YOLOX), it is asked for its boxes down to LOW_BOX_SCORE, and those below its own threshold
    may only continue a track (ByteTrack's second stage): people the detector is unsure of in a dark or blurred
    frame stay tracked. The detector itself is left as it is, so one may serve several runs at once. A live source
    (is_live_source) is read in its own thread and only its newest frame is taken, so the output stays current when
    the model is slower than the camera; `every_frame` reads every frame instead, however far behind it falls. A live
    source's output is written as it goes (the module's docstring), its video in segments of `segment_minutes`
    (default SEGMENT_MINUTES). `draw=False` writes the json only: no overlays, no video (a whole dataset's poses, or
    a camera watched for its poses alone). `det_every` N > 1 (tracked clips): the detector runs on every N-th frame
    read and whenever no one was found on the last one; in between, people are followed by boxes from their last
    keypoints (lqpose.infer.track.DetectEvery; rtmlib's det_frequency), at the pose model's cost alone. `kpt_thr`:
    the overlays draw keypoints scored above it; the json keeps every keypoint with its score."""
    stream = stream_source(source) if isinstance(source, str) else None
    tracking = sequence_fps is not None or stream is not None or is_video_file(source)
    detector = getattr(estimator, "detector", None)
    # given boxes come with their own threshold, which we do not know; a detector tells its own
    two_stage = tracking and boxes is None and takes_score_thr(detector) and detector.score_thr > LOW_BOX_SCORE
    low, new_track_score = (LOW_BOX_SCORE, float(detector.score_thr)) if two_stage else (None, 0.0)
    live_source = stream is not None and is_live_source(source)
    if every_frame and not live_source:
        raise ValueError(f"{redact_url(str(source))}: --every-frame applies to live streams (camera:N, rtsp://...); "
                         "files are read frame by frame anyway")  # fmt: skip
    if segment_minutes is not None and not live_source:
        raise ValueError(f"{redact_url(str(source))}: --segment applies to live streams (camera:N, rtsp://...); "
                         "a file's video is written whole")  # fmt: skip
    if segment_minutes is not None and not segment_minutes * 60 >= 1:
        raise ValueError(f"--segment must be at least a second (1/60 minute), got {segment_minutes}")
    segment_s = 60 * (SEGMENT_MINUTES if segment_minutes is None else segment_minutes) if live_source else None
    live = live_source and not every_frame
    if not (isinstance(det_every, int) and det_every >= 1):
        raise ValueError(f"--det-every must be a whole number of frames >= 1, got {det_every!r}")
    if det_every > 1 and (boxes is not None or detector is None or not tracking):
        why = ("boxes are given" if boxes is not None else "there is no detector (--detector)" if detector is None
               else "it follows people from frame to frame: give a video, a stream or --sequence")  # fmt: skip
        raise ValueError(f"{redact_url(str(source))}: --det-every applies to a detector on a tracked clip; {why}")
    check_kpt_thr(kpt_thr, "--kpt-thr")
    return _infer_path(estimator, source, stream, out, boxes, score_thr, progress, smooth, sequence_fps,
                       new_track_score, low, live, segment_s, draw, det_every, kpt_thr)  # fmt: skip


LOW_BOX_SCORE = 0.1  # ByteTrack's floor: a box this sure may continue a track, not start one
SEGMENT_MINUTES = 10.0  # a live stream's video is cut into files this long, each playable once the next begins


def _infer_path(estimator, source, stream, out, boxes, score_thr, progress, smooth, sequence_fps,
                new_track_score: float, box_score_thr: float | None, live: bool,
                segment_s: float | None, draw: bool, det_every: int = 1,
                kpt_thr: float = DRAW_KPT_THR) -> dict:  # fmt: skip
    out = Path(out)
    if sequence_fps is not None and (stream is not None or (Path(source).exists() and not Path(source).is_dir())):
        raise ValueError(f"{redact_url(str(source))}: a sequence is a folder of frames (videos are tracked anyway)")
    if sequence_fps is not None and not 0 < sequence_fps < 1000:
        raise ValueError(f"sequence fps must be in (0, 1000), got {sequence_fps}")
    given = read_boxes(boxes) if boxes else None
    if stream is not None:
        out.mkdir(parents=True, exist_ok=True)
        return _infer_video(estimator, VideoFrames(source, live), out, score_thr, progress,
                            PoseTracker(smooth=smooth, new_track_score=new_track_score), given,
                            box_score_thr, segment_s, draw, det_every, kpt_thr)  # fmt: skip
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    out.mkdir(parents=True, exist_ok=True)
    if is_video_file(source):
        return _infer_video(estimator, VideoFrames(source, live=False), out, score_thr, progress,
                            PoseTracker(smooth=smooth, new_track_score=new_track_score), given,
                            box_score_thr, draw=draw, det_every=det_every, kpt_thr=kpt_thr)  # fmt: skip
    if smooth and sequence_fps is None:
        raise ValueError(f"{source}: smoothing follows people over time: give a video, or a folder of frames "
                         "with --sequence")  # fmt: skip
    files = sorted(image_files(source), key=_natural_key) if sequence_fps else image_files(source)
    if not files:
        raise ValueError(f"{source}: no images")
    tracker = PoseTracker(smooth=smooth, new_track_score=new_track_score) if sequence_fps else None
    clip = _ClipWriter(out / f"{source.name}.mp4", sequence_fps) if sequence_fps and draw else None
    results, images, skipped, unboxed = [], [], {}, 0
    follow = DetectEvery(det_every)
    try:
        for image_id, path, img in read_images(files, skipped, "infer", progress, upright=True):
            # an image the detections skip has no one in it; without detections the estimator finds people
            found = given.get(path.stem, NO_BOXES) if given is not None else None
            unboxed += found is not None and len(found) == 0
            found = follow.boxes(found)
            try:
                people = [p for p in follow.saw(_people(estimator, img, found, box_score_thr, tracker, image_id))
                          if p["score"] >= score_thr]  # fmt: skip
            except ValueError as e:  # an image the model cannot take (a 1-px image): name it; in a folder, skip it
                if len(files) == 1:
                    raise ValueError(f"{path}: {e}") from None
                log.warning("skipped %s: %s", path, e)
                skipped[path.name] = str(e)
                continue
            if tracker is not None:  # a skipped (unreadable) frame still counts as time passing
                people = tracker.update(people, image_id, sequence_fps)
            if draw:
                overlay = img.copy()
                for p in people:
                    draw_pose(overlay, p, estimator.spec, kpt_thr)
                write_image(out / "overlays" / f"{path.stem}.png", overlay)
                if clip is not None:
                    clip.write(overlay, image_id)
            results += [_as_result(p, image_id) for p in people]
            image = {"id": image_id, "file_name": path.name, "width": img.shape[1], "height": img.shape[0]}
            orientation = exif_orientation(path)
            if orientation != 1:  # people and sizes are on the upright image, as a viewer shows it
                image["exif_orientation"] = orientation
            images.append(image)
    except KeyboardInterrupt:  # Ctrl-C on a long folder: keep the results of the images already done
        if images:
            write_json(out / "results.json", results)
            write_json(out / "images.json", images)
            if clip is not None:
                clip.close()
            log.warning("%s: interrupted; wrote the results of the first %d images to %s", source, len(images), out)
        elif clip is not None:
            clip.discard()
        raise
    except BaseException:
        if clip is not None:
            clip.discard()
        raise
    write_json(out / "results.json", results)
    write_json(out / "images.json", images)
    if clip is not None and images:
        clip.close()
    if unboxed:
        log.warning("%s: %d of %d images have no boxes in %s (matched by file stem); they have no people",
                    source, unboxed, len(images), boxes)  # fmt: skip
    summary = {"images": len(images), "people": len(results), "skipped": len(skipped)}
    if tracker is not None:
        summary["tracks"] = tracker.next_id
    if det_every > 1:
        summary["detector_frames"] = follow.detected
    if clip is not None:
        summary["video"] = str(clip.target)
    return summary


class _ClipWriter:
    """The overlays of a video or a --sequence as one MP4 at the clip's rate: a frame not drawn (unreadable, or
    dropped from a live stream) holds the frame before it, so time keeps its pace, as for the tracker; a frame of
    another size is resized to the first's. With `segment_frames` (a live stream) the video is cut into files of that
    many frames, each named `<target stem>_<its start time>.mp4`, so an endless stream leaves playable files as it
    goes. Each file is written to a hidden temporary file and renamed when it closes, so a failed run leaves no
    half-written video."""

    def __init__(self, target: Path, fps: float, segment_frames: int | None = None):
        self.target, self.fps, self.segment_frames = target, fps, segment_frames
        self.writer, self.part, self.in_part, self.parts = None, None, 0, []
        self.size, self.last, self.next_index, self.resized = None, None, 0, 0

    def write(self, rgb: np.ndarray, index: int) -> None:
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if self.size is None:
            self.size, self.next_index = (bgr.shape[1], bgr.shape[0]), index
        elif (bgr.shape[1], bgr.shape[0]) != self.size:
            bgr = cv2.resize(bgr, self.size, interpolation=cv2.INTER_AREA)
            self.resized += 1
        while self.last is not None and self.next_index < index:  # unreadable frames in between: hold the last
            self._put(self.last)
            self.next_index += 1
        self._put(bgr)
        self.last, self.next_index = bgr, index + 1

    def _put(self, bgr: np.ndarray) -> None:
        if self.writer is not None and self.segment_frames and self.in_part >= self.segment_frames:
            self._finish()
        if self.writer is None:
            self.part = self.target
            if self.segment_frames is not None:
                self.part = unused_path(self.target.parent, self.target.stem, ".mp4", time.localtime())
            self.writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self.size)
            self.in_part = 0
        self.writer.write(bgr)
        self.in_part += 1

    @property
    def _tmp(self) -> Path:
        return self.part.with_name(f".{self.part.stem}.tmp.mp4")

    def _finish(self) -> None:
        self.writer.release()
        os.replace(self._tmp, self.part)
        self.parts.append(self.part)
        self.writer = None

    def close(self) -> None:
        if self.writer is None:
            return
        self._finish()
        if self.resized:
            log.warning("%s: %d frames differ in size from the first; resized to %dx%d in the video", self.target,
                        self.resized, *self.size)  # fmt: skip

    def discard(self) -> None:
        """Leave out the file being written; segments already finished stay, complete."""
        if self.writer is not None:
            self.writer.release()
            self._tmp.unlink(missing_ok=True)
            self.writer = None


def unused_path(folder: Path, stem: str, suffix: str, when: time.struct_time) -> Path:
    """FOLDER/<stem>_<when as YYYYmmdd-HHMMSS><suffix>, with -1, -2 ... added where that name is taken (a stream
    restarted within the second): a live run never writes over an earlier run's files."""
    base = f"{stem}_{time.strftime('%Y%m%d-%H%M%S', when)}"
    path, n = folder / f"{base}{suffix}", 0
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}{suffix}"
    return path


class _FrameLog:
    """A live stream's people per frame as JSON Lines, one line per frame, written and flushed as each frame is done:
    memory stays flat however long the stream runs, `tail -f` follows it, and a run killed outright keeps every line
    written before."""

    def __init__(self, folder: Path, stem: str):
        self.path = unused_path(folder, stem, ".frames.jsonl", time.localtime())
        self.file = self.path.open("x", encoding="utf-8")

    def append(self, record: dict) -> None:
        self.file.write(json.dumps(record, sort_keys=True) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _people(estimator, img: np.ndarray, boxes: np.ndarray | None, box_score_thr: float | None,
            tracker: PoseTracker | None, frame_index: int) -> list[dict]:  # fmt: skip
    """The estimator's people on one image. With `box_score_thr` (a tracked clip, ByteTrack's second stage), the
    detector is asked for its boxes from that score up, and the tracker first drops the unsure ones that can continue
    no track, so that no pose is estimated only to be thrown away."""
    if boxes is None and box_score_thr is not None and tracker is not None:
        boxes = estimator.detector(img, score_thr=box_score_thr)
        boxes = boxes[tracker.may_keep(boxes, frame_index)]
    return estimator(img, boxes, box_score_thr)


def _natural_key(path: Path) -> list:
    """'frame2.jpg' before 'frame10.jpg': digit runs compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", path.name)]


def _infer_video(estimator, video: VideoFrames, out: Path, score_thr: float, progress: bool, tracker: PoseTracker,
                 given: dict[str, np.ndarray] | None = None, box_score_thr: float | None = None,
                 segment_s: float | None = None, draw: bool = True, det_every: int = 1,
                 kpt_thr: float = DRAW_KPT_THR) -> dict:  # fmt: skip
    """Poses on every frame `video` hands out (a live one's newest); OUT/<stem>.mp4 holds each drawn frame over
    those dropped. `given`: read_boxes()'s boxes by 0-based frame index (a frame they skip has no people), else the
    estimator's own, kept from `box_score_thr` up when given. `segment_s` (a live source): write as it goes, the
    video in segments that long (the module's docstring). `draw=False`: no video, the json only. `det_every`,
    `kpt_thr`: as infer_path."""
    source, target = video.name, out / f"{video.stem}.mp4"
    streaming = segment_s is not None
    clip = _ClipWriter(target, video.fps, max(1, round(segment_s * video.fps)) if streaming else None)
    frame_log = _FrameLog(out, video.stem) if streaming else None
    frames, done, found_people, interrupted = [], 0, 0, False
    follow = DetectEvery(det_every)
    bar = tqdm(total=video.total, desc="infer video", unit="frame", disable=not progress)
    try:
        for index, rgb in video:
            found = follow.boxes(given.get(str(index), NO_BOXES) if given is not None else None)
            people = follow.saw(_people(estimator, rgb, found, box_score_thr, tracker, index))
            people = [p for p in people if p["score"] >= score_thr]
            people = tracker.update(people, index, video.fps)
            if draw:
                for p in people:
                    draw_pose(rgb, p, estimator.spec, kpt_thr)
                clip.write(rgb, index)
            record = {"frame": index, "people": [_as_result(p, index) for p in people]}
            if streaming:  # nothing kept: memory stays flat on an endless stream
                frame_log.append({**record, "time": round(time.time(), 3)})
            else:
                frames.append(record)
            done, found_people = done + 1, found_people + len(people)
            bar.update(1)
    except KeyboardInterrupt:  # Ctrl-C on a long video: finish the files of the frames already done, then stop
        interrupted = True
    except BaseException:
        clip.discard()
        raise
    finally:
        bar.close()
        video.close()
        if frame_log is not None:
            frame_log.close()
    if not done:
        clip.discard()
        if frame_log is not None:
            frame_log.path.unlink(missing_ok=True)
        if interrupted:
            raise KeyboardInterrupt
        raise ValueError(f"{source}: no frames could be read")
    clip.close()
    if not streaming:
        write_json(out / f"{video.stem}.frames.json", frames)
    results = frame_log.path if streaming else out / f"{video.stem}.frames.json"
    if interrupted:
        log.warning("%s: interrupted; wrote the first %d frames to %s", source, done,
                    ", ".join(str(p) for p in [*clip.parts, results]))  # fmt: skip
        raise KeyboardInterrupt
    summary = {"frames": done, "people": found_people, "tracks": tracker.next_id}
    if det_every > 1:
        summary["detector_frames"] = follow.detected
    if streaming and draw:
        summary["video"] = f"{len(clip.parts)} segment(s), {clip.parts[0].name} ..."
    elif draw:
        summary["video"] = str(target)
    if streaming:
        summary["frames_log"] = str(results)
    if video.live:
        summary["dropped"] = video.dropped
        if video.dropped:
            log.warning("%s: the model kept up with %d of %d frames; the %d stale frames in between were dropped to "
                        "stay current (--every-frame reads them all)", source, done,
                        done + video.dropped, video.dropped)  # fmt: skip
    return summary
