"""Import COCO-trained top-down heatmap checkpoints from other projects into lqpose's student.

Supported sources (read their model definitions for the key names):
- official HRNet (HRNet-Human-Pose-Estimation, `pose_hrnet`): `conv1`, `layer1`, `transition1`, `stage2.0.branches`,
  `stage2.0.fuse_layers`, ..., `final_layer` (a 1x1 conv on the stride-4 branch);
- official SimpleBaseline (same repository, `pose_resnet`): torchvision ResNet names, `deconv_layers.{0,1,3,4,6,7}`,
  `final_layer`;
- MMPose 1.x top-down heatmap models (`state_dict` with `backbone.*` and `head.deconv_layers.*` /
  `head.final_layer.*`), and MMPose 0.x (`keypoint_head.*`).

timm's HRNet and ResNet use the same module names as those projects, so the backbone maps one to one; the heads
map onto lqpose's "simple" (HRNet) and "deconv" (SimpleBaseline) heads. The pose HRNet's last module outputs
only the stride-4 branch, so timm's extra fuse layers of that module have no source: they never reach the
heatmaps and are kept at their initial values (reported as unused). Anything that does reach the heatmaps and
is missing or mismatched makes the import fail unless `allow_partial` is set.

Decoding caveat: lqpose decodes with UDP. Models trained with the original (MSRA) encoding, like the official
HRNet / SimpleBaseline checkpoints, then carry a systematic offset of under one heatmap stride; fine-tuning in
lqpose removes it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .keypoints import SPECS

if TYPE_CHECKING:  # torch is imported where the import runs: the CLI reads ARCHS for every command it parses
    import torch

    from .models.student import StudentConfig

# --arch -> (timm backbone, lqpose head, head width)
ARCHS: dict[str, tuple[str, str, int]] = {
    "hrnet_w18": ("hrnet_w18", "simple", 18),
    "hrnet_w32": ("hrnet_w32", "simple", 32),
    "hrnet_w48": ("hrnet_w48", "simple", 48),
    "resnet50": ("resnet50", "deconv", 256),
    "resnet101": ("resnet101", "deconv", 256),
    "resnet152": ("resnet152", "deconv", 256),
}
KEYPOINTS_BY_COUNT = {17: "coco", 14: "crowdpose", 16: "mpii"}


@dataclass
class ImportReport:
    source_format: str
    arch: str
    mapped: int = 0
    unexpected: list[str] = field(default_factory=list)  # source keys with no place in the student
    mismatched: list[str] = field(default_factory=list)  # "key: source shape vs student shape"
    missing_used: list[str] = field(default_factory=list)  # student keys that reach the heatmaps, no source
    missing_unused: list[str] = field(default_factory=list)  # student keys that never reach the heatmaps

    @property
    def complete(self) -> bool:
        return not (self.unexpected or self.mismatched or self.missing_used)

    def summary(self, sep: str = "\n") -> str:
        parts = [f"{self.source_format} -> {self.arch}: {self.mapped} tensors mapped"]
        for name, keys in (("unexpected", self.unexpected), ("mismatched", self.mismatched),
                           ("missing (reach the heatmaps, left random)", self.missing_used),
                           ("missing (never reach the heatmaps, kept at init)", self.missing_unused)):  # fmt: skip
            if keys:
                parts.append(f"{len(keys)} {name}: " + ", ".join(_compress(keys)))
        return sep.join(parts)


def _compress(keys: list[str], limit: int = 8) -> list[str]:
    """Group keys by their module prefix (digits folded) so a report stays readable."""
    groups: dict[str, int] = {}
    for k in keys:
        g = re.sub(r"\.(weight|bias|running_mean|running_var|num_batches_tracked)$", "", k.split(":")[0])
        groups[g] = groups.get(g, 0) + 1
    items = [f"{g} ({n})" if n > 1 else g for g, n in groups.items()]
    return items[:limit] + ([f"... {len(items) - limit} more modules"] if len(items) > limit else [])


def read_source_state(path: str | Path, unsafe_load: bool = False) -> dict[str, torch.Tensor]:
    """The tensor state dict inside a .pth/.pt/.safetensors file: unwraps `state_dict` / `model` and strips
    DataParallel's `module.` prefix."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            obj = load_file(str(path))
        except Exception as e:  # noqa: BLE001
            raise ValueError(f"{path}: not a readable safetensors file ({e})") from None
    else:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=not unsafe_load)
        except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
            msg = type(e).__name__
            if not unsafe_load and "Unsupported global" in str(e):
                raise ValueError(
                    f"{path}: holds pickled Python objects besides tensors (MMPose/mmengine checkpoints do); "
                    "re-run with --unsafe-load if you trust where the file came from"
                ) from None
            raise ValueError(f"{path}: not a readable PyTorch checkpoint ({msg})") from None
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(torch.is_tensor(v) for v in obj.values()):
        raise ValueError(f"{path}: no tensor state dict found (expected a state_dict of a pose model)")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def detect_format(state: dict[str, torch.Tensor]) -> str:
    keys = state.keys()
    if any(k.startswith("keypoint_head.") for k in keys):
        return "mmpose0"
    if any(k.startswith("backbone.") for k in keys):
        return "mmpose"
    return "official"


