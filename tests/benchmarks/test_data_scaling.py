import numpy as np
import pytest


def test_slope_is_the_gain_per_doubling_and_its_interval_holds_it(benchmark_script):
    ds = benchmark_script("data_scaling")
    people = np.array([1000, 2000, 4000, 8000])
    totals = np.full(50, 10)
    # PCK 0.30, 0.35, 0.40, 0.45: +0.05 per doubling, each person scoring the arm's PCK exactly
    hits = np.stack([np.full(50, k) for k in (3.0, 3.5, 4.0, 4.5)])
    slope, lo, hi = ds.slope_interval(people, hits, totals, n_boot=200)
    assert slope == pytest.approx(0.05)
    assert lo == pytest.approx(0.05) and hi == pytest.approx(0.05)  # no person disagrees, so no spread
    # people who differ spread the interval, which still holds the fit
    rng = np.random.default_rng(0)
    noisy = hits + rng.integers(-2, 3, hits.shape)
    slope, lo, hi = ds.slope_interval(people, noisy, totals, n_boot=500)
    assert lo < slope < hi


def test_people_for_extrapolates_log_linearly(benchmark_script):
    ds = benchmark_script("data_scaling")
    assert ds.people_for(0.10, 0.05, 9000) == "2.0 doublings, ~36,000 people"
    assert ds.people_for(0.10, 0.0, 9000) == "never (no gain per doubling)"
    assert ds.people_for(0.10, -0.01, 9000) == "never (no gain per doubling)"


def test_coco_mini_joins_val_and_train(benchmark_script, shared_data):
    ds = benchmark_script("data_scaling")
    both = ds.coco_mini(shared_data / "coco-mini")
    assert len(both.images) == 79 + 80
    assert len({i.ann_id for i in both.instances}) == len(both.instances)  # COCO's ids are unique across its splits
    assert sum(i.image_id in both.images for i in both.instances) == len(both.instances)
    assert both.spec.name == "coco"
