import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lqpose.cli import main
from lqpose.degrade import DEGRADATIONS


@pytest.fixture
def image_dir(tmp_path, small_image) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(3):
        cv2.imwrite(str(d / f"img{i}.jpg"), cv2.cvtColor(np.roll(small_image, 7 * i, axis=1), cv2.COLOR_RGB2BGR))
    (d / "notes.txt").write_text("not an image, ignored")
    return d


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_console_script_is_installed():
    res = subprocess.run(["lqpose", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("lqpose ")


def test_list_names_every_type_with_family(capsys):
    code, out, _ = run(["degrade", "--list"], capsys)
    rows = dict(line.split("\t") for line in out.strip().splitlines())
    assert code == 0 and len(rows) >= 17
    for name, spec in DEGRADATIONS.items():
        assert rows[name] == spec.family
    assert "chain" in rows


def test_single_image_and_params_json(image_dir, tmp_path, capsys):
    out = tmp_path / "lq.png"
    code, _, _ = run(
        ["degrade", str(image_dir / "img0.jpg"), str(out), "--type", "motion_blur", "--severity", "3"], capsys
    )
    assert code == 0
    img = cv2.imread(str(out))
    assert img.shape == cv2.imread(str(image_dir / "img0.jpg")).shape
    record = json.loads((tmp_path / "lq.params.json").read_text())
    assert record["type"] == "motion_blur" and record["severity"] == 3
    params = record["images"]["img0.jpg"]["params"]
    assert params["length"] == DEGRADATIONS["motion_blur"].severity_table[2] and 0 <= params["angle"] < 180


def test_folder_keeps_names_and_is_byte_identical_across_runs(image_dir, tmp_path, capsys):
    for run_dir in ("a", "b"):
        assert (
            run(
                [
                    "degrade",
                    str(image_dir),
                    str(tmp_path / run_dir),
                    "--type",
                    "shot_noise",
                    "--severity",
                    "2",
                    "--seed",
                    "5",
                ],
                capsys,
            )[0]
            == 0
        )
    assert (
        run(
            ["degrade", str(image_dir), str(tmp_path / "c"), "--type", "shot_noise", "--severity", "2", "--seed", "6"],
            capsys,
        )[0]
        == 0
    )
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["degrade_params.json", "img0.png", "img1.png", "img2.png"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for name in ("img0.png", "img1.png", "img2.png"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert not list((tmp_path / "a").glob(".*"))  # no temp files left


def test_folder_output_matches_single_image_output(image_dir, tmp_path, capsys):
    run(["degrade", str(image_dir), str(tmp_path / "all"), "--type", "rain", "--severity", "4"], capsys)
    run(["degrade", str(image_dir / "img1.jpg"), str(tmp_path / "one"), "--type", "rain", "--severity", "4"], capsys)
    assert (tmp_path / "all" / "img1.png").read_bytes() == (tmp_path / "one" / "img1.png").read_bytes()


def test_chain_with_overrides(image_dir, tmp_path, capsys):
    code, out, _ = run(
        ["degrade", str(image_dir), str(tmp_path / "o"), "--type", "chain", "--set", "shuffle_prob=1"], capsys
    )
    assert code == 0 and "wrote 3 image(s)" in out
    record = json.loads((tmp_path / "o" / "degrade_params.json").read_text())
    assert all(isinstance(v["params"], list) and v["params"] for v in record["images"].values())


def test_unreadable_file_in_folder_is_counted_and_skipped(image_dir, tmp_path, capsys):
    (image_dir / "broken.png").write_bytes(b"\x89PNG not really")
    code, out, _ = run(["degrade", str(image_dir), str(tmp_path / "o"), "--type", "fog", "--severity", "1"], capsys)
    assert code == 0 and "skipped 1 unreadable" in out
    record = json.loads((tmp_path / "o" / "degrade_params.json").read_text())
    assert list(record["skipped"]) == ["broken.png"] and len(record["images"]) == 3


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _write(path: Path, arr: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), arr)
    return path


def test_grayscale_and_rgba_are_converted(tmp_path, capsys):
    gray = _write(tmp_path / "g.png", np.full((20, 30), 90, np.uint8))
    rgba = _write(tmp_path / "a.png", np.full((20, 30, 4), 90, np.uint8))
    for src in (gray, rgba):
        assert run(["degrade", str(src), str(tmp_path / "o"), "--type", "jpeg", "--severity", "1"], capsys)[0] == 0
        assert cv2.imread(str(tmp_path / "o" / src.name), cv2.IMREAD_UNCHANGED).shape == (20, 30, 3)


@pytest.mark.parametrize(
    "setup, extra, message",
    [
        (lambda d: d / "missing.png", ["--type", "fog", "--severity", "1"], "missing.png: no such file"),
        (lambda d: _text(d / "x.png", "hello"), ["--type", "fog", "--severity", "1"], "x.png: not a readable image"),
        (
            lambda d: _write(d / "x.png", np.zeros((5, 5, 3), np.uint16)),
            ["--type", "fog", "--severity", "1"],
            "x.png: uint16 image",
        ),
        (
            lambda d: _write(d / "x.png", np.zeros((5, 5, 3), np.uint8)),
            ["--type", "fgo", "--severity", "1"],
            "unknown degradation type 'fgo'; did you mean fog",
        ),
        (lambda d: _write(d / "x.png", np.zeros((5, 5, 3), np.uint8)), ["--type", "fog"], "needs --severity"),
        (
            lambda d: (d / "empty").mkdir() or d / "empty",
            ["--type", "fog", "--severity", "1"],
            "empty: folder holds no images",
        ),
    ],
)
def test_bad_input_one_line_error(setup, extra, message, tmp_path, capsys):
    src = setup(tmp_path)
    code, _, err = run(["degrade", str(src), str(tmp_path / "out"), *extra], capsys)
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("severity", ["0", "6", "x"])
def test_bad_severity_exits_non_zero(severity, tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "lqpose.cli", "degrade", "a.png", "b.png", "--type", "fog", "--severity", severity],
        capture_output=True,
        text=True,
    )
    assert res.returncode != 0 and "severity must be" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("lqpose degrade: error:")


def test_relabel_lists_the_people_every_model_fits_exchanged(shared_data, tmp_path, capsys):
    from lqpose.data import read_coco
    from lqpose.data.relabel import read_relabel

    ann = shared_data / "mmpose-samples/coco/test_coco.json"
    gt = read_coco(ann)
    flip = np.asarray(gt.spec.flip_index)
    scored = [p.ann_id for p in gt.instances if p.keypoints[[6, 11], 2].min() > 0]  # right shoulder, left hip

    def predictions(name, exchange):
        rows = [{"ann_id": p.ann_id, "image_id": p.image_id, "score": 1.0,
                 "keypoints": (p.keypoints[flip] if p.ann_id in exchange else p.keypoints).ravel().tolist()}
                for p in gt.instances]  # fmt: skip
        path = tmp_path / name
        path.write_text(json.dumps(rows))
        return str(path)

    a, b = predictions("a.json", set(scored[:2])), predictions("b.json", set(scored[1:3]))
    out = tmp_path / "fix.json"
    code, text, _ = run(["relabel", "--ann", str(ann), "--predictions", a, "--predictions", b, "--out", str(out)],
                        capsys)  # fmt: skip
    assert code == 0
    assert f"| {a} | {len(scored)} | 2 | {len(scored) - 2} |" in text
    assert read_relabel(out).exchange == [scored[1]] and read_relabel(out).drop == []
    code, _, _ = run(["relabel", "--ann", str(ann), "--predictions", a, "--action", "drop", "--out", str(out)], capsys)
    assert read_relabel(out).drop == sorted(scored[:2])
    no_ids = tmp_path / "no_ids.json"
    no_ids.write_text(json.dumps([{"image_id": 1, "keypoints": [0] * 51, "score": 1.0}]))
    code, _, err = run(["relabel", "--ann", str(ann), "--predictions", str(no_ids), "--out", str(out)], capsys)
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert f"{no_ids}: every prediction needs the 'ann_id' of its person (lqpose eval writes it)" in err
    assert read_relabel(out).drop == sorted(scored[:2])  # the file written before is kept
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps([{"ann_id": 10**9, "image_id": 1, "keypoints": [0] * 51, "score": 1.0}]))
    code, _, err = run(["relabel", "--ann", str(ann), "--predictions", str(elsewhere), "--out", str(out)], capsys)
    assert code != 0 and f"{elsewhere}: none of its predictions is for a person of {ann} (another split?)" in err
    for margin in ("-1", "nan"):  # a negative margin would list people who fit their labels as given better
        with pytest.raises(SystemExit):
            main(["relabel", "--ann", str(ann), "--predictions", a, "--margin", margin, "--out", str(out)])
        assert "argument --margin: expected a number >= 0" in capsys.readouterr().err


def test_degrade_never_overwrites_its_input(image_dir, tmp_path, capsys):
    """Degrading into the input's own place would replace the only clean copy: refused before anything is written,
    for one image and for a folder (with --keep-ext every name collides; without it, .png inputs would)."""
    before = {p.name: p.read_bytes() for p in image_dir.iterdir()}
    one = image_dir / "img0.jpg"
    code, _, err = run(["degrade", str(one), str(one), "--type", "jpeg", "--severity", "2"], capsys)
    assert code != 0 and "img0.jpg: would overwrite its input image" in err
    code, _, err = run(["degrade", str(image_dir), str(image_dir), "--type", "fog", "--severity", "1", "--keep-ext"],
                       capsys)  # fmt: skip
    assert code != 0 and "img0.jpg: would overwrite its input image" in err
    assert {p.name: p.read_bytes() for p in image_dir.iterdir()} == before  # nothing written, no params file
    # a folder of JPEGs into itself without --keep-ext writes PNGs beside them: no input is lost, so it runs
    assert run(["degrade", str(image_dir), str(image_dir), "--type", "fog", "--severity", "1"], capsys)[0] == 0
    assert all((image_dir / name).read_bytes() == data for name, data in before.items())


@pytest.mark.parametrize(
    "override, message",
    [
        ("low_light_prob=2", "low_light_prob is a probability, within [0, 1]; got 2.0"),
        ("second.noise_prob=-0.1", "second.noise_prob is a probability, within [0, 1]; got -0.1"),
        ("first.resize_scale=[1.2,0.3]", "first.resize_scale is a range [low, high] with low <= high; got [1.2, 0.3]"),
        ("first.quality=[0,50]", "first.quality must lie >= 1.0 and <= 100.0; got [0.0, 50.0]"),
        ("extreme_scale=[0,0.02]", "extreme_scale must lie > 0.0; got [0.0, 0.02]"),
        ("first.poisson_prob=0.9", "first.poisson_prob + sensor_prob must be <= 1"),
    ],
)
def test_degrade_chain_refuses_a_config_outside_its_domain(override, message, image_dir, tmp_path, capsys):
    code, _, err = run(["degrade", str(image_dir), str(tmp_path / "o"), "--type", "chain", "--set", override], capsys)
    assert code != 0 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists()
    (tmp_path / "chain.yaml").write_text("shuffle_prob: 1.5\n")
    code, _, err = run(["degrade", str(image_dir), str(tmp_path / "o"), "--type", "chain", "--chain-config",
                        str(tmp_path / "chain.yaml")], capsys)  # fmt: skip
    assert code != 0 and f"{tmp_path / 'chain.yaml'}: shuffle_prob is a probability" in err, err


def test_infer_on_a_cpu_machine_and_parsing_import_no_torch(tmp_path, astronaut):
    """Without a GPU driver torch can use no GPU, so `lqpose infer` does not import it to ask: the bundled model runs
    from its shipped ONNX export (first pose in ~0.4 s, not ~1.4 s with torch in the process), and building the
    parser (every command, `--help`) stays light too."""
    from lqpose.devices import gpu_driver_possible

    if gpu_driver_possible():
        pytest.skip("a GPU driver is present: infer asks torch whether it can use the GPU")
    cv2.imwrite(str(tmp_path / "a.png"), astronaut[..., ::-1])
    code = (
        "import sys\nfrom lqpose.cli import build_parser, main\nbuild_parser()\nparsed = 'torch' in sys.modules\n"
        f"rc = main(['infer', {str(tmp_path / 'a.png')!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "print(rc, parsed, 'torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1].split() == ["0", "False", "False"], done.stderr[-1000:]
    assert len(json.loads((tmp_path / "out/results.json").read_text())) == 1


def test_the_default_device_asks_torch_only_where_a_gpu_driver_is(monkeypatch):
    import lqpose.cli as cli

    monkeypatch.setattr(cli, "gpu_driver_possible", lambda: False)
    assert cli._default_device() == "cpu"
    # an .onnx model asks ONNX Runtime, not torch: its CUDA provider where onnxruntime-gpu has one, else the CPU
    assert cli._default_device("runs/x/student.onnx") == "auto"


def test_bench_asks_for_matplotlib_before_it_predicts_anything(monkeypatch, tmp_path, capsys):
    """The report's plots need matplotlib: a torch-free deployment that lacks it hears so at once, not after every
    split has been predicted."""
    import importlib.abc

    class NoMatplotlib(importlib.abc.MetaPathFinder):  # as if not installed
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] == "matplotlib":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [NoMatplotlib(), *sys.meta_path])
    report = tmp_path / "report"
    assert main(["bench", "--bench", str(tmp_path / "no_bench"), "--onnx", "m.onnx", "--report", str(report)]) == 1
    assert capsys.readouterr().err.strip() == (
        "lqpose bench: error: this needs matplotlib, which is not installed (pip install matplotlib)"
    )
    assert not report.exists()
