import numpy as np
import pytest
import torch

from lqpose.models.cspdarknet import build_cspdarknet, load_yolox_onnx
from lqpose.models.fuse import check_input, fuse_conv_bn
from lqpose.models.student import StudentConfig, build_student, count_parameters

YOLOX_NANO = "models/yolox/yolox_nano.onnx"


def test_features_at_strides_four_to_thirty_two():
    backbone = build_cspdarknet("yolox_nano").eval()
    assert backbone.feature_info.channels() == [32, 64, 128, 256]
    with torch.no_grad():
        feats = backbone(torch.zeros(2, 3, 128, 96))
    assert [tuple(f.shape[1:]) for f in feats] == [(32, 32, 24), (64, 16, 12), (128, 8, 6), (256, 4, 3)]
    assert count_parameters(backbone) == 459_968  # YOLOX-nano's backbone (the detector is 0.91 M with its neck)


def test_student_on_cspdarknet_folds_every_norm():
    model = build_student(StudentConfig(backbone="yolox_nano", num_keypoints=14, head_channels=32)).eval()
    _, folded = fuse_conv_bn(model, check_input((96, 128)))
    assert folded == 47 + 1  # every backbone conv, plus the fuse head's refine conv


def test_unknown_variant_and_pretrained_download_are_refused():
    with pytest.raises(ValueError, match="unknown YOLOX backbone 'yolox_xl'"):
        build_cspdarknet("yolox_xl")
    with pytest.raises(ValueError, match="cannot download yolox_nano"):
        build_student(StudentConfig(backbone="yolox_nano", pretrained=True))


def _onnx_features(path, image_bgr: np.ndarray, backbone) -> list[np.ndarray]:
    """The detector's own activations at the ends of dark2..dark5, read from the ONNX graph by onnxruntime."""
    import onnx
    import onnxruntime as ort

    from lqpose.models.cspdarknet import _execution_order

    order = _execution_order(backbone, image_bgr.shape[:2])
    model = onnx.load(str(path))
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    names = []
    for stage in (backbone.dark2, backbone.dark3, backbone.dark4, backbone.dark5):
        conv_out = convs[order.index(stage[-1].conv3)].output[0]
        act = next(n for n in model.graph.node if n.op_type == "Mul" and conv_out in n.input)
        names.append(act.output[0])
        model.graph.output.append(onnx.helper.make_tensor_value_info(act.output[0], onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = image_bgr.astype(np.float32).transpose(2, 0, 1)[None].copy()
    return session.run(names, {session.get_inputs()[0].name: x})


def test_imported_backbone_computes_the_detectors_function(shared_data, astronaut):
    """RGB ImageNet-normalised input into the import == BGR 0-255 into the ONNX detector, border included."""
    import cv2

    from lqpose.data.transforms import normalize

    path = shared_data / YOLOX_NANO
    backbone = build_cspdarknet("yolox_nano")
    assert load_yolox_onnx(backbone, path) == 47
    image = cv2.resize(astronaut, (416, 416), interpolation=cv2.INTER_AREA)  # the exported graph's fixed input
    expected = _onnx_features(path, np.ascontiguousarray(image[..., ::-1]), backbone)
    with torch.no_grad():
        got = backbone.eval()(torch.from_numpy(normalize(image))[None])
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g.numpy(), e, atol=2e-4, rtol=0)
    # training mode uses batch statistics, which the calibration matched to natural images: same scale
    with torch.no_grad():
        train_feats = backbone.train()(torch.from_numpy(np.stack([normalize(image)] * 4)))
    assert 0.5 < float(train_feats[1].std() / got[1].std()) < 2.0


def test_bad_onnx_files_are_named(shared_data, tmp_path):
    bad = tmp_path / "detector.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"detector\.onnx: not a readable ONNX model"):
        load_yolox_onnx(build_cspdarknet("yolox_nano"), bad)
    with pytest.raises(FileNotFoundError, match=r"missing\.onnx: no such YOLOX ONNX file"):
        load_yolox_onnx(build_cspdarknet("yolox_nano"), tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match=r"yolox_nano\.onnx: conv 0 has shape \(16, 12, 3, 3\), the backbone "
                                         r"expects \(24, 12, 3, 3\) \(a different YOLOX size\?\)"):  # fmt: skip
        load_yolox_onnx(build_cspdarknet("yolox_tiny"), shared_data / YOLOX_NANO)


@pytest.mark.slow
def test_yolox_started_student_trains_and_loads_without_the_onnx(tiny_config, shared_data, tmp_path):
    """The ONNX file is read once, at the start of training; the checkpoint carries every weight."""
    import shutil

    from lqpose.config import load_config
    from lqpose.engine.checkpoint import load_student_checkpoint
    from lqpose.engine.train import TrainConfig, train

    onnx_copy = tmp_path / "yolox_nano.onnx"
    shutil.copy(shared_data / YOLOX_NANO, onnx_copy)
    overrides = ["model.backbone=yolox_nano", f"model.weights={onnx_copy}", "optim.steps=3", "data.val_ann=",
                 f"out_dir={tmp_path / 'run'}"]  # fmt: skip
    train(load_config(TrainConfig, tiny_config, overrides), progress=False)
    start = build_cspdarknet("yolox_nano")
    load_yolox_onnx(start, onnx_copy, input_hw=(64, 48))
    onnx_copy.unlink()
    model, spec, _ = load_student_checkpoint(tmp_path / "run" / "student.pt")
    assert spec.num_keypoints == 17
    trained = model.backbone.state_dict()
    # the first conv started from the detector and moved by three small steps, not from a random init
    w0, w1 = start.stem.conv.conv.weight.detach(), trained["stem.conv.conv.weight"]
    assert float((w1 - w0).abs().max()) < 0.05 * float(w0.abs().max())
