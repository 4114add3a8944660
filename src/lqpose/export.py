"""ONNX and safetensors export of the deployable student (with torch); `lqpose.onnx_model` runs an ONNX export.

The graph takes normalised crops (N, 3, H, W) and returns heatmaps (N, K, H/4, W/4) (and the quality score
when the student has the head); decoding stays in `lqpose.codec` (numpy), shared with evaluation and
inference. The keypoint layout, input size and codec settings travel in the ONNX metadata, so an exported
file is scored with no checkpoint beside it, and runs with no torch (`lqpose.onnx_model`).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import torch

from .engine.checkpoint import load_student_checkpoint
from .model_files import safetensors_info
from .onnx_model import OnnxPoseModel


class _Deployable(torch.nn.Module):
    def __init__(self, student):
        super().__init__()
        self.student = student

    def forward(self, image):
        heatmaps, quality = self.student.forward_with_quality(image)
        return (heatmaps,) if quality is None else (heatmaps, quality)


class OnnxExportError(RuntimeError):
    """The checkpoint loaded, but torch's exporter could not turn its student into ONNX."""


def export_onnx(
    checkpoint: str | Path, out: str | Path, opset: int = 17, dynamic_batch: bool = False, info: dict | None = None
) -> Path:
    """Export a training or deployable checkpoint's student to ONNX (legacy exporter: exact opset graphs). A
    .safetensors source's info (training data, licence) travels into the file's metadata, `info` overriding it key by
    key, as `export_safetensors` keeps it.
    The graph takes one crop per run unless `dynamic_batch`: ONNX Runtime plans a fixed shape better, so on this
    project's CPU the batch-1 graph, run crop by crop, beat the dynamic one run a batch per call (flip test, ms per
    person: 6.6 against 8.8 with 16 people per call, 6.7-7.3 against 7.4 with one; peak memory 176 against 475 MiB;
    benchmarks/deploy_footprint.py). `OnnxPoseModel` runs either; runtimes that batch (TensorRT) want the dynamic
    one."""
    model, spec, codec = load_student_checkpoint(checkpoint)
    info = {**safetensors_info(checkpoint), **(info or {})}
    net = _Deployable(model).eval()
    w, h = codec.input_size
    outputs = ["heatmaps"] + (["quality"] if model.quality is not None else [])
    axes = {"image": {0: "batch"}, **{o: {0: "batch"} for o in outputs}} if dynamic_batch else None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with warnings.catch_warnings():  # the exporter's note that it cannot fold a Slice constant: harmless, noisy
        warnings.filterwarnings("ignore", message="Constant folding", category=UserWarning)
        # the legacy exporter is chosen on purpose (exact opset graphs; `lqpose.load` exports at every CPU load)
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The feature will be removed", category=DeprecationWarning)
        try:
            torch.onnx.export(net, (torch.zeros(1, 3, h, w),), str(tmp), opset_version=opset, dynamo=False,
                              input_names=["image"], output_names=outputs, dynamic_axes=axes)  # fmt: skip
        except Exception as e:  # noqa: BLE001 - the exporter raises many types
            tmp.unlink(missing_ok=True)
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise OnnxExportError(f"{checkpoint}: ONNX export failed ({type(e).__name__}: {first})") from e
    import onnx

    proto = onnx.load(str(tmp))
    meta = {
        "lqpose_keypoints": json.dumps({"name": spec.name, "names": list(spec.names),
                                        "skeleton": [list(p) for p in spec.skeleton]}),
        "lqpose_codec": json.dumps({"input_size": list(codec.input_size), "heatmap_size": list(codec.heatmap_size),
                                    "sigma": codec.sigma}),
        **({"lqpose_info": json.dumps(info)} if info else {}),
    }  # fmt: skip
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(proto, str(tmp))
    tmp.replace(out)
    return out


def export_safetensors(
    checkpoint: str | Path | dict,
    out: str | Path,
    info: dict | None = None,
    drop_quality_head: bool = False,
    input_norm: str | None = None,
) -> Path:
    """The deployable student as safetensors (no pickle; how the default model ships in the package): weights
    plus config, keypoint layout and `info` (training data, licence, metrics) as JSON metadata. The source may be
    any model file, a .safetensors included (its own info is kept, `info` overrides it key by key), or a checkpoint
    already in memory (e.g. `lqpose average`'s).
    `drop_quality_head` leaves out a quality head that was not trained well enough to trust: no score beats a
    misleading one; the heatmaps are unchanged. `input_norm` switches how the exported model normalises its
    input (models/student.py: "gain" brightens dark crops, for night scenes, without retraining)."""
    from safetensors.torch import save_file

    from .engine.checkpoint import load_model_file
    from .files import atomic_write_bytes
    from .models.ckd import export_student
    from .models.student import check_input_norm

    if input_norm is not None:
        check_input_norm(input_norm)
    source = checkpoint if isinstance(checkpoint, dict) else load_model_file(checkpoint)
    ckpt = export_student(source)
    if input_norm is not None:
        ckpt["config"] = {**ckpt["config"], "model": {**ckpt["config"]["model"], "input_norm": input_norm}}
    if drop_quality_head:
        ckpt["model"] = {k: v for k, v in ckpt["model"].items() if not k.startswith("quality.")}
        ckpt["config"] = {**ckpt["config"], "model": {**ckpt["config"]["model"], "quality_head": False}}
    info = {"step": ckpt["step"], **source.get("info", {}), **(info or {})}
    meta = {"lqpose_config": json.dumps(ckpt["config"]), "lqpose_keypoints": json.dumps(ckpt["keypoints"]),
            "lqpose_info": json.dumps(info)}  # fmt: skip
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in ckpt["model"].items()}, str(tmp), metadata=meta)
    atomic_write_bytes(out, tmp.read_bytes())
    tmp.unlink()
    return out


def onnx_model_for(checkpoint: str | Path, device: str = "cpu", threads: int = 0) -> OnnxPoseModel:
    """A checkpoint's student in ONNX Runtime without a file to manage (`lqpose.load(runtime="onnxruntime")`):
    exported to a temporary folder, read into an ONNX Runtime session on `device`, and the folder removed; the
    session keeps the graph in memory."""
    with tempfile.TemporaryDirectory(prefix="lqpose-onnx-") as tmp:
        model = OnnxPoseModel(export_onnx(checkpoint, Path(tmp) / "student.onnx"), threads=threads, device=device)
    model.name = Path(checkpoint).stem
    return model
