"""Keypoint layouts: names, skeleton, left/right flip pairs, OKS sigmas, and mappings between layouts.

COCO's and CrowdPose's sigmas are the published ones (COCO keypoint eval; CrowdPose / ExLPose eval code).
MPII is scored with PCKh, not OKS, so it has no sigmas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KeypointSpec:
    name: str
    names: tuple[str, ...]
    skeleton: tuple[tuple[int, int], ...]  # 0-based index pairs
    sigmas: tuple[float, ...] | None = None
    oks_area_factor: float | None = None  # CrowdPose: GT area = 0.53 * box w * h; None = the annotated area

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    @property
    def flip_pairs(self) -> tuple[tuple[int, int], ...]:
        """Pairs (left, right) found by name: left_x <-> right_x, l_x <-> r_x."""
        pairs = []
        for i, n in enumerate(self.names):
            for a, b in (("left_", "right_"), ("l_", "r_")):
                if n.startswith(a) and b + n[len(a) :] in self.names:
                    pairs.append((i, self.names.index(b + n[len(a) :])))
        return tuple(pairs)

    @property
    def flip_index(self) -> np.ndarray:
        """Permutation that swaps left and right: flipped[k] = original[flip_index[k]]."""
        idx = np.arange(self.num_keypoints)
        for a, b in self.flip_pairs:
            idx[a], idx[b] = b, a
        return idx

    def index(self, name: str) -> int:
        return self.names.index(name)

    def joint_weights(self, by_name: dict[str, float], where: str = "joint_weights") -> np.ndarray:
        """(K,) per-joint loss weights (MMPose's dataset `joint_weights`): the named joints take their value, the
        others 1. An unknown name or a negative weight is an error naming `where`."""
        out = np.ones(self.num_keypoints, np.float32)
        for name, w in by_name.items():
            if name not in self.names:
                names = ", ".join(self.names)
                raise ValueError(f"{where}: {name!r} is not a joint of the {self.name} layout ({names})")
            if not w >= 0:
                raise ValueError(f"{where}: the weight of {name!r} must be >= 0, got {w}")
            out[self.index(name)] = w
        return out


COCO17 = KeypointSpec(
    "coco",
    (
        "nose",
        "left_eye",
        "right_eye",
        "left_ear",
        "right_ear",
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
        "left_hip",
        "right_hip",
        "left_knee",
        "right_knee",
        "left_ankle",
        "right_ankle",
    ),  # fmt: skip
    (
        (15, 13),
        (13, 11),
        (16, 14),
        (14, 12),
        (11, 12),
        (5, 11),
        (6, 12),
        (5, 6),
        (5, 7),
        (6, 8),
        (7, 9),
        (8, 10),
        (1, 2),
        (0, 1),
        (0, 2),
        (1, 3),
        (2, 4),
        (3, 5),
        (4, 6),
    ),  # fmt: skip
    (
        0.026,
        0.025,
        0.025,
        0.035,
        0.035,
        0.079,
        0.079,
        0.072,
        0.072,
        0.062,
        0.062,
        0.107,
        0.107,
        0.087,
        0.087,
        0.089,
        0.089,
    ),  # fmt: skip
)

CROWDPOSE14 = KeypointSpec(
    "crowdpose",
    (
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
        "left_hip",
        "right_hip",
        "left_knee",
        "right_knee",
        "left_ankle",
        "right_ankle",
        "head",
        "neck",
    ),  # fmt: skip
    (
        (12, 13),
        (13, 0),
        (13, 1),
        (0, 2),
        (2, 4),
        (1, 3),
        (3, 5),
        (13, 7),
        (13, 6),
        (7, 9),
        (9, 11),
        (6, 8),
        (8, 10),
    ),  # fmt: skip
    (0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089, 0.079, 0.079),
    oks_area_factor=0.53,
)

MPII16 = KeypointSpec(
    "mpii",
    (
        "right_ankle",
        "right_knee",
        "right_hip",
        "left_hip",
        "left_knee",
        "left_ankle",
        "pelvis",
        "thorax",
        "upper_neck",
        "head_top",
        "right_wrist",
        "right_elbow",
        "right_shoulder",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
    ),  # fmt: skip
    (
        (0, 1),
        (1, 2),
        (2, 6),
        (6, 3),
        (3, 4),
        (4, 5),
        (6, 7),
        (7, 8),
        (8, 9),
        (7, 12),
        (12, 11),
        (11, 10),
        (7, 13),
        (13, 14),
        (14, 15),
    ),  # fmt: skip
)

SPECS = {s.name: s for s in (COCO17, CROWDPOSE14, MPII16)}

# Joints that are the same body point under different names.
SAME_JOINT = {"head": "head_top", "neck": "upper_neck"}


def get_spec(name: str) -> KeypointSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(f"unknown keypoint layout {name!r}; known: {', '.join(SPECS)}") from None


def joint_mapping(src: KeypointSpec, dst: KeypointSpec) -> list[tuple[int, int]]:
    """(src index, dst index) for every joint the two layouts share (by name or SAME_JOINT)."""
    canon = {**SAME_JOINT, **{v: v for v in SAME_JOINT.values()}}
    src_idx = {canon.get(n, n): i for i, n in enumerate(src.names)}
    return [(src_idx[canon.get(n, n)], j) for j, n in enumerate(dst.names) if canon.get(n, n) in src_idx]


# A model is scored on a set of another layout only on the joints both name, and only where those are at least this
# share of the set's joints (COCO's 12 limbs of 17 for a CrowdPose-14 model; fewer would rank it on a fragment)
MIN_SHARED_JOINTS = 0.5


def shared_joints(src: KeypointSpec, dst: KeypointSpec) -> list[str]:
    """dst's names of the joints `src` also has (by name or SAME_JOINT), in dst's order: what a model of layout `src`
    can be scored on in a set of layout `dst` (COCO's 12 limb joints for a CrowdPose-14 model)."""
    return [dst.names[j] for _, j in joint_mapping(src, dst)]


def map_keypoints(keypoints: np.ndarray, src: KeypointSpec, dst: KeypointSpec) -> np.ndarray:
    """Convert (..., K_src, C) keypoints to dst's layout; joints dst has but src lacks get zeros (unlabelled)."""
    out = np.zeros(keypoints.shape[:-2] + (dst.num_keypoints, keypoints.shape[-1]), keypoints.dtype)
    for i, j in joint_mapping(src, dst):
        out[..., j, :] = keypoints[..., i, :]
    return out


def spec_from_names(names: list[str], skeleton: list | None = None, name: str = "custom") -> KeypointSpec:
    """A known spec when `names` is one, else a custom spec (no sigmas: OKS needs them given)."""
    for spec in SPECS.values():
        if tuple(names) == spec.names:
            return spec
    if skeleton and min(min(p) for p in skeleton) >= 1:  # COCO-style json skeletons are 1-based
        skeleton = [(a - 1, b - 1) for a, b in skeleton]
    return KeypointSpec(name, tuple(names), tuple(tuple(p) for p in (skeleton or [])))
