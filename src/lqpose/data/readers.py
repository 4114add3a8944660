"""Readers: COCO-format keypoint json (COCO, CrowdPose, OCHuman, ExLPose, PoseTrack, HumanArt, custom),
MPII json (center/scale/joints) and detection results, all into `Instance` records.

Annotation files name images in many ways ("x.jpg", "images/val/x.jpg", "HumanArt/images/..."): the image
is looked up under `images_dir` by the full relative name, then by dropping leading folders.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..keypoints import MPII16, KeypointSpec, get_spec, spec_from_names
from .records import Instance, clip_box

log = logging.getLogger(__name__)


@dataclass
class PoseSet:
    """A dataset: its keypoint layout, its people, and its images (id -> file name, width, height, extras)."""

    spec: KeypointSpec
    instances: list[Instance]
    images: dict[int, dict]
    source: str = ""
    kind: str = "coco"  # "coco" (OKS AP) or "mpii" (PCKh)
    skipped: dict[str, int] = field(default_factory=dict)

    def trainable(self) -> list[Instance]:
        return [i for i in self.instances if i.trainable]

    def only_joints(self, names: list[str]) -> PoseSet:
        """A copy scored on `names` alone: every other joint unlabelled, and people left with no labelled joint
        dropped (COCO-MINI's 12 limb joints for an LSPET model, which has no face joints to be scored on)."""
        missing = [n for n in names if n not in self.spec.names]
        if missing:
            raise ValueError(f"{self.source or 'the set'}: no joint named {', '.join(missing)} in {self.spec.name!r}")
        drop = [j for j, n in enumerate(self.spec.names) if n not in names]
        kept = []
        for inst in self.instances:
            k = inst.keypoints.copy()
            k[drop] = 0
            if (k[:, 2] > 0).any():
                kept.append(dataclasses.replace(inst, keypoints=k))
        return dataclasses.replace(self, instances=kept)


def load_json(path: Path, what: str = "annotation file"):
    """A json file's content, or a one-line error naming the file: missing, or not valid JSON (and where)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


def resolve_image(images_dir: Path, file_name: str) -> Path:
    parts = Path(file_name).parts
    for i in range(len(parts)):
        candidate = images_dir.joinpath(*parts[i:])
        if candidate.is_file():
            return candidate
    return images_dir / file_name


def images_by_id(gt: PoseSet, images_dir: str | Path | None = None) -> dict[int, str]:
    """Every image of the ground truth (annotated or not) -> its source file."""
    out: dict[int, str] = {}
    for inst in gt.instances:
        out.setdefault(inst.image_id, inst.image_path)
    root = Path(images_dir) if images_dir else Path(gt.source).parent
    for image_id, info in gt.images.items():
        if image_id not in out:
            out[image_id] = str(resolve_image(root, info["file_name"]))
    return out


def read_coco(ann_file: str | Path, images_dir: str | Path | None = None, spec: KeypointSpec | None = None) -> PoseSet:
    """Read a COCO-style keypoint json. The layout comes from the person category's keypoint names unless
    given; CrowdPose-style `crowdIndex` per image is kept in `images[id]["crowd_index"]`."""
    ann_file = Path(ann_file)
    data = load_json(ann_file)
    if not isinstance(data, dict) or "annotations" not in data or "images" not in data:
        raise ValueError(f"{ann_file}: not a COCO-format keypoint file (needs 'images' and 'annotations')")
    images_dir = Path(images_dir) if images_dir is not None else ann_file.parent
    cats = [c for c in data.get("categories", []) if c.get("keypoints")]
    person = next((c for c in cats if c.get("name") == "person"), cats[0] if cats else None)
    if spec is None:
        if person is None:
            raise ValueError(f"{ann_file}: no category lists keypoint names; pass the keypoint layout")
        names = list(person["keypoints"])
        first = next((a["keypoints"] for a in data["annotations"] if a.get("keypoints")), None)
        if first is not None and len(first) != 3 * len(names) and len(first) % 3 == 0:
            # e.g. HumanArt: 21 names in the category, the 17 COCO ones in "keypoints"
            names = names[: len(first) // 3]
        spec = spec_from_names(
            names, None if len(names) != len(person["keypoints"]) else person.get("skeleton"), name=ann_file.stem
        )
    cat_id = person["id"] if person else 1
    images = {}
    for img in data["images"]:
        images[img["id"]] = {
            "file_name": img["file_name"],
            "width": int(img["width"]),
            "height": int(img["height"]),
            "crowd_index": float(img.get("crowdIndex", img.get("crowd_index", 0.0))),
        }
    instances, skipped = [], {"no_image": 0, "bad_keypoints": 0, "empty_box": 0}
    paths: dict[int, Path] = {}
    k = spec.num_keypoints
    for ann in data["annotations"]:
        if ann.get("category_id", cat_id) != cat_id:
            continue
        info = images.get(ann["image_id"])
        if info is None:
            skipped["no_image"] += 1
            continue
        kps = ann.get("keypoints")
        if kps is None or len(kps) != 3 * k:
            skipped["bad_keypoints"] += 1
            log.warning(
                "%s: annotation %s has %s keypoint values, expected %d; skipped",
                ann_file,
                ann.get("id"),
                None if kps is None else len(kps),
                3 * k,
            )
            continue
        kps = np.asarray(kps, np.float32).reshape(k, 3)
        kps[kps[:, 2] <= 0] = 0.0
        w, h = info["width"], info["height"]
        bbox = clip_box(ann.get("bbox") or _extent(kps), w, h)
        if bbox[2] < 1 or bbox[3] < 1:
            skipped["empty_box"] += 1
        if ann["image_id"] not in paths:
            paths[ann["image_id"]] = resolve_image(images_dir, info["file_name"])
        area = ann.get("area")
        if spec.oks_area_factor is not None or area is None:
            area = (spec.oks_area_factor or 1.0) * float(bbox[2] * bbox[3])
        instances.append(
            Instance(
                image_path=str(paths[ann["image_id"]]),
                image_id=int(ann["image_id"]),
                bbox=bbox,
                keypoints=kps,
                area=float(area),
                image_size=(w, h),
                ann_id=int(ann.get("id", len(instances))),
                iscrowd=int(bool(ann.get("iscrowd", 0))),
                extra={
                    "crowd_index": info["crowd_index"],
                    **({"head_size": float(ann["head_size"])} if "head_size" in ann else {}),
                },
            )
        )
    skipped = {k_: v for k_, v in skipped.items() if v}
    if skipped:
        log.warning("%s: skipped annotations %s", ann_file, skipped)
    kind = data.get("lqpose_kind", "coco")  # ground truth written by `lqpose make-bench` says what it scores
    return PoseSet(spec, instances, images, str(ann_file), kind, skipped)


def _extent(kps: np.ndarray, pad: float = 0.15) -> list[float]:
    vis = kps[kps[:, 2] > 0, :2]
    if len(vis) == 0:
        return [0, 0, 0, 0]
    (x1, y1), (x2, y2) = vis.min(0), vis.max(0)
    w, h = x2 - x1, y2 - y1
    return [x1 - pad * w, y1 - pad * h, w * (1 + 2 * pad), h * (1 + 2 * pad)]


def read_posetrack_folder(folder: str | Path, images_dir: str | Path) -> PoseSet:
    """PoseTrack18 ships one COCO-style json per video: read and concatenate them."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise ValueError(f"{folder}: no PoseTrack json files")
    sets = [read_coco(f, images_dir) for f in files]
    out = PoseSet(sets[0].spec, [], {}, str(folder), "coco")
    for s in sets:
        out.instances += s.instances
        out.images.update(s.images)
    return out


def read_mpii(ann_file: str | Path, images_dir: str | Path | None = None) -> PoseSet:
    """MPII json list (MMPose style): joints (16x2), joints_vis, center, scale (box side / 200 px), image.

    PCKh needs the head size: an entry's `headbox` [x1, y1, x2, y2] gives the official 0.6 x diagonal; without
    it lqpose uses 0.6 x sqrt(2) x the upper-neck-to-head-top distance (documented approximation)."""
    ann_file = Path(ann_file)
    data = load_json(ann_file)
    if not isinstance(data, list):
        raise ValueError(f"{ann_file}: expected an MPII json list of {{joints, joints_vis, center, scale, image}}")
    images_dir = Path(images_dir) if images_dir is not None else ann_file.parent
    instances, images = [], {}
    name_to_id: dict[str, int] = {}
    for n, entry in enumerate(data):
        try:
            joints = np.asarray(entry["joints"], np.float32).reshape(MPII16.num_keypoints, 2)
            vis = np.asarray(entry["joints_vis"], np.float32).reshape(-1)
            center = np.asarray(entry["center"], np.float32)
            scale = float(entry["scale"])
            image = entry["image"]
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"{ann_file}: entry {n} is not an MPII record ({e})") from None
        path = resolve_image(images_dir, image)
        image_id = name_to_id.setdefault(image, len(name_to_id))
        if image_id not in images:
            size = _image_size(path)
            images[image_id] = {"file_name": image, "width": size[0], "height": size[1], "crowd_index": 0.0}
        w, h = images[image_id]["width"], images[image_id]["height"]
        kps = np.concatenate([joints, (vis[:, None] > 0) * 2.0], axis=1).astype(np.float32)
        kps[kps[:, 2] == 0] = 0.0
        side = scale * 200.0
        bbox = clip_box([center[0] - side / 2, center[1] - side / 2, side, side], w, h)
        if "headbox" in entry:
            x1, y1, x2, y2 = entry["headbox"]
            head = 0.6 * float(np.hypot(x2 - x1, y2 - y1))  # the official MPII rule
        else:
            head = float(0.6 * np.sqrt(2) * np.linalg.norm(joints[9] - joints[8]))
        instances.append(
            Instance(
                str(path),
                image_id,
                bbox,
                kps,
                float(bbox[2] * bbox[3]),
                (w, h),
                ann_id=n,
                extra={"head_size": head, "center": center.tolist(), "scale": scale},
            )
        )
    return PoseSet(MPII16, instances, images, str(ann_file), "mpii")


