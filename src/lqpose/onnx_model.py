"""An exported student in ONNX Runtime with numpy alone: the deployed path, which needs no torch.

`lqpose export` writes the graph (export.py, with torch); this module runs it. `OnnxPoseModel` takes normalised
crops (N, 3, H, W) and returns heatmaps (N, K, H/4, W/4) and, when the student has the head, the quality score,
as numpy arrays; `predict_arrays` adds the flip test. The keypoint layout, input size and codec settings travel
in the ONNX metadata, so a file is all a deployment needs: numpy, OpenCV and onnxruntime run it (`lqpose.load`,
`lqpose infer`; docs/inference.md, "Deploying without torch"). `onnx_session` places a graph on the CPU or, with
onnxruntime-gpu, on a CUDA device; the YOLOX detector uses it too.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from .codec import HeatmapCodec, average_with_mirrors
from .devices import gpu_driver_possible
from .keypoints import KeypointSpec, spec_from_names

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"


def cuda_device_id(device: str) -> int | None:
    """'cpu' -> None, 'cuda' and 'auto' -> 0, 'cuda:N' -> N; anything else is a ValueError (ONNX Runtime here places
    graphs on the CPU or a CUDA GPU)."""
    if device == "cpu":
        return None
    if device in ("cuda", "auto"):
        return 0
    index = device.removeprefix("cuda:")
    if device.startswith("cuda:") and index.isdigit():
        return int(index)
    raise ValueError(f"device {device!r}: ONNX Runtime runs on cpu, cuda, cuda:N or auto")


def onnx_session(
    path: Path, device: str = "cpu", threads: int = 0, fallback: bool = False, spin: bool = True
) -> tuple[object, str]:
    """An ONNX Runtime session for `path` on `device`: 'cpu'; 'cuda' / 'cuda:N' (needs onnxruntime-gpu, whose CUDA
    provider must start: a missing provider or CUDA library is a one-line error, where ONNX Runtime itself would log
    an error and run on the CPU); or 'auto', the CUDA provider where it is installed and starts, else the CPU.
    `fallback` makes any GPU device behave as 'auto' does (a detector following the pose model). `spin=False`: the
    CPU threads sleep as soon as a run ends instead of spinning for the next one, for a session that runs once per
    frame beside another (a detector beside the pose model: docs/inference.md, "Threads"). Returns the session and
    where it runs ('cpu' or 'cuda:N')."""
    import onnxruntime as ort

    device = str(device)
    try:
        gpu = cuda_device_id(device)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    fallback = fallback or device == "auto"
    if gpu is not None and fallback and not gpu_driver_possible():
        gpu = None  # no GPU driver: not even a try, which onnxruntime-gpu would answer with three logged errors
    if gpu is not None and CUDA not in ort.get_available_providers():
        if not fallback:
            raise ValueError(f"{path}: device {device!r} needs ONNX Runtime's CUDA provider, which this onnxruntime "
                             "lacks (pip install onnxruntime-gpu, or use device 'cpu')")  # fmt: skip
        gpu = None
    providers = ([(CUDA, {"device_id": gpu})] if gpu is not None else []) + ["CPUExecutionProvider"]
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own pybind error types
        raise ValueError(f"{path}: not a readable ONNX model ({type(e).__name__})") from None
    if gpu is not None and CUDA not in session.get_providers():
        if not fallback:
            raise ValueError(f"{path}: ONNX Runtime's CUDA provider did not start on {device!r} (are the CUDA "
                             "and cuDNN versions this onnxruntime-gpu needs installed?); use device 'cpu'")  # fmt: skip
        log.info(f"{path}: ONNX Runtime's CUDA provider did not start; running on the CPU")
        gpu = None
    return session, ("cpu" if gpu is None else f"cuda:{gpu}")


class OnnxPoseModel:
    """An exported student on ONNX Runtime, usable wherever lqpose predicts (infer, the API, eval, bench). `device`:
    'cpu', 'cuda[:N]' or 'auto' (`onnx_session`); `.device` says where it runs."""

    def __init__(self, path: str | Path, threads: int = 0, device: str = "cpu"):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such ONNX model")
        self.session, self.device = onnx_session(path, device, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        if "lqpose_keypoints" not in meta:
            raise ValueError(f"{path}: not an lqpose export (no keypoint metadata); export with `lqpose export`")
        kp = json.loads(meta["lqpose_keypoints"])
        self.spec = spec_from_names(kp["names"], kp["skeleton"], kp["name"])
        c = json.loads(meta["lqpose_codec"])
        self.codec = HeatmapCodec(tuple(c["input_size"]), tuple(c["heatmap_size"]), float(c["sigma"]))
        self.info = json.loads(meta.get("lqpose_info", "{}"))  # training data, licence, as exported
        self.outputs = [o.name for o in self.session.get_outputs()]
        batch = self.session.get_inputs()[0].shape[0]
        self.fixed_batch = batch if isinstance(batch, int) else None  # exported without --dynamic-batch
        self.name = path.stem

    def forward_with_quality(self, images) -> tuple[np.ndarray, np.ndarray | None]:
        """Crops (N, 3, H, W): a numpy array, or anything `np.asarray` reads (a CPU torch tensor) -> heatmaps and
        quality (None without the head), numpy."""
        x = np.ascontiguousarray(np.asarray(images), np.float32)
        step = self.fixed_batch or len(x)
        chunks = []
        for i in range(0, len(x), step):
            part = x[i : i + step]
            if len(part) < step:  # a fixed-batch graph: pad the last chunk
                part = np.concatenate([part, np.zeros((step - len(part), *part.shape[1:]), np.float32)])
            chunks.append([o[: len(x) - i] for o in self.session.run(None, {"image": part})])
        out = [np.concatenate([c[k] for c in chunks]) for k in range(len(chunks[0]))]
        return out[0], (out[1] if len(out) > 1 else None)


def predict_arrays(
    model, images: np.ndarray, spec: KeypointSpec, flip_test: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Heatmaps (flip-averaged when asked) and quality (or None) for a numpy model such as `OnnxPoseModel`. The
    flip test mirrors in numpy and runs the crops and their mirrors as one batch: at one person per call a CPU
    spends most of a forward on per-call overhead, so one call of two costs far less than two calls of one."""
    if not flip_test:
        return model.forward_with_quality(images)
    heatmaps, quality = model.forward_with_quality(np.concatenate([images, images[..., ::-1]]))
    return average_with_mirrors(heatmaps, quality, spec.flip_index)
