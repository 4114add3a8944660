"""The three-line Python API:

model = lqpose.load("default")                  # the bundled model; or student.pt, .safetensors, .onnx
people = model(lqpose.read_image("photo.jpg"))    # whole image as one person, or pass boxes / a detector
people[0]["keypoints"], people[0]["score"], people[0].get("quality")

An exported .onnx model runs with numpy, OpenCV and onnxruntime alone: nothing here imports torch until a torch
model is loaded (docs/inference.md, "Deploying without torch").
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .codec import decode_crops
from .data.transforms import crop_person
from .devices import is_torch_module
from .model_files import DEFAULT_MODEL, DEFAULT_ONNX, resolve_model_path
from .onnx_model import OnnxPoseModel, predict_arrays

log = logging.getLogger(__name__)


class PoseEstimator:
    def __init__(self, model, spec, codec, detector=None, flip_test: bool = True, batch_size: int = 16):
        self.model, self.spec, self.codec = model, spec, codec
        self.detector, self.flip_test, self.batch_size = detector, flip_test, batch_size

    def __call__(self, image: np.ndarray, boxes=None, box_score_thr: float | None = None) -> list[dict]:
        """RGB uint8 image -> one dict per person: bbox (x, y, w, h), keypoints (K, 3) with scores, score (the
        box's score x the keypoints' mean confidence), box_score (the detector's), quality (when the model has the
        head). `boxes`: (N, 4) x, y, w, h or (N, 5) with scores; default: the detector, or the whole image.
        `box_score_thr`: the detector keeps its boxes from this score up, for this call only, instead of at its own
        threshold (detectors that take one per call, as YoloxDetector; video tracking uses it)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 HxWx3 image, got {image.dtype} {image.shape}")
        if boxes is None:
            from .infer.detectors import takes_score_thr, whole_image_box

            if self.detector is not None and box_score_thr is not None:
                if not takes_score_thr(self.detector):
                    raise ValueError(f"box_score_thr: the detector {self.detector!r:.60} takes no score threshold")
                boxes = self.detector(image, score_thr=box_score_thr)
            elif self.detector is not None:
                boxes = self.detector(image)
            else:
                boxes = whole_image_box(image)
        boxes = check_boxes(boxes)
        if len(boxes) == 0:
            return []
        scores = boxes[:, 4] if boxes.shape[1] > 4 else np.ones(len(boxes), np.float32)
        crops, mats = zip(*(crop_person(image, b, self.codec.input_size) for b in boxes[:, :4]), strict=True)
        people = []
        # ONNX Runtime runs with no torch op in the loop: a torch op wakes torch's OpenMP threads, which then spin
        # against ONNX Runtime's pool (6.8-8.0 against 11.6-21.6 ms per person, flip test, 2 vCPUs)
        predict = predict_arrays
        if is_torch_module(self.model):  # torch is imported only where the model is torch's
            from .engine.evaluate import predict_torch_arrays as predict
        for i in range(0, len(crops), self.batch_size):
            x = np.stack(crops[i : i + self.batch_size])
            heatmaps, quality = predict(self.model, x, self.spec, self.flip_test)
            poses, person_scores = decode_crops(
                self.codec, heatmaps, np.stack(mats[i : i + len(x)]), scores[i : i + len(x)]
            )
            for j in range(len(poses)):
                people.append({
                    "bbox": [float(v) for v in boxes[i + j, :4]],
                    "keypoints": poses[j],
                    "score": float(person_scores[j]),
                    "box_score": float(scores[i + j]),
                    "quality": None if quality is None else float(quality[j]),
                })  # fmt: skip
        return people

    def draw(self, image: np.ndarray, people: list[dict], kpt_thr: float | None = None) -> np.ndarray:
        """A copy of the RGB `image` with `people` (what this model returned for it) drawn as `lqpose infer` draws
        them: skeleton, keypoints coloured red (unsure) to green (sure), box, score and quality; keypoints scored
        at or below `kpt_thr` (default lqpose.infer.draw.DRAW_KPT_THR, 0.2) left out. Write it with
        cv2.imwrite(path, cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))."""
        from .infer.draw import DRAW_KPT_THR, check_kpt_thr, draw_pose

        kpt_thr = check_kpt_thr(DRAW_KPT_THR if kpt_thr is None else kpt_thr)
        out = np.ascontiguousarray(image).copy()
        for person in people:
            draw_pose(out, person, self.spec, kpt_thr)
        return out


def check_boxes(boxes) -> np.ndarray:
    """(N, 4) x, y, w, h or (N, 5) with scores, one box alone as a flat list, as float32; a box that is not finite or
    has no area is a one-line error naming it (its crop would divide by zero or be noise)."""
    arr = np.asarray(boxes, np.float32)
    if arr.size == 0:
        return np.zeros((0, 4), np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] not in (4, 5):
        raise ValueError(f"boxes must be (N, 4) x, y, w, h or (N, 5) with scores, got shape {np.shape(boxes)}")
    bad = ~np.isfinite(arr).all(1) | (arr[:, 2] <= 0) | (arr[:, 3] <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"box {i} {arr[i, :4].tolist()}: x, y, w, h must be finite with w and h > 0")
    return arr


