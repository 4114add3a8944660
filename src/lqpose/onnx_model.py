"""An exported student in ONNX Runtime with numpy alone: the deployed path, which needs no torch.

`lqpose export` writes the graph (export.py, with torch); this module runs it. `OnnxPoseModel` takes normalised
crops (N, 3, H, W) and returns heatmaps (N, K, H/4, W/4) and, when the student has the head, the quality score,
as numpy arrays; `predict_arrays` adds the flip test. The keypoint layout, input size and codec settings travel
in the ONNX metadata, so a file is all a deployment needs: numpy, OpenCV and onnxruntime run it (`lqpose.load`,
`lqpose infer`; docs/inference.md, "Deploying without torch").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .codec import HeatmapCodec, average_with_mirrors
from .keypoints import KeypointSpec, spec_from_names


class OnnxPoseModel:
    """An exported student on ONNX Runtime (CPU), usable wherever lqpose predicts (infer, the API, eval, bench)."""

    def __init__(self, path: str | Path, threads: int = 0):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such ONNX model")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own pybind error types
            raise ValueError(f"{path}: not a readable ONNX model ({type(e).__name__})") from None
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
