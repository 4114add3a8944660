import json
from pathlib import Path

import numpy as np
import pytest

from lqpose.bench.make import make_bench
from lqpose.bench.peers import blazepose_to_layout
from lqpose.bench.report import paired_pck_differences, recipe_difference, seed_summary, summarize, write_report
from lqpose.bench.run import PredictionsModel, load_bench, predictions_file, run_bench
from lqpose.cli import main
from lqpose.data import read_coco
from lqpose.keypoints import COCO17, CROWDPOSE14


@pytest.fixture(scope="module")
def bench(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    gt = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    make_bench(gt, out, "coco", types=["gaussian_blur", "jpeg"], severities=[1, 3], mixed=1, progress=False)
    return out


def write_predictions(bench: Path, folder: Path, shift_per_severity: float) -> Path:
    """GT keypoints as predictions, shifted by shift x severity pixels on the degraded splits."""
    manifest, gt = load_bench(bench)
    for key in manifest["splits"]:
        sev = int(key.split("/")[1]) if "/" in key and not key.startswith("mixed") else 0
        res = []
        for inst in gt.instances:
            if inst.num_visible == 0:
                continue
            kps = inst.keypoints.copy()
            kps[:, :2] += shift_per_severity * sev
            kps[:, 2] = (kps[:, 2] > 0).astype(float)
            res.append({"image_id": inst.image_id, "category_id": 1, "keypoints": kps.reshape(-1).tolist(),
                        "score": 1.0, "ann_id": inst.ann_id})  # fmt: skip
        path = predictions_file(folder, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(res))
    return folder


def test_ground_truth_scores_one_on_every_split_and_worse_model_has_lower_mpc(bench, tmp_path):
    perfect = write_predictions(bench, tmp_path / "perfect", 0.0)
    worse = write_predictions(bench, tmp_path / "worse", 4.0)
    run = run_bench(bench, [PredictionsModel(perfect), PredictionsModel(worse)], progress=False)
    assert all(m["AP"] == 1.0 for m in run["scores"]["perfect"].values())
    summaries = write_report(run, tmp_path / "report")
    assert summaries["perfect"]["mPC"] == 1.0 and summaries["perfect"]["rPC"] == 1.0
    assert summaries["worse"]["clean"] == 1.0 and summaries["worse"]["mPC"] < 1.0
    grid = summaries["worse"]["grid"]
    assert summaries["worse"]["mPC"] == pytest.approx(np.mean([np.mean(list(v.values())) for v in grid.values()]))
    assert grid["jpeg"][3] < grid["jpeg"][1]
    report = (tmp_path / "report/report.md").read_text()
    assert "| perfect | 1.000 | 1.000 | 1.000 |" in report and "## worse: AP per type and severity" in report
    for png in ("severity_worse.png", "models.png", "worst_cases.png"):
        assert (tmp_path / "report" / png).stat().st_size > 1000
    rows = (tmp_path / "report/results.csv").read_text().splitlines()
    assert rows[0] == "model,split,AP" and len(rows) == 1 + 2 * 6
    d = paired_pck_differences(run, "perfect", ["worse"])["worse"]  # the full-set value is the plain difference
    assert d["clean"]["diff"] == 0.0 and (d["clean"]["lo"], d["clean"]["hi"]) == (0.0, 0.0)
    assert d["mPC"]["diff"] == pytest.approx(1.0 - summarize(run["scores"]["worse"], "PCK@0.2")["mPC"])
    assert 0 < d["mPC"]["lo"] < d["mPC"]["diff"] < d["mPC"]["hi"] and d["mPC"]["n"] == len(run["people"])
    assert "## Paired differences: perfect minus each other model" in report
    assert f"| worse | +0.000 [+0.000, +0.000] | {d['mPC']['diff']:+.3f} [{d['mPC']['lo']:+.3f}, " in report


def test_checkpoint_on_the_bench_through_the_cli(bench, tiny_config, tmp_path, capsys):
    assert main(["train", str(tiny_config), "--set", f"out_dir={tmp_path / 'run'}", "--set", "data.val_ann="]) == 0
    ckpt = tmp_path / "run" / "student.pt"
    rep = tmp_path / "rep"
    assert (
        main(["bench", "--bench", str(bench), "--checkpoint", str(ckpt), "--report", str(rep), "--save-predictions"])
        == 0
    )
    captured = capsys.readouterr()
    out = captured.out
    assert "mPC" in out and (rep / "report.md").is_file()
    assert "bench: 100%" in captured.err and "6/6" in captured.err  # one bar over the model's 6 splits
    saved = list((rep / "predictions").iterdir())
    assert len(saved) == 1 and len(list(saved[0].glob("*.json"))) == 6  # one file per split
    assert (
        main(["bench", "--bench", str(bench), "--predictions", str(saved[0]), "--report", str(tmp_path / "again")]) == 0
    )
    again = capsys.readouterr().out
    assert out.splitlines()[-2].split(":", 1)[1] == again.splitlines()[-2].split(":", 1)[1]  # the same scores read back


def test_blazepose_mapping_to_coco_and_crowdpose():
    lm = np.zeros((33, 3))
    lm[:, 0] = np.arange(33)
    lm[:, 2] = 0.9
    coco = blazepose_to_layout(lm, COCO17)
    assert coco[:, 0].tolist() == [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
    crowd = blazepose_to_layout(lm, CROWDPOSE14)
    assert crowd[CROWDPOSE14.index("left_wrist"), 0] == 15
    assert crowd[CROWDPOSE14.index("neck"), 0] == pytest.approx(11.5)  # shoulders' midpoint


def test_mediapipe_missing_is_a_clear_error():
    try:
        import mediapipe  # noqa: F401

        pytest.skip("mediapipe is installed here")
    except ImportError:
        pass
    from lqpose.bench.peers import MediaPipePeer

    with pytest.raises(ImportError, match=r"pip install 'lqpose\[peers\]'"):
        MediaPipePeer()


MOVENET = "models/movenet/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"


def test_movenet_peer_on_coco_mini_gives_the_documented_ap(shared_data):
    pytest.importorskip("ai_edge_litert", reason="the MoveNet peer needs ai-edge-litert (lqpose[dev] has it)")
    from lqpose.bench.peers import MoveNetPeer
    from lqpose.engine.evaluate import score

    mini = shared_data / "coco-mini"
    gt = read_coco(mini / "annotations/person_keypoints_val2017.json", mini / "val2017")
    people = [i for i in gt.instances if i.num_visible > 0]
    results = MoveNetPeer(shared_data / MOVENET).predict(people, gt.spec, progress=False)
    assert len(results) == len(people) == 68
    metrics = score(gt, results)
    # ../shared/data/README.md measured AP 0.327 with GT boxes; our crop is the same 1.25x square
    assert 0.27 <= metrics["AP"] <= 0.39, metrics["AP"]


def test_movenet_peer_maps_to_crowdpose_on_lspet(shared_data):
    pytest.importorskip("ai_edge_litert", reason="the MoveNet peer needs ai-edge-litert (lqpose[dev] has it)")
    from lqpose.bench.peers import MoveNetPeer
    from lqpose.data.readers import read_lspet
    from lqpose.metrics.pck import pck

    gt = read_lspet(shared_data / "lspet", "test")
    gt.instances = gt.instances[:60]
    results = MoveNetPeer(shared_data / MOVENET).predict(gt.instances, CROWDPOSE14, progress=False)
    assert np.asarray(results[0]["keypoints"]).reshape(-1, 3).shape == (14, 3)
    assert pck(gt, results) > 0.4  # README: 0.536 on the whole LSPET


def test_peer_errors_are_clear(tmp_path):
    from lqpose.bench.peers import MoveNetPeer, build_peer

    with pytest.raises(ValueError, match="unknown peer 'openpose'"):
        build_peer("openpose")
    with pytest.raises(ValueError, match="movenet needs the model file"):
        build_peer("movenet")
    with pytest.raises(FileNotFoundError, match=r"nope\.tflite: no such MoveNet"):
        MoveNetPeer(tmp_path / "nope.tflite")
    pytest.importorskip("ai_edge_litert")
    (tmp_path / "bad.tflite").write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"bad\.tflite: not a loadable TFLite model"):
        MoveNetPeer(tmp_path / "bad.tflite")


def _scores(clean: float, drop: float) -> dict:
    """Scores of one model: clean, two types at severities 1 and 3 (drop x severity), one mixed split (3 x drop)."""
    split = {"clean": clean, "mixed/0": clean - 3 * drop}
    for t in ("gaussian_blur", "jpeg"):
        for sev in (1, 3):
            split[f"{t}/{sev}"] = clean - drop * sev
    return {k: {"PCK@0.2": v} for k, v in split.items()}


def test_seed_summary_and_recipe_difference_known_values():
    scores = {"a0": _scores(0.50, 0.02), "a1": _scores(0.54, 0.04), "b0": _scores(0.40, 0.01),
              "b1": _scores(0.40, 0.01), "b2": _scores(0.46, 0.01)}  # fmt: skip
    a = seed_summary(scores, ["a0", "a1"], "PCK@0.2")
    # mPC per seed: 0.50 - 0.02*2 = 0.46 and 0.54 - 0.04*2 = 0.46; clean 0.50 / 0.54
    assert a["n"] == 2
    assert a["clean"] == pytest.approx((0.52, np.std([0.50, 0.54], ddof=1)))
    assert a["mPC"] == pytest.approx((0.46, 0.0), abs=1e-12)
    assert a["mixed"] == pytest.approx((0.43, np.std([0.44, 0.42], ddof=1)))
    assert a["rPC"][0] == pytest.approx((0.46 / 0.50 + 0.46 / 0.54) / 2)
    b = seed_summary(scores, ["b0", "b1", "b2"], "PCK@0.2")
    sd_b = np.std([0.40, 0.40, 0.46], ddof=1)
    assert b["clean"] == pytest.approx((0.42, sd_b))
    diff, se = recipe_difference(a, b, "clean")
    assert diff == pytest.approx(0.10)
    assert se == pytest.approx(np.sqrt(np.std([0.50, 0.54], ddof=1) ** 2 / 2 + sd_b**2 / 3))
    one = seed_summary(scores, ["a0"], "PCK@0.2")
    assert one["clean"][0] == pytest.approx(0.50) and np.isnan(one["clean"][1])
    diff, se = recipe_difference(one, b, "clean")  # one seed borrows b's spread: sqrt(sd_b²/1 + sd_b²/3)
    assert diff == pytest.approx(0.08) and se == pytest.approx(sd_b * np.sqrt(1 + 1 / 3))
    assert np.isnan(recipe_difference(one, one, "clean")[1])
    with pytest.raises(KeyError, match="c0"):
        seed_summary(scores, ["a0", "c0"], "PCK@0.2")