def map_key(key: str, fmt: str) -> str | None:
    """Source key -> student key (None: not part of the pose model, e.g. an MMPose data preprocessor)."""
    if fmt in ("mmpose", "mmpose0"):
        head = "head." if fmt == "mmpose" else "keypoint_head."
        if key.startswith("backbone."):
            return key
        if key.startswith(head + "deconv_layers."):
            return "head.deconv." + key[len(head + "deconv_layers.") :]
        if key.startswith(head + "final_layer."):
            return "head.final." + key[len(head + "final_layer.") :]
        if key.startswith(head):
            return "head." + key[len(head) :]  # left to the shape check: unexpected in lqpose's head
        return None
    if key.startswith("final_layer."):
        return "head.final." + key[len("final_layer.") :]
    if key.startswith("deconv_layers."):
        return "head.deconv." + key[len("deconv_layers.") :]
    return "backbone." + key


def _keys_reaching_output(model: torch.nn.Module) -> set[str]:
    """State keys of the modules whose parameters get a gradient from the heatmaps (BN buffers included)."""
    import torch

    model.train()
    for p in model.parameters():
        p.grad = None
    model(torch.zeros(2, 3, 64, 64)).sum().backward()
    used_modules = {name.rsplit(".", 1)[0] for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return {k for k in model.state_dict() if k.rsplit(".", 1)[0] in used_modules}


def _student_config(arch: str, num_keypoints: int) -> StudentConfig:
    from .models.student import StudentConfig

    backbone, head, width = ARCHS[arch]
    return StudentConfig(backbone=backbone, head=head, head_channels=width, num_keypoints=num_keypoints)


def _fit(state: dict[str, torch.Tensor], fmt: str, arch: str, num_keypoints: int):
    from .models.student import build_student

    model = build_student(_student_config(arch, num_keypoints))
    target = model.state_dict()
    report = ImportReport(source_format=fmt, arch=arch)
    new_state = dict(target)
    for key, value in state.items():
        dst = map_key(key, fmt)
        if dst is None:
            continue
        if dst not in target:
            report.unexpected.append(key)
        elif tuple(target[dst].shape) != tuple(value.shape):
            report.mismatched.append(f"{key}: {tuple(value.shape)} vs {tuple(target[dst].shape)}")
        else:
            new_state[dst] = value.to(target[dst].dtype)
            report.mapped += 1
    provided = {map_key(k, fmt) for k in state}
    missing = [k for k in target if k not in provided]
    used = _keys_reaching_output(model)
    report.missing_used = [k for k in missing if k in used and not k.endswith("num_batches_tracked")]
    report.missing_unused = [k for k in missing if k not in used]
    return model, new_state, report


def _num_keypoints(state: dict[str, torch.Tensor], fmt: str, path: Path) -> int:
    for key, value in state.items():
        if map_key(key, fmt) == "head.final.weight":
            return int(value.shape[0])
    raise ValueError(f"{path}: no final heatmap layer (final_layer.weight) found: not a top-down heatmap model")


def import_checkpoint(
    src: str | Path,
    arch: str,
    out: str | Path,
    allow_partial: bool = False,
    input_size: tuple[int, int] = (192, 256),
    keypoints: str = "",
    unsafe_load: bool = False,
) -> ImportReport:
    """Map `src` into an lqpose student checkpoint at `out` (usable by `lqpose.load`, eval, infer, export and
    as `ckd.teacher`). Raises ValueError, naming the file, when the weights do not fit `arch`."""
    from .engine.checkpoint import save_checkpoint

    src = Path(src)
    if arch not in ARCHS:
        raise ValueError(f"--arch {arch!r} is not supported; choose one of {', '.join(ARCHS)}")
    state = read_source_state(src, unsafe_load)
    fmt = detect_format(state)
    k = _num_keypoints(state, fmt, src)
    layout = keypoints or KEYPOINTS_BY_COUNT.get(k, "")
    if layout not in SPECS or SPECS[layout].num_keypoints != k:
        raise ValueError(f"{src}: the model predicts {k} keypoints; name their layout with --keypoints "
                         f"({', '.join(f'{n} ({s.num_keypoints})' for n, s in SPECS.items())})")  # fmt: skip
    model, new_state, report = _fit(state, fmt, arch, k)
    if report.mapped < 0.5 * len(model.state_dict()) or report.mismatched:
        hint = _best_arch(state, fmt, k, exclude=arch)
        if report.mapped < 0.5 * len(model.state_dict()) or hint:
            raise ValueError(
                f"{src}: does not fit --arch {arch} ({report.mapped} of {len(model.state_dict())} tensors fit, "
                f"{len(report.mismatched)} mismatched, {len(report.unexpected)} unexpected)"
                + (f"; it fits --arch {hint}" if hint else "")
            )
    if not report.complete and not allow_partial:
        raise ValueError(f"{src}: the import would leave part of the model random or drop weights "
                         f"(pass --allow-partial to accept): {report.summary('; ')}")  # fmt: skip
    model.load_state_dict(new_state)
    spec = SPECS[layout]
    cfg = {"model": asdict(model.cfg), "data": {"input_size": list(input_size)}}
    save_checkpoint(out, {
        "model": model.state_dict(), "config": cfg,
        "keypoints": {"name": spec.name, "names": list(spec.names), "skeleton": [list(e) for e in spec.skeleton]},
        "imported_from": {"path": str(src), "format": fmt, "arch": arch, "report": report.summary()},
    })  # fmt: skip
    return report


def _best_arch(state: dict[str, torch.Tensor], fmt: str, num_keypoints: int, exclude: str) -> str:
    """The supported arch whose student takes every source tensor, if any (for the error message)."""
    for arch in ARCHS:
        if arch == exclude:
            continue
        _, _, report = _fit(state, fmt, arch, num_keypoints)
        if report.complete:
            return arch
    return ""
