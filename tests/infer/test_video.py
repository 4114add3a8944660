"""lqpose.VideoFrames: a video file, URL or camera as (index, RGB frame) pairs, a live one at its newest frame."""

import time

import cv2
import numpy as np
import pytest

import lqpose
from lqpose.infer.video import VideoFrames


def test_a_file_gives_every_frame_in_rgb_with_its_rate_and_count(tmp_path):
    path = tmp_path / "walk.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 12, (64, 48))
    for i in range(5):
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[..., 2] = 200  # red in OpenCV's BGR
        frame[..., 1] = 40 * i
        writer.write(frame)
    writer.release()
    with lqpose.VideoFrames(str(path)) as video:
        assert (video.fps, video.total, video.live, video.stem) == (12.0, 5, False, "walk")
        frames = list(video)
    assert [i for i, _ in frames] == [0, 1, 2, 3, 4] and video.dropped == 0
    first, last = frames[0][1], frames[-1][1]
    assert first.shape == (48, 64, 3) and first[..., 0].mean() > 150 > first[..., 2].mean()  # red lands in R
    assert abs(float(last[..., 1].mean()) - 160) < 12  # the frames come in order
    with VideoFrames(path.resolve().as_uri()) as video:  # file:// goes through FFmpeg, read frame by frame
        assert not video.live and len(list(video)) == 5


def test_an_unreadable_source_is_one_line_naming_it_without_credentials(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match=r"bad.mp4: not a readable video$"):
        VideoFrames(tmp_path / "bad.mp4")
    url = (tmp_path / "missing.mp4").resolve().as_uri().replace("file://", "file://viewer:hunter2@")
    with pytest.raises(ValueError, match=r"file://\*\*\*@.*missing.mp4: not a readable video") as e:
        VideoFrames(url)
    assert "hunter2" not in str(e.value)


def test_a_live_source_hands_out_its_newest_frame_and_counts_the_rest(monkeypatch):
    class Camera:  # 30 frames at 200 fps; frame i has every pixel = i
        def __init__(self, _):
            self.i, self.start = 0, None

        def isOpened(self):  # noqa: N802 - cv2.VideoCapture's name
            return True

        def get(self, prop):
            return 200.0 if prop == cv2.CAP_PROP_FPS else -1

        def read(self):
            self.start = time.monotonic() if self.start is None else self.start
            if self.i >= 30:
                return False, None
            time.sleep(max(0.0, self.start + self.i / 200 - time.monotonic()))
            self.i += 1
            return True, np.full((8, 8, 3), self.i - 1, np.uint8)

        def release(self):
            pass

    monkeypatch.setattr(cv2, "VideoCapture", Camera)
    with VideoFrames("camera:3") as video:
        assert video.live and video.total is None and video.stem == "camera3"
        seen = []
        for index, frame in video:
            assert int(frame[0, 0, 0]) == index  # each frame under its own index in the source
            seen.append(index)
            time.sleep(0.03)  # a model slower than the camera
    assert seen[-1] == 29 and len(seen) < 15 and video.dropped == 30 - seen[0] - len(seen)
