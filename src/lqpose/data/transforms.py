"""Top-down geometry: person box -> affine crop (UDP), and training augmentation (scale, rotation, flip with
keypoint swap, half-body, occluders). Every function maps keypoints with the same matrix it warps the image with."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..keypoints import KeypointSpec

UPPER_BODY_WORDS = ("nose", "eye", "ear", "head", "neck", "thorax", "shoulder", "elbow", "wrist")


@dataclass
class AugmentConfig:
    scale: tuple[float, float] = (0.75, 1.25)  # random box scale range
    rotation: float = 40.0  # max |degrees|
    rotation_prob: float = 0.6
    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    half_body_min_keypoints: int = 8
    shift: float = 0.1  # random centre shift, fraction of the box size
    # Occluders (RTMPose's CoarseDropout, placed in the image so the LQ member degrades them too): the chance a
    # crop gets any, how many, and each one's side as a fraction of the crop's. 0 = off (older runs unchanged).
    occlusion_prob: float = 0.0
    occlusion_holes: tuple[int, int] = (1, 1)
    occlusion_size: tuple[float, float] = (0.2, 0.4)
    # Truncation (COCO's people cut by the frame): the chance a crop's person is cut by an image edge through its
    # box, the share of the box kept, and how often each edge is the one that cuts (bottom, top, left, right).
    # 0 = off (older runs unchanged).
    truncation_prob: float = 0.0
    truncation_keep: tuple[float, float] = (0.35, 0.8)
    truncation_sides: tuple[float, float, float, float] = (0.6, 0.1, 0.15, 0.15)
    # Monochrome (an infrared night camera, a black-and-white feed): the chance a training image is reduced to its
    # luma, replicated to three channels, before the LQ member is made. 0 = off (older runs unchanged).
    grayscale_prob: float = 0.0
    # Colour (white balance, a camera's saturation and gain): the chance a training image's brightness and
    # saturation are scaled and its hue turned by factors drawn from these ranges, before the LQ member is made.
    # Against the global colour shifts none of the 16 types makes (docs/results.md, "Degradations it has never
    # seen"). 0 = off (older runs unchanged).
    color_prob: float = 0.0
    color_brightness: tuple[float, float] = (0.7, 1.3)  # factor on every channel
    color_saturation: tuple[float, float] = (0.4, 1.6)  # factor on the distance from the pixel's luma
    color_hue: float = 0.05  # max turn of the hue circle, as a fraction of it

    def validate(self) -> None:
        lo, hi = self.occlusion_holes
        if not 0.0 <= self.occlusion_prob <= 1.0:
            raise ValueError(f"augment.occlusion_prob must be within 0..1, got {self.occlusion_prob}")
        if not 1 <= lo <= hi:
            raise ValueError(f"augment.occlusion_holes must be [min, max] with 1 <= min <= max, got {[lo, hi]}")
        size = list(self.occlusion_size)
        if not 0.0 < size[0] <= size[1] <= 1.0:
            raise ValueError(f"augment.occlusion_size must be [min, max] within (0, 1], got {size}")
        if not 0.0 <= self.grayscale_prob <= 1.0:
            raise ValueError(f"augment.grayscale_prob must be within 0..1, got {self.grayscale_prob}")
        if not 0.0 <= self.color_prob <= 1.0:
            raise ValueError(f"augment.color_prob must be within 0..1, got {self.color_prob}")
        for key in ("color_brightness", "color_saturation"):
            lo, hi = getattr(self, key)
            if not 0.0 <= lo <= hi:
                raise ValueError(f"augment.{key} must be [min, max] with 0 <= min <= max, got {[lo, hi]}")
        if not 0.0 <= self.color_hue <= 0.5:
            raise ValueError(f"augment.color_hue is a fraction of the hue circle within 0..0.5, got {self.color_hue}")
        if not 0.0 <= self.truncation_prob <= 1.0:
            raise ValueError(f"augment.truncation_prob must be within 0..1, got {self.truncation_prob}")
        keep = list(self.truncation_keep)
        if not 0.0 < keep[0] <= keep[1] < 1.0:
            raise ValueError(f"augment.truncation_keep must be [min, max] within (0, 1), got {keep}")
        sides = list(self.truncation_sides)
        if len(sides) != 4 or min(sides) < 0 or sum(sides) <= 0:
            raise ValueError(f"augment.truncation_sides must be 4 non-negative weights (bottom, top, left, right), "
                             f"got {sides}")  # fmt: skip


def box_to_center_scale(bbox, aspect: float, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """x, y, w, h box -> centre and (w, h) in pixels, grown to the input aspect ratio (w / h) and padded."""
    x, y, w, h = (float(v) for v in bbox)
    center = np.array([x + w * 0.5, y + h * 0.5], np.float32)
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    return center, np.array([w * padding, h * padding], np.float32)


def warp_matrix(center, scale, rotation: float, output_size: tuple[int, int]) -> np.ndarray:
    """2x3 affine (UDP) taking image pixels to crop pixels: the box centre goes to the crop centre
    ((W-1)/2, (H-1)/2) and the box width spans W-1 pixel steps; rotation in degrees, counter-clockwise."""
    out_w, out_h = output_size
    s = (out_w - 1) / float(scale[0])
    a = math.radians(rotation)
    cos, sin = math.cos(a) * s, math.sin(a) * s
    cx, cy = float(center[0]), float(center[1])
    return np.array(
        [
            [cos, sin, (out_w - 1) / 2 - cos * cx - sin * cy],
            [-sin, cos, (out_h - 1) / 2 + sin * cx - cos * cy],
        ],
        np.float32,
    )


def flip_matrix(output_size: tuple[int, int]) -> np.ndarray:
    """Horizontal mirror of the crop: x -> (W - 1) - x."""
    return np.array([[-1, 0, output_size[0] - 1], [0, 1, 0]], np.float32)


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Affine `a` after `b` (both 2x3)."""
    a3 = np.vstack([a, [0, 0, 1]])
    b3 = np.vstack([b, [0, 0, 1]])
    return (a3 @ b3)[:2].astype(np.float32)


