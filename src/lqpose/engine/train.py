"""The training loop: `lqpose train CONFIG.yaml [--set key=value ...]`, single process or `torchrun` DDP.

Step-based: AdamW, linear warm-up then cosine decay, gradient clipping, AMP on CUDA. The data order and
every augmentation are a function of (seed, epoch, index), so `--resume` reproduces the uninterrupted run's
next losses exactly. Rank 0 logs (CSV always, TensorBoard when installed) and saves; a run folder holds the
resolved config, the log, the checkpoints and the final evaluation.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..codec import codec_for
from ..config import ConfigError, save_config, to_dict
from ..data.mix import convert_layout, repeat
from ..data.readers import PoseSet, load_poseset
from ..data.records import Instance
from ..data.relabel import apply_relabel, read_relabel
from ..data.topdown import EpochSampler, LQConfig, TopDownDataset
from ..data.transforms import AugmentConfig
from ..files import write_json
from ..keypoints import KeypointSpec
from ..losses import keypoint_mse, quality_loss, severity_quality
from ..models.ckd import CKDConfig, CKDNet, build_discriminator, export_student
from ..models.student import StudentConfig, build_student
from .checkpoint import load_checkpoint, load_model_file, rng_state, save_checkpoint, set_rng_state
from .ckd import CKDStep, checkpoint_parts, init_student_from_teacher, load_teacher, simcc_codec
from .evaluate import predict, score

log = logging.getLogger(__name__)


@dataclass
class ExtraTrainSet:
    """Another dataset mixed into training (MMPose's combined datasets): its people are converted to the main
    set's keypoint layout by joint name and each is repeated `repeat` times per epoch, so a small set from another
    domain (COCO people next to LSPET's sports poses) is seen as often as its share demands."""

    format: str = "coco"  # coco | mpii | lspet, as data.format
    ann: str = ""  # annotation file (lspet: the split name)
    images: str = ""
    keypoints: str = ""  # its layout name; empty = from the annotation file
    repeat: int = 1


@dataclass
class DataConfig:
    format: str = "coco"  # coco (any COCO-style json) | mpii | lspet (train_ann/val_ann = split name)
    train_ann: str = ""
    train_images: str = ""
    train_relabel: str = ""  # label-correction file for the main training set (data.relabel); empty = as published
    # train on this many of the main set's people (0 = all): the first N of one fixed shuffle (seed 0), so a smaller
    # subset lies inside every larger one and a learning curve over N changes only the number of people
    train_people: int = 0
    joint_weights: dict[str, float] = field(default_factory=dict)  # heatmap-loss weight by joint name; others 1
    val_ann: str = ""
    val_images: str = ""
    val_boxes: str = ""  # detection results json; empty = ground-truth boxes
    keypoints: str = ""  # layout name (coco, crowdpose, mpii); empty = from the annotation file
    input_size: tuple[int, int] = (192, 256)  # (width, height)
    sigma: float = 0.0  # heatmap Gaussian std; 0 = 2 px at 64x48 heatmaps, scaled with size
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    lq: LQConfig = field(default_factory=LQConfig)
    train_on_lq: bool = False  # the plain LQ baseline: the student is fed the LQ member of each pair
    extra_train: list[ExtraTrainSet] = field(default_factory=list)  # more training sets, in the main set's layout
    workers: int = 2


@dataclass
class OptimConfig:
    steps: int = 2000
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    min_lr_ratio: float = 0.01
    grad_clip: float = 5.0
    fg_weight: float = 0.0  # heatmap loss foreground weighting (see losses.keypoint_mse)
    amp: bool = True  # used only on CUDA


@dataclass
class TrainConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: StudentConfig = field(default_factory=StudentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    ckd: CKDConfig = field(default_factory=CKDConfig)
    seed: int = 0
    out_dir: str = "runs/default"
    init_from: str = ""  # lqpose checkpoint whose student weights start this run (fine-tuning; not on resume)
    # student module names (prefixes such as "head.refine") that keep their fresh initialisation instead of taking
    # init_from's weights: a part whose shape changed (model.head_refine) while the rest continues
    init_fresh: list[str] = field(default_factory=list)
    log_every: int = 20
    ckpt_every: int = 500
    flip_test: bool = True
    eval_batch_size: int = 32


def check_train_config(cfg: TrainConfig) -> None:
    """Refuse values that would fail deep inside training (or, worse, run and write a run of nothing) with one
    line naming the key. Paths are checked where they are read."""
    o, d = cfg.optim, cfg.data
    checks = [
        (o.steps >= 1, "optim.steps", "must be >= 1", o.steps),
        (o.batch_size >= 1, "optim.batch_size", "must be >= 1", o.batch_size),
        (o.lr > 0 and math.isfinite(o.lr), "optim.lr", "must be a number > 0", o.lr),
        (o.weight_decay >= 0, "optim.weight_decay", "must be >= 0", o.weight_decay),
        (o.warmup_steps >= 0, "optim.warmup_steps", "must be >= 0", o.warmup_steps),
        (0 < o.min_lr_ratio <= 1, "optim.min_lr_ratio", "must be in (0, 1]", o.min_lr_ratio),
        (o.grad_clip >= 0, "optim.grad_clip", "must be >= 0 (0: no clipping)", o.grad_clip),
        # heatmaps are a quarter of the input: sides that are multiples of 4 keep the codec and the network agreed
        (all(v >= 32 and v % 4 == 0 for v in d.input_size), "data.input_size",
         "must be [width, height], each a multiple of 4 and >= 32", list(d.input_size)),
        (d.sigma >= 0, "data.sigma", "must be >= 0 (0: scaled with the input size)", d.sigma),
        (d.workers >= 0, "data.workers", "must be >= 0", d.workers),
        (d.train_people >= 0, "data.train_people", "must be >= 0 (0: every person)", d.train_people),
        (cfg.log_every >= 1, "log_every", "must be >= 1", cfg.log_every),
        (cfg.ckpt_every >= 1, "ckpt_every", "must be >= 1", cfg.ckpt_every),
        (cfg.eval_batch_size >= 1, "eval_batch_size", "must be >= 1", cfg.eval_batch_size),
    ]  # fmt: skip
    k = cfg.ckd
    if k.enabled:  # the distillation's own numbers: a negative weight would train away from its target
        weights = ("heat_kd", "feat_kd", "fused_aux", "rtd", "gan", "adv", "perceptual_weight", "quality")
        checks += [(getattr(k, w) >= 0 and math.isfinite(getattr(k, w)), f"ckd.{w}", "must be a number >= 0",
                    getattr(k, w)) for w in weights]  # fmt: skip
        checks += [
            (bool(k.teacher), "ckd.teacher", "must name the WQ teacher's checkpoint (train one first: lqpose train "
             "configs/..._teacher.yaml)", repr(k.teacher)),
            (0 <= k.rtd_teacher <= 1, "ckd.rtd_teacher", "must be in [0, 1]", k.rtd_teacher),
            (k.disc_lr > 0, "ckd.disc_lr", "must be > 0", k.disc_lr),
            (k.quality_tau > 0, "ckd.quality_tau", "must be > 0", k.quality_tau),
            (k.simcc_split > 0, "ckd.simcc_split", "must be > 0", k.simcc_split),
            (min(k.gen_width, k.disc_width, k.rtd_layers) >= 1, "ckd.gen_width, disc_width and rtd_layers",
             "must be >= 1", [k.gen_width, k.disc_width, k.rtd_layers]),
            (k.rtd_heads >= 1 and k.rtd_dim >= 1 and k.rtd_dim % k.rtd_heads == 0, "ckd.rtd_dim",
             "must be a positive multiple of ckd.rtd_heads", [k.rtd_dim, k.rtd_heads]),
            (0 <= k.warmup_steps < o.steps, "ckd.warmup_steps", "must be >= 0 and below optim.steps",
             k.warmup_steps),
        ]  # fmt: skip
    for ok, key, rule, value in checks:
        if not ok:
            raise ConfigError(f"{key} {rule}, got {value}")
    try:  # the augmentation and LQ recipe too, even when off (lq.mode none): no config carries values it refuses
        d.augment.validate()
        d.lq.validate()
    except ValueError as e:
        raise ConfigError(f"data.{e}") from None


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def _trainable(poseset: PoseSet, name: str) -> list[Instance]:
    """The people training can use: labelled keypoints, a real box and an image file that exists."""
    candidates = poseset.trainable()
    instances = [i for i in candidates if Path(i.image_path).is_file()]
    missing = len(candidates) - len(instances)
    if missing:
        log.warning("%s: %d training people point to missing images; skipped", name, missing)
    if not instances:
        raise ValueError(f"{name}: no trainable people (labelled keypoints and a readable image)")
    return instances


def nested_subset(instances: list[Instance], n: int, name: str) -> list[Instance]:
    """The first `n` people of one fixed shuffle of `instances` (seed 0, whatever the run's seed), in their original
    order. Subsets of one set nest (every 1,000 lie inside every 2,000), so runs over n differ by people alone."""
    if n > len(instances):
        raise ValueError(f"{name}: data.train_people is {n}, but the set has only {len(instances)} trainable people")
    keep = np.sort(np.random.default_rng(0).permutation(len(instances))[:n])
    log.info("%s: training on %d of its %d people (data.train_people)", name, n, len(instances))
    return [instances[i] for i in keep]


def load_extra_train(extra: ExtraTrainSet, spec: KeypointSpec) -> list[Instance]:
    """One `data.extra_train` entry's people in the training layout `spec`, each repeated `extra.repeat` times."""
    if not extra.ann:
        raise ValueError("data.extra_train: every entry needs 'ann' (an annotation file, or an LSPET split name)")
    poseset = load_poseset(extra.format, extra.ann, extra.images, extra.keypoints)
    people, dropped = convert_layout(_trainable(poseset, extra.ann), poseset.spec, spec, extra.ann)
    if dropped:
        log.warning("%s: %d people have no joint of the %s layout; skipped", extra.ann, dropped, spec.name)
    if not people:
        raise ValueError(f"{extra.ann}: no person keeps a labelled joint in the {spec.name} layout")
    log.info("extra training set %s: %d people (%s layout) x %d", extra.ann, len(people), poseset.spec.name,
             extra.repeat)  # fmt: skip
    return repeat(people, extra.repeat, f"data.extra_train {extra.ann}")


def init_student_from(model: nn.Module, path: str, fresh: list[str] | tuple[str, ...] = ()) -> int:
    """Copy an lqpose checkpoint's student weights into `model`. Every tensor of the model must be there with
    its shape, except an optional quality head the source lacks and the modules named in `fresh` (prefixes such as
    "head.refine", which keep their initialisation); returns how many tensors were copied."""
    state = load_model_file(path).get("model")
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not an lqpose checkpoint with student weights ('model')")
    own = model.state_dict()

    def under(key: str, prefix: str) -> bool:
        return key == prefix or key.startswith(prefix + ".")

    unused = [p for p in fresh if not any(under(k, p) for k in own)]
    if unused:
        raise ValueError(f"init_fresh {unused}: no such module in this student (e.g. 'head.refine', 'quality')")
    own = {k: v for k, v in own.items() if not any(under(k, p) for p in fresh)}
    missing = [k for k in own if k not in state and not k.startswith("quality.")]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or wrong:
        bad = (missing + wrong)[:3]
        raise ValueError(f"{path}: does not fit this student ({len(missing)} missing, {len(wrong)} of another "
                         f"shape, e.g. {', '.join(bad)}); init_from needs the same model config")  # fmt: skip
    shared = {k: v for k, v in state.items() if k in own}
    model.load_state_dict(shared, strict=False)
    return len(shared)


def lr_lambda(cfg: OptimConfig):
    def f(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))

    return f


def _dist_setup() -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class _HeatmapsAndQuality(nn.Module):
    """The baseline recipe's forward when the student has a quality head, so DDP sees both outputs."""

    def __init__(self, student: nn.Module):
        super().__init__()
        self.student = student

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.student.forward_with_quality(x)


class _Logger:
    FIELDS = ["step", "epoch", "loss", "lr", "grad_norm", "img_per_s", "bad_reads", "time",
              "gt", "heat_kd", "feat_kd", "fused_aux", "rtd", "gan", "quality", "disc"]  # fmt: skip

    def __init__(self, run_dir: Path, enabled: bool):
        self.enabled = enabled
        self.tb = None
        if not enabled:
            return
        path = run_dir / "log.csv"
        new = not path.exists()
        self.file = path.open("a", newline="")
        self.writer = csv.DictWriter(self.file, self.FIELDS, restval="")
        if new:
            self.writer.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tb"))
        except Exception:  # noqa: BLE001 - TensorBoard is optional
            self.tb = None

    def log(self, row: dict) -> None:
        if not self.enabled:
            return
        self.writer.writerow(row)
        self.file.flush()
        if self.tb is not None:
            for k in self.FIELDS[2:]:
                if row.get(k, "") != "" and k not in ("bad_reads", "time"):
                    self.tb.add_scalar(f"train/{k}", float(row[k]), row["step"])

    def close(self) -> None:
        if self.enabled:
            self.file.close()
            if self.tb is not None:
                self.tb.close()


def training_set(cfg: TrainConfig) -> TopDownDataset:
    """The training people of `cfg` (its set, relabelled where it says, plus every extra set) as the dataset a run
    draws from, augmentation and LQ member included: what `train` trains on and `lqpose browse` shows."""
    poseset = load_poseset(cfg.data.format, cfg.data.train_ann, cfg.data.train_images, cfg.data.keypoints)
    instances = _trainable(poseset, cfg.data.train_ann)
    spec = poseset.spec
    if cfg.data.train_relabel:
        instances = apply_relabel(instances, spec, read_relabel(cfg.data.train_relabel), cfg.data.train_ann)
    if cfg.data.train_people:
        instances = nested_subset(instances, cfg.data.train_people, cfg.data.train_ann)
    for extra in cfg.data.extra_train:
        instances += load_extra_train(extra, spec)
    codec = codec_for(tuple(cfg.data.input_size), cfg.data.sigma or None)
    joint_weights = spec.joint_weights(cfg.data.joint_weights, "data.joint_weights") if cfg.data.joint_weights else None
    return TopDownDataset(instances, spec, codec, train=True, augment=cfg.data.augment, lq=cfg.data.lq,
                          seed=cfg.seed, joint_weights=joint_weights)  # fmt: skip


def train(cfg: TrainConfig, resume: str | None = None, progress: bool = True) -> Path:
    """Train a student per `cfg`; returns the run folder."""
    check_train_config(cfg)
    rank, world, device = _dist_setup()
    main_proc = rank == 0
    _seed_everything(cfg.seed)
    run_dir = Path(cfg.out_dir)

    dataset = training_set(cfg)
    instances, spec = dataset.instances, dataset.spec
    if cfg.model.num_keypoints != spec.num_keypoints:
        cfg.model.num_keypoints = spec.num_keypoints
    batch = min(cfg.optim.batch_size, len(instances) // world)
    sampler = EpochSampler(len(dataset), batch, cfg.seed, shuffle=True, rank=rank, world=world)
    batches_per_epoch = sampler.batches_per_epoch()
    if batches_per_epoch == 0:
        raise ValueError(f"{len(instances)} training people are fewer than one batch per process")

    model = build_student(cfg.model).to(device)
    if cfg.init_from and not resume:
        log.info(
            "student initialised from %s: %d tensors",
            cfg.init_from,
            init_student_from(model, cfg.init_from, cfg.init_fresh),
        )
    ckd = cfg.ckd if cfg.ckd.enabled else None
    net, disc, disc_opt, ckd_step = model, None, None, None
    train_quality = ckd is None and model.quality is not None
    if train_quality:
        if dataset.lq is None or not cfg.data.train_on_lq:
            raise ValueError(
                f"{cfg.out_dir}: model.quality_head learns from the degradation of LQ crops: set data.lq.mode "
                "and data.train_on_lq (or ckd.enabled), or drop the quality head"
            )
        net = _HeatmapsAndQuality(model)
    if ckd is not None:
        if dataset.lq is None:
            raise ValueError("ckd.enabled needs paired LQ samples: set data.lq.mode to fixed, chain or mix")
        teacher, tcfg = load_teacher(ckd.teacher, tuple(cfg.data.input_size), spec.num_keypoints)
        teacher.to(device)
        if ckd.init_from_teacher and not resume:
            copied = init_student_from_teacher(model, teacher)
            log.info("student initialised from the teacher: %s", copied)
        bins = simcc_codec(tuple(cfg.data.input_size), ckd.simcc_split).bins
        net = CKDNet(model, tcfg.head_channels, ckd, bins).to(device)
        disc = build_discriminator(ckd)
        if disc is not None:
            disc.to(device)
            disc_opt = torch.optim.AdamW(disc.parameters(), lr=ckd.disc_lr, betas=(0.5, 0.999), weight_decay=0.0)
        ckd_step = CKDStep(net, teacher, disc, ckd, tuple(cfg.data.input_size), cfg.optim.steps, cfg.optim.fg_weight,
                           flip_index=spec.flip_index)  # fmt: skip
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg.optim))
    use_amp = cfg.optim.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    start_step = 0
    if resume:
        ckpt = load_checkpoint(resume)
        model.load_state_dict(ckpt["model"])
        if ckd is not None:
            net.load_state_dict({**{f"student.{k}": v for k, v in ckpt["model"].items()}, **ckpt["ckd"]})
            if disc is not None:
                disc.load_state_dict(ckpt["discriminator"])
                disc_opt.load_state_dict(ckpt["disc_optimizer"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        scaler.load_state_dict(ckpt["scaler"])
        set_rng_state(ckpt["rng"])
        start_step = int(ckpt["step"])
        log.info("resumed from %s at step %d", resume, start_step)
    wrapped = DistributedDataParallel(net, find_unused_parameters=ckd is not None) if world > 1 else net
    disc_wrapped = DistributedDataParallel(disc) if world > 1 and disc is not None else disc

    if main_proc:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.yaml")
        log.info("resolved config:\n%s", (run_dir / "config.yaml").read_text())
        log.info("run folder %s; %d people, %d batches of %d per epoch per process, %d process(es)",
                 run_dir, len(instances), batches_per_epoch, batch, world)  # fmt: skip
    logger = _Logger(run_dir, main_proc)

    def payload(step: int) -> dict:
        extra = {}
        if ckd is not None:
            extra["ckd"] = checkpoint_parts(net)
            if disc is not None:
                extra["discriminator"] = disc.state_dict()
                extra["disc_optimizer"] = disc_opt.state_dict()
        return {
            **extra,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict(),
            "step": step,
            "rng": rng_state(),
            "config": to_dict(cfg),
            "keypoints": {"name": spec.name, "names": list(spec.names), "skeleton": [list(p) for p in spec.skeleton]},
        }

    last_ckpt = run_dir / "last.pt"
    step, it, epoch = start_step, None, -1
    t0, seen, bad_reads = time.perf_counter(), 0, 0
    wrapped.train()
    if disc is not None:
        disc.train()
    bar = tqdm(
        total=cfg.optim.steps, initial=start_step, desc="train", unit="step", disable=not (progress and main_proc)
    )
    try:
        while step < cfg.optim.steps:
            if it is None or step // batches_per_epoch != epoch:
                epoch = step // batches_per_epoch
                sampler.set_epoch(epoch, step % batches_per_epoch)
                dataset.set_epoch(epoch)
                loader = DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=cfg.data.workers,
                                    pin_memory=device.type == "cuda", drop_last=True)  # fmt: skip
                it = iter(loader)
            data = next(it)
            if ckd_step is not None:
                batch_t = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in data.items()}
                with torch.autocast(device.type, enabled=use_amp):
                    loss, terms, extra = ckd_step.losses(wrapped, batch_t, step)
                parts = {k: float(v.detach()) for k, v in terms.items()}
                x = batch_t["lq_image"]
            else:
                x = (data["lq_image"] if cfg.data.train_on_lq else data["image"]).to(device, non_blocking=True)
                target = data["heatmaps"].to(device, non_blocking=True)
                weights = data["weights"].to(device, non_blocking=True)
                with torch.autocast(device.type, enabled=use_amp):
                    pred = wrapped(x)
                parts, extra = {}, {}
                if train_quality:  # the quality head learns 1 - severity / 5 (CKD adds the restoration error)
                    pred, quality = pred
                    severity = data["lq_severity"].to(device, non_blocking=True)
                    parts["quality"] = cfg.ckd.quality * quality_loss(quality, severity_quality(severity))
                loss = keypoint_mse(pred, target, weights, cfg.optim.fg_weight)
                if parts:
                    parts = {"gt": loss, **parts}
                    loss = sum(parts.values())
                    parts = {k: float(v.detach()) for k, v in parts.items()}
            if not torch.isfinite(loss):
                kept = f"; last good checkpoint: {last_ckpt}" if last_ckpt.exists() else "; no checkpoint was saved yet"
                raise TrainingDiverged(f"loss became {loss.item()} at step {step + 1}, training stopped{kept}")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.optim.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            if ckd_step is not None:
                d_loss = ckd_step.discriminator_step(disc_wrapped, disc_opt, extra)
                if d_loss is not None:
                    parts["disc"] = d_loss
            step += 1
            seen += x.shape[0] * world
            bad_reads += int(data["bad_reads"].sum())
            bar.update(1)
            if step % cfg.log_every == 0 or step == cfg.optim.steps or step == start_step + 1:
                elapsed = time.perf_counter() - t0
                row = {
                    "step": step,
                    "epoch": epoch,
                    "loss": f"{loss.item():.8g}",
                    "lr": f"{scheduler.get_last_lr()[0]:.6g}",
                    "grad_norm": f"{float(grad_norm):.4g}",
                    "img_per_s": f"{seen / max(elapsed, 1e-9):.1f}",
                    "bad_reads": bad_reads,
                    "time": f"{elapsed:.1f}",
                    **{k: f"{v:.6g}" for k, v in parts.items()},
                }
                logger.log(row)
                bar.set_postfix(loss=row["loss"])
            if main_proc and (step % cfg.ckpt_every == 0 or step == cfg.optim.steps):
                save_checkpoint(run_dir / f"step_{step:07d}.pt", payload(step))
                save_checkpoint(last_ckpt, payload(step))
    finally:
        bar.close()
        logger.close()

    if main_proc:
        save_checkpoint(run_dir / "student.pt", export_student(payload(step)))
    if main_proc and cfg.data.val_ann:
        metrics = evaluate_run(model, cfg, spec)
        log.info("validation: %s", {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)})
    if world > 1:
        dist.barrier()
    return run_dir


def evaluate_run(model: torch.nn.Module, cfg: TrainConfig, spec) -> dict:
    """Score the trained model on the configured validation set; write results and metrics into the run."""
    from ..data.readers import read_detections

    val = load_poseset(cfg.data.format, cfg.data.val_ann, cfg.data.val_images, cfg.data.keypoints)
    boxes = (
        read_detections(cfg.data.val_boxes, val)
        if cfg.data.val_boxes
        else [i for i in val.instances if i.num_visible > 0]
    )
    codec = codec_for(tuple(cfg.data.input_size), cfg.data.sigma or None)
    results = predict(model, boxes, spec, codec, cfg.eval_batch_size, cfg.flip_test, progress=False)
    metrics = score(val, results, detected_boxes=bool(cfg.data.val_boxes))
    run_dir = Path(cfg.out_dir)
    write_json(run_dir / "results.json", results)
    write_json(run_dir / "metrics.json", metrics)
    return metrics
