"""Weight averaging of students fine-tuned from one parent (a "model soup", Wortsman et al. 2022; timm's
`avg_checkpoints.py` does the same for checkpoints of one run). Runs that continue the same model with different
data draws or augmentation stay in one loss basin, and their mean is often better than each of them, on unseen
data too, at no training cost and no inference cost: the result is one student of the same architecture.
Averaging students that do not share a parent (different initialisation) gives a broken model: the bundle and
round 36's student, both from the YOLOX-nano detector's backbone but with heads of their own, averaged to LSPET
val PCK@0.2 0.078. So every ingredient's convolution and linear weights must point the same way as the first's
(cosine similarity >= MIN_COSINE for every tensor): continuations measured here kept at least 0.948 (round 36 from
round 35b, 3,000 steps at lr 3e-4) and the unrelated pair's head went to -0.03."""

from __future__ import annotations

from pathlib import Path

import torch

from ..models.ckd import export_student
from .checkpoint import load_model_file, save_checkpoint

MIN_COSINE = 0.5


def average_students(paths: list[str | Path], weights: list[float] | None = None, force: bool = False) -> dict:
    """The deployable checkpoint whose floating-point tensors (weights and BatchNorm statistics) are the weighted
    mean of the students in `paths` (training checkpoints, student.pt, .safetensors or "default"); integer buffers
    (BatchNorm's batch counters) come from the first. Every student must have the same model config, keypoint
    layout, input size and tensor shapes, and (unless `force`) weights that look like a continuation of the
    first's; the first mismatch is reported with both file names."""
    if len(paths) < 2:
        raise ValueError(f"averaging needs at least two students, got {len(paths)}")
    weights = [1.0] * len(paths) if weights is None else [float(w) for w in weights]
    if len(weights) != len(paths):
        raise ValueError(f"{len(weights)} weights for {len(paths)} students")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum, got {weights}")
    total = sum(weights)
    weights = [w / total for w in weights]

    ckpts = [load_model_file(path) for path in paths]
    for path, ckpt in zip(paths, ckpts, strict=True):
        _check_same_student(paths[0], ckpts[0], path, ckpt)
        if not force:
            _check_shared_parent(paths[0], ckpts[0], path, ckpt)
    first = ckpts[0]

    state = {}
    for key, ref in first["model"].items():
        if ref.is_floating_point():
            mean = sum(w * c["model"][key].double() for w, c in zip(weights, ckpts, strict=True))
            state[key] = mean.to(ref.dtype)
        else:
            state[key] = ref.clone()
    sources = ", ".join(
        f"{Path(str(p)).as_posix()} (weight {w:.3f}, step {c.get('step', '?')})"
        for p, w, c in zip(paths, weights, ckpts, strict=True)
    )
    step = max(int(c.get("step", 0) or 0) for c in ckpts)  # the most training any ingredient had
    ckpt = export_student({"model": state, "config": first["config"], "keypoints": first["keypoints"], "step": step})
    return {**ckpt, "info": {"averaged_from": sources}}


def _check_same_student(first_path, first: dict, path, ckpt: dict) -> None:
    """`ckpt` (from `path`) is an lqpose student of the same architecture as `first`; called on the first too."""
    for part in ("model", "config", "keypoints"):
        if part not in ckpt:
            raise ValueError(f"{path}: not an lqpose student (no '{part}')")
    if ckpt["config"].get("model") != first["config"].get("model"):
        raise ValueError(f"{path}: its model config differs from {first_path}'s; only one architecture averages")
    size = ckpt["config"].get("data", {}).get("input_size")
    if size != first["config"].get("data", {}).get("input_size"):
        raise ValueError(f"{path}: input size {size} differs from {first_path}'s")
    if ckpt["keypoints"].get("names") != first["keypoints"].get("names"):
        raise ValueError(f"{path}: its keypoint layout differs from {first_path}'s")
    a, b = first["model"], ckpt["model"]
    if set(a) != set(b):
        missing = sorted(set(a) ^ set(b))[0]
        raise ValueError(f"{path}: tensor {missing} is in one of it and {first_path} only")
    for key, t in a.items():
        if tuple(b[key].shape) != tuple(t.shape):
            raise ValueError(f"{path}: tensor {key} has shape {tuple(b[key].shape)}, {first_path} {tuple(t.shape)}")


def _check_shared_parent(first_path, first: dict, path, ckpt: dict) -> None:
    """Students from one parent keep every weight tensor pointing the same way; unrelated ones do not."""
    for key, ref in first["model"].items():
        if not ref.is_floating_point() or ref.dim() < 2:  # convolution and linear weights only
            continue
        a, b = ref.double().flatten(), ckpt["model"][key].double().flatten()
        if torch.equal(a, b):  # also two all-zero tensors (a zero-initialised layer neither trained)
            continue
        cosine = float(a @ b / (a.norm() * b.norm()).clamp_min(1e-12))
        if cosine < MIN_COSINE:
            raise ValueError(
                f"{path}: tensor {key} has cosine similarity {cosine:.2f} to {first_path}'s (< {MIN_COSINE}): they do "
                "not look like continuations of one model, and such an average is broken; --force averages anyway"
            )


def write_average(
    paths: list[str | Path], out: str | Path, weights: list[float] | None = None, force: bool = False
) -> Path:
    """Average `paths` and write the result atomically as a deployable student.pt (export it as any other)."""
    out = Path(out)
    save_checkpoint(out, average_students(paths, weights, force))  # atomic, and makes the folder
    return out
