"""Person detectors for top-down inference. None downloads anything: the YOLOX-nano ONNX file is given by
path (the official YOLOX release, or ../shared/data/models/yolox/yolox_nano.onnx here).

A detector is a callable: RGB uint8 image -> (N, 5) boxes x, y, w, h, score. One with a `score_thr` attribute whose
call also takes `score_thr=` (YoloxDetector) can be asked, call by call, for the boxes it is less sure of: tracking
keeps those to continue tracks (ByteTrack's second stage, lqpose.infer.run) without changing the detector, which
may be shared."""

from __future__ import annotations

import inspect
from pathlib import Path

import cv2
import numpy as np

from ..onnx_model import onnx_session


def whole_image_box(img: np.ndarray) -> np.ndarray:
    """The box of the whole image, from the first pixel centre to the last, score 1: (1, 5). An image under 2 px on
    a side has no such box (it would have no area): a one-line error, not a pose guessed from nothing."""
    h, w = img.shape[:2]
    if h < 2 or w < 2:
        raise ValueError(f"a {w}x{h} px image is too small to hold a person (at least 2x2 px)")
    return np.array([[0, 0, w - 1, h - 1, 1.0]], np.float32)


class WholeImage:
    """The whole image is one person (crops, single-person photos)."""

    name = "whole"

    def __call__(self, img: np.ndarray) -> np.ndarray:
        return whole_image_box(img)


class HogDetector:
    """OpenCV's built-in HOG people detector: offline, weak (finds few COCO people), the floor."""

    name = "hog"

    def __init__(self):
        if not hasattr(cv2, "HOGDescriptor"):
            raise RuntimeError("this OpenCV build has no HOGDescriptor (OpenCV 5): use --detector yolox:PATH")
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, img: np.ndarray) -> np.ndarray:
        rects, weights = self.hog.detectMultiScale(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), winStride=(8, 8))
        if len(rects) == 0:
            return np.zeros((0, 5), np.float32)
        w = np.asarray(weights, np.float32).reshape(-1)
        return np.concatenate([np.asarray(rects, np.float32), (1 / (1 + np.exp(-w)))[:, None]], 1)


