"""Checkpoints are plain dicts of tensors, numbers, strings and lists (loadable with weights_only=True),
written atomically (temp file + rename)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..files import atomic_write_bytes
from ..model_files import lqpose_metadata, resolve_model_path


def rng_state() -> dict:
    state = {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state(),
        "python": _python_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _numpy_state() -> list:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return [name, torch.from_numpy(np.asarray(keys, np.int64)), int(pos), int(has_gauss), float(cached)]


def _python_state() -> list:
    version, internal, gauss = random.getstate()
    return [int(version), torch.tensor(internal, dtype=torch.int64), gauss]


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(int(v) for v in internal.tolist()), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, payload: dict) -> None:
    buf = io.BytesIO()
    torch.save({"lqpose_version": __version__, **payload}, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ValueError(f"{path}: not a readable lqpose checkpoint ({type(e).__name__})") from None


def load_safetensors_student(path: str | Path) -> dict:
    """A deployable student stored as safetensors (the bundled default model): tensors plus the config and
    keypoint layout as JSON metadata, read back into the checkpoint dict layout."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no items()
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        raise ValueError(f"{path}: not a readable safetensors file ({type(e).__name__})") from None
    info = lqpose_metadata(meta, path)
    step = info.get("info", {}).get("step")  # an export keeps its step in the info; lift it where checkpoints keep it
    return {"model": state, **info, **({} if step is None else {"step": step}), "deployable": True}


def load_model_file(path: str | Path) -> dict:
    """Student weights, config and keypoint layout from any file a model can live in: a training checkpoint,
    a deployable student.pt, a .safetensors export or "default" (the bundled model). Fine-tuning and
    distillation start from any of them, so a user can start from the shipped weights."""
    path = resolve_model_path(path)
    return load_safetensors_student(path) if path.suffix == ".safetensors" else load_checkpoint(path)


def load_student_checkpoint(path: str | Path, device: str | torch.device = "cpu", for_inference: bool = False):
    """Rebuild the trained student, its keypoint layout and its codec from a training checkpoint, a
    deployable student.pt or a safetensors export. `for_inference` folds each BatchNorm into its
    convolution and stores the weights channels-last (same outputs, faster; see models/fuse.py)."""
    from ..codec import codec_for
    from ..config import from_dict
    from ..keypoints import KeypointSpec, spec_from_names
    from ..models.student import StudentConfig, build_student

    ckpt = load_model_file(path)
    if "model" not in ckpt or "config" not in ckpt:
        raise ValueError(f"{path}: not an lqpose training checkpoint (needs 'model' and 'config')")
    cfg = ckpt["config"]
    model_cfg = from_dict(StudentConfig, {**cfg["model"], "pretrained": False, "weights": None})
    model = build_student(model_cfg)
    model.load_state_dict(ckpt["model"])
    model.to(device).eval()
    kp = ckpt.get("keypoints", {})
    spec: KeypointSpec = spec_from_names(kp["names"], kp.get("skeleton"), kp.get("name", "custom"))
    data = cfg.get("data", {})
    codec = codec_for(tuple(data.get("input_size", (192, 256))), data.get("sigma") or None)
    if for_inference:
        from ..models.fuse import check_input, prepare_for_inference

        model = prepare_for_inference(model, check_input(codec.input_size, device))
    return model, spec, codec
