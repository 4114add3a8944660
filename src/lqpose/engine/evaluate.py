"""Top-down prediction over a set of person boxes and scoring with the official metrics. Torch is imported only
for a torch model: an exported .onnx model is predicted and scored with numpy and ONNX Runtime alone, as it is
deployed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..codec import HeatmapCodec, average_with_mirrors, decode_crops
from ..data.readers import PoseSet
from ..data.records import Instance
from ..data.topdown import TopDownDataset
from ..devices import is_torch_module
from ..files import write_json
from ..keypoints import MIN_SHARED_JOINTS, KeypointSpec, map_keypoints, shared_joints
from ..metrics import coco_keypoint_ap, oks_nms, pck, pckh
from ..onnx_model import predict_arrays

log = logging.getLogger(__name__)


def with_mirrors(images):
    """The crops followed by their mirrors (torch, N x 3 x H x W): the one batch the flip test runs (and a compiled
    graph for it is built on)."""
    import torch

    return torch.cat([images, images.flip(3)])


def predict_heatmaps(model, images, spec: KeypointSpec, flip_test: bool):
    """Heatmaps (flip-averaged when asked) and, for students with a quality head, the quality score: torch tensors
    for a torch model, given a tensor.
    The flip test runs the crops and their mirrors as one batch: at one person per call a CPU spends most of a
    forward on per-op overhead, so one call of two costs far less than two calls of one. A model that is not a
    torch module (ONNX Runtime's) runs through `predict_arrays` in numpy: a torch op between two of its runs wakes
    torch's OpenMP threads, which then spin against ONNX Runtime's own pool (2.5x slower per person here)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        x = images.cpu().numpy() if torch.is_tensor(images) else np.asarray(images)
        heatmaps, quality = predict_arrays(model, x, spec, flip_test)
        return torch.from_numpy(heatmaps), None if quality is None else torch.from_numpy(quality)
    run = getattr(model, "forward_with_quality", lambda x: (model(x), None))
    with torch.inference_mode():
        if not flip_test:
            return run(images)
        return average_with_mirrors(*run(with_mirrors(images)), spec.flip_index)


def predict_torch_arrays(model, x: np.ndarray, spec: KeypointSpec, flip_test: bool):
    """`predict_arrays` for a torch student: numpy crops in, numpy heatmaps and quality (or None) out, run on the
    model's device."""
    import torch

    device = next(model.parameters()).device
    heatmaps, quality = predict_heatmaps(model, torch.from_numpy(x).to(device), spec, flip_test)
    return heatmaps.float().cpu().numpy(), None if quality is None else quality.float().cpu().numpy()


def eval_batches(ds: TopDownDataset, batch_size: int) -> Iterator[dict]:
    """The dataset's samples in order, `batch_size` at a time, as dicts of stacked numpy arrays."""
    for start in range(0, len(ds), batch_size):
        samples = [ds[i] for i in range(start, min(start + batch_size, len(ds)))]
        yield {k: np.stack([np.asarray(s[k]) for s in samples]) for k in samples[0]}


def predict(
    model,
    instances: list[Instance],
    spec: KeypointSpec,
    codec: HeatmapCodec,
    batch_size: int = 32,
    flip_test: bool = True,
    eval_degrade: tuple[str, int] | None = None,
    seed: int = 0,
    progress: bool = True,
) -> list[dict]:
    """COCO-format results (plus `ann_id` and `area`) for every instance's box. `model` is a torch student or
    any object with `forward_with_quality(images) -> (heatmaps, quality | None)` on numpy crops (an ONNX Runtime
    model, which then needs no torch)."""
    ds = TopDownDataset(instances, spec, codec, train=False, eval_degrade=eval_degrade, seed=seed)
    torch_model = is_torch_module(model)
    if torch_model:
        model.eval()
    predict_crops = predict_torch_arrays if torch_model else predict_arrays
    results, unreadable = [], set()
    total = -(-len(ds) // batch_size)
    for batch in tqdm(eval_batches(ds, batch_size), desc="predict", unit="batch", total=total,
                      disable=not progress):  # fmt: skip
        heatmaps, quality = predict_crops(model, batch["image"], spec, flip_test)
        box_scores = [instances[int(i)].score for i in batch["index"]]
        poses, people = decode_crops(codec, heatmaps, batch["matrix"], box_scores)
        for j in range(len(poses)):
            inst = instances[int(batch["index"][j])]
            if not bool(batch["readable"][j]):  # no prediction: the person counts as missed, as in COCO eval
                unreadable.add(inst.image_path)
                continue
            kps, person = poses[j], people[j]
            results.append({
                "image_id": inst.image_id,
                "category_id": 1,
                "keypoints": [round(float(v), 3) for v in kps.reshape(-1)],
                "score": round(float(person), 6),
                "ann_id": inst.ann_id,
                "area": float(inst.bbox[2] * inst.bbox[3]),
                **({"quality": round(float(quality[j]), 4)} if quality is not None else {}),
            })  # fmt: skip
    if unreadable:
        images = {i.image_path for i in instances}
        if len(unreadable) == len(images):
            raise ValueError(f"{Path(instances[0].image_path).parent}: none of the {len(images)} images could be read")
        log.warning("%d of %d images could not be read; their people count as missed", len(unreadable), len(images))
    return results


def to_layout(results: list[dict], src: KeypointSpec, dst: KeypointSpec) -> list[dict]:
    """`results` with their keypoints moved from `src`'s layout to `dst`'s by joint name, in place (joints `dst` has
    and `src` lacks: score 0): how a model is scored on annotations of another layout."""
    for r in results:
        k = np.asarray(r["keypoints"], np.float32).reshape(-1, 3)
        r["keypoints"] = map_keypoints(k, src, dst).reshape(-1).round(3).tolist()
    return results


def read_results(path: str | Path) -> list[dict]:
    """A COCO-format keypoint results file (a list of detections), with a one-line error naming a bad file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such predictions file")
    try:
        results = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg})") from None
    if not isinstance(results, list):
        raise ValueError(f"{path}: expected a COCO results list")
    return results


def run_eval(
    gt: PoseSet,
    out_dir: str | Path,
    checkpoint: str | None = None,
    predictions: str | None = None,
    boxes: str | None = None,
    score_thr: float = 0.0,
    degradation: tuple[str, int] | None = None,
    flip_test: bool = True,
    batch_size: int = 32,
    seed: int = 0,
    device: str = "cpu",
) -> dict:
    """`lqpose eval`: predict with a checkpoint, a .safetensors or an exported .onnx (or read outside predictions)
    and score against `gt`. Writes OUT/results.json and OUT/metrics.json."""
    from ..data.readers import read_detections

    if (checkpoint is None) == (predictions is None):
        raise ValueError("give exactly one of --checkpoint and --predictions")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)  # before the predictions: an unwritable folder fails in a second
    shared = None  # the joints scored when the model's layout is not the annotations'
    if predictions is not None:
        results = read_results(predictions)
    else:
        if Path(checkpoint).suffix == ".onnx":  # an export scored as exported, in ONNX Runtime
            from ..onnx_model import OnnxPoseModel

            model = OnnxPoseModel(checkpoint, device=str(device))
            spec, codec = model.spec, model.codec
        else:
            from .checkpoint import load_student_checkpoint

            model, spec, codec = load_student_checkpoint(checkpoint, device, for_inference=True)
        if spec.names != gt.spec.names:  # e.g. the bundled CrowdPose-14 model on COCO: score the joints both name
            shared = shared_joints(spec, gt.spec)
            if len(shared) < MIN_SHARED_JOINTS * gt.spec.num_keypoints:
                raise ValueError(f"{checkpoint}: model predicts {spec.num_keypoints} keypoints of layout "
                                 f"{spec.name!r}, the annotations use {gt.spec.name!r} ({gt.spec.num_keypoints}); "
                                 f"they share {len(shared)} joints, too few to score")  # fmt: skip
            gt = gt.only_joints(shared)
            log.info("%s predicts layout %r: scored on the %d joints it shares with %r (%s)", checkpoint, spec.name,
                     len(shared), gt.spec.name, ", ".join(shared))  # fmt: skip
        people = read_detections(boxes, gt, score_thr) if boxes else [i for i in gt.instances if i.num_visible > 0]
        if not people:
            raise ValueError(f"{boxes}: no person box" + (f" with score >= {score_thr}" if score_thr else "")
                             if boxes else "the annotations hold no person with a labelled keypoint")  # fmt: skip
        results = predict(model, people, spec, codec, batch_size, flip_test, degradation, seed)
        if shared is not None:
            results = to_layout(results, spec, gt.spec)
    metrics = score(gt, results, detected_boxes=bool(boxes) and checkpoint is not None)
    if shared is not None:
        metrics["scored_joints"] = shared
    write_json(out_dir / "results.json", results)
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def format_metrics(metrics: dict) -> str:
    """A one-row markdown table of the scalar metrics."""
    keys = [k for k, v in metrics.items() if isinstance(v, float)]
    head = "| " + " | ".join(keys) + " |"
    sep = "| " + " | ".join("---" for _ in keys) + " |"
    row = "| " + " | ".join(f"{metrics[k]:.4f}" for k in keys) + " |"
    return "\n".join([head, sep, row])


def score(gt: PoseSet, results: list[dict], detected_boxes: bool = False) -> dict:
    """The set's official metric: PCKh for MPII, OKS AP (after OKS-NMS for detected boxes) otherwise."""
    if gt.kind == "mpii":
        return pckh(gt, results)
    if detected_boxes:
        results = oks_nms(results, gt.spec.sigmas, 0.9)
    metrics = coco_keypoint_ap(gt, results)
    names = gt.spec.names
    if not detected_boxes and "right_shoulder" in names and "left_hip" in names and results:
        if all("ann_id" in r for r in results):  # ground-truth boxes: each result belongs to one person
            metrics["PCK@0.2"] = pck(gt, results, 0.2)
    return metrics
