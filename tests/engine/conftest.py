from pathlib import Path

import pytest
import yaml


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


@pytest.fixture
def read_losses():
    """log.csv of a run folder -> {step: loss string} (strings: equality must be exact)."""
    import csv

    def read(run_dir) -> dict[int, str]:
        with open(Path(run_dir) / "log.csv") as f:
            return {int(r["step"]): r["loss"] for r in csv.DictReader(f)}

    return read