def invert(m: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(m.astype(np.float64)).astype(np.float32)


def transform_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to (..., 2) points."""
    return points @ m[:, :2].T + m[:, 2]


def crop_zoom(m: np.ndarray) -> float:
    """Crop pixels per image pixel (the affine's linear scale; rotation and flip leave it unchanged)."""
    return math.sqrt(abs(float(np.linalg.det(m[:, :2].astype(np.float64)))))


def crop(img: np.ndarray, m: np.ndarray, output_size: tuple[int, int], antialias: bool = True) -> np.ndarray:
    """Warp `img` by the 2x3 affine `m` into an output_size (W, H) crop, zeros outside the image.

    A bilinear warp reads 4 pixels per output pixel, so shrinking a large person (a 800-px-tall one into a
    192-px crop) point-samples it: fine texture and sensor noise alias into the crop instead of averaging out,
    which a model trained on small (upsampled) people has never seen. With `antialias` (the default, shared by
    training, evaluation, inference and the benchmark) a shrinking crop warps a low-passed copy of the region it
    reads instead (`low_passed_region`). Crops that keep or enlarge the image are the plain warp, bit for bit."""
    zoom = crop_zoom(m)
    if antialias and zoom < 1.0:
        img, m = low_passed_region(img, m, output_size, zoom)
    return cv2.warpAffine(img, m, output_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


def normalize(img: np.ndarray) -> np.ndarray:
    """RGB uint8 HxWx3 -> float32 (3, H, W), ImageNet mean/std (what timm backbones expect). numpy, so the
    deployed path (an ONNX model in ONNX Runtime) needs no torch."""
    return ((img.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1).copy()


def crop_person(image: np.ndarray, box, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The test-time input for one person: the box (x, y, w, h) grown to the input's aspect with the standard
    1.25 padding, warped to `size` (W, H) and normalised (3, H, W); returns it with its 2x3 crop matrix (for
    decoding)."""
    center, scale = box_to_center_scale(np.asarray(box, np.float32)[:4], size[0] / size[1])
    m = warp_matrix(center, scale, 0.0, size)
    return normalize(crop(image, m, size)), m


def pixel_bounds(points: np.ndarray, shape: tuple[int, ...], pad: int = 0) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1: the pixel window (end exclusive, clipped to an image of `shape`) that holds every (x, y) of
    `points` and `pad` pixels more on each side; it may be empty where the points lie outside the image."""
    x0 = max(int(math.floor(points[:, 0].min())) - pad, 0)
    y0 = max(int(math.floor(points[:, 1].min())) - pad, 0)
    x1 = min(int(math.ceil(points[:, 0].max())) + pad + 1, shape[1])
    y1 = min(int(math.ceil(points[:, 1].max())) + pad + 1, shape[0])
    return x0, y0, x1, y1


def low_passed_region(
    img: np.ndarray, m: np.ndarray, output_size: tuple[int, int], zoom: float
) -> tuple[np.ndarray, np.ndarray]:
    """The part of `img` a shrinking crop (zoom < 1) reads, low-passed, with the affine that warps it to the same
    crop: one Gaussian-pyramid level (OpenCV's pyrDown) per halving, then a Gaussian of sigma (1/zoom' - 1) / 2
    for the remaining zoom' in (0.5, 1] (skimage's rescale rule). The pyramid keeps it cheap (~1.5 ms for an
    800-px person, against ~6 ms for one wide Gaussian). A crop (almost) wholly outside the image gets `img`
    and `m` back unchanged."""
    w, h = output_size
    corners = transform_points(np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], np.float32), invert(m))
    pad = int(math.ceil(5.0 / zoom))  # the filters' reach (pyramid ~2/zoom, Gaussian ~1.5/zoom) + bilinear
    x0, y0, x1, y1 = pixel_bounds(corners, img.shape, pad)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return img, m
    region = np.ascontiguousarray(img[y0:y1, x0:x1])  # filter only what the warp reads
    levels = min(int(math.floor(math.log2(1.0 / zoom))), int(math.log2(min(region.shape[:2]))))
    for _ in range(levels):
        region = cv2.pyrDown(region)  # pixel i of a level sits on pixel 2i of the one above
    sigma = 0.5 * (1.0 / (zoom * 2**levels) - 1.0)
    if sigma > 0.01:
        region = cv2.GaussianBlur(region, (0, 0), sigma)
    f = 0.5**levels
    to_region = np.array([[f, 0, -x0 * f], [0, f, -y0 * f]], np.float32)  # image pixel -> filtered-region pixel
    return region, compose(m, invert(to_region))


def half_body(keypoints: np.ndarray, spec: KeypointSpec, aspect: float, rng: np.random.Generator):
    """Centre and scale of the upper or lower body alone (a common augmentation), or None if too few joints."""
    vis = keypoints[:, 2] > 0
    upper = np.array([any(w in n for w in UPPER_BODY_WORDS) for n in spec.names])
    part = upper if rng.random() < 0.5 else ~upper
    chosen = keypoints[vis & part, :2]
    if len(chosen) < 2:
        chosen = keypoints[vis & ~part, :2]
    if len(chosen) < 2:
        return None
    (x1, y1), (x2, y2) = chosen.min(0), chosen.max(0)
    center, scale = box_to_center_scale([x1, y1, x2 - x1, y2 - y1], aspect, padding=1.5)
    return center, scale


def sample_augmentation(
    center: np.ndarray,
    scale: np.ndarray,
    keypoints: np.ndarray,
    spec: KeypointSpec,
    aspect: float,
    cfg: AugmentConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Draw one training augmentation: (centre, scale, rotation degrees, flip)."""
    if (keypoints[:, 2] > 0).sum() >= cfg.half_body_min_keypoints and rng.random() < cfg.half_body_prob:
        hb = half_body(keypoints, spec, aspect, rng)
        if hb is not None:
            center, scale = hb
    center = center + rng.uniform(-cfg.shift, cfg.shift, 2).astype(np.float32) * scale
    scale = scale * np.float32(rng.uniform(*cfg.scale))
    rotation = float(rng.uniform(-cfg.rotation, cfg.rotation)) if rng.random() < cfg.rotation_prob else 0.0
    flip = bool(rng.random() < cfg.flip_prob)
    return center.astype(np.float32), scale.astype(np.float32), rotation, flip


def color_jitter(img: np.ndarray, brightness: float, saturation: float, hue: float) -> np.ndarray:
    """RGB uint8 with every channel scaled by `brightness`, the colours pushed from (or toward) the pixel's luma by
    `saturation` (0: grey, 1: as is), and the hue turned by `hue` of the circle (torchvision's ColorJitter, in this
    order); values clipped to 0..255."""
    x = img.astype(np.float32) * brightness
    luma = x @ np.float32([0.299, 0.587, 0.114])
    x = luma[..., None] + saturation * (x - luma[..., None])
    out = np.clip(x, 0, 255).round().astype(np.uint8)
    if hue:
        hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV)  # H in 0..179
        hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + round(hue * 180)) % 180).astype(np.uint8)
        out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return out


def sample_color_jitter(img: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """`color_jitter` with factors drawn from `cfg`'s ranges."""
    brightness = float(rng.uniform(*cfg.color_brightness))
    saturation = float(rng.uniform(*cfg.color_saturation))
    hue = float(rng.uniform(-cfg.color_hue, cfg.color_hue))
    return color_jitter(img, brightness, saturation, hue)


def occlude(
    img: np.ndarray, m: np.ndarray, output_size: tuple[int, int], cfg: AugmentConfig, rng: np.random.Generator
) -> np.ndarray:
    """A copy of `img` with occluders where the crop `m` will see them: rectangles drawn in crop pixels (uniform
    position, each side a uniform fraction of the crop's), mapped into the image by the inverse matrix, filled
    half the time with a patch of the same image from elsewhere (texture, sometimes another person, as in a crowd)
    and otherwise with one random colour. Keypoint labels are kept: the model learns to place hidden joints, as
    COCO's annotations of occluded joints ask. Drawn on the full image, before the LQ member is made, so the
    teacher's crop and the student's degraded one show the same occluder."""
    out = img.copy()
    w, h = output_size
    back = invert(m)
    for _ in range(int(rng.integers(cfg.occlusion_holes[0], cfg.occlusion_holes[1] + 1))):
        ow, oh = (rng.uniform(*cfg.occlusion_size, 2) * (w, h)).astype(np.float32)
        x, y = rng.uniform(0, w - ow), rng.uniform(0, h - oh)
        corners = np.array([[x, y], [x + ow, y], [x + ow, y + oh], [x, y + oh]], np.float32)
        poly = transform_points(corners, back)
        x0, y0, x1, y1 = pixel_bounds(poly, img.shape)
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue  # the occluder falls outside the image (crop padding)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round(poly - (x0, y0)).astype(np.int32), 1)
        inside = mask.astype(bool)
        if rng.random() < 0.5:
            sy = int(rng.integers(0, img.shape[0] - (y1 - y0) + 1))
            sx = int(rng.integers(0, img.shape[1] - (x1 - x0) + 1))
            out[y0:y1, x0:x1][inside] = img[sy : sy + y1 - y0, sx : sx + x1 - x0][inside]
        else:
            out[y0:y1, x0:x1][inside] = rng.integers(0, 256, img.shape[2], dtype=np.uint8)
    return out


@dataclass(frozen=True)
class Truncation:
    """An image edge through a person's box: `axis` 0 cuts along x (left/right), 1 along y (top/bottom); pixels
    with coordinate `>= at` (`keep_low`) or `< at` are outside the frame."""

    axis: int
    at: float
    keep_low: bool

    def outside(self, points: np.ndarray) -> np.ndarray:
        v = points[:, self.axis]
        return v >= self.at if self.keep_low else v < self.at

    def blank(self, img: np.ndarray) -> np.ndarray:
        """A copy with the part beyond the edge zero, as a crop pads outside the image."""
        out = img.copy()
        cut = int(math.ceil(self.at))
        index = [slice(None)] * 2
        index[1 - self.axis] = slice(max(cut, 0), None) if self.keep_low else slice(0, max(cut, 0))
        out[tuple(index)] = 0
        return out

    def clip_box(self, bbox) -> list[float]:
        """The part of an x, y, w, h box left inside the frame: the box an annotator draws around what is seen."""
        lo, size = float(bbox[self.axis]), float(bbox[self.axis + 2])
        if self.keep_low:
            lo2, hi2 = lo, min(lo + size, self.at)
        else:
            lo2, hi2 = max(lo, self.at), lo + size
        box = [float(v) for v in bbox]
        box[self.axis], box[self.axis + 2] = lo2, hi2 - lo2
        return box


def sample_truncation(bbox, keypoints: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator):
    """Draw an image edge that cuts the person (COCO's people are often cut by the frame at the waist or knees;
    LSPET's almost never), keeping `truncation_keep` of the box along the cut axis, or None when fewer than three
    labelled joints would stay in the frame. Joints beyond the edge become unlabelled, as in COCO."""
    weights = np.asarray(cfg.truncation_sides, np.float64)
    side = int(rng.choice(4, p=weights / weights.sum()))  # bottom, top, left, right
    axis = 1 if side < 2 else 0
    lo, size = float(bbox[axis]), float(bbox[axis + 2])
    keep = float(rng.uniform(*cfg.truncation_keep))
    keep_low = side in (0, 3)  # a bottom or right edge keeps the low coordinates
    at = lo + keep * size if keep_low else lo + (1.0 - keep) * size
    cut = Truncation(axis, at, keep_low)
    labelled = keypoints[:, 2] > 0
    if (labelled & ~cut.outside(keypoints[:, :2])).sum() < 3:
        return None
    return cut
