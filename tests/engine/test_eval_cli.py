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
