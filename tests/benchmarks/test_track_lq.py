"""benchmarks/track_lq.py's identity errors on hand-made tracks with known answers."""

import numpy as np


def test_switches_and_merges_known_values(benchmark_script):
    m = benchmark_script("track_lq")
    a = [(f, 0) for f in range(5)]  # person A: box 0 of frames 0-4
    b = [(f, 1) for f in range(3, 8)]  # person B: box 1 of frames 3-7, with A in frames 3-4
    perfect = {**{k: 7 for k in a}, **{k: 9 for k in b}}
    assert m.identity_errors([a, b], perfect) == (0, 0)
    split = {**perfect, (3, 0): 8, (4, 0): 8}  # A gets a new id after frame 2: one switch
    assert m.identity_errors([a, b], split) == (1, 0)
    joined = {**{k: 7 for k in a}, **{k: 7 for k in b}}  # A and B, seen together, share an id: one merge
    assert m.identity_errors([a, b], joined) == (0, 1)
    missing = {k: v for k, v in split.items() if k != (2, 0)}  # a box not tracked is skipped, not a switch
    assert m.identity_errors([a, b], missing) == (1, 0)
    c = [(f, 0) for f in range(10, 13)]  # C comes after A has gone: the same id is not a certain merge
    assert m.identity_errors([a, c], {**{k: 7 for k in a}, **{k: 7 for k in c}}) == (0, 0)


def test_sure_segments_cut_at_gaps_and_jumps_and_boxes_match_one_to_one(benchmark_script):
    m = benchmark_script("track_lq")
    box = lambda x: np.array([[x, 0.0, 50.0, 100.0, 0.9]])  # noqa: E731
    frames = [box(0), box(5), box(10), box(200), box(205), np.zeros((0, 5)), box(210), box(215), box(220)]
    ids = {(f, 0): 0 for f in range(9) if f != 5}  # one track throughout, as a loose tracker might give
    segments = m.sure_segments(frames, ids, min_len=2)
    assert segments == [[(0, 0), (1, 0), (2, 0)], [(3, 0), (4, 0)], [(6, 0), (7, 0), (8, 0)]]
    lq = [np.array([[1.0, 0, 50, 100, 0.5], [300, 0, 50, 100, 0.5]])]
    clean = [np.array([[400.0, 0, 50, 100, 0.9], [0, 0, 50, 100, 0.9]])]
    assert m.match_boxes(lq, clean) == {(0, 0): (0, 1)}  # the far box matches nothing
