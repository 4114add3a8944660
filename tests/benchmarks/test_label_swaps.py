def test_counts_people_whose_predictions_match_exchanged_labels(benchmark_script, fog_bench, gt_predictions, tmp_path):
    ls = benchmark_script("label_swaps")
    _, gt, _ = fog_bench
    people, swapped, given = ls.swap_counts(gt, gt_predictions(tmp_path / "exact", gt, ["clean"]))
    assert people > 1 and swapped == 0 and given == people  # a person's left and right lie apart
    rs, lh = gt.spec.names.index("right_shoulder"), gt.spec.names.index("left_hip")
    one = next(p.ann_id for p in gt.instances if p.keypoints[[rs, lh], 2].min() > 0)  # a person the probe counts
    one_exchanged = gt_predictions(tmp_path / "one", gt, ["clean"], exchange={one})
    assert ls.swap_counts(gt, one_exchanged) == (people, 1, people - 1)
    all_exchanged = gt_predictions(tmp_path / "all", gt, ["clean"], exchange={p.ann_id for p in gt.instances})
    assert ls.swap_counts(gt, all_exchanged) == (people, people, 0)
