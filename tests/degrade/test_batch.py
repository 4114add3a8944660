import numpy as np
import pytest
import torch

from lqpose.degrade import BATCHED, SEVERITIES, degrade, degrade_batch


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


@pytest.fixture(scope="module")
def crop(astronaut):
    return np.ascontiguousarray(astronaut[:256, 128:384])


@pytest.mark.parametrize("name", BATCHED)
def test_torch_path_matches_numpy_statistically(name, crop):
    batch = torch.from_numpy(crop).permute(2, 0, 1)[None].repeat(4, 1, 1, 1)
    for s in SEVERITIES:
        ours = degrade_batch(batch, name, s, seed=1).permute(0, 2, 3, 1).numpy()
        ref = np.stack([degrade(crop, name, s, seed=k) for k in range(4)])
        assert ours.dtype == np.uint8 and ours.shape == ref.shape
        assert abs(ours.mean() - ref.mean()) < 0.5, (name, s)
        assert abs(ours.std() - ref.std()) < 0.5, (name, s)
        p_ours = np.mean([psnr(o, crop) for o in ours])
        p_ref = np.mean([psnr(r, crop) for r in ref])
        assert abs(p_ours - p_ref) < 0.8, (name, s, p_ours, p_ref)


def test_float_input_gives_float_output_in_range(crop):
    x = torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255
    y = degrade_batch(x, "gaussian_noise", 5, seed=0)
    assert y.dtype == torch.float32 and y.shape == x.shape
    assert 0.0 <= float(y.min()) and float(y.max()) <= 1.0
    assert torch.equal(y, degrade_batch(x, "gaussian_noise", 5, seed=0))
    assert not torch.equal(y, degrade_batch(x, "gaussian_noise", 5, seed=1))


def test_per_sample_randomness_in_a_batch(crop):
    batch = torch.from_numpy(crop).permute(2, 0, 1)[None].repeat(3, 1, 1, 1)
    y = degrade_batch(batch, "motion_blur", 4, seed=0)
    assert not torch.equal(y[0], y[1]) and not torch.equal(y[1], y[2])


def test_unbatched_type_and_bad_shape_are_refused(crop):
    batch = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    with pytest.raises(ValueError, match="no batched torch path"):
        degrade_batch(batch, "jpeg", 1, seed=0)
    with pytest.raises(ValueError, match=r"\(B,3,H,W\)"):
        degrade_batch(torch.zeros(3, 8, 8), "fog", 1, seed=0)
    with pytest.raises(ValueError, match="severity"):
        degrade_batch(batch, "gaussian_blur", 6, seed=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_for_deterministic_types(crop):
    batch = torch.from_numpy(crop).permute(2, 0, 1)[None]
    for name in ("gaussian_blur", "defocus_blur", "downscale", "overexposure"):
        cpu = degrade_batch(batch, name, 3, seed=0).int()
        gpu = degrade_batch(batch.cuda(), name, 3, seed=0).cpu().int()
        assert (cpu - gpu).abs().max() <= 1
