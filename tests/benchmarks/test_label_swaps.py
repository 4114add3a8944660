import json
from pathlib import Path

import numpy as np

from lqpose.bench.make import make_bench
from lqpose.bench.run import PredictionsModel, load_bench, predictions_file
from lqpose.data import read_coco


def write_clean(folder: Path, gt, exchange: set[int]) -> PredictionsModel:
    """The ground truth as clean-split predictions, left and right exchanged for the people in `exchange`."""
    folder.mkdir(parents=True)
    flip = np.asarray(gt.spec.flip_index)
    results = []
    for p in gt.instances:
        k = p.keypoints[flip] if p.ann_id in exchange else p.keypoints.copy()
        results.append({"image_id": p.image_id, "keypoints": k.reshape(-1).tolist(), "score": 1.0,
                        "ann_id": p.ann_id})  # fmt: skip
    predictions_file(folder, "clean").write_text(json.dumps(results))
    return PredictionsModel(str(folder))


def test_counts_people_whose_predictions_match_exchanged_labels(benchmark_script, shared_data, tmp_path):
    ls = benchmark_script("label_swaps")
    make_bench(read_coco(shared_data / "mmpose-samples/coco/test_coco.json"), tmp_path / "b", "coco",
               types=["fog"], severities=[1], progress=False)  # fmt: skip
    _, gt = load_bench(tmp_path / "b")
    people, swapped, given = ls.swap_counts(gt, write_clean(tmp_path / "exact", gt, set()))
    assert people > 1 and swapped == 0 and given == people  # a person's left and right lie apart
    rs, lh = gt.spec.names.index("right_shoulder"), gt.spec.names.index("left_hip")
    one = next(p.ann_id for p in gt.instances if p.keypoints[[rs, lh], 2].min() > 0)  # a person the probe counts
    assert ls.swap_counts(gt, write_clean(tmp_path / "one", gt, {one})) == (people, 1, people - 1)
    all_ids = {p.ann_id for p in gt.instances}
    assert ls.swap_counts(gt, write_clean(tmp_path / "all", gt, all_ids)) == (people, people, 0)
