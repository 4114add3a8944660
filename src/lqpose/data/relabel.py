"""Corrections to a training set's labels, kept in a small JSON file beside the config instead of in the data: the
people whose left and right labels are exchanged, and the people left out. The data stays as published (test labels
are never touched); a run names its file in `data.train_relabel`, so what it trained on can be re-created.

File layout: {"exchange": [ann_id, ...], "drop": [ann_id, ...], "note": "how the list was made"}.
`lqpose relabel` writes one from the predictions of models on the training set (see metrics.label_swaps)."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..files import write_json
from ..keypoints import KeypointSpec
from .records import Instance

log = logging.getLogger(__name__)


@dataclass
class Relabel:
    exchange: list[int] = field(default_factory=list)  # people whose left and right labels are exchanged
    drop: list[int] = field(default_factory=list)  # people left out of training
    note: str = ""


def read_relabel(path: str | Path) -> Relabel:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such label-correction file")
    try:
        obj = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a JSON label-correction file ({e})") from None
    if not isinstance(obj, dict) or set(obj) - {"exchange", "drop", "note", "made_by"}:
        raise ValueError(f"{path}: a label-correction file is an object with 'exchange', 'drop' and 'note'")
    lists = {}
    for key in ("exchange", "drop"):
        ids = obj.get(key, [])
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ValueError(f"{path}: '{key}' must be a list of integer ann ids")
        lists[key] = ids
    both = set(lists["exchange"]) & set(lists["drop"])
    if both:
        raise ValueError(f"{path}: {len(both)} ann ids are both exchanged and dropped (first: {min(both)})")
    return Relabel(lists["exchange"], lists["drop"], str(obj.get("note", "")))


def write_relabel(path: str | Path, relabel: Relabel, made_by: dict | None = None) -> None:
    """Atomically; `made_by` records how the list was made (command, models, margin)."""
    obj = {"exchange": sorted(relabel.exchange), "drop": sorted(relabel.drop), "note": relabel.note}
    if made_by:
        obj["made_by"] = made_by
    write_json(path, obj)


def apply_relabel(instances: list[Instance], spec: KeypointSpec, relabel: Relabel, name: str) -> list[Instance]:
    """The training people with the corrections applied: new records, the readers' ones untouched. Every listed
    ann_id must be one of `instances` (`name` is the set, for the error), so a list made for another split fails."""
    known = {inst.ann_id for inst in instances}
    unknown = (set(relabel.exchange) | set(relabel.drop)) - known
    if unknown:
        raise ValueError(f"{name}: {len(unknown)} ann ids of the label corrections are not in this set "
                         f"(first: {min(unknown)})")  # fmt: skip
    flip = np.asarray(spec.flip_index)
    exchange, drop = set(relabel.exchange), set(relabel.drop)
    out = []
    for inst in instances:
        if inst.ann_id in drop:
            continue
        if inst.ann_id in exchange:
            inst = dataclasses.replace(inst, keypoints=inst.keypoints[flip].copy())
        out.append(inst)
    log.info("%s: label corrections: %d people exchanged left/right, %d dropped", name, len(exchange), len(drop))
    return out
