import pytest
import torch

from lqpose.cli import main
from lqpose.engine.average import average_students
from lqpose.engine.checkpoint import load_checkpoint, load_safetensors_student, load_student_checkpoint, save_checkpoint
from lqpose.keypoints import COCO17
from lqpose.models.ckd import export_student
from lqpose.models.student import StudentConfig, build_student


def save_student(path, seed: int, step: int = 100, head_channels: int = 32, drift: int | None = None):
    """A random-weight 128x96 COCO-17 student; the seed sets its weights, BatchNorm statistics included. `drift`:
    a continuation of that student, every weight moved by a tenth of its tensor's spread (drawn with this seed)."""
    torch.manual_seed(seed)
    model = build_student(StudentConfig(head_channels=head_channels))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(seed)
        if drift is not None:
            torch.manual_seed(drift)
            for t in model.state_dict().values():
                if t.is_floating_point() and t.numel() > 1:  # running_var (0.5-2) stays positive
                    t.add_(0.1 * t.std() * torch.randn_like(t))
    keypoints = {"name": "coco", "names": list(COCO17.names), "skeleton": [list(p) for p in COCO17.skeleton]}
    config = {"model": {"head_channels": head_channels}, "data": {"input_size": [96, 128], "sigma": 2.0}}
    payload = {"model": model.state_dict(), "config": config, "keypoints": keypoints, "step": step}
    save_checkpoint(path, export_student(payload))
    return path


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    d = tmp_path_factory.mktemp("soup")
    return save_student(d / "a.pt", seed=1, step=100), save_student(d / "b.pt", seed=1, step=300, drift=2)


def test_the_average_is_the_weighted_mean_of_every_float_tensor(two):
    a, b = (load_checkpoint(p)["model"] for p in two)
    equal = average_students(list(two))
    weighted = average_students(list(two), [3, 1])
    key = next(k for k, v in a.items() if v.dim() == 4)  # a convolution's weights
    for k, v in a.items():
        if v.is_floating_point():
            torch.testing.assert_close(equal["model"][k], (v + b[k]) / 2)
            torch.testing.assert_close(weighted["model"][k], 0.75 * v + 0.25 * b[k])
        else:  # BatchNorm's counter: the first student's
            assert torch.equal(equal["model"][k], v)
    assert not torch.equal(equal["model"][key], a[key])
    assert equal["step"] == 300 and "a.pt (weight 0.750, step 100)" in weighted["info"]["averaged_from"]


def test_cli_writes_a_student_that_loads_exports_and_remembers_its_sources(two, tmp_path, capsys):
    out = tmp_path / "soup" / "student.pt"
    assert main(["average", *map(str, two), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    model, spec, codec = load_student_checkpoint(out)
    assert spec.names == COCO17.names and codec.input_size == (96, 128)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 128, 96)).shape == (1, 17, 32, 24)
    st = tmp_path / "soup.safetensors"
    assert main(["export", str(out), "--safetensors", str(st)]) == 0
    info = load_safetensors_student(st)["info"]
    assert info["step"] == 300 and "b.pt (weight 0.500, step 300)" in info["averaged_from"]


def test_identical_students_average_to_the_same_outputs(two, tmp_path):
    out = tmp_path / "same.pt"
    assert main(["average", str(two[0]), str(two[0]), "--out", str(out)]) == 0
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        torch.testing.assert_close(load_student_checkpoint(out)[0](x), load_student_checkpoint(two[0])[0](x))


def test_an_average_named_safetensors_is_written_as_safetensors(two, tmp_path):
    """`--out soup.safetensors` used to write a pickle under that name, which nothing could load."""
    out = tmp_path / "soup.safetensors"
    assert main(["average", str(two[0]), str(two[0]), "--out", str(out)]) == 0
    assert out.read_bytes()[:1] != b"\x80"  # not a pickle
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        torch.testing.assert_close(load_student_checkpoint(out)[0](x), load_student_checkpoint(two[0])[0](x))


def test_students_of_different_architectures_or_bad_weights_are_refused(two, tmp_path, capsys):
    wide = save_student(tmp_path / "wide.pt", seed=3, head_channels=48)
    out = tmp_path / "x.pt"
    assert main(["average", str(two[0]), str(wide), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{wide}: its model config differs from {two[0]}" in err and not out.exists()
    assert main(["average", str(two[0]), "--out", str(out)]) == 1
    assert "at least two students" in capsys.readouterr().err
    assert main(["average", *map(str, two), "--weights", "1", "--out", str(out)]) == 1
    assert "1 weights for 2 students" in capsys.readouterr().err
    assert main(["average", *map(str, two), "--weights", "1,x", "--out", str(out)]) == 1
    assert "--weights wants comma-separated numbers, got '1,x'" in capsys.readouterr().err
    assert main(["average", *map(str, two), "--weights", "1,-1", "--out", str(out)]) == 1
    assert "non-negative" in capsys.readouterr().err
    assert main(["average", str(two[0]), str(tmp_path / "missing.pt"), "--out", str(out)]) == 1
    assert "missing.pt: no such checkpoint" in capsys.readouterr().err and not out.exists()


def test_a_safetensors_ingredient_keeps_the_step_its_export_recorded(two, tmp_path):
    """An export keeps its step in the metadata's info, not at the top level; the soup's sources still name it."""
    st = tmp_path / "a.safetensors"
    assert main(["export", str(two[0]), "--safetensors", str(st)]) == 0
    soup = average_students([st, two[1]])
    assert f"{st.as_posix()} (weight 0.500, step 100)" in soup["info"]["averaged_from"]
    assert soup["step"] == 300


def test_students_that_share_no_parent_are_refused_unless_forced(two, tmp_path, capsys):
    stranger = save_student(tmp_path / "stranger.pt", seed=7)  # another initialisation, same architecture
    out = tmp_path / "x.pt"
    assert main(["average", str(two[0]), str(stranger), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{stranger}: tensor " in err and f"to {two[0]}'s (< 0.5)" in err and "--force" in err
    assert not out.exists()
    assert main(["average", str(two[0]), str(stranger), "--out", str(out), "--force"]) == 0 and out.is_file()
