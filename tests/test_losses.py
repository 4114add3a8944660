import torch

from lqpose.losses import quality_loss, severity_quality


def test_severity_quality_maps_clean_to_one_and_severity_five_to_zero():
    got = severity_quality(torch.tensor([0, 1, 3, 5]))
    assert torch.allclose(got, torch.tensor([1.0, 0.8, 0.4, 0.0]))


def test_quality_loss_is_the_mean_squared_error():
    assert quality_loss(torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])).item() == 0.5
