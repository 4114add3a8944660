"""`lqpose bench`: score models on every split of a benchmark built by `lqpose make-bench`.

Models: lqpose checkpoints, the MediaPipe peer, or outside predictions (a folder of COCO results json, one per
split, named like the split with "/" as "_": clean.json, motion_blur_3.json, mixed_0.json, real.json).
Person boxes are the ground-truth boxes, or one detection file for all splits (detections on the clean
images, so a corruption hits only the pose model, as COCO-C does). An exported .onnx model (and outside
predictions) is scored without torch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

from tqdm import tqdm

from ..data.readers import PoseSet, read_coco, read_detections
from ..data.records import Instance
from ..engine.evaluate import predict, score, to_layout
from ..files import write_text
from ..keypoints import MIN_SHARED_JOINTS, SPECS, joint_mapping
from ..metrics.coco import per_keypoint_similarity

log = logging.getLogger(__name__)


def load_bench(bench: str | Path) -> tuple[dict, PoseSet]:
    bench = Path(bench)
    manifest_path = bench / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: no such file; build the benchmark with `lqpose make-bench`")
    manifest = json.loads(manifest_path.read_text())
    first = next(iter(manifest["splits"]))
    spec = SPECS.get(manifest.get("keypoints", ""))
    gt = read_coco(bench / "ground_truth.json", bench / first, spec)
    return manifest, gt


def split_instances(people: list[Instance], bench: Path, key: str) -> list[Instance]:
    """The same people, their images taken from split `key`."""
    return [dataclasses.replace(p, image_path=str(bench / key / f"{Path(p.image_path).stem}.png")) for p in people]


def predictions_file(folder: Path, key: str) -> Path:
    return folder / (key.replace("/", "_") + ".json")


class CheckpointModel:
    """A student checkpoint run as `lqpose.load` runs it (BatchNorm folded, channels-last); `params` is its size as
    trained, counted before the fold (the figure a model card quotes; the fold leaves the FLOPs as they were)."""

    def __init__(self, path: str, device: str = "cpu", flip_test: bool = True, batch_size: int = 32):
        from ..engine.checkpoint import load_student_checkpoint  # torch: only for checkpoints, not an .onnx model
        from ..models.fuse import check_input, prepare_for_inference
        from ..models.student import count_parameters

        model, self.spec, self.codec = load_student_checkpoint(path, device)
        self.params = count_parameters(model)
        self.model = prepare_for_inference(model, check_input(self.codec.input_size, device))
        self.name = Path(path).parent.name + "/" + Path(path).stem if Path(path).parent.name else Path(path).stem
        self.flip_test, self.batch_size = flip_test, batch_size

    def predict(self, people: list[Instance], spec, progress: bool = True) -> list[dict]:
        """Predictions in the benchmark's layout: a model of another layout (an LSPET/CrowdPose-14 model on
        COCO) is mapped by joint name; joints it lacks get score 0 (score them on a limbs-only benchmark)."""
        if self.spec.names == spec.names:
            return predict(self.model, people, spec, self.codec, self.batch_size, self.flip_test, progress=progress)
        shared = joint_mapping(self.spec, spec)
        if len(shared) < MIN_SHARED_JOINTS * spec.num_keypoints:
            raise ValueError(f"{self.name}: predicts layout {self.spec.name!r}, which shares only {len(shared)} "
                             f"joints with the benchmark's {spec.name!r}")  # fmt: skip
        results = predict(self.model, people, self.spec, self.codec, self.batch_size, self.flip_test, progress=progress)
        return to_layout(results, self.spec, spec)


class OnnxModel(CheckpointModel):
    """An exported student (lqpose export) run by ONNX Runtime on `device` (cpu, cuda[:N], auto: onnx_session)."""

    def __init__(self, path: str, flip_test: bool = True, batch_size: int = 32, device: str = "cpu"):
        from ..onnx_model import OnnxPoseModel

        self.model = OnnxPoseModel(path, device=device)
        self.spec, self.codec = self.model.spec, self.model.codec
        self.name = Path(path).stem + ".onnx"
        self.params = None  # an ONNX graph is already folded: no as-trained size to report
        self.flip_test, self.batch_size = flip_test, batch_size


class PredictionsModel:
    def __init__(self, folder: str):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: no such predictions folder")
        self.name = self.folder.name

    def results_for(self, key: str) -> list[dict]:
        path = predictions_file(self.folder, key)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing predictions for split {key!r}")
        return json.loads(path.read_text())


PERSON_BAR_FROM = 1000  # people in one split


def run_bench(
    bench: str | Path,
    models: list,
    boxes: str | None = None,
    score_thr: float = 0.0,
    progress: bool = True,
    out_predictions: str | Path | None = None,
) -> dict:
    """{model name: {split key: metrics (+ per_keypoint)}} for every model on every split."""
    bench = Path(bench)
    manifest, gt = load_bench(bench)
    people = read_detections(boxes, gt, score_thr) if boxes else [i for i in gt.instances if i.num_visible > 0]
    if not people:
        raise ValueError(f"{boxes}: no person box" + (f" with score >= {score_thr}" if score_thr else "")
                         if boxes else f"{bench}: the annotations hold no person with a labelled keypoint")  # fmt: skip
    detected = bool(boxes)
    table: dict[str, dict] = {}
    bar = tqdm(total=len(models) * len(manifest["splits"]), desc="bench", unit="split", disable=not progress)
    for model in models:
        scores = {}
        for key in manifest["splits"]:
            bar.set_postfix_str(f"{model.name} {key}")
            if isinstance(model, PredictionsModel):
                results = model.results_for(key)
            else:
                split = split_instances(people, bench, key)
                # a per-person bar only where one split takes minutes (a whole training set scored clean)
                results = model.predict(split, gt.spec, progress=progress and len(split) >= PERSON_BAR_FROM)
                if out_predictions is not None:  # a folder `--predictions` (PredictionsModel) reads back
                    write_text(predictions_file(Path(out_predictions) / model.name.replace("/", "_"), key),
                               json.dumps(results))  # fmt: skip
            metrics = score(gt, results, detected_boxes=detected and not isinstance(model, PredictionsModel))
            if gt.kind != "mpii" and any("ann_id" in r for r in results):
                metrics["per_keypoint"] = per_keypoint_similarity(gt, results)
            metrics["_results"] = results
            scores[key] = metrics
            bar.update()
            if progress:
                main_key = "PCKh" if gt.kind == "mpii" else "AP"
                bar.write(f"{model.name:30s} {key:22s} {main_key} {metrics[main_key]:.4f}")
        table[model.name] = scores
    bar.close()
    sources = {m.name: type(m).__name__ for m in models}
    return {"manifest": manifest, "gt": gt, "scores": table, "people": people, "bench": str(bench), "sources": sources}
