"""Training on several datasets at once, as MMPose's combined datasets do: people from another keypoint layout
are converted to the training layout by joint name (joints the other layout lacks stay unlabelled, so they
get no heatmap loss), and a small set is repeated so that it takes the share of the batches it is meant to.
"""

from __future__ import annotations

import dataclasses
import logging

from ..keypoints import KeypointSpec, joint_mapping, map_keypoints
from .records import Instance

log = logging.getLogger(__name__)


def convert_layout(
    instances: list[Instance], src: KeypointSpec, dst: KeypointSpec, source: str = ""
) -> tuple[list[Instance], int]:
    """`instances` (in layout `src`) in layout `dst`; people left with no labelled joint are dropped and counted.

    Returns (converted people, number dropped). A layout that shares no joint with `dst` is an error naming
    `source`, since every one of its people would be dropped.
    """
    if not joint_mapping(src, dst):
        raise ValueError(
            f"{source}: its keypoint layout {src.name!r} shares no joint with the training layout {dst.name!r}"
        )
    if src.names == dst.names:
        return list(instances), 0
    out, dropped = [], 0
    for inst in instances:
        kps = map_keypoints(inst.keypoints, src, dst)
        if not (kps[:, 2] > 0).any():
            dropped += 1
            continue
        out.append(dataclasses.replace(inst, keypoints=kps, extra={**inst.extra, "source": source}))
    return out, dropped


def repeat(instances: list[Instance], times: int, source: str = "") -> list[Instance]:
    """Each person `times` times in a row. The dataset draws augmentation and LQ degradation per index, so every
    copy is cropped and degraded differently."""
    if times < 1:
        raise ValueError(f"{source}: repeat must be at least 1, got {times}")
    return [inst for inst in instances for _ in range(times)]
