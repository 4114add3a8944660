import math

import pytest

from lqpose.metrics.robustness import family_means, mpc, rpc


def test_mpc_rpc_on_a_hand_computed_grid():
    grid = {"fog": {1: 0.6, 3: 0.4, 5: 0.2}, "jpeg": {1: 0.7, 3: 0.5}}
    # mean over types of the mean over severities: ((0.6+0.4+0.2)/3 + (0.7+0.5)/2) / 2 = (0.4 + 0.6) / 2
    assert mpc(grid) == pytest.approx(0.5)
    assert rpc(0.5, 0.8) == pytest.approx(0.625)
    assert family_means(grid, {"fog": "weather", "jpeg": "compression"}) == pytest.approx(
        {"weather": 0.4, "compression": 0.6}
    )
    assert math.isnan(mpc({})) and math.isnan(rpc(0.5, 0.0))