def _image_size(path: Path) -> tuple[int, int]:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION) if path.is_file() else None
    if img is None:
        log.warning("%s: missing or unreadable; its size is unknown", path)
        return (0, 0)
    return img.shape[1], img.shape[0]


def read_detections(det_file: str | Path, gt: PoseSet, score_thr: float = 0.0) -> list[Instance]:
    """Person boxes from a COCO detection-results json (image_id, bbox, score[, category_id]) for top-down
    evaluation: one keypoint-less Instance per box scoring at least `score_thr`."""
    det_file = Path(det_file)
    dets = load_json(det_file, "detections file")
    if not isinstance(dets, list):
        raise ValueError(f"{det_file}: expected a list of detections")
    for i, d in enumerate(dets):
        if not isinstance(d, dict) or "image_id" not in d or not is_box(d.get("bbox")):
            raise ValueError(f"{det_file}: detection {i} needs image_id and bbox [x, y, w, h], got {d!r:.80}")
    by_image = {}
    for inst in gt.instances:
        by_image.setdefault(inst.image_id, inst.image_path)
    out, unknown, tiny = [], 0, 0
    k = gt.spec.num_keypoints
    for d in dets:
        if d.get("category_id", 1) != 1 or float(d.get("score", 1.0)) < score_thr:
            continue
        info = gt.images.get(d["image_id"])
        if info is None:
            unknown += 1
            continue
        path = by_image.get(d["image_id"]) or str(resolve_image(Path(gt.source).parent, info["file_name"]))
        bbox = clip_box(d["bbox"], info["width"], info["height"])
        if bbox[2] < 1 or bbox[3] < 1:  # under a pixel once inside the image: nothing to crop
            tiny += 1
            continue
        out.append(
            Instance(
                path,
                int(d["image_id"]),
                bbox,
                np.zeros((k, 3), np.float32),
                float(bbox[2] * bbox[3]),
                (info["width"], info["height"]),
                score=float(d.get("score", 1.0)),
            )
        )
    if unknown:
        log.warning("%s: %d detections name images that are not in the ground truth; skipped", det_file, unknown)
    if tiny:
        log.warning("%s: %d boxes are under a pixel wide or high inside their image; skipped", det_file, tiny)
    return out


