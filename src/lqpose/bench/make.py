"""`lqpose make-bench`: deterministic LQ versions of a keypoint dataset.

Layout of OUT: clean/, <type>/<severity>/, mixed/<i>/ (each image its own camera-pipeline chain) and, for
ExLPose-style real captures, real/ — every split holds the same file stems as lossless PNG (compression
types carry their codec's artefacts inside the PNG, nothing more). OUT/ground_truth.json is the ground truth
in COCO format with those file names; OUT/manifest.json records the lqpose version, the seed, every
parameter drawn per image and the sha256 of every file, so anyone can verify or rebuild the benchmark.

Per-image seeds come from (seed, file stem, type, severity): the build is identical for any number of
workers and in any order. An interrupted build resumes: files recorded in OUT/.progress.jsonl whose hash
still matches are kept; every file is written to a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import __version__
from ..data.readers import PoseSet, images_by_id
from ..degrade import (
    DEGRADATIONS,
    IMAGECORRUPTIONS,
    degrade_with_params,
    get_spec,
    image_seed,
    replay_chain,
    sample_camera_chain,
)
from ..degrade.corruptions import require_imagecorruptions
from ..files import atomic_write_bytes, folder_lock, write_json
from ..imageio import encode_image, read_rgb
from ..metrics.coco import to_coco_gt

log = logging.getLogger(__name__)
PROGRESS = ".progress.jsonl"


@dataclass(frozen=True)
class Split:
    key: str  # "clean", "motion_blur/3", "mixed/0", "real"
    kind: str  # clean | type | mixed | real
    name: str = ""
    severity: int = 0

    @property
    def folder(self) -> str:
        return self.key


def plan_splits(types: list[str], severities: list[int], mixed: int, real: bool) -> list[Split]:
    if real:
        return [Split("real", "real")]
    splits = [Split("clean", "clean")]
    splits += [Split(f"{t}/{s}", "type", t, s) for t in types for s in severities]
    splits += [Split(f"mixed/{i}", "mixed", "mixed", i) for i in range(mixed)]
    return splits


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _render(img: np.ndarray, split: Split, stem: str, seed: int) -> tuple[np.ndarray, dict]:
    if split.kind in ("clean", "real"):
        return img, {}
    if split.kind == "mixed":
        s = image_seed(seed, stem, "mixed", split.severity)
        ops = sample_camera_chain(img.shape, np.random.default_rng(s))
        return replay_chain(img, ops), {"seed": s, "ops": ops}
    s = image_seed(seed, stem, split.name, split.severity)
    out, params = degrade_with_params(img, split.name, split.severity, s)
    return out, {"seed": s, "params": params}


def _work(task: tuple) -> list[dict]:
    """One source image -> every split's file (skipping those already verified)."""
    src, stem, splits, out_dir, seed, done = task
    out_dir = Path(out_dir)
    entries = []
    img = None
    for split in splits:
        path = out_dir / split.folder / f"{stem}.png"
        recorded = done.get(split.key)
        if recorded and path.is_file() and sha256_file(path) == recorded["sha256"]:
            continue
        if img is None:
            img = read_rgb(src)
        out, params = _render(img, split, stem, seed)
        data = encode_image(out, ".png")
        atomic_write_bytes(path, data)
        entries.append({"split": split.key, "file": path.name, "sha256": hashlib.sha256(data).hexdigest(), **params})
    return entries


