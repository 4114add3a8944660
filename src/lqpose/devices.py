"""Questions about torch and GPUs answered without importing torch or starting a CUDA runtime: whether this machine
can have a GPU at all (the CLI's default device and ONNX Runtime's 'auto' ask this first, so a CPU-only machine
neither imports torch only to ask nor makes onnxruntime-gpu log a failed CUDA start), and whether a model is a torch
module (the torch-free paths run every other model in numpy)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/dxg", "/dev/kfd")  # NVIDIA, WSL2, ROCm


def gpu_driver_possible() -> bool:
    """False where no GPU can be used for certain: macOS (no CUDA), Linux without a GPU driver's files, Windows
    without NVIDIA's driver library; True where one might be."""
    if sys.platform == "darwin":
        return False
    if sys.platform.startswith("linux"):
        return any(Path(f).exists() for f in GPU_DRIVER_FILES)
    if sys.platform == "win32":
        return (Path(os.environ.get("SystemRoot", r"C:\Windows")) / "System32" / "nvcuda.dll").exists()
    return True


def is_torch_module(model) -> bool:
    """A torch nn.Module can only exist once torch is imported, so a process without torch is never made to
    import it to ask."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)
