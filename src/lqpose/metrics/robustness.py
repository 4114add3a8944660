"""Robustness figures over a benchmark grid (COCO-C / ImageNet-C convention).

mPC = mean over corruption types of the mean over severities of the metric (AP or PCKh);
rPC = mPC / clean metric. Mixed and real splits are reported beside, never inside, mPC.
"""

from __future__ import annotations

import math

import numpy as np


def mpc(grid: dict[str, dict[int, float]]) -> float:
    """grid[type][severity] = metric -> mPC. Every type counts equally, whatever its number of severities."""
    if not grid:
        return float("nan")
    return float(np.mean([np.mean(list(by_sev.values())) for by_sev in grid.values()]))


def mpc_weights(splits: list[str]) -> np.ndarray:
    """Per "type/severity" split, its weight in `mpc`: 1 / (types x severities of its type), so that
    sum(weights * metric) over the splits is the mPC of the grid they form."""
    types = [k.split("/")[0] for k in splits]
    return np.array([1.0 / (len(set(types)) * types.count(t)) for t in types])


def rpc(mpc_value: float, clean: float) -> float:
    return float(mpc_value / clean) if clean and not math.isnan(clean) else float("nan")


def family_means(grid: dict[str, dict[int, float]], families: dict[str, str]) -> dict[str, float]:
    """Mean metric per degradation family (over its types and severities)."""
    out: dict[str, list[float]] = {}
    for name, by_sev in grid.items():
        out.setdefault(families.get(name, "other"), []).append(float(np.mean(list(by_sev.values()))))
    return {f: float(np.mean(v)) for f, v in out.items()}


def paired_bootstrap_mpc(
    hits_a: np.ndarray,
    hits_b: np.ndarray,
    totals: np.ndarray,
    split_weights: np.ndarray,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict:
    """How far the test set can resolve "model A's pooled score beats model B's": resample people with
    replacement (the same people for both models and every split, so their pairing is kept), recompute
    sum_s w_s * hits_s / totals for each model, and report A - B on the full set with its 2.5-97.5 % bootstrap
    interval and the share of resamples where A - B <= 0. hits_*: (splits, people) correct-joint counts;
    totals: (people,) labelled joints; split_weights: (splits,) summing to 1 (mPC: 1 / (types x severities of
    the type); one split with weight 1: its PCK). It measures test-set sampling noise only, not seed noise."""
    hits_a, hits_b = np.asarray(hits_a, float), np.asarray(hits_b, float)
    totals, w = np.asarray(totals, float), np.asarray(split_weights, float)
    n = totals.shape[0]
    if hits_a.shape != hits_b.shape or hits_a.shape[1] != n or w.shape[0] != hits_a.shape[0]:
        raise ValueError(f"shapes disagree: hits {hits_a.shape} / {hits_b.shape}, totals {totals.shape}, w {w.shape}")
    if n == 0:
        raise ValueError("no people to resample")

    def pooled(counts: np.ndarray) -> np.ndarray:  # counts: (boot, people) multiplicities
        return (w @ (hits_a @ counts.T - hits_b @ counts.T)) / np.maximum(totals @ counts.T, 1)

    full = float(pooled(np.ones((1, n)))[0])
    rng = np.random.default_rng(seed)
    diffs = []
    for start in range(0, n_boot, 500):  # chunks bound memory: (500, people) multiplicities at a time
        draws = rng.integers(0, n, (min(500, n_boot - start), n))
        counts = np.zeros((len(draws), n))
        np.add.at(counts, (np.arange(len(draws))[:, None], draws), 1)
        diffs.append(pooled(counts))
    diffs = np.concatenate(diffs)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return {"diff": full, "lo": float(lo), "hi": float(hi), "p_le_0": float((diffs <= 0).mean()), "n": n}
