from pathlib import Path

import numpy as np
import pytest
import yaml

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage.data import astronaut as _astronaut

    return np.ascontiguousarray(_astronaut())


@pytest.fixture(scope="session")
def small_image(astronaut) -> np.ndarray:
    """A small odd-sized crop (odd sizes catch off-by-one resizing bugs)."""
    return np.ascontiguousarray(astronaut[40:137, 150:221])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (CI has it)")
    return SHARED_DATA


@pytest.fixture
def tiny_config(shared_data, tmp_path) -> Path:
    """A tiny CPU training config on the real COCO sample (12 people, 4 images)."""
    coco = shared_data / "mmpose-samples" / "coco"
    cfg = {
        "data": {
            "train_ann": str(coco / "test_coco.json"),
            "val_ann": str(coco / "test_coco.json"),
            "input_size": [48, 64],
            "sigma": 1.5,
            "workers": 0,
        },
        "model": {"backbone": "lcnet_050", "head_channels": 32},
        "optim": {"steps": 6, "batch_size": 4, "lr": 0.003, "warmup_steps": 2},
        "out_dir": str(tmp_path / "run"),
        "log_every": 1,
        "ckpt_every": 3,
        "eval_batch_size": 8,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path
