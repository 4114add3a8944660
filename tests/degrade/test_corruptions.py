"""lqpose's ic_* types: imagecorruptions' calls, seeded and replayable. imagecorruptions is optional and not
installed in CI, so a stand-in module records the calls and draws from numpy's global generator as it does."""

import sys
import types

import numpy as np
import pytest

from lqpose.bench.make import make_bench, verify_bench
from lqpose.bench.report import FAMILIES
from lqpose.cli import main
from lqpose.data import read_coco
from lqpose.degrade import DEGRADATIONS, IMAGECORRUPTIONS, degrade, degrade_with_params, get_spec
from lqpose.imageio import read_rgb


@pytest.fixture
def calls(monkeypatch):
    """A stand-in imagecorruptions: noise from numpy's global generator, as float (as most of its types return);
    'frost' returns a smaller image, as some of its types do for odd sizes."""
    seen = []

    def corrupt(img, corruption_name, severity):
        seen.append((corruption_name, severity))
        out = img + np.random.uniform(0, 10 * severity, img.shape)
        return out[:-1, :-1] if corruption_name == "frost" else np.clip(out, 0, 255)

    monkeypatch.setitem(sys.modules, "imagecorruptions", types.SimpleNamespace(corrupt=corrupt))
    return seen


def test_ic_types_call_imagecorruptions_seeded_and_leave_numpy_global_state_alone(calls, astronaut):
    img = astronaut[:64, :48]
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a, params = degrade_with_params(img, "ic_snow", 3, seed=7)
    assert calls == [("snow", 3)]
    assert set(params) == {"severity", "seed"} and params["severity"] == 3
    assert np.array_equal(np.random.get_state()[1], before)  # the caller's global generator, untouched
    assert np.array_equal(a, degrade(img, "ic_snow", 3, seed=7))  # same seed, same bytes
    assert not np.array_equal(a, degrade(img, "ic_snow", 3, seed=8))
    assert np.array_equal(a, get_spec("ic_snow").apply(img, **params))  # the recorded params replay the image
    np.random.seed(params["seed"])
    expected = (img + np.random.uniform(0, 30, img.shape)).clip(0, 255).astype(np.uint8)  # truncated, as its scripts
    assert np.array_equal(a, expected)
    frost = degrade(img, "ic_frost", 2, seed=7)
    assert frost.shape == img.shape and frost.dtype == np.uint8  # resized back to the input's size


def test_ic_types_are_named_listed_and_never_defaults(calls, capsys):
    assert len(IMAGECORRUPTIONS) == 15 and not set(IMAGECORRUPTIONS) & set(DEGRADATIONS)
    assert "ic_elastic_transform" not in IMAGECORRUPTIONS and "ic_fog" not in IMAGECORRUPTIONS
    assert FAMILIES["ic_snow"] == "ic weather" and FAMILIES["ic_saturate"] == "ic digital"
    assert FAMILIES["ic_speckle_noise"] == "ic noise" and FAMILIES["ic_zoom_blur"] == "ic blur"
    with pytest.raises(ValueError, match="unknown degradation type 'ic_snwo'; did you mean ic_snow"):
        get_spec("ic_snwo")
    assert main(["degrade", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "ic_saturate\tic digital (imagecorruptions, COCO-C)" in listed and len(listed) == 16 + 1 + 15


def test_make_bench_builds_ic_splits_that_verify(calls, shared_data, tmp_path):
    coco = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    m = make_bench(coco, tmp_path / "b", "coco", types=["ic_snow", "jpeg"], severities=[2], progress=False)
    assert list(m["splits"]) == ["clean", "ic_snow/2", "jpeg/2"]
    entry = m["splits"]["ic_snow/2"]["000000000785.png"]
    assert entry["params"]["severity"] == 2 and entry["seed"] > 0
    assert verify_bench(tmp_path / "b") == []
    src = read_rgb(shared_data / "mmpose-samples/coco/000000000785.jpg")
    rebuilt = get_spec("ic_snow").apply(src, **entry["params"])
    assert np.array_equal(read_rgb(tmp_path / "b/ic_snow/2/000000000785.png"), rebuilt)


def test_without_imagecorruptions_the_error_says_how_to_install_it(monkeypatch, shared_data, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "imagecorruptions", None)  # import fails, as when it is not installed
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps imagecorruptions==1\.1\.2"):
        degrade(np.zeros((8, 8, 3), np.uint8), "ic_snow", 1, seed=0)
    coco = read_coco(shared_data / "mmpose-samples/coco/test_coco.json")
    with pytest.raises(ModuleNotFoundError, match="the ic_\\* degradation types need imagecorruptions"):
        make_bench(coco, tmp_path / "b", "coco", types=["ic_snow"], severities=[1], progress=False)
    assert not (tmp_path / "b").exists()  # refused before anything is written
    image = shared_data / "mmpose-samples/coco/000000000785.jpg"
    code = main(["degrade", str(image), str(tmp_path / "o.png"), "--type", "ic_snow", "--severity", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("lqpose degrade: error: the ic_* degradation types need imagecorruptions")
    assert len(err.splitlines()) == 1
