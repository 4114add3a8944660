from lqpose import devices


def test_a_gpu_is_ruled_out_without_torch_where_the_platform_tells(monkeypatch, tmp_path):
    monkeypatch.setattr(devices.sys, "platform", "darwin")
    assert devices.gpu_driver_possible() is False
    monkeypatch.setattr(devices.sys, "platform", "win32")
    monkeypatch.setenv("SystemRoot", str(tmp_path))
    assert devices.gpu_driver_possible() is False
    (tmp_path / "System32").mkdir()
    (tmp_path / "System32" / "nvcuda.dll").touch()
    assert devices.gpu_driver_possible() is True
    monkeypatch.setattr(devices.sys, "platform", "linux")
    monkeypatch.setattr(devices, "GPU_DRIVER_FILES", (str(tmp_path / "nvidia-version"),))
    assert devices.gpu_driver_possible() is False
    (tmp_path / "nvidia-version").touch()
    assert devices.gpu_driver_possible() is True
    monkeypatch.setattr(devices.sys, "platform", "freebsd14")
    assert devices.gpu_driver_possible() is True  # unknown: a GPU might be there
