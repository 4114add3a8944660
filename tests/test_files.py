import os
import sys

import numpy as np
import pytest

from lqpose.files import atomic_write_bytes, folder_lock, write_json
from lqpose.imageio import read_rgb, write_image


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    write_json(target, {"v": 1})

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b'{"v": 2}')
    assert target.read_text().strip().replace(" ", "").replace("\n", "") == '{"v":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_image_round_trip_is_lossless_png(tmp_path, small_image):
    write_image(tmp_path / "x.png", small_image)
    assert np.array_equal(read_rgb(tmp_path / "x.png"), small_image)


def test_read_refuses_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        read_rgb(tmp_path)


def test_atomic_write_gives_the_mode_of_a_plain_open(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(sys.platform == "win32", reason="the folder lock uses POSIX fcntl")
def test_folder_lock_is_exclusive_while_held(tmp_path):
    import fcntl

    def try_lock() -> bool:
        with open(tmp_path / "bench/.lock", "w") as other:  # another open file: what a second process holds
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(other, fcntl.LOCK_UN)
            return True

    with folder_lock(tmp_path / "bench"):
        assert (tmp_path / "bench").is_dir() and not try_lock()
    assert try_lock()
