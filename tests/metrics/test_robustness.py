import math

import numpy as np
import pytest

from lqpose.metrics.robustness import family_means, mpc, mpc_weights, rpc


def test_mpc_rpc_on_a_hand_computed_grid():
    grid = {"fog": {1: 0.6, 3: 0.4, 5: 0.2}, "jpeg": {1: 0.7, 3: 0.5}}
    # mean over types of the mean over severities: ((0.6+0.4+0.2)/3 + (0.7+0.5)/2) / 2 = (0.4 + 0.6) / 2
    assert mpc(grid) == pytest.approx(0.5)
    assert rpc(0.5, 0.8) == pytest.approx(0.625)
    assert family_means(grid, {"fog": "weather", "jpeg": "compression"}) == pytest.approx(
        {"weather": 0.4, "compression": 0.6}
    )
    assert math.isnan(mpc({})) and math.isnan(rpc(0.5, 0.0))


def test_paired_bootstrap_known_cases():
    from lqpose.metrics.robustness import paired_bootstrap_mpc

    totals = np.full(50, 12)
    same = np.tile(np.arange(50) % 13, (3, 1))
    r = paired_bootstrap_mpc(same, same, totals, np.full(3, 1 / 3), n_boot=300)
    assert r == {"diff": 0.0, "lo": 0.0, "hi": 0.0, "p_le_0": 1.0, "n": 50}
    r = paired_bootstrap_mpc(np.tile(totals, (2, 1)), np.zeros((2, 50)), totals, np.array([0.5, 0.5]), n_boot=300)
    assert (r["diff"], r["lo"], r["hi"], r["p_le_0"]) == (1.0, 1.0, 1.0, 0.0)
    # A gets one more joint than B on person 0 only: +1/600 pooled, and half the resamples leave person 0 out
    a = same.copy()
    a[:, 0] += 1
    r = paired_bootstrap_mpc(a, same, totals, np.full(3, 1 / 3), n_boot=2000, seed=1)
    assert r["diff"] == pytest.approx(1 / 600) and r["lo"] == 0.0 and r["hi"] > 0
    assert r["p_le_0"] == pytest.approx((1 - 1 / 50) ** 50, abs=0.03)  # P(person 0 not drawn) = 0.364
    # split weights: a gain on one split of two, weighted 0.25 / 0.75
    b = np.zeros((2, 50))
    a2 = b.copy()
    a2[1] = 6  # half the joints right, on the split weighted 0.75
    r = paired_bootstrap_mpc(a2, b, totals, np.array([0.25, 0.75]), n_boot=100)
    assert r["diff"] == pytest.approx(0.375) and r["lo"] == pytest.approx(0.375)
    with pytest.raises(ValueError, match="shapes disagree"):
        paired_bootstrap_mpc(a2, b[:1], totals, np.array([0.25, 0.75]))


def test_mpc_weights_reproduce_mpc_on_an_uneven_grid():
    # two types, one with three severities and one with one: each type counts half, whatever its severities
    grid = {"blur": {1: 0.9, 3: 0.6, 5: 0.3}, "jpeg": {3: 0.8}}
    splits = ["blur/1", "blur/3", "blur/5", "jpeg/3"]
    w = mpc_weights(splits)
    np.testing.assert_allclose(w, [1 / 6, 1 / 6, 1 / 6, 1 / 2])
    values = np.array([grid[k.split("/")[0]][int(k.split("/")[1])] for k in splits])
    assert mpc(grid) == pytest.approx(0.7)
    assert float(w @ values) == pytest.approx(mpc(grid))
