"""Video sources for top-down inference: a file, a URL or a camera, read as (index, RGB frame) pairs.

A live source (a camera, an rtsp:// stream) delivers frames at its own pace whether or not they are read; a plain
read loop with a model slower than the camera falls further behind with every frame, so `VideoFrames` reads a live
source in its own thread and hands out only its newest frame (the stale ones in between are dropped and counted),
each with its index in the source, so that tracking time stays true. Files are read frame by frame.

    with lqpose.VideoFrames("rtsp://camera/stream1") as video:      # or "clip.mp4", "camera:0"
        for index, frame in video:
            people = tracker.update(model(frame), index, video.fps)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def is_video_file(source: str | Path) -> bool:
    return Path(source).is_file() and Path(source).suffix.lower() in VIDEO_EXTENSIONS


def stream_source(source: str) -> tuple[str | int, str] | None:
    """A live or network video: 'camera:N' -> (N, 'cameraN'); 'rtsp://...', 'http(s)://...', 'file://...' (any
    URL OpenCV's FFmpeg reads) -> (url, a file-name stem from its last part). Anything else -> None (a path)."""
    camera = re.fullmatch(r"camera:(\d+)", source)
    if camera:
        return int(camera.group(1)), f"camera{camera.group(1)}"
    if re.match(r"[a-z][a-z0-9+.-]*://", source, re.IGNORECASE):
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(source.split("?")[0].rstrip("/")).stem).strip("_")
        return source, stem or "stream"
    return None


LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "udp", "tcp", "srt")


def is_live_source(source: str) -> bool:
    """Whether `source` is live (frames come at the camera's pace whether or not they are read): camera:N, an
    rtsp/rtmp/udp/tcp/srt URL, or an http(s) URL that names no video file (an IP camera's MJPEG stream). A file,
    file://, or http(s) to an .mp4 is not: every frame of it can be read when the model is ready."""
    parsed = stream_source(source)
    if parsed is None:
        return False
    if isinstance(parsed[0], int):
        return True
    scheme = source.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        return Path(source.split("?")[0]).suffix.lower() not in VIDEO_EXTENSIONS
    return scheme in LIVE_SCHEMES


def redact_url(source: str) -> str:
    """`source` with any user name and password of a URL masked ('rtsp://user:pass@cam/x' -> 'rtsp://***@cam/x'),
    so that error messages and logs do not carry a camera's credentials."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/]*@", r"\1***@", source, flags=re.IGNORECASE)


def _every_frame(cap) -> Iterator[tuple[int, np.ndarray]]:
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            return
        yield index, frame
        index += 1


class _LiveReader:
    """A live source (a camera, an rtsp:// stream) read in its own thread, handing out only its newest frame. When
    the model is slower than the camera, a plain read loop falls further behind with every frame (a 25 fps camera
    and an 8 fps model: a minute late after a minute and a half), or the stream's buffer overflows into broken
    frames; here the stale frames in between are dropped and counted, so the output stays current. Frames keep
    their index in the source, so tracking time stays true."""

    def __init__(self, cap):
        self.cap, self.cond = cap, threading.Condition()
        self.frame, self.index, self.taken, self.handed, self.ended, self.stopping = None, -1, -1, 0, False, False
        self.thread = threading.Thread(target=self._read, name="lqpose-live-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while not self.stopping:
                ok, frame = self.cap.read()
                if not ok:
                    break
                with self.cond:
                    self.frame, self.index = frame, self.index + 1
                    self.cond.notify()
        finally:
            with self.cond:
                self.ended = True
                self.cond.notify()

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        while True:
            with self.cond:
                while self.index == self.taken and not self.ended:
                    self.cond.wait(0.5)  # woken by each new frame; the timeout keeps Ctrl-C prompt
                if self.index == self.taken:  # the source ended and its last frame was handed out
                    return
                self.taken, self.handed = self.index, self.handed + 1
                item = (self.index, self.frame)
            yield item

    @property
    def dropped(self) -> int:
        """Frames read from the source and never handed out."""
        return self.taken + 1 - self.handed

    def close(self, timeout: float = 5.0) -> bool:
        """Stop reading; True once the thread has ended (then the capture may be released)."""
        self.stopping = True
        self.thread.join(timeout)
        return not self.thread.is_alive()


class VideoFrames:
    """A video file, a stream URL (rtsp://, http(s)://, file://: whatever OpenCV's FFmpeg opens) or camera:N, as
    (index, RGB uint8 frame) pairs; `fps` (25 when the source reports none), `total` (None when unknown or live),
    `live` (default: is_live_source) and, for a live source, `dropped`. A source that cannot be opened is a
    one-line error naming it, its credentials masked. Use it as a context manager, or call close()."""

    def __init__(self, source: str | Path, live: bool | None = None):
        stream = stream_source(source) if isinstance(source, str) else None
        self.name = redact_url(str(source))
        self.stem = stream[1] if stream is not None else Path(source).stem
        self.live = (stream is not None and is_live_source(str(source))) if live is None else live
        self.cap = cv2.VideoCapture(stream[0] if stream is not None else str(source))
        if not self.cap.isOpened():
            raise ValueError(f"{self.name}: not a readable video")
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 0 < fps < 1000 else 25.0  # live sources may report 0 or nonsense
        total = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.total = total if total > 0 and not self.live else None
        self.reader = _LiveReader(self.cap) if self.live else None

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        for index, bgr in self.reader if self.reader is not None else _every_frame(self.cap):
            yield index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    @property
    def dropped(self) -> int:
        """Frames of a live source read and never handed out (0 for a file)."""
        return self.reader.dropped if self.reader is not None else 0

    def close(self) -> None:
        if self.reader is None or self.reader.close():  # a reader thread still stuck in a network read keeps it
            self.cap.release()

    def __enter__(self) -> VideoFrames:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