class YoloxDetector:
    """YOLOX (Megvii) person detector on ONNX Runtime: letterbox (pad 114) to the model's input size, BGR 0-255, raw
    grid outputs decoded with strides 8/16/32; score = objectness x person class. The input size is read from the
    file, so the official exports all run: nano and tiny at 416x416, s/m/l/x at 640x640. `device` ('cpu', 'cuda[:N]',
    'auto'): it follows the pose model onto a GPU where ONNX Runtime can run there, else runs on the CPU
    (lqpose.onnx_model.onnx_session); `.device` says where it runs. `threads`: ONNX Runtime's CPU threads (0: every
    core)."""

    name = "yolox"

    def __init__(
        self,
        path: str | Path,
        score_thr: float = 0.3,
        nms_thr: float = 0.45,
        size: int = 416,
        device: str = "cpu",
        threads: int = 0,
    ):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no such YOLOX ONNX file (e.g. ../shared/data/models/yolox/yolox_nano.onnx)"
            )
        # once per frame between the pose model's runs: spinning threads would contend with the pose model's own
        self.session, self.device = onnx_session(path, device, threads, fallback=True, spin=False)
        shape = self.session.get_inputs()[0].shape  # (1, 3, H, W); `size` only where the file leaves them open
        self.h, self.w = (int(d) if isinstance(d, int) else size for d in shape[2:4])
        self.score_thr, self.nms_thr = score_thr, nms_thr
        grids, strides = [], []
        for s in (8, 16, 32):
            yy, xx = np.mgrid[0 : self.h // s, 0 : self.w // s]
            grids.append(np.stack([xx.ravel(), yy.ravel()], 1))
            strides.append(np.full((xx.size, 1), s))
        self.grid = np.concatenate(grids).astype(np.float32)
        self.stride = np.concatenate(strides).astype(np.float32)
        rows, cols = self.session.get_outputs()[0].shape[1:3]
        if isinstance(rows, int) and rows != len(self.grid) or isinstance(cols, int) and cols < 6:
            raise ValueError(f"{path}: outputs {rows} x {cols}, not YOLOX's raw grid for a {self.w}x{self.h} input "
                             f"({len(self.grid)} x 5 + classes); export it with decode_in_inference off")  # fmt: skip

    def __call__(self, img: np.ndarray, score_thr: float | None = None) -> np.ndarray:
        """Boxes scoring `score_thr` or more (default: the detector's own `score_thr`), after NMS."""
        score_thr = self.score_thr if score_thr is None else score_thr
        h, w = img.shape[:2]
        r = min(self.h / h, self.w / w)
        canvas = np.full((self.h, self.w, 3), 114, np.uint8)
        resized = cv2.resize(
            cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
            (max(1, int(w * r)), max(1, int(h * r))),
            interpolation=cv2.INTER_LINEAR,
        )
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        x = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        out = self.session.run(None, {self.session.get_inputs()[0].name: x})[0][0]
        xy = (out[:, :2] + self.grid) * self.stride
        wh = np.exp(out[:, 2:4]) * self.stride
        score = out[:, 4] * out[:, 5]
        keep = score >= score_thr
        if not keep.any():
            return np.zeros((0, 5), np.float32)
        boxes = np.concatenate([xy[keep] - wh[keep] / 2, wh[keep]], 1) / r
        idx = cv2.dnn.NMSBoxes(boxes.tolist(), score[keep].tolist(), score_thr, self.nms_thr)
        idx = np.asarray(idx).reshape(-1)
        return np.concatenate([boxes[idx], score[keep][idx, None]], 1).astype(np.float32)


def tile_windows(width: int, height: int, grid: int, overlap: float = 0.2) -> list[tuple[int, int, int, int]]:
    """`grid` x `grid` windows x0, y0, x1, y1 over the image, each 1 + `overlap` times a grid cell on a side (so
    neighbours share `overlap` of a cell), kept inside the image."""
    tw, th = min(width, round(width / grid * (1 + overlap))), min(height, round(height / grid * (1 + overlap)))
    out = []
    for gy in range(grid):
        for gx in range(grid):
            x0 = min(max(0, round((gx + 0.5) * width / grid - tw / 2)), width - tw)
            y0 = min(max(0, round((gy + 0.5) * height / grid - th / 2)), height - th)
            out.append((x0, y0, x0 + tw, y0 + th))
    return out


class TiledDetector:
    """A detector run on the whole image and on `grid` x `grid` overlapping tiles of it (SAHI-style slicing), for
    people too small for the detector's input once the whole frame is shrunk to it (CCTV, drones): YOLOX-nano sees
    a 1920x1080 frame at 416x234. A box that touches a tile's inner edge is dropped, since that tile cut its person
    (whole, they are in the whole-image pass or the tile beside); the rest are merged by NMS. Dropping them is what
    made it pay: on COCO-MINI val (YOLOX-nano, 2 x 2 tiles) recall of the labelled people at IoU 0.5 rose from 0.706
    to 0.794 and the bundled model's AP with those boxes from 0.111 to 0.113 (`lqpose detect --tiles 2`), where
    plain NMS over every tile's boxes read 0.809 and 0.104 in a probe with the same tiles (cut people kept as
    confident false boxes). The cost is 1 + grid^2 detector runs a frame. A per-call `score_thr` reaches the inner
    detector when it takes one (`takes_score_thr`)."""

    def __init__(self, detector, grid: int = 2, overlap: float = 0.2, nms_thr: float = 0.45, edge: float = 3.0):
        if not (isinstance(grid, int) and grid >= 2) or not 0 <= overlap < 1:
            raise ValueError(f"tiles: a grid of at least 2 (x 2) with an overlap in [0, 1), got {grid} and {overlap}")
        self.detector, self.grid, self.overlap, self.nms_thr, self.edge = detector, grid, overlap, nms_thr, edge
        self.name = f"{getattr(detector, 'name', 'detector')}+tiles{grid}"
        if getattr(detector, "score_thr", None) is not None:
            self.score_thr = detector.score_thr

    def __call__(self, img: np.ndarray, score_thr: float | None = None) -> np.ndarray:
        ask = {"score_thr": score_thr} if score_thr is not None and takes_score_thr(self.detector) else {}
        h, w = img.shape[:2]
        found = [np.asarray(self.detector(img, **ask), np.float32).reshape(-1, 5)]
        for x0, y0, x1, y1 in tile_windows(w, h, self.grid, self.overlap):
            b = np.asarray(self.detector(np.ascontiguousarray(img[y0:y1, x0:x1]), **ask), np.float32).reshape(-1, 5)
            e = self.edge
            cut = ((b[:, 0] < e) & (x0 > 0)) | ((b[:, 1] < e) & (y0 > 0))
            cut |= ((b[:, 0] + b[:, 2] > x1 - x0 - e) & (x1 < w)) | ((b[:, 1] + b[:, 3] > y1 - y0 - e) & (y1 < h))
            found.append(b[~cut] + np.float32([x0, y0, 0, 0, 0]))
        boxes = np.concatenate(found)
        if len(boxes) == 0:
            return boxes
        keep = np.asarray(cv2.dnn.NMSBoxes(boxes[:, :4].tolist(), boxes[:, 4].tolist(), 0.0, self.nms_thr)).reshape(-1)
        return boxes[np.sort(keep)]


def takes_score_thr(detector) -> bool:
    """Whether `detector` has its own `score_thr` and takes another one per call (see the module docstring)."""
    if getattr(detector, "score_thr", None) is None:
        return False
    try:
        return "score_thr" in inspect.signature(detector).parameters
    except (TypeError, ValueError):  # a callable without a signature (a C extension's): call it as documented only
        return False


def build_detector(spec: str, device: str = "cpu", threads: int = 0, tiles: int = 1):
    """'whole', 'hog', 'yolox:PATH' or a path to a YOLOX .onnx file; `device` and `threads` place a YOLOX graph
    (onnx_session); `tiles` N > 1 also runs it on N x N tiles of the image (TiledDetector)."""
    if tiles > 1:
        if spec == "whole":
            raise ValueError("--tiles needs a detector that finds people (yolox:PATH or hog), not 'whole'")
        return TiledDetector(build_detector(spec, device, threads), tiles)
    if spec == "whole":
        return WholeImage()
    if spec == "hog":
        return HogDetector()
    path = spec.split(":", 1)[1] if spec.startswith("yolox:") else spec
    if path.endswith(".onnx"):
        return YoloxDetector(path, device=device, threads=threads)
    raise ValueError(f"unknown detector {spec!r}; use whole, hog, or yolox:PATH/TO/yolox_nano.onnx")
