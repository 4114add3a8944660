import json

import pytest

from lqpose.cli import main
from lqpose.engine.checkpoint import save_checkpoint
from lqpose.keypoints import COCO17
from lqpose.model_files import DEFAULT_MODEL, DEFAULT_ONNX, model_info, safetensors_metadata


def test_the_bundle_and_its_export_describe_themselves_alike():
    bundle, export = model_info("default"), model_info(DEFAULT_ONNX)
    assert bundle["file"] == str(DEFAULT_MODEL) and bundle["ONNX export beside it"] == str(DEFAULT_ONNX)
    assert bundle["format"] == "safetensors (deployable student)" and export["format"] == "ONNX"
    assert bundle["architecture"] == "yolox_nano, fuse head, separable refine"
    assert bundle["input normalisation"] == "gain"
    assert export["batch"] == 1 and bundle["quality head"] is export["quality head"] is True
    for key in ("keypoints", "input", "heatmaps", "info: licence", "info: data", "info: step"):
        assert bundle[key] == export[key], key
    assert bundle["keypoints"].startswith("crowdpose, 14: left_shoulder, right_shoulder")
    assert bundle["input"] == "192x256 (width x height)" and bundle["heatmaps"] == "48x64, sigma 4"
    assert bundle["info: licence"].startswith("research use only (LSPET)")


def test_a_training_checkpoint_and_bad_files(tmp_path, capsys):
    kp = {"name": "coco", "names": list(COCO17.names), "skeleton": [list(p) for p in COCO17.skeleton]}
    cfg = {"model": {"backbone": "lcnet_050", "head": "simple", "quality_head": False},
           "data": {"input_size": [96, 128], "sigma": 2.0}}  # fmt: skip
    save_checkpoint(tmp_path / "last.pt", {"model": {}, "config": cfg, "keypoints": kp, "step": 300, "optimizer": {}})
    about = model_info(tmp_path / "last.pt")
    assert about["format"] == "lqpose checkpoint, training" and about["step"] == 300
    assert about["architecture"] == "lcnet_050, simple head" and about["input normalisation"] == "imagenet"
    assert about["keypoints"].startswith("coco, 17: nose, left_eye") and about["heatmaps"] == "24x32, sigma 2"
    assert main(["info", str(tmp_path / "last.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 300
    (tmp_path / "plain.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ValueError, match=r"plain.safetensors: not (a readable safetensors file|an lqpose model)"):
        safetensors_metadata(tmp_path / "plain.safetensors")
    assert main(["info", str(tmp_path / "missing.onnx")]) == 1
    assert "missing.onnx: no such model file" in capsys.readouterr().err