RUNTIMES = ("auto", "torch", "onnxruntime")


def load(
    path: str | Path = "default",
    detector=None,
    device: str = "cpu",
    flip_test: bool = True,
    compile: bool = False,
    runtime: str = "auto",
    threads: int = 0,
) -> PoseEstimator:
    """ "default" (the bundled model), an lqpose checkpoint (training run, student.pt, .safetensors) or an
    exported .onnx, ready to call on images.
    `detector`: None (whole image / given boxes), 'whole', 'hog', 'yolox:PATH' or a detector object.
    `compile`: run the torch model through `torch.compile` (~10 s once): 1.2-1.7x faster per person on a CPU when
    every call has the same number of people (a serving loop, one person per call); batches of varying size get
    dynamic-shape graphs, which ran slower than eager on a CCTV video (docs/inference.md).
    `runtime`: "onnxruntime" exports a torch model to ONNX once at load (0.2-0.9 s, in a temporary folder; the
    bundled model ships exported, so "default" loads with neither the export nor torch) and runs it in ONNX Runtime
    on the CPU, the fastest path measured here (about half eager torch's time per person,
    flip test included, with the same keypoints to 0.01 px; docs/inference.md). "torch" keeps the torch module
    (`.model`), e.g. to fine-tune or inspect it. "auto" (the default): ONNX Runtime on the CPU without `compile`,
    torch otherwise (a GPU, or `compile=True`). An .onnx file always runs in ONNX Runtime.
    `device`: "cpu" or "cuda[:N]"; ONNX Runtime runs on a GPU through onnxruntime-gpu's CUDA provider (one-line error
    where it is missing or does not start), and an .onnx file also takes "auto" (that GPU where it can, else the
    CPU).
    `threads`: CPU threads for the pose model and a YOLOX detector (0: the runtime's default, every core), e.g. 1
    when several processes share a machine. ONNX Runtime sets it per session; torch's setting is process-wide
    (`torch.set_num_threads`)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if not (isinstance(threads, int) and threads >= 0):
        raise ValueError(f"threads must be an integer >= 0 (0: every core), got {threads!r}")
    auto = runtime == "auto"
    if auto:
        runtime = "onnxruntime" if str(device) == "cpu" and not compile else "torch"
    path = resolve_model_path(path)
    if runtime == "onnxruntime" and not compile and path == DEFAULT_MODEL and DEFAULT_ONNX.is_file():
        path = DEFAULT_ONNX  # the bundle as exported when it was bundled: no torch, no export at load
    if path.suffix != ".onnx":
        try:
            import torch  # noqa: F401 - every other model file is rebuilt as a torch module, even to export it
        except ModuleNotFoundError:
            if not path.is_file():  # say what is wrong first: a torch-free install has nothing to load it with anyway
                raise FileNotFoundError(f"{path}: no such model file") from None
            raise ModuleNotFoundError(
                f"{path}: this model file needs torch, which is not installed; export it to ONNX where torch is "
                "(`lqpose export MODEL --onnx model.onnx`) and load the .onnx here",
                name="torch",
            ) from None
    if str(device) == "auto" and path.suffix != ".onnx":
        raise ValueError(f"{path}: device 'auto' applies to .onnx models (ONNX Runtime); give cpu or cuda[:N]")
    if isinstance(detector, str):  # YOLOX on the pose model's GPU where ONNX Runtime can run there, else the CPU
        from .infer.detectors import build_detector

        detector = build_detector(detector, str(device), threads)
    if path.suffix == ".onnx" or runtime == "onnxruntime":
        if compile:
            what = "an .onnx model" if path.suffix == ".onnx" else "runtime onnxruntime"
            raise ValueError(f"{path}: compile applies to torch models; {what} runs in ONNX Runtime")
        if path.suffix == ".onnx":  # numpy and onnxruntime only: a deployment may have no torch installed
            m = OnnxPoseModel(path, threads=threads, device=str(device))
            return PoseEstimator(m, m.spec, m.codec, detector, flip_test)
        from .export import OnnxExportError, onnx_model_for

        try:
            m = onnx_model_for(path, device=str(device), threads=threads)
        except OnnxExportError as e:  # the file was fine; the exporter could not trace this architecture
            if not auto:
                raise
            log.warning(f"{e}; running it in eager torch instead")
        else:
            return PoseEstimator(m, m.spec, m.codec, detector, flip_test)
    from .engine.checkpoint import load_student_checkpoint

    model, spec, codec = load_student_checkpoint(path, device, for_inference=True)
    if threads:
        import torch

        torch.set_num_threads(threads)
    if compile:
        from .engine.evaluate import with_mirrors
        from .models.fuse import check_input, compile_for_inference

        example = check_input(codec.input_size, device)  # one person per call: what the graph is built for
        model = compile_for_inference(model, with_mirrors(example) if flip_test else example)
    return PoseEstimator(model, spec, codec, detector, flip_test)
