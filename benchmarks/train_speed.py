"""Training and inference speed of the default student on this machine, with its size.

Prints, per input size: parameters, GFLOPs, training images/s (forward + backward + AdamW step, batch 16),
inference images/s at batch 1 and 16, all measured in this one run on synthetic tensors (the data pipeline
is timed separately by `--with-data` on the real COCO sample when ../shared/data is present).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from lqpose.models.student import StudentConfig, build_student, count_flops, count_parameters


def train_rate(model, size, batch, steps) -> float:
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, size[1], size[0])
    target = torch.zeros_like(model(x[:1])).repeat(batch, 1, 1, 1)
    for i in range(steps + 2):
        if i == 2:
            t = time.perf_counter()
        loss = ((model(x) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return batch * steps / (time.perf_counter() - t)


@torch.no_grad()
def infer_rate(model, size, batch, steps) -> float:
    model.eval()
    x = torch.randn(batch, 3, size[1], size[0])
    for _ in range(2):
        model(x)
    t = time.perf_counter()
    for _ in range(steps):
        model(x)
    return batch * steps / (time.perf_counter() - t)


def data_rate(size) -> float | None:
    root = Path(__file__).resolve().parents[2] / "shared/data/mmpose-samples/coco"
    if not root.is_dir():
        return None
    from lqpose.codec import codec_for
    from lqpose.data import read_coco
    from lqpose.data.topdown import LQConfig, TopDownDataset

    s = read_coco(root / "test_coco.json")
    ds = TopDownDataset(s.trainable(), s.spec, codec_for(size), train=True, lq=LQConfig(mode="mix"))
    t = time.perf_counter()
    for i in range(len(ds)):
        ds[i]
    return len(ds) / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=StudentConfig.backbone)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compare", nargs="*", metavar="BACKBONE",
                        help="rank backbones by training rate at 128x96, batch 32 (how the default was chosen); "
                        "no names = lcnet_050 lcnet_100 mobilenetv3_large_100 efficientnet_lite0 resnet18")  # fmt: skip
    args = parser.parse_args()
    if args.compare is not None:
        names = args.compare or ["lcnet_050", "lcnet_100", "mobilenetv3_large_100", "efficientnet_lite0", "resnet18"]
        print("| backbone (fuse head) | params (M) | GFLOPs at 128x96 | train img/s (b32) | within RTMPose-s budget |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name in names:
            model = build_student(StudentConfig(backbone=name, num_keypoints=14))
            p, g = count_parameters(model) / 1e6, count_flops(model, (96, 128))
            tr = train_rate(model, (96, 128), 32, args.steps)
            print(f"| {name} | {p:.2f} | {g:.3f} | {tr:.1f} | {'yes' if p <= 6 and g <= 1 else 'no'} |")
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; backbone {args.backbone}")
    print(
        "| input (w x h) | params (M) | GFLOPs | train img/s (b16) | infer img/s (b1) | infer img/s (b16) | "
        "data img/s (paired LQ, 1 proc) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in ((192, 256), (96, 128)):
        model = build_student(StudentConfig(backbone=args.backbone))
        p = count_parameters(model) / 1e6
        g = count_flops(model, size)
        tr = train_rate(model, size, 16, args.steps)
        i1 = infer_rate(model, size, 1, args.steps * 4)
        i16 = infer_rate(model, size, 16, args.steps)
        d = data_rate(size)
        print(
            f"| {size[0]}x{size[1]} | {p:.2f} | {g:.3f} | {tr:.1f} | {i1:.1f} | {i16:.1f} | "
            f"{'n/a' if d is None else f'{d:.1f}'} |"
        )


if __name__ == "__main__":
    main()
