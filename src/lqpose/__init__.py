"""lqpose: human pose estimation that stays accurate on low-quality images (CKD-LQPose)."""

__version__ = "0.1.0"


def load(path="default", **kwargs):
    """lqpose.load() -> the bundled default model; lqpose.load(path) -> a checkpoint, .safetensors or .onnx;
    see lqpose.api (imported lazily: `import lqpose` stays light)."""
    from .api import load as _load

    return _load(path, **kwargs)


def read_image(path):
    """An image file as RGB uint8 HxWx3, upright as a viewer shows it (EXIF orientation applied), ready for a
    loaded model: `model(lqpose.read_image("photo.jpg"))`. Refuses 16-bit and float images (lqpose.imageio)."""
    from .imageio import read_rgb

    return read_rgb(path, upright=True)


def __getattr__(name):
    if name == "PoseTracker":  # video: track ids and optional One-Euro smoothing (lqpose.infer.track; numpy only)
        from .infer.track import PoseTracker

        return PoseTracker
    if name == "DetectEvery":  # video: the detector on every n-th frame, people followed by keypoints in between
        from .infer.track import DetectEvery

        return DetectEvery
    if name == "VideoFrames":  # a video file, URL or camera as (index, RGB frame); a live one at its newest frame
        from .infer.video import VideoFrames

        return VideoFrames
    raise AttributeError(f"module 'lqpose' has no attribute {name!r}")