def make_bench(
    gt: PoseSet,
    out: str | Path,
    dataset: str,
    types: list[str] | None = None,
    severities: list[int] | None = None,
    mixed: int = 0,
    seed: int = 0,
    workers: int = 1,
    progress: bool = True,
    images_dir: str | Path | None = None,
) -> dict:
    """Build (or finish building) the benchmark; returns the manifest."""
    out = Path(out)
    real = dataset == "exlpose"
    types = list(DEGRADATIONS) if types is None else types
    for t in types:
        try:
            get_spec(t)
        except ValueError as e:
            raise ValueError(f"{e}; see `lqpose degrade --list`") from None
    if any(t in IMAGECORRUPTIONS for t in types):
        require_imagecorruptions()  # before any image is written, not in the first worker
    severities = [1, 2, 3, 4, 5] if severities is None else severities
    if any(s not in (1, 2, 3, 4, 5) for s in severities) or (types and not severities):
        raise ValueError(f"severities must be within 1..5, got {severities}")
    if mixed < 0:
        raise ValueError(f"mixed is a number of mixed camera-pipeline splits, >= 0; got {mixed}")
    if not types and not mixed and not real:
        raise ValueError("nothing to degrade: give at least one degradation type or mixed split")
    splits = plan_splits(types, severities, mixed, real)
    by_id = images_by_id(gt, images_dir)
    images = {}  # stem -> source path, one per image of the ground truth
    for path in by_id.values():
        stem = Path(path).stem
        if images.setdefault(stem, path) != path:
            raise ValueError(f"two images share the file stem {stem!r}; stems must be unique in a benchmark")
    missing = [p for p in images.values() if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: no such image ({len(missing)} missing in all)")
    with folder_lock(out):  # one build per folder: a second process waits, then verifies what the first wrote
        for stale in out.rglob(".*.tmp"):  # temporary files of a killed build: never a finished file
            stale.unlink()
        progress_path = out / PROGRESS
        done: dict[str, dict[str, dict]] = {}
        manifest_path = out / "manifest.json"
        if manifest_path.is_file() and not progress_path.is_file():  # a finished build: verify it, rebuild nothing
            try:
                old = json.loads(manifest_path.read_text())
                if old.get("seed") == seed and old.get("format") == 1:  # another seed draws other parameters
                    for key, files in old.get("splits", {}).items():
                        for name, entry in files.items():
                            done.setdefault(name, {})[key] = {**entry, "split": key, "file": name}
            except (json.JSONDecodeError, AttributeError):
                done = {}  # an unreadable manifest: rebuild
        if progress_path.is_file():
            for line in progress_path.read_text().splitlines():
                try:
                    e = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a kill
                done.setdefault(e["file"], {})[e["split"]] = e
        tasks = [
            (src, stem, splits, str(out), seed, done.get(f"{stem}.png", {})) for stem, src in sorted(images.items())
        ]
        with open(progress_path, "a") as log_file:

            def record(entries):
                for e in entries:
                    log_file.write(json.dumps(e, sort_keys=True) + "\n")
                    done.setdefault(e["file"], {})[e["split"]] = e
                log_file.flush()
                os.fsync(log_file.fileno())

            bar = tqdm(total=len(tasks), desc="make-bench", unit="img", disable=not progress)
            if workers > 1:
                with get_context("spawn").Pool(workers) as pool:
                    for entries in pool.imap_unordered(_work, tasks):
                        record(entries)
                        bar.update(1)
            else:
                for task in tasks:
                    record(_work(task))
                    bar.update(1)
            bar.close()

        gt_doc = to_coco_gt(gt)
        for img in gt_doc["images"]:
            img["file_name"] = f"{Path(by_id[img['id']]).stem}.png"
            img["crowdIndex"] = gt.images[img["id"]].get("crowd_index", 0.0)
        for ann, inst in zip(gt_doc["annotations"], gt.instances, strict=True):
            if "head_size" in inst.extra:
                ann["head_size"] = inst.extra["head_size"]
        gt_doc["lqpose_kind"] = gt.kind
        gt_bytes = (json.dumps(gt_doc, sort_keys=True) + "\n").encode()
        atomic_write_bytes(out / "ground_truth.json", gt_bytes)
        manifest = {
            "lqpose_version": __version__,
            "format": 1,
            "dataset": dataset,
            "keypoints": gt.spec.name,
            "source_annotations": {"name": Path(gt.source).name, "sha256": sha256_file(Path(gt.source))},
            "seed": seed,
            "types": types if not real else [],
            "severities": severities if not real else [],
            "mixed": mixed if not real else 0,
            "storage": "PNG (lossless)",
            "ground_truth": {"file": "ground_truth.json", "sha256": hashlib.sha256(gt_bytes).hexdigest()},
            "splits": {
                s.key: {f"{stem}.png": _strip(done[f"{stem}.png"][s.key]) for stem in sorted(images)} for s in splits
            },
        }
        write_json(out / "manifest.json", manifest)
        progress_path.unlink()
        return manifest


def _strip(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k not in ("split", "file")}


def verify_bench(out: str | Path) -> list[str]:
    """Files whose sha256 differs from the manifest (or that are missing); empty when the bench is intact."""
    out = Path(out)
    manifest = json.loads((out / "manifest.json").read_text())
    bad = []
    for key, files in manifest["splits"].items():
        for name, entry in files.items():
            path = out / key / name
            if not path.is_file() or sha256_file(path) != entry["sha256"]:
                bad.append(f"{key}/{name}")
    return bad