def is_box(bbox) -> bool:
    """A COCO bbox: four finite numbers x, y, w, h."""
    return (isinstance(bbox, (list, tuple)) and len(bbox) == 4
            and all(isinstance(v, (int, float)) and np.isfinite(v) for v in bbox))  # fmt: skip


LSPET_TO_CROWDPOSE = (9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0, 13, 12)
LSPET_SPLITS = {"train": (1, 9000), "val": (9001, 9500), "test": (9501, 10000), "all": (1, 10000)}


def read_lspet(root: str | Path, split: str = "train", pad: float = 0.15) -> PoseSet:
    """LSP Extended (10,000 people, one per image) as CrowdPose-14 records.

    `joints.mat` holds joints 14x3x10000 (x, y, visible); invisible joints count as unlabelled. Boxes are the
    visible joints' extent padded by `pad` per side, clipped; OKS area = 0.53 w h (the CrowdPose rule).
    Split used by lqpose: train im00001-09000, val 09001-09500, test 09501-10000.
    """
    from scipy.io import loadmat

    from ..keypoints import CROWDPOSE14

    root = Path(root)
    if split not in LSPET_SPLITS:
        raise ValueError(f"LSPET split must be one of {', '.join(LSPET_SPLITS)}, got {split!r}")
    mat = root / "joints.mat"
    if not mat.is_file():
        raise FileNotFoundError(f"{mat}: no such file (LSPET's joints.mat)")
    joints = loadmat(str(mat))["joints"]
    if joints.shape[:2] != (14, 3):
        raise ValueError(f"{mat}: expected joints of shape 14x3xN, got {joints.shape}")
    first, last = LSPET_SPLITS[split]
    instances, images = [], {}
    for n in range(first, min(last, joints.shape[2]) + 1):
        path = root / "images" / f"im{n:05d}.jpg"
        w, h = _fast_image_size(path)
        j = joints[:, :, n - 1].astype(np.float32)[list(LSPET_TO_CROWDPOSE)]
        vis = (j[:, 2] > 0) & (j[:, 0] >= 0) & (j[:, 1] >= 0) & (j[:, 0] < w) & (j[:, 1] < h)
        kps = np.zeros((14, 3), np.float32)
        kps[vis, :2] = j[vis, :2]
        kps[vis, 2] = 2.0
        bbox = clip_box(_extent(kps, pad), w, h) if vis.any() else np.zeros(4, np.float32)
        images[n] = {"file_name": path.name, "width": w, "height": h, "crowd_index": 0.0}
        instances.append(Instance(str(path), n, bbox, kps, float(0.53 * bbox[2] * bbox[3]), (w, h), ann_id=n))
    return PoseSet(CROWDPOSE14, instances, images, str(mat), "coco")


def _fast_image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header only."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except Exception:  # noqa: BLE001 - fall back to a full decode (and its clear failure)
        return _image_size(path)


def load_poseset(fmt: str, ann: str, images: str, keypoints: str = "") -> PoseSet:
    """An annotated set by format, as configs and the CLI name it: 'coco' (any COCO-style json; `keypoints` names
    its layout when it is not COCO-17), 'mpii' (the MPII json list) or 'lspet' (`images` = the LSPET folder, `ann`
    = a split name, default train)."""
    if fmt == "mpii":
        return read_mpii(ann, images or None)
    if fmt == "lspet":
        return read_lspet(images, ann or "train")
    if fmt == "coco":
        return read_coco(ann, images or None, get_spec(keypoints) if keypoints else None)
    raise ValueError(f"data.format must be coco, mpii or lspet, got {fmt!r}")
