"""Model files without running them: where the bundled model lies, the "default" name every model argument accepts,
and what a model file says about itself (`lqpose info`). Torch-free, so an exported ONNX model loads, and any
.onnx or .safetensors file is described, without torch installed."""

from __future__ import annotations

import json
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


def lqpose_metadata(meta: dict, path: str | Path) -> dict:
    """A .safetensors header's lqpose_* entries parsed (config, keypoints, info), or an error naming the file."""
    if "lqpose_config" not in meta or "lqpose_keypoints" not in meta:
        raise ValueError(f"{path}: not an lqpose model (no lqpose_config/lqpose_keypoints metadata)")
    return {k[len("lqpose_") :]: json.loads(v) for k, v in meta.items() if k.startswith("lqpose_")}


def safetensors_metadata(path: str | Path) -> dict:
    """`lqpose_metadata` of a .safetensors model, read from its header alone (no tensor is loaded)."""
    from safetensors import safe_open

    path = resolve_model_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        raise ValueError(f"{path}: not a readable safetensors file ({type(e).__name__})") from None
    return lqpose_metadata(meta, path)


def safetensors_info(path: str | Path) -> dict:
    """The info (training data, licence, metrics) a .safetensors model carries; {} for other model files, which carry
    none."""
    path = resolve_model_path(path)
    return safetensors_metadata(path).get("info", {}) if path.suffix == ".safetensors" else {}


def model_info(path: str | Path) -> dict:
    """What a model file says about itself, without running it: its format, keypoint layout, input and heatmap size,
    architecture, and the info it carries (training data, licence, recipe). Torch is needed for a .pt checkpoint
    only (a pickle-free torch load); .onnx and .safetensors are read with onnxruntime and safetensors."""
    from .codec import codec_for
    from .keypoints import spec_from_names

    path = resolve_model_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    about = {"file": str(path), "size": f"{path.stat().st_size / 2**20:.1f} MB"}
    if path == DEFAULT_MODEL and DEFAULT_ONNX.is_file():
        about["ONNX export beside it"] = str(DEFAULT_ONNX)
    if path.suffix == ".onnx":
        from .onnx_model import OnnxPoseModel

        model = OnnxPoseModel(path)
        spec, codec, info = model.spec, model.codec, model.info
        about |= {"format": "ONNX", "batch": model.fixed_batch or "dynamic", "quality head": "quality" in model.outputs}
    else:
        if path.suffix == ".safetensors":
            meta, about["format"] = safetensors_metadata(path), "safetensors (deployable student)"
        else:
            from .engine.checkpoint import load_checkpoint

            meta = load_checkpoint(path)
            if "config" not in meta or "keypoints" not in meta:
                raise ValueError(f"{path}: not an lqpose checkpoint (needs 'config' and 'keypoints')")
            about["format"] = "lqpose checkpoint" + (", training" if "optimizer" in meta else "")
        kp, cfg, info = meta["keypoints"], meta["config"], meta.get("info", {})
        spec = spec_from_names(kp["names"], kp.get("skeleton"), kp.get("name", "custom"))
        data, model_cfg = cfg.get("data", {}), cfg.get("model", {})
        codec = codec_for(tuple(data.get("input_size", (192, 256))), data.get("sigma") or None)
        arch = [model_cfg.get("backbone", "?"), f"{model_cfg.get('head', '?')} head"]
        arch += [f"{model_cfg['head_refine']} refine"] if model_cfg.get("head_refine") else []
        about |= {"architecture": ", ".join(arch), "input normalisation": model_cfg.get("input_norm", "imagenet"),
                  "quality head": bool(model_cfg.get("quality_head"))}  # fmt: skip
        if "step" in meta:
            about["step"] = meta["step"]
    (w, h), (hw, hh) = codec.input_size, codec.heatmap_size
    about |= {"keypoints": f"{spec.name}, {spec.num_keypoints}: {', '.join(spec.names)}",
              "input": f"{w}x{h} (width x height)", "heatmaps": f"{hw}x{hh}, sigma {codec.sigma:g}"}  # fmt: skip
    return about | {f"info: {k}": v for k, v in info.items()}
