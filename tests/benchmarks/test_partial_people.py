import json

import numpy as np
import pytest

from lqpose.bench.run import PredictionsModel, predictions_file


def test_groups_by_labelled_limb_joints_score_perfect_and_moved_predictions(
    benchmark_script, fog_bench, gt_predictions, tmp_path
):
    pp = benchmark_script("partial_people")
    manifest, bench_gt, splits = fog_bench
    counts = pp.labelled_limb_joints(bench_gt)
    assert len(counts) > 0 and counts.min() >= 1 and counts.max() <= 12
    perfect = gt_predictions(tmp_path / "perfect", bench_gt, manifest["splits"])
    scores = pp.group_scores(bench_gt, perfect, splits, counts)
    for (lo, hi), (clean, mpc) in zip(pp.GROUPS, scores, strict=True):
        if pp.in_group(counts, lo, hi).any():
            assert clean == 1.0 and mpc == 1.0
    far = gt_predictions(tmp_path / "far", bench_gt, manifest["splits"], shift=10_000.0)
    assert all(c == 0.0 and m == 0.0 for c, m in pp.group_scores(bench_gt, far, splits, counts))
    with pytest.raises(FileNotFoundError, match="missing predictions"):
        pp.group_scores(bench_gt, PredictionsModel(str(tmp_path / "far")), ["snow/1"], counts)


def test_part_scores_and_hip_offset_read_known_predictions(benchmark_script, fog_bench, gt_predictions, tmp_path):
    pp = benchmark_script("partial_people")
    manifest, bench_gt, splits = fog_bench
    perfect = gt_predictions(tmp_path / "perfect", bench_gt, manifest["splits"])
    assert pp.part_scores(bench_gt, perfect, splits) == [(1.0, 1.0)] * len(pp.PARTS)
    assert pp.visibility_scores(bench_gt, perfect, splits) == [(1.0, 1.0), (1.0, 1.0)]  # the sample has both flags
    up, out, n = pp.hip_offset(bench_gt, perfect)
    assert (up, out) == (0.0, 0.0) and n > 0
    # every hip moved a tenth of the torso toward the shoulders: up reads +0.1, outward 0, hips still within PCK@0.2
    names = bench_gt.spec.names
    ls, rs, lh, rh = (names.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"))
    raised = gt_predictions(tmp_path / "raised", bench_gt, manifest["splits"])
    for key in manifest["splits"]:
        path = predictions_file(raised.folder, key)
        results = json.loads(path.read_text())
        for r in results:
            k = np.asarray(r["keypoints"]).reshape(-1, 3)
            if (k[[ls, rs, lh, rh], 2] > 0).all():
                k[[lh, rh], :2] += 0.1 * ((k[ls, :2] + k[rs, :2]) / 2 - (k[lh, :2] + k[rh, :2]) / 2)
            r["keypoints"] = k.reshape(-1).tolist()
        path.write_text(json.dumps(results))
    up, out, m = pp.hip_offset(bench_gt, raised)
    assert up == pytest.approx(0.1, abs=1e-6) and out == pytest.approx(0.0, abs=1e-6) and m == n
    assert pp.part_scores(bench_gt, raised, splits)[pp.PARTS.index("hip")] == (1.0, 1.0)
    far = gt_predictions(tmp_path / "far", bench_gt, manifest["splits"], shift=10_000.0)
    assert pp.visibility_scores(bench_gt, far, splits) == [(0.0, 0.0), (0.0, 0.0)]
