"""`lqpose browse`: a training config's samples as the student will see them, before hours go into training.

For the first people a run draws in an epoch (the training sampler's order), each tile shows the well-quality
crop with its target keypoints, the LQ member of the pair (when the config makes one) and the heatmap targets, with
the degradation that made the LQ crop. Left joints and limbs are drawn blue, right ones orange and the rest green,
so a wrong flip, a left/right label swap or a crop that cuts the person off is seen at a glance (MMPose's
browse_dataset plays the same part). Writes OUT/samples.png and OUT/samples.json.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .data.topdown import EpochSampler, TopDownDataset
from .data.transforms import MEAN, STD
from .files import write_json
from .imageio import write_image
from .keypoints import KeypointSpec

LEFT, RIGHT, MIDDLE = (70, 140, 255), (255, 150, 40), (60, 200, 90)  # RGB
CAPTION_H = 34
MIN_PANEL_H = 192  # small inputs (e.g. 64x48) are enlarged by a whole factor to at least this height


def side_colour(name: str) -> tuple[int, int, int]:
    return LEFT if name.startswith("left_") else RIGHT if name.startswith("right_") else MIDDLE


def denormalize(image: np.ndarray) -> np.ndarray:
    """A normalised (3, H, W) crop back to RGB uint8 (H, W, 3)."""
    return np.ascontiguousarray((image.transpose(1, 2, 0) * STD + MEAN).round().clip(0, 255).astype(np.uint8))


def draw_targets(rgb: np.ndarray, keypoints: np.ndarray, weights: np.ndarray, spec: KeypointSpec, scale: int):
    """The trained keypoints (weight > 0) and the limbs between them on an enlarged crop, coloured by side."""
    out = cv2.resize(rgb, (rgb.shape[1] * scale, rgb.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
    pts = np.round((keypoints[:, :2] + 0.5) * scale - 0.5).astype(int)  # pixel centres stay centres
    for a, b in spec.skeleton:
        if weights[a] > 0 and weights[b] > 0:
            colour = side_colour(spec.names[a]) if side_colour(spec.names[a]) == side_colour(spec.names[b]) else MIDDLE
            cv2.line(out, tuple(pts[a]), tuple(pts[b]), colour, 2, cv2.LINE_AA)
    for k in np.flatnonzero(weights > 0):
        cv2.circle(out, tuple(pts[k]), 3, side_colour(spec.names[k]), -1, cv2.LINE_AA)
        cv2.circle(out, tuple(pts[k]), 3, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def heatmap_panel(rgb: np.ndarray, heatmaps: np.ndarray, scale: int) -> np.ndarray:
    """The targets (max over joints) in colour over the dimmed crop, at the panel's size."""
    h, w = rgb.shape[0] * scale, rgb.shape[1] * scale
    peak = cv2.resize(heatmaps.max(0), (w, h), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap((peak.clip(0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    base = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_NEAREST)
    alpha = peak.clip(0, 1)[..., None] * 0.8
    return (base * 0.5 * (1 - alpha) + colour * alpha).round().astype(np.uint8)


def sample_tile(sample: dict, spec: KeypointSpec, scale: int, caption: str) -> np.ndarray:
    """One sample: WQ crop with targets | LQ crop with targets (when there is one) | heatmap targets, captioned."""
    wq = denormalize(sample["image"])
    panels = [draw_targets(wq, sample["keypoints"], sample["weights"], spec, scale)]
    if "lq_image" in sample:
        panels.append(
            draw_targets(denormalize(sample["lq_image"]), sample["keypoints"], sample["weights"], spec, scale)
        )
    panels.append(heatmap_panel(wq, sample["heatmaps"], scale))
    row = np.concatenate([np.pad(p, ((0, 0), (0, 4), (0, 0))) for p in panels], 1)
    tile = np.concatenate([row, np.zeros((CAPTION_H, row.shape[1], 3), np.uint8)])
    for i, line in enumerate(caption.splitlines()[:2]):
        cv2.putText(tile, line, (4, row.shape[0] + 14 + 15 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (235, 235, 235), 1,
                    cv2.LINE_AA)  # fmt: skip
    return tile


def browse(dataset: TopDownDataset, out_dir: str | Path, num: int = 16, epoch: int = 0, cols: int = 4) -> dict:
    """Tiles of the first `num` people the run draws in `epoch`, as the sampler orders them (seeded as training
    is), in a `cols`-wide sheet: OUT/samples.png, and OUT/samples.json with what each tile holds."""
    if num < 1 or cols < 1:
        raise ValueError(f"--num and --cols must be at least 1, got {num} and {cols}")
    out_dir = Path(out_dir)
    sampler = EpochSampler(len(dataset), 1, dataset.seed, shuffle=True)
    sampler.set_epoch(epoch)
    dataset.set_epoch(epoch)
    order = list(sampler)[:num]
    h = dataset.codec.input_size[1]
    scale = max(1, -(-MIN_PANEL_H // h))
    tiles, records = [], []
    for index in order:
        sample = dataset[index]
        inst = dataset.instances[int(sample["index"])]
        labelled = int((sample["weights"] > 0).sum())
        lq = f"{sample['lq_type']} {sample['lq_severity']}" if "lq_type" in sample else "none"
        caption = f"#{index} {Path(inst.image_path).name}\nLQ: {lq}  joints {labelled}/{dataset.spec.num_keypoints}"
        tiles.append(sample_tile(sample, dataset.spec, scale, caption))
        records.append({"index": int(index), "image": inst.image_path, "ann_id": inst.ann_id,
                        "lq_type": sample.get("lq_type"), "lq_severity": sample.get("lq_severity"),
                        "trained_joints": labelled, "bad_reads": int(sample["bad_reads"])})  # fmt: skip
    th, tw = tiles[0].shape[:2]
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * (th + 6), min(cols, len(tiles)) * (tw + 6), 3), 30, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        sheet[r * (th + 6) : r * (th + 6) + th, c * (tw + 6) : c * (tw + 6) + tw] = tile
    write_image(out_dir / "samples.png", sheet)
    summary = {"epoch": epoch, "input_size": list(dataset.codec.input_size), "people": len(dataset),
               "lq": dataset.lq is not None, "samples": records}  # fmt: skip
    write_json(out_dir / "samples.json", summary)
    return summary
