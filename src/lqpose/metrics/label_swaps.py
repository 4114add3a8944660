"""Left/right label noise: how much better a model's predictions fit a person's labels with left and right exchanged.

Crowd-sourced labels (LSPET) are meant to be person-centric (the person's own left), but some annotators label from
the viewer's side. A good model then lands on the exchanged labels. Per person with a labelled torso, the mean
limb-joint error in torso lengths is taken against the labels as given and against them exchanged; a person is
"swapped" when the exchanged labels fit better by more than a margin. Used by `benchmarks/label_swaps.py` (a probe of
a test set) and `lqpose relabel` (a correction list for a training set)."""

from __future__ import annotations

import numpy as np

from ..data.records import Instance
from ..keypoints import KeypointSpec
from .pck import keypoints_by_ann, limb_joints, torso_length


def lr_fit(instances: list[Instance], spec: KeypointSpec, results: list[dict]) -> dict[int, tuple[float, float]]:
    """ann_id -> (error against the labels as given, error against them exchanged), in torso lengths, for each
    person with a prediction, a labelled torso and a limb joint labelled on both sides."""
    names = spec.names
    flip = np.asarray(spec.flip_index)
    limbs = [names.index(n) for n in limb_joints(names)]
    by_ann = keypoints_by_ann(results)
    fits = {}
    for inst in instances:
        k, pred = inst.keypoints, by_ann.get(inst.ann_id)
        torso = torso_length(k, names)
        if pred is None or not torso:  # unlabelled (None) or zero-length torso
            continue
        exchanged = k[flip]
        both = [j for j in limbs if k[j, 2] > 0 and exchanged[j, 2] > 0]
        if not both:
            continue
        as_given = np.linalg.norm(pred[both, :2] - k[both, :2], axis=1).mean() / torso
        as_exchanged = np.linalg.norm(pred[both, :2] - exchanged[both, :2], axis=1).mean() / torso
        fits[inst.ann_id] = (float(as_given), float(as_exchanged))
    return fits


def swap_counts(fits: dict[int, tuple[float, float]], margin: float = 0.1) -> tuple[int, int, int]:
    """(people, people fitting the exchanged labels better by > margin, people fitting the given ones better)."""
    swapped = sum(ex < given - margin for given, ex in fits.values())
    kept = sum(given < ex - margin for given, ex in fits.values())
    return len(fits), swapped, kept


def swapped_people(fits_per_model: list[dict[int, tuple[float, float]]], margin: float = 0.1) -> list[int]:
    """The ann_ids that every model fits better exchanged by > margin (a person a model did not score is not listed):
    agreement of several models trades recall for precision."""
    if not fits_per_model:
        return []
    ids = set.intersection(*(set(f) for f in fits_per_model))
    return sorted(i for i in ids if all(f[i][1] < f[i][0] - margin for f in fits_per_model))
