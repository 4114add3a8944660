def test_counts_people_whose_predictions_match_exchanged_labels(benchmark_script, fog_bench, gt_predictions, tmp_path):
    ls = benchmark_script("label_swaps")
    _, gt, _ = fog_bench

    def counts(model):
        return ls.swap_counts(ls.lr_fit(gt.instances, gt.spec, model.results_for("clean")))

    people, swapped, given = counts(gt_predictions(tmp_path / "exact", gt, ["clean"]))
    assert people > 1 and swapped == 0 and given == people  # a person's left and right lie apart
    rs, lh = gt.spec.names.index("right_shoulder"), gt.spec.names.index("left_hip")
    one = next(p.ann_id for p in gt.instances if p.keypoints[[rs, lh], 2].min() > 0)  # a person the probe counts
    assert counts(gt_predictions(tmp_path / "one", gt, ["clean"], exchange={one})) == (people, 1, people - 1)
    everyone = {p.ann_id for p in gt.instances}
    assert counts(gt_predictions(tmp_path / "all", gt, ["clean"], exchange=everyone)) == (people, people, 0)
