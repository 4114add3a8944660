"""One CKD-LQPose training step: teacher on the WQ crop, student (+ GAN, fusion, RTD) on the LQ crop,
every loss term, then the discriminator's own step.

L = L_gt + a L_heat_kd + b L_feat_ckd + f L_fused_aux + c L_rtd + d (L_rec + e L_adv + p L_perc) + q L_quality
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .. import losses
from ..codec import SimCCCodec
from ..config import from_dict
from ..models.ckd import CKDConfig, CKDNet
from ..models.patchwq_gan import PatchDiscriminator
from ..models.student import Student, StudentConfig
from ..models.teacher import Teacher, build_teacher
from .checkpoint import load_model_file


def load_teacher(path: str, input_size: tuple[int, int], num_keypoints: int) -> tuple[Teacher, StudentConfig]:
    """The frozen teacher from any model file (training checkpoint, student.pt, .safetensors or "default"),
    checked against the student's input size and keypoint count."""
    if not path:
        raise ValueError("ckd.teacher is empty: train a WQ teacher first (lqpose train configs/..._teacher.yaml)")
    ckpt = load_model_file(path)
    cfg = from_dict(StudentConfig, {**ckpt["config"]["model"], "pretrained": False, "weights": None})
    t_size = tuple(ckpt["config"].get("data", {}).get("input_size", input_size))
    if t_size != tuple(input_size):
        raise ValueError(f"{path}: teacher input size {t_size} differs from the student's {tuple(input_size)}")
    if cfg.num_keypoints != num_keypoints:
        raise ValueError(f"{path}: teacher predicts {cfg.num_keypoints} keypoints, the data has {num_keypoints}")
    return build_teacher(ckpt["model"], cfg), cfg


def init_student_from_teacher(student: Student, teacher: Teacher) -> bool:
    """Copy the teacher's weights into the student where every shape matches; returns whether it did."""
    t_state, s_state = teacher.net.state_dict(), student.state_dict()
    shared = {k: v for k, v in t_state.items() if k in s_state and s_state[k].shape == v.shape}
    if len(shared) < len(t_state):
        return False
    student.load_state_dict(shared, strict=False)
    return True


def _half(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)


def simcc_codec(input_size: tuple[int, int], split: float) -> SimCCCodec:
    """RTMPose's SimCC label widths at 256x192, scaled with the input size."""
    w, h = input_size
    return SimCCCodec((w, h), split, (4.9 * w / 192, 5.66 * h / 256))


class CKDStep:
    """Computes the CKD losses for a batch and steps the discriminator."""

    def __init__(self, net: CKDNet, teacher: Teacher, disc: PatchDiscriminator | None, cfg: CKDConfig,
                 input_size: tuple[int, int], total_steps: int, fg_weight: float = 0.0,
                 flip_index: Sequence[int] | None = None):  # fmt: skip
        self.net, self.teacher, self.disc, self.cfg = net, teacher, disc, cfg
        if cfg.teacher_flip and flip_index is None:
            raise ValueError("ckd.teacher_flip needs the keypoint layout's flip_index")
        self.teacher_flip_index = flip_index if cfg.teacher_flip else None
        self.fg_weight = fg_weight  # the same heatmap-loss weighting as the plain recipe (optim.fg_weight)
        self.simcc = simcc_codec(tuple(input_size), cfg.simcc_split)
        self.total_steps = total_steps

    def losses(self, net, batch: dict, step: int) -> tuple[torch.Tensor, dict, dict]:
        """`net` is the (possibly DDP-wrapped) CKDNet. Returns the total loss, each weighted term (tensors with
        their graphs) and what the discriminator step needs."""
        cfg = self.cfg
        x_lq, x_wq = batch["lq_image"], batch["image"]
        target, weights = batch["heatmaps"], batch["weights"]
        warm = step < cfg.warmup_steps
        decay = (1.0 - step / max(1, self.total_steps)) if cfg.kd_decay else 1.0
        t = self.teacher.knowledge(x_wq, self.teacher_flip_index)
        out = net(x_lq, t["head_feature"], freeze_student=warm)
        parts: dict[str, torch.Tensor] = {}
        if not warm:
            parts["gt"] = losses.keypoint_mse(out["heatmaps"], target, weights, self.fg_weight)
            if cfg.heat_kd > 0:
                kd = losses.heatmap_kd(out["heatmaps"], t["heatmaps"], weights, self.fg_weight)
                parts["heat_kd"] = cfg.heat_kd * decay * kd
        extra: dict = {}
        if "restored" in out:
            wq_half = _half(x_wq)
            rec = F.l1_loss(out["restored"], wq_half)
            self.disc.requires_grad_(False)  # the generator's adversarial loss must not touch D's weights
            adv = losses.lsgan_generator(self.disc(out["restored"]))
            self.disc.requires_grad_(True)
            gan = rec + cfg.adv * adv
            if cfg.perceptual_weight > 0:
                with torch.no_grad():
                    perc_target = self.teacher.shallow_features(wq_half)
                perc = losses.perceptual(self.teacher.shallow_features(out["restored"]), perc_target)
                gan = gan + cfg.perceptual_weight * perc
            parts["gan"] = cfg.gan * gan
            extra.update(restored=out["restored"].detach(), wq_half=wq_half)
            with torch.no_grad():
                extra["rec_error"] = (out["restored"] - wq_half).abs().mean(dim=(1, 2, 3))
        if "f_f" in out:
            parts["fused_aux"] = cfg.fused_aux * losses.keypoint_mse(
                out["fused_heatmaps"], target, weights, self.fg_weight
            )
            parts["feat_kd"] = cfg.feat_kd * decay * losses.relative_mse(out["adapted"], out["f_f"])
        if "rtd_x" in out:
            kps = batch["keypoints"]
            gx, gy = self.simcc.encode(kps)
            tx, ty = self.simcc.from_heatmaps(t["heatmaps"])
            rtd = (1 - cfg.rtd_teacher) * losses.simcc_kl(out["rtd_x"], out["rtd_y"], gx, gy, weights)
            rtd = rtd + cfg.rtd_teacher * losses.simcc_kl(out["rtd_x"], out["rtd_y"], tx, ty, weights)
            parts["rtd"] = cfg.rtd * rtd
        if "quality" in out and cfg.quality > 0 and not warm:
            q = losses.severity_quality(batch["lq_severity"])
            if "rec_error" in extra:
                q = 0.5 * q + 0.5 * torch.exp(-extra["rec_error"] / cfg.quality_tau)
            parts["quality"] = cfg.quality * losses.quality_loss(out["quality"], q)
        total = sum(parts.values())
        return total, parts, extra

    def discriminator_step(self, disc_net, optimizer: torch.optim.Optimizer, extra: dict) -> float | None:
        """One LSGAN step of the patch discriminator on real WQ vs restored (detached) half-res images."""
        if self.disc is None or "restored" not in extra:
            return None
        loss = losses.lsgan_discriminator(disc_net(extra["wq_half"]), disc_net(extra["restored"]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.detach())


def checkpoint_parts(net: CKDNet) -> dict:
    """State of the training-only parts (everything in CKDNet but the student)."""
    return {k: v for k, v in net.state_dict().items() if not k.startswith("student.")}
