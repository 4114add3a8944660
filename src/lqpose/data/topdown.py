"""Top-down samples: one person crop (UDP affine) with its heatmap targets, optionally paired with the same
crop of a degraded (LQ) version of the whole image, for distillation.

The LQ image is made by degrading the *full* image at its native resolution and then cropping with the very
same matrix, so blur kernels and noise grain have realistic sizes and the pair is pixel-aligned.
Randomness comes from (seed, epoch, index): any sample is reproducible, whatever the worker layout.
Samples are numpy arrays (torch's DataLoader collates them into tensors), so evaluating an exported model needs no
torch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..codec import HeatmapCodec
from ..degrade import DEGRADATIONS, ChainConfig, degrade, image_seed, random_chain
from ..degrade.run import CHAIN
from ..imageio import read_rgb
from ..keypoints import KeypointSpec
from .records import Instance
from .transforms import (
    AugmentConfig,
    box_to_center_scale,
    compose,
    crop,
    flip_matrix,
    normalize,
    occlude,
    sample_augmentation,
    sample_color_jitter,
    sample_truncation,
    transform_points,
    warp_matrix,
)  # fmt: skip

log = logging.getLogger(__name__)


@dataclass
class LQConfig:
    """How the LQ member of a training pair is made."""

    mode: str = "none"  # none | fixed | chain | mix (chain with chain_prob, else a random listed type)
    types: list[str] = field(default_factory=list)  # empty = every type
    severities: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    chain_prob: float = 0.5
    clean_prob: float = 0.0  # chance that the "LQ" member is the clean image (severity 0)
    chain: ChainConfig = field(default_factory=ChainConfig)

    def validate(self) -> None:
        if self.mode not in ("none", "fixed", "chain", "mix"):
            raise ValueError(f"lq.mode must be none, fixed, chain or mix, got {self.mode!r}")
        for t in self.types:
            if t not in DEGRADATIONS:
                raise ValueError(f"lq.types: unknown degradation type {t!r}")
        if any(s not in (1, 2, 3, 4, 5) for s in self.severities) or not self.severities:
            raise ValueError(f"lq.severities must be within 1..5, got {self.severities}")
        for key in ("chain_prob", "clean_prob"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"lq.{key} is a probability, within [0, 1]; got {getattr(self, key)}")
        self.chain.validate("lq.chain.")


def make_lq(img: np.ndarray, cfg: LQConfig, rng: np.random.Generator) -> tuple[np.ndarray, int, str]:
    """Degrade a full image per `cfg`; returns the image, the severity (0 for clean, 3 nominal for chain) and what
    was applied ('clean', 'chain' or the type's name)."""
    seed = int(rng.integers(0, 2**63 - 1))
    if cfg.clean_prob > 0 and rng.random() < cfg.clean_prob:
        return img, 0, "clean"
    if cfg.mode == "chain" or (cfg.mode == "mix" and rng.random() < cfg.chain_prob):
        return random_chain(img, seed, cfg.chain), 3, CHAIN
    types = cfg.types or list(DEGRADATIONS)
    name = types[int(rng.integers(len(types)))]
    severity = int(cfg.severities[int(rng.integers(len(cfg.severities)))])
    return degrade(img, name, severity, seed), severity, name


class TopDownDataset:
    """Person crops with heatmap targets. `train=True` augments; `lq` adds a pixel-aligned LQ crop;
    `eval_degrade=(type, severity)` degrades the input itself (seeded per image) for LQ evaluation; the type
    "chain" applies the random training chain (severity ignored). A map-style dataset for torch's DataLoader
    (`__len__`, `__getitem__`), whose samples are numpy arrays and numbers."""

    def __init__(
        self,
        instances: list[Instance],
        spec: KeypointSpec,
        codec: HeatmapCodec,
        train: bool = False,
        augment: AugmentConfig | None = None,
        lq: LQConfig | None = None,
        eval_degrade: tuple[str, int] | None = None,
        seed: int = 0,
        joint_weights: np.ndarray | None = None,
    ):
        self.instances = instances
        # (K,) per-joint loss weights multiplied into each sample's keypoint weights (KeypointSpec.joint_weights)
        self.joint_weights = None if joint_weights is None else np.asarray(joint_weights, np.float32)
        self.spec = spec
        self.codec = codec
        self.train = train
        self.augment = augment or AugmentConfig()
        self.augment.validate()
        self.lq = lq if lq is not None and lq.mode != "none" else None
        if self.lq:
            self.lq.validate()
        self.eval_degrade = eval_degrade
        self.seed = seed
        self.epoch = 0
        self.aspect = codec.input_size[0] / codec.input_size[1]

    def __len__(self) -> int:
        return len(self.instances)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _read(self, index: int) -> tuple[int, np.ndarray | None, int]:
        """Read the instance's image. Training: a missing or corrupt one is logged and replaced by the next
        instance. Evaluation: None, so that `predict` drops the person (another person's crop would be scored as
        this one's, and that person twice)."""
        if not self.train:
            try:
                return index, read_rgb(self.instances[index].image_path), 0
            except (OSError, ValueError) as e:
                log.warning("skipped unreadable image (%s)", e)
                return index, None, 1
        bad = 0
        for step in range(len(self.instances)):
            j = (index + step) % len(self.instances)
            try:
                return j, read_rgb(self.instances[j].image_path), bad
            except (OSError, ValueError) as e:
                bad += 1
                log.warning("skipped unreadable training image (%s)", e)
        folder = Path(self.instances[0].image_path).parent if self.instances else "the dataset"
        raise RuntimeError(f"{folder}: none of the {len(self.instances)} training people's images could be read")

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        index, img, bad = self._read(index)
        readable = img is not None
        if not readable:  # evaluation only: a blank stand-in keeps the batch's shapes; `predict` drops it
            img = np.zeros((64, 64, 3), np.uint8)
        inst = self.instances[index]
        if self.eval_degrade is not None and readable:
            name, severity = self.eval_degrade
            seed = image_seed(self.seed, inst.image_id, name, severity)
            img = random_chain(img, seed) if name == CHAIN else degrade(img, name, severity, seed)
        bbox, keypoints, cut = inst.bbox, inst.keypoints, None
        if self.train and self.augment.truncation_prob > 0:
            cut_rng = np.random.default_rng([self.seed, self.epoch, index, 2])  # apart: the main draws stay as before
            if cut_rng.random() < self.augment.truncation_prob:
                cut = sample_truncation(bbox, keypoints, self.augment, cut_rng)
            if cut is not None:
                bbox, keypoints = cut.clip_box(bbox), keypoints.copy()
                keypoints[cut.outside(keypoints[:, :2])] = 0.0
                img = cut.blank(img)
        center, scale = box_to_center_scale(bbox, self.aspect)
        rotation, flip = 0.0, False
        if self.train:
            center, scale, rotation, flip = sample_augmentation(
                center, scale, keypoints, self.spec, self.aspect, self.augment, rng
            )
        size = self.codec.input_size
        m = warp_matrix(center, scale, rotation, size)
        if flip:
            m = compose(flip_matrix(size), m)
        if self.train and self.augment.occlusion_prob > 0:
            occ_rng = np.random.default_rng([self.seed, self.epoch, index, 1])  # apart: the main draws stay as before
            if occ_rng.random() < self.augment.occlusion_prob:
                img = occlude(img, m, size, self.augment, occ_rng)
        if self.train and self.augment.grayscale_prob > 0:
            gray_rng = np.random.default_rng([self.seed, self.epoch, index, 3])  # apart: the main draws stay as before
            if gray_rng.random() < self.augment.grayscale_prob:  # both members: the scene itself is monochrome
                img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        if self.train and self.augment.color_prob > 0:
            color_rng = np.random.default_rng([self.seed, self.epoch, index, 4])  # apart: the main draws stay as before
            if color_rng.random() < self.augment.color_prob:  # both members: the camera's colour, before the LQ one
                img = sample_color_jitter(img, self.augment, color_rng)
        kps = keypoints.copy()
        kps[:, :2] = transform_points(kps[:, :2], m)
        if flip:
            kps = kps[self.spec.flip_index]
        kps[kps[:, 2] <= 0] = 0.0
        heatmaps, weights = self.codec.encode(kps)
        if self.joint_weights is not None:
            weights = weights * self.joint_weights
        sample = {
            "image": normalize(crop(img, m, size)),
            "heatmaps": heatmaps,
            "weights": weights,
            "keypoints": kps,  # in crop pixels, after flip
            "matrix": m,
            "index": index,
            "bad_reads": bad,
            "readable": readable,
        }
        if self.lq is not None:
            lq_img, severity, lq_type = make_lq(img, self.lq, rng)
            if cut is not None:  # the frame ends after the camera: no noise or blur beyond it, as in the benchmark
                lq_img = cut.blank(lq_img)
            sample["lq_image"] = normalize(crop(lq_img, m, size))
            sample["lq_severity"] = severity
            sample["lq_type"] = lq_type  # what made it: 'clean', 'chain' or a type (lqpose browse shows it)
        return sample


class EpochSampler:
    """Deterministic per-epoch order from (seed, epoch), sharded across DDP ranks, trimmed to whole batches,
    and able to start mid-epoch (`start_batch`) so a resumed run sees exactly the batches it would have. A sampler
    for torch's DataLoader (an iterable of indices with a length)."""

    def __init__(self, n: int, batch_size: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world: int = 1):
        self.n, self.batch_size, self.seed, self.shuffle = n, batch_size, seed, shuffle
        self.rank, self.world = rank, world
        self.epoch = 0
        self.start_batch = 0

    def batches_per_epoch(self) -> int:
        return (self.n // self.world) // self.batch_size

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch, self.start_batch = epoch, start_batch

    def _indices(self) -> list[int]:
        order = (
            np.random.default_rng([self.seed, self.epoch]).permutation(self.n) if self.shuffle else np.arange(self.n)
        )
        per_rank = self.batches_per_epoch() * self.batch_size
        mine = order[self.rank :: self.world][:per_rank]
        return [int(i) for i in mine[self.start_batch * self.batch_size :]]

    def __iter__(self):
        return iter(self._indices())

    def __len__(self) -> int:
        return len(self._indices())
