import numpy as np
import pytest


def clip(motion: str, raw: list[np.ndarray], truth: list[np.ndarray]) -> dict:
    return {"motion": motion, "raw": raw, "truth": truth, "vis": np.ones(12, bool), "torso": 50.0, "height": 120.0}


def test_score_reads_exact_and_moved_keypoints(benchmark_script):
    vs = benchmark_script("video_smoothing")
    truth = [np.tile(np.arange(14.0)[:, None], (1, 2)) * 10 for _ in range(6)]
    exact = clip("still", truth, truth)
    moved = clip("slow sway (T 3 s)", [t + [20.0, 0.0] for t in truth], truth)  # 20 px = 0.4 torso, every frame
    for setting in (None, vs.SETTINGS["min_cutoff 1, beta 10 (the default)"]):
        scores = vs.score([exact, moved], setting)
        assert scores["still"] == (0.0, 1.0)  # a still, exact person stays exact through the filter
        assert scores["slow sway (T 3 s)"] == pytest.approx((0.4, 0.0))  # a constant offset is kept, not smoothed


def test_smoothing_a_steady_track_moves_nothing_and_a_shaking_one_less_than_it_shakes(benchmark_script):
    vs = benchmark_script("video_smoothing")
    steady = {0: [(f, np.full((14, 3), 40.0), 100.0) for f in range(10)]}
    out, move = vs.smoothed_tracks(steady, 10.0, {"min_cutoff": 1.0, "beta": 10.0})
    assert move == 0.0 and vs.jitter(out) == 0.0
    shake = {0: [(f, np.full((14, 3), 40.0), 100.0) for f in range(20)]}
    for f, kps, _ in shake[0]:
        kps[:, 0] += 2.0 if f % 2 else -2.0  # x shakes +-2 px, y holds
    out, move = vs.smoothed_tracks(shake, 10.0, {"min_cutoff": 1.0, "beta": 0.0})
    assert vs.jitter(shake) == pytest.approx(8 / 100)  # +-2 px alternating: |x''| = 8 px
    assert vs.jitter(out) < vs.jitter(shake) / 2 and 0 < move < 4 / 100
