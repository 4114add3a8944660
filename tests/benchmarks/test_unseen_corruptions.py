import sys
import types

import cv2
import numpy as np
import pytest

from lqpose.data.readers import read_lspet


class Shifted:
    """Predicts each person's labelled joints moved by `dx` px (0: exactly); `lost_under` a corruption: by 1000 px
    on the images it made (their folder is named after it)."""

    def __init__(self, dx: float, lost_under: str | None = None):
        self.dx, self.lost_under = dx, lost_under

    def predict(self, people, spec, progress=True):
        def dx(p):
            return 1000 if self.lost_under and f"{self.lost_under}_" in p.image_path else self.dx

        moved = [(p.keypoints + [dx(p), 0, 0]).ravel().tolist() for p in people]
        return [{"image_id": p.image_id, "ann_id": p.ann_id, "keypoints": k, "score": 1.0, "category_id": 1}
                for p, k in zip(people, moved, strict=True)]  # fmt: skip


def test_corruptions_are_seeded_per_image_and_scored_per_type(benchmark_script, shared_data, monkeypatch, capsys):
    uc = benchmark_script("unseen_corruptions")
    assert uc.corruption_seed("a/im01.jpg", "snow", 3) == uc.corruption_seed("b/im01.jpg", "snow", 3)  # by file name
    assert uc.corruption_seed("a/im01.jpg", "snow", 3) != uc.corruption_seed("a/im01.jpg", "snow", 4)
    seen = []

    def corrupt(img, corruption_name, severity):  # imagecorruptions' call, recorded; the image darkened
        seen.append((corruption_name, severity, np.random.randint(1 << 30)))
        return (img // 2).astype(np.uint8)

    monkeypatch.setitem(sys.modules, "imagecorruptions", types.SimpleNamespace(corrupt=corrupt))
    gt = read_lspet(shared_data / "lspet", "test")
    people = [i for i in gt.instances if i.num_visible > 0][:3]
    models = {"perfect": Shifted(0), "lost": Shifted(1000), "saturate": Shifted(0, lost_under="saturate")}
    uc.report("LSPET test", gt, people, models, [1, 5])
    out = capsys.readouterr().out
    assert "| clean | | 1.000 | 0.000 | 1.000 |" in out
    assert "| zoom_blur | unseen | 1.000 | 0.000 | 1.000 |" in out
    assert "| saturate | unseen | 1.000 | 0.000 | 0.000 |" in out
    assert "| **mPC, unseen** | | 1.000 | 0.000 | 0.833 |" in out  # one of six types lost
    assert "| **mPC, all** | | 1.000 | 0.000 | 0.933 |" in out  # one of fifteen
    assert "| **mPC, colour pair** | | 1.000 | 0.000 | 0.500 |" in out  # saturate lost, brightness kept
    assert "| lost | +1.000 | +1.000 [+1.000, +1.000] | +1.000 [+1.000, +1.000] | +1.000 [+1.000, +1.000] | " in out
    assert "| saturate | +0.000 | +0.167 [+0.167, +0.167] | +0.000 [+0.000, +0.000] | +0.067 [+0.067, +0.067] | " \
           "+0.500 [+0.500, +0.500] |" in out  # fmt: skip
    assert len(seen) == 3 * 2 * len(uc.UNSEEN + uc.SAME_KIND)  # each image once per type and severity
    first = [s for s in seen if s[:2] == ("snow", 5)]
    np.random.seed(uc.corruption_seed(people[0].image_path, "snow", 5))
    assert first[0][2] == np.random.randint(1 << 30)  # numpy's generator seeded for that image, type and severity


def test_models_are_named_students_then_movenet(benchmark_script, tmp_path):
    uc = benchmark_script("unseen_corruptions")
    models = uc.build_models(["bundle=default"], "none")
    assert list(models) == ["bundle"] and models["bundle"].name == uc.DEFAULT_ONNX.stem + ".onnx"
    with pytest.raises(SystemExit, match="expected NAME=PATH"):
        uc.build_models(["runs/x.onnx"], "none")
    with pytest.raises(SystemExit, match="missing.onnx: no such file"):
        uc.build_models([f"x={tmp_path / 'missing.onnx'}"], "none")
    with pytest.raises(SystemExit, match="pass 'none' to leave MoveNet out"):
        uc.build_models(None, str(tmp_path / "movenet.tflite"))


def test_impulse_noise_is_seeded_per_image_like_the_others(benchmark_script, shared_data, monkeypatch, tmp_path):
    """imagecorruptions' impulse_noise calls skimage.util.random_noise without a generator: it must still repeat."""
    import skimage.util

    uc = benchmark_script("unseen_corruptions")

    def corrupt(img, corruption_name, severity):  # as imagecorruptions 1.1.2 makes impulse noise
        return np.clip(skimage.util.random_noise(img / 255.0, mode="s&p", amount=0.03 * severity), 0, 1) * 255

    monkeypatch.setitem(sys.modules, "imagecorruptions", types.SimpleNamespace(corrupt=corrupt))
    people = [i for i in read_lspet(shared_data / "lspet", "test").instances if i.num_visible > 0][:2]
    original, runs = skimage.util.random_noise, []
    for k in range(2):
        (tmp_path / str(k)).mkdir()
        split = uc.corrupted_split(people, "impulse_noise", 3, tmp_path / str(k))
        runs.append([cv2.imread(p.image_path) for p in split])
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))  # the same noise both times
    assert not np.array_equal(runs[0][0], cv2.imread(people[0].image_path))  # and there is noise
    assert skimage.util.random_noise is original  # put back afterwards
