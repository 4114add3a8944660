"""Where the model bundled with the package lies, and the "default" name every model argument accepts.
Torch-free, so an exported ONNX model loads without torch installed."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "weights" / "lqpose_lspet_yolox_nano_256x192.safetensors"
# The same model exported once for ONNX Runtime when it was bundled (`lqpose export default --onnx`; a test checks
# that it predicts as the safetensors does): what `lqpose.load()` runs on a CPU, with no torch and no export at load.
DEFAULT_ONNX = DEFAULT_MODEL.with_suffix(".onnx")


def default_model_path() -> Path:
    """The model bundled in the package (trained on LSPET: research use only, see README)."""
    if not DEFAULT_MODEL.is_file():
        raise FileNotFoundError(f"{DEFAULT_MODEL}: the bundled default model is missing from this installation")
    return DEFAULT_MODEL


def resolve_model_path(path: str | Path) -> Path:
    """ "default" -> the bundled model's file; any other path as given. Every command and config field that
    takes a model (load, infer, demo, export, init_from, ckd.teacher) accepts "default" through this."""
    return default_model_path() if str(path) == "default" else Path(path)
