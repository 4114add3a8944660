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


def rpc(mpc_value: float, clean: float) -> float:
    return float(mpc_value / clean) if clean and not math.isnan(clean) else float("nan")


def family_means(grid: dict[str, dict[int, float]], families: dict[str, str]) -> dict[str, float]:
    """Mean metric per degradation family (over its types and severities)."""
    out: dict[str, list[float]] = {}
    for name, by_sev in grid.items():
        out.setdefault(families.get(name, "other"), []).append(float(np.mean(list(by_sev.values()))))
    return {f: float(np.mean(v)) for f, v in out.items()}
