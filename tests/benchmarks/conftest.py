import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from lqpose.bench.make import make_bench
from lqpose.bench.report import grid_splits
from lqpose.bench.run import PredictionsModel, load_bench, predictions_file
from lqpose.data import read_coco

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def benchmark_script():
    """Import a script of benchmarks/ by name (they are scripts, not a package)."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def fog_bench(shared_data, tmp_path_factory):
    """The real COCO sample as a one-split LQ benchmark: its manifest, ground truth and grid splits."""
    gt = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    folder = tmp_path_factory.mktemp("bench")
    make_bench(gt, folder, "coco", types=["fog"], severities=[2], progress=False)
    manifest, bench_gt = load_bench(folder)
    return manifest, bench_gt, grid_splits(manifest["splits"])


@pytest.fixture
def gt_predictions():
    """A writer of the ground truth as a prediction folder, one file per split: every joint optionally moved `shift`
    pixels right, and left and right exchanged for the people whose ann_id is in `exchange`."""

    def write(folder: Path, gt, splits, shift: float = 0.0, exchange=frozenset()) -> PredictionsModel:
        folder.mkdir(parents=True)
        flip = np.asarray(gt.spec.flip_index)
        results = []
        for p in gt.instances:
            k = (p.keypoints[flip] if p.ann_id in exchange else p.keypoints).astype(np.float64)
            k[:, 0] += shift
            k[:, 2] = 1.0
            results.append({"image_id": p.image_id, "category_id": 1, "keypoints": k.reshape(-1).tolist(),
                            "score": 1.0, "ann_id": p.ann_id})  # fmt: skip
        for key in splits:
            predictions_file(folder, key).write_text(json.dumps(results))
        return PredictionsModel(str(folder))

    return write
