import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from lqpose.bench.make import make_bench, sha256_file, verify_bench
from lqpose.data import read_coco
from lqpose.imageio import read_rgb


@pytest.fixture
def coco(shared_data):
    return shared_data / "mmpose-samples/coco/test_coco.json"


def build(coco, out, **kw):
    args = {"types": ["gaussian_blur", "jpeg", "low_light"], "severities": [1, 3], "mixed": 2, "seed": 0}
    args.update(kw)
    return make_bench(read_coco(coco), out, "coco", progress=False, **args)


def test_two_builds_give_identical_manifests_and_files(coco, tmp_path):
    a = build(coco, tmp_path / "a")
    build(coco, tmp_path / "b", workers=2)
    assert (tmp_path / "a/manifest.json").read_bytes() == (tmp_path / "b/manifest.json").read_bytes()
    assert list(a["splits"]) == ["clean", "gaussian_blur/1", "gaussian_blur/3", "jpeg/1", "jpeg/3", "low_light/1",
                                 "low_light/3", "mixed/0", "mixed/1"]  # fmt: skip
    assert verify_bench(tmp_path / "a") == []
    entry = a["splits"]["jpeg/3"]["000000000785.png"]
    assert entry["params"] == {"quality": 18} and entry["sha256"] == sha256_file(tmp_path / "a/jpeg/3/000000000785.png")
    assert a["splits"]["mixed/0"]["000000000785.png"]["ops"]  # the camera chain drawn for this image
    assert not (tmp_path / "a/.progress.jsonl").exists()


def test_splits_are_lossless_and_the_right_size(coco, tmp_path):
    build(coco, tmp_path / "a")
    src = read_rgb(coco.parent / "000000000785.jpg")
    clean = read_rgb(tmp_path / "a/clean/000000000785.png")
    assert np.array_equal(src, clean)  # PNG: no re-compression of the clean split
    assert read_rgb(tmp_path / "a/low_light/3/000000000785.png").shape == src.shape
    gt = json.loads((tmp_path / "a/ground_truth.json").read_text())
    assert {i["file_name"] for i in gt["images"]} == {p.name for p in (tmp_path / "a/clean").iterdir()}


def test_tampered_file_is_found_and_rebuilt(coco, tmp_path):
    build(coco, tmp_path / "a")
    victim = tmp_path / "a/jpeg/1/000000040083.png"
    victim.write_bytes(b"broken")
    assert verify_bench(tmp_path / "a") == ["jpeg/1/000000040083.png"]
    build(coco, tmp_path / "a")
    assert verify_bench(tmp_path / "a") == []


def test_killed_build_resumes_to_the_same_manifest(coco, tmp_path):
    build(coco, tmp_path / "ref", types=None, severities=[1, 2, 3, 4, 5], mixed=0)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "lqpose.cli", "make-bench", "--dataset", "coco", "--ann", str(coco), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    progress = out / ".progress.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not progress.exists() or progress.read_text().count("\n") < 1):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "manifest.json").exists()
    resumed = subprocess.run(cmd, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "manifest.json").read_bytes() == (tmp_path / "ref/manifest.json").read_bytes()
    assert not list(out.rglob(".*.tmp"))


def test_exlpose_real_captures_are_a_split_of_their_own(shared_data, tmp_path):
    ann = shared_data / "mmpose-samples/exlpose/test_exlpose.json"
    m = make_bench(read_coco(ann), tmp_path / "x", "exlpose", progress=False)
    assert list(m["splits"]) == ["real"] and len(m["splits"]["real"]) == 2


def test_bad_requests_are_refused(coco, tmp_path):
    with pytest.raises(ValueError, match="unknown degradation type 'fgo'"):
        build(coco, tmp_path / "a", types=["fgo"])
    assert not (tmp_path / "a").exists()  # refused before anything is written
    with pytest.raises(ValueError, match="severities must be within 1..5"):
        build(coco, tmp_path / "a", severities=[0])
    with pytest.raises(ValueError, match=r"severities must be within 1..5, got \[\]"):
        build(coco, tmp_path / "a", types=["fog"], severities=[])
    with pytest.raises(ValueError, match="mixed is a number of mixed camera-pipeline splits, >= 0; got -2"):
        build(coco, tmp_path / "a", types=["fog"], severities=[1], mixed=-2)
    with pytest.raises(ValueError, match="nothing to degrade: give at least one degradation type or mixed split"):
        build(coco, tmp_path / "a", types=[], mixed=0)
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("text", ["3-1", "a,b", "", "1-x"])
def test_make_bench_cli_refuses_a_severity_list_it_cannot_read(text, shared_data, tmp_path, capsys):
    from lqpose.cli import main

    ann = shared_data / "mmpose-samples/coco/test_coco.json"
    argv = ["make-bench", "--dataset", "coco", "--ann", str(ann), "--out", str(tmp_path / "b"), "--severities", text]
    assert main(argv) == 1
    err = capsys.readouterr().err
    wants = "--severities wants a list such as 1,3,5 or a range such as 1-5"
    assert err.strip() == f"lqpose make-bench: error: {wants}, got {text!r}"
    assert not (tmp_path / "b").exists()


def test_rebuilding_a_finished_bench_renders_nothing(coco, tmp_path, monkeypatch):
    first = build(coco, tmp_path / "a")
    import lqpose.bench.make as make

    calls = []
    monkeypatch.setattr(make, "_render", lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(AssertionError))
    assert build(coco, tmp_path / "a") == first and calls == []  # verified by hash, nothing re-rendered
    monkeypatch.undo()
    (tmp_path / "a/jpeg/1/000000040083.png").write_bytes(b"broken")
    assert build(coco, tmp_path / "a") == first  # the one bad file is rebuilt to the same bytes


@pytest.mark.skipif(sys.platform == "win32", reason="the folder lock uses POSIX fcntl")
def test_two_builds_of_one_folder_at_once_take_turns(coco, tmp_path):
    # Two table scripts started side by side once deleted each other's progress log; the folder lock serialises them
    results, errors = {}, []

    def run(name):
        try:
            results[name] = build(coco, tmp_path / "a")
        except Exception as e:  # noqa: BLE001 - the assertion below names it
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in "xy"]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and results["x"] == results["y"]
    assert verify_bench(tmp_path / "a") == [] and not (tmp_path / "a/.progress.jsonl").exists()


def test_make_bench_joints_of_scores_a_layout_on_the_joints_it_shares(coco, tmp_path, capsys):
    from lqpose.cli import main

    out = tmp_path / "limbs"
    assert main(["make-bench", "--dataset", "coco", "--ann", str(coco), "--out", str(out), "--types", "jpeg",
                 "--severities", "3", "--joints-of", "crowdpose"]) == 0  # fmt: skip
    assert "scored on the 12 joints 'crowdpose' shares with 'coco': left_shoulder, right_shoulder," in (
        capsys.readouterr().out
    )
    gt = json.loads((out / "ground_truth.json").read_text())
    full = [np.reshape(a["keypoints"], (17, 3)) for a in json.loads(coco.read_text())["annotations"]]
    with_limbs = [k for k in full if (k[5:, 2] > 0).any()]  # people with no labelled limb joint are dropped
    assert len(gt["annotations"]) == len(with_limbs) < len(full)
    for ann, k in zip(gt["annotations"], with_limbs, strict=True):  # the face unlabelled, the limbs as annotated
        kept = np.reshape(ann["keypoints"], (17, 3))
        assert not kept[:5].any() and np.array_equal(kept[5:], k[5:])
