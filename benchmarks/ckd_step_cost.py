"""CKD-LQPose training step time / plain student step time, measured side by side in one run (target <= 3x).

Both steps include forward, backward and optimiser updates on the same synthetic batch; the CKD step adds
the frozen teacher's forward on the WQ crop, PatchWQ-GAN (generator, patch discriminator and its own step,
the pose-aware perceptual loss through the teacher), the fusion block and the RTD.
"""

from __future__ import annotations

import argparse
import time

import torch

from lqpose import losses
from lqpose.engine.ckd import CKDStep, simcc_codec
from lqpose.models.ckd import CKDConfig, CKDNet, build_discriminator
from lqpose.models.student import StudentConfig, build_student
from lqpose.models.teacher import Teacher


def make_batch(b: int, size: tuple[int, int], k: int = 17) -> dict:
    w, h = size
    return {
        "image": torch.randn(b, 3, h, w),
        "lq_image": torch.randn(b, 3, h, w),
        "heatmaps": torch.rand(b, k, h // 4, w // 4),
        "weights": torch.ones(b, k),
        "keypoints": torch.rand(b, k, 3) * torch.tensor([w - 1.0, h - 1.0, 0.0]) + torch.tensor([0, 0, 2.0]),
        "lq_severity": torch.randint(1, 6, (b,)),
    }


def timed(fn, steps: int) -> float:
    for _ in range(2):
        fn()
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t) / steps


def measure(size: tuple[int, int], teacher_cfg: StudentConfig, batch_size: int, steps: int) -> tuple[float, float]:
    """Seconds per plain step and per CKD step, same student architecture and batch."""
    batch = make_batch(batch_size, size)
    student = build_student(StudentConfig(quality_head=True))
    opt = torch.optim.AdamW(student.parameters(), 1e-3)

    def plain():
        loss = losses.keypoint_mse(student(batch["lq_image"]), batch["heatmaps"], batch["weights"])
        opt.zero_grad()
        loss.backward()
        opt.step()

    t_plain = timed(plain, steps)
    cfg = CKDConfig(enabled=True)
    net = CKDNet(student, teacher_cfg.head_channels, cfg, simcc_codec(size, cfg.simcc_split).bins)
    disc = build_discriminator(cfg)
    step = CKDStep(net, Teacher(build_student(teacher_cfg)), disc, cfg, size, 1000)
    opt_all = torch.optim.AdamW(net.parameters(), 1e-3)
    opt_d = torch.optim.AdamW(disc.parameters(), 2e-4)

    def ckd():
        total, _, extra = step.losses(net, batch, 10)
        opt_all.zero_grad()
        total.backward()
        opt_all.step()
        step.discriminator_step(disc, opt_d, extra)

    return t_plain, timed(ckd, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {args.batch}; student lcnet_050")
    print("| input | teacher | plain step (ms) | CKD step (ms) | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for size in ((96, 128), (192, 256)):
        for teacher_cfg in (StudentConfig(), StudentConfig(backbone="hrnet_w18_small_v2", head_channels=64)):
            t_plain, t_ckd = measure(size, teacher_cfg, args.batch, args.steps)
            print(
                f"| {size[0]}x{size[1]} | {teacher_cfg.backbone} | {t_plain * 1000:.0f} | {t_ckd * 1000:.0f} | "
                f"{t_ckd / t_plain:.2f}x |"
            )


if __name__ == "__main__":
    main()
