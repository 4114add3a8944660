"""Heatmap encoding and decoding: the single source of truth for training, evaluation, inference and export.

Unbiased data processing (UDP, Huang et al. 2020): the input crop and the heatmap are related by the exact
factor (heatmap_size - 1) / (input_size - 1) in pixel-index coordinates, so encode -> decode is unbiased.
Decoding refines the argmax with DARK (Zhang et al. 2020): a second-order Taylor step on the log of the
(smoothed) heatmap, exact for a Gaussian peak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .data.transforms import invert, transform_points

if TYPE_CHECKING:  # torch is imported where a tensor is handled, so the codec loads without it
    import torch


RESCORE_THRESHOLD = 0.2  # keypoints scoring above this count in the person score (MMPose/HRNet convention)


@dataclass(frozen=True)
class HeatmapCodec:
    input_size: tuple[int, int] = (192, 256)  # (width, height) of the network input
    heatmap_size: tuple[int, int] = (48, 64)  # (width, height) of the output heatmaps
    sigma: float = 2.0  # Gaussian std in heatmap pixels
    dark_kernel: int = 11  # smoothing kernel of DARK decoding (odd)

    @property
    def stride(self) -> np.ndarray:
        """Input pixels per heatmap pixel, per axis (UDP)."""
        (iw, ih), (hw, hh) = self.input_size, self.heatmap_size
        return np.array([(iw - 1) / (hw - 1), (ih - 1) / (hh - 1)], np.float32)

    def encode(self, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, 3) keypoints in input-crop pixels -> (K, H, W) Gaussian heatmaps and (K,) weights.

        A keypoint gets weight 0 when unlabelled or when its Gaussian lies wholly outside the heatmap."""
        w, h = self.heatmap_size
        k = keypoints.shape[0]
        heatmaps = np.zeros((k, h, w), np.float32)
        weights = (keypoints[:, 2] > 0).astype(np.float32)
        xs = np.arange(w, dtype=np.float32)
        ys = np.arange(h, dtype=np.float32)
        centers = keypoints[:, :2] / self.stride
        radius = 3 * self.sigma
        for i in range(k):
            if weights[i] == 0:
                continue
            mx, my = centers[i]
            if mx < -radius or my < -radius or mx > w - 1 + radius or my > h - 1 + radius:
                weights[i] = 0.0
                continue
            gx = np.exp(-((xs - mx) ** 2) / (2 * self.sigma**2))
            gy = np.exp(-((ys - my) ** 2) / (2 * self.sigma**2))
            heatmaps[i] = gy[:, None] * gx[None, :]
        return heatmaps, weights

    def decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, K, H, W) heatmaps -> (N, K, 2) keypoints in input-crop pixels and (N, K) scores (peak values)."""
        heatmaps = np.asarray(heatmaps, np.float32)
        n, k, h, w = heatmaps.shape
        flat = heatmaps.reshape(n, k, -1)
        idx = flat.argmax(-1)
        scores = np.take_along_axis(flat, idx[..., None], -1)[..., 0]
        coords = np.stack([idx % w, idx // w], -1).astype(np.float32)
        coords = self._dark(heatmaps, coords)
        return coords * self.stride, scores

    def _dark(self, heatmaps: np.ndarray, coords: np.ndarray) -> np.ndarray:
        n, k, h, w = heatmaps.shape
        out = coords.copy()
        ks = self.dark_kernel
        for i in range(n):
            for j in range(k):
                x, y = int(coords[i, j, 0]), int(coords[i, j, 1])
                if w < 3 or h < 3:
                    continue
                # Smooth a window around the peak (cheap) and keep the peak's height. Near the heatmap border a
                # blur would see a truncated peak and bias it, so there the raw heatmap is used.
                x0, x1, y0, y1 = max(0, x - ks), min(w, x + ks + 1), max(0, y - ks), min(h, y + ks + 1)
                patch = heatmaps[i, j, y0:y1, x0:x1]
                peak = patch.max()
                if peak <= 0:
                    continue
                r = ks // 2
                if r <= x < w - r and r <= y < h - r:
                    sm = cv2.GaussianBlur(patch, (ks, ks), 0, borderType=cv2.BORDER_REPLICATE)
                    sm *= peak / max(float(sm.max()), 1e-12)
                else:
                    sm = patch
                lg = np.log(np.maximum(sm, 1e-10))
                # 3x3 stencil centred on the peak, shifted inward at the border (the quadratic through the
                # stencil is exact for a Gaussian wherever its centre is)
                px, py = min(max(x, 1), w - 2) - x0, min(max(y, 1), h - 2) - y0
                dx = 0.5 * (lg[py, px + 1] - lg[py, px - 1])
                dy = 0.5 * (lg[py + 1, px] - lg[py - 1, px])
                dxx = lg[py, px + 1] - 2 * lg[py, px] + lg[py, px - 1]
                dyy = lg[py + 1, px] - 2 * lg[py, px] + lg[py - 1, px]
                dxy = 0.25 * (lg[py + 1, px + 1] - lg[py + 1, px - 1] - lg[py - 1, px + 1] + lg[py - 1, px - 1])
                det = dxx * dyy - dxy * dxy
                if det <= 1e-12 or dxx >= 0:
                    continue
                ox = -(dyy * dx - dxy * dy) / det
                oy = -(dxx * dy - dxy * dx) / det
                cx, cy = px + x0 + ox, py + y0 + oy
                if abs(cx - x) < 1.5 and abs(cy - y) < 1.5:
                    out[i, j] = (cx, cy)
        return out


def flip_heatmaps(heatmaps: torch.Tensor | np.ndarray, flip_index: Sequence[int]) -> torch.Tensor | np.ndarray:
    """Heatmaps (B, K, h, w) of a mirrored input -> heatmaps of the original (mirror back, swap left/right by
    `flip_index`, e.g. `KeypointSpec.flip_index`). Exact under UDP: a crop pixel x mirrors to W-1-x and a heatmap
    pixel to w-1-x, the same point. Used by flip testing and by a flip-averaged CKD teacher. Takes a torch tensor
    or a numpy array (ONNX Runtime's outputs) and returns the same kind."""
    index = [int(i) for i in flip_index]
    if isinstance(heatmaps, np.ndarray):
        return heatmaps[:, index, :, ::-1]
    return heatmaps.flip(3)[:, index]


def average_with_mirrors(heatmaps, quality, flip_index: Sequence[int]):
    """The flip test's result from one batch of N crops followed by their N mirrors: each crop's heatmaps
    averaged with its mirror's mapped back (`flip_heatmaps`), and its quality score (None without the head) with
    its mirror's. Torch tensors or numpy arrays, returned as the same kind."""
    n = len(heatmaps) // 2
    heatmaps = 0.5 * (heatmaps[:n] + flip_heatmaps(heatmaps[n:], flip_index))
    return heatmaps, None if quality is None else 0.5 * (quality[:n] + quality[n:])


def decode_crops(
    codec: HeatmapCodec, heatmaps: np.ndarray, matrices: np.ndarray, box_scores
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps (N, K, h, w) of crops -> (N, K, 3) keypoints in image pixels with scores, and person scores (box
    score x mean keypoint score above RESCORE_THRESHOLD). numpy only: shared by evaluation, `lqpose infer` and the
    API, torch or ONNX Runtime alike."""
    coords, scores = codec.decode(np.asarray(heatmaps, np.float32))
    poses = np.zeros(coords.shape[:2] + (3,), np.float32)
    people = np.zeros(len(coords), np.float32)
    for j in range(len(coords)):
        s = np.clip(scores[j], 1e-6, None)  # keep scores positive: some COCO tools drop all-zero poses
        poses[j, :, :2] = transform_points(coords[j], invert(matrices[j]))
        poses[j, :, 2] = s
        good = s > RESCORE_THRESHOLD
        people[j] = float(box_scores[j]) * float(s[good].mean() if good.any() else s.mean())
    return poses, people


def codec_for(input_size: tuple[int, int], sigma: float | None = None, stride: int = 4) -> HeatmapCodec:
    """The codec for an input (width, height): heatmaps at 1/stride, sigma 2 at 256x192 scaled with size."""
    w, h = input_size
    hm = (w // stride, h // stride)
    return HeatmapCodec((w, h), hm, sigma if sigma is not None else max(1.0, 2.0 * hm[1] / 64))


@dataclass(frozen=True)
class SimCCCodec:
    """1-D coordinate classification (SimCC, Li et al. 2022): x and y are classified into `split` bins per
    input pixel. Used by the training-only RTD; Gaussian labels (sum 1) make it a KL objective."""

    input_size: tuple[int, int] = (192, 256)
    split: float = 2.0
    sigma: tuple[float, float] = (4.9, 5.66)  # in bins, RTMPose's values at 256x192, split 2

    @property
    def bins(self) -> tuple[int, int]:
        return int(round(self.input_size[0] * self.split)), int(round(self.input_size[1] * self.split))

    def encode(self, keypoints):
        """(B, K, 2+) torch keypoints in input pixels -> target_x (B, K, Wb), target_y (B, K, Hb)."""
        import torch

        wb, hb = self.bins
        out = []
        for axis, n, sigma in ((0, wb, self.sigma[0]), (1, hb, self.sigma[1])):
            centre = keypoints[..., axis : axis + 1] * self.split
            grid = torch.arange(n, device=keypoints.device, dtype=torch.float32)
            g = torch.exp(-((grid - centre) ** 2) / (2 * sigma**2))
            out.append(g / g.sum(-1, keepdim=True).clamp_min(1e-12))
        return out[0], out[1]

    def decode(self, logits_x, logits_y):
        """(B, K, Wb), (B, K, Hb) logits -> (B, K, 2) input pixels and (B, K) confidences (torch)."""
        import torch

        px, py = logits_x.softmax(-1), logits_y.softmax(-1)
        x = px.argmax(-1).float() / self.split
        y = py.argmax(-1).float() / self.split
        return torch.stack([x, y], -1), torch.minimum(px.amax(-1), py.amax(-1))

    def from_heatmaps(self, heatmaps):
        """Teacher heatmaps (B, K, h, w) -> SimCC label distributions by marginalising and resampling to the
        bins (UDP-consistent: bin b sits at input pixel b / split)."""
        import torch

        hm = heatmaps.float().clamp_min(0)
        wb, hb = self.bins
        out = []
        for marg, n, size in ((hm.sum(2), wb, self.input_size[0]), (hm.sum(3), hb, self.input_size[1])):
            bins = torch.arange(n, device=marg.device, dtype=torch.float32)
            pos = bins / self.split * (marg.shape[-1] - 1) / (size - 1)  # in heatmap pixels
            idx0 = pos.floor().clamp(0, marg.shape[-1] - 1).long()
            idx1 = (idx0 + 1).clamp(max=marg.shape[-1] - 1)
            frac = (pos - idx0.float()).clamp(0, 1)
            res = marg[..., idx0] * (1 - frac) + marg[..., idx1] * frac
            out.append(res / res.sum(-1, keepdim=True).clamp_min(1e-12))
        return out[0], out[1]
