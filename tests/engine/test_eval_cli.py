import json

import pytest

from lqpose.cli import main


def _gt_results(ann_path, out_path):
    raw = json.loads(ann_path.read_text())
    res = []
    for a in raw["annotations"]:
        if a["num_keypoints"] > 0:
            kps = list(a["keypoints"])
            kps[2::3] = [1.0] * (len(kps) // 3)
            res.append({"image_id": a["image_id"], "category_id": 1, "keypoints": kps, "score": 1.0})
    out_path.write_text(json.dumps(res))
    return out_path


def test_outside_predictions_are_scored(shared_data, tmp_path, capsys):
    ann = shared_data / "mmpose-samples/crowdpose/test_crowdpose.json"
    pred = _gt_results(ann, tmp_path / "pred.json")
    assert main(["eval", "--predictions", str(pred), "--ann", str(ann), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "| AP | AP50 |" in out and "1.0000" in out
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["AP"] == 1.0 and metrics["AP_medium"] == 1.0


def test_checkpoint_eval_clean_degraded_and_detected(tiny_config, shared_data, tmp_path, capsys):
    assert main(["train", str(tiny_config), "--set", "data.val_ann="]) == 0
    ckpt = tmp_path / "run" / "last.pt"
    coco = shared_data / "mmpose-samples/coco"
    base = ["eval", "--checkpoint", str(ckpt), "--ann", str(coco / "test_coco.json"), "--batch-size", "8"]
    assert main([*base, "--out", str(tmp_path / "clean")]) == 0
    assert main([*base, "--degrade", "gaussian_blur:5", "--out", str(tmp_path / "lq")]) == 0
    assert main([*base, "--degrade", "chain", "--out", str(tmp_path / "chain")]) == 0
    assert main([*base, "--degrade", "chain", "--out", str(tmp_path / "chain2")]) == 0
    assert main([*base, "--boxes", str(coco / "test_coco_det_AP_H_56.json"), "--score-thr", "0.5",
                 "--out", str(tmp_path / "det")]) == 0  # fmt: skip
    clean = json.loads((tmp_path / "clean" / "results.json").read_text())
    lq = json.loads((tmp_path / "lq" / "results.json").read_text())
    assert len(clean) == len(lq) == 12 and clean != lq
    chain = json.loads((tmp_path / "chain" / "results.json").read_text())
    assert chain not in (clean, lq)  # the random camera chain is its own degradation...
    assert chain == json.loads((tmp_path / "chain2" / "results.json").read_text())  # ...seeded per image
    assert all(len(r["keypoints"]) == 51 and r["score"] > 0 for r in clean)
    assert json.loads((tmp_path / "det" / "metrics.json").read_text())["AP"] >= 0.0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--predictions", "missing.json"], "missing.json: no such predictions file"),
        (["--checkpoint", "missing.pt"], "missing.pt: no such checkpoint"),
        (["--predictions", "{ann}", "--degrade", "fog:9"], "severity must be an integer 1..5"),
        (["--predictions", "{ann}", "--degrade", "fgo:2"], "did you mean fog"),
    ],
)
def test_bad_eval_input_one_line_error(args, message, shared_data, tmp_path, capsys):
    ann = shared_data / "mmpose-samples/coco/test_coco.json"
    args = [a.replace("{ann}", str(ann)) for a in args]
    code = main(["eval", *args, "--ann", str(ann), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and message in err and len(err.splitlines()) == 1


def test_unreadable_images_count_as_missed_never_as_another_persons_crop(shared_data, tmp_path, caplog, capsys):
    """A crowdpose sample image made unreadable: its people get no prediction (missed, as in COCO eval), the other
    image's people are predicted once each, the count is logged; no readable image at all is a one-line error."""
    import shutil

    src = shared_data / "mmpose-samples/crowdpose"
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(src / "103319.jpg", folder)
    (folder / "106848.jpg").write_bytes(b"not a jpeg")
    ann = src / "test_crowdpose.json"
    base = ["eval", "--checkpoint", "default", "--ann", str(ann), "--batch-size", "4"]
    with caplog.at_level("WARNING"):
        assert main([*base, "--images", str(folder), "--out", str(tmp_path / "part")]) == 0
    assert "1 of 2 images could not be read; their people count as missed" in caplog.text
    raw = json.loads(ann.read_text())
    ids = {im["file_name"]: im["id"] for im in raw["images"]}
    people = [a for a in raw["annotations"] if a["num_keypoints"] > 0]
    readable = [a["id"] for a in people if a["image_id"] == ids["103319.jpg"]]
    results = json.loads((tmp_path / "part/results.json").read_text())
    assert 0 < len(readable) < len(people)
    assert sorted(r["ann_id"] for r in results) == sorted(readable)  # each once, none from the broken image
    assert main([*base, "--out", str(tmp_path / "all")]) == 0
    full = {r["ann_id"]: r["keypoints"] for r in json.loads((tmp_path / "all/results.json").read_text())}
    assert all(r["keypoints"] == full[r["ann_id"]] for r in results)  # the same crops, the same predictions
    (folder / "103319.jpg").write_bytes(b"")
    capsys.readouterr()
    assert main([*base, "--images", str(folder), "--out", str(tmp_path / "none")]) == 1
    assert f"lqpose eval: error: {folder}: none of the 2 images could be read" in capsys.readouterr().err
    assert not (tmp_path / "none/results.json").exists()


def test_eval_arguments_and_outputs_fail_before_any_prediction(shared_data, tmp_path, capsys):
    ann = shared_data / "mmpose-samples/crowdpose/test_crowdpose.json"
    base = ["eval", "--checkpoint", "default", "--ann", str(ann)]
    with pytest.raises(SystemExit):
        main([*base, "--out", str(tmp_path / "o"), "--batch-size", "0"])
    assert "argument --batch-size: expected a positive integer, got 0" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main([*base, "--out", str(tmp_path / "file" / "o")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"lqpose eval: error: {tmp_path / 'file' / 'o'}: Not a directory", err
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    assert main([*base, "--boxes", str(empty), "--out", str(tmp_path / "o")]) == 1
    assert f"lqpose eval: error: {empty}: no person box" in capsys.readouterr().err
    assert main([*base, "--boxes", str(empty), "--score-thr", "0.5", "--out", str(tmp_path / "o")]) == 1
    assert f"{empty}: no person box with score >= 0.5" in capsys.readouterr().err


def test_the_bundle_on_coco_is_scored_on_the_joints_it_shares_as_the_results_table_scores_it(shared_data, tmp_path,
                                                                                              capsys):  # fmt: skip
    """`lqpose eval` of the CrowdPose-14 bundle on COCO-MINI val scores the 12 limb joints both layouts name and
    reads the figures of docs/results.md's COCO-MINI table for the bundle, clean, flip test: PCK@0.2 0.485, AP 0.123."""
    mini = shared_data / "coco-mini"
    argv = ["eval", "--checkpoint", "default", "--ann", str(mini / "annotations/person_keypoints_val2017.json"),
            "--images", str(mini / "val2017"), "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "scored on the 12 joints the model and the annotations share: left_shoulder, right_shoulder" in out
    metrics = json.loads((tmp_path / "o/metrics.json").read_text())
    assert round(metrics["PCK@0.2"], 3) == 0.485 and round(metrics["AP"], 3) == 0.123
    assert len(metrics["scored_joints"]) == 12 and "nose" not in metrics["scored_joints"]
    results = json.loads((tmp_path / "o/results.json").read_text())
    assert len(results) == 66 and all(len(r["keypoints"]) == 17 * 3 for r in results)
    assert all(r["keypoints"][2] == 0 for r in results)  # the nose, which the model lacks, has score 0
    from lqpose.model_files import DEFAULT_ONNX  # its ONNX export, scored as exported, reads the same figures

    assert main([*argv[:2], str(DEFAULT_ONNX), *argv[3:-1], str(tmp_path / "onnx")]) == 0
    onnx_metrics = json.loads((tmp_path / "onnx/metrics.json").read_text())
    assert round(onnx_metrics["PCK@0.2"], 3) == 0.485 and round(onnx_metrics["AP"], 3) == 0.123
    mpii = shared_data / "mmpose-samples/mpii/test_mpii.json"  # CrowdPose-14 shares 14 of MPII's 16 (head, neck)
    assert main(["eval", "--checkpoint", "default", "--ann", str(mpii), "--format", "mpii",
                 "--out", str(tmp_path / "m")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "scored on the 14 joints" in out and "upper_neck, head_top" in out
    assert json.loads((tmp_path / "m/metrics.json").read_text())["Head"] == 100.0  # PCKh's own head size
