"""lqpose: human pose estimation that stays accurate on low-quality images (CKD-LQPose)."""

__version__ = "0.1.0"


def load(path="default", **kwargs):
    """lqpose.load() -> the bundled default model; lqpose.load(path) -> a checkpoint, .safetensors or .onnx;
    see lqpose.api (imported lazily: `import lqpose` stays light)."""
    from .api import load as _load

    return _load(path, **kwargs)


def __getattr__(name):
    if name == "PoseTracker":  # video: track ids and optional One-Euro smoothing (lqpose.infer.track; numpy only)
        from .infer.track import PoseTracker

        return PoseTracker
    raise AttributeError(f"module 'lqpose' has no attribute {name!r}")
