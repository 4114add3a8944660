"""Degrade an image file or a folder of images on disk (the `lqpose degrade` command).

Outputs keep the input's file stem and are stored as lossless PNG (so no type silently gains JPEG
artefacts, the COCO-C pitfall); `keep_ext=True` keeps the original extension instead. A params JSON beside
the output records the per-image seed and every parameter drawn, enough to rebuild each image exactly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .. import __version__
from ..files import write_json
from ..imageio import IMAGE_EXTENSIONS, exif_orientation, image_files, is_image_path, read_images, read_rgb, write_image
from .chain import ChainConfig, random_chain_with_params
from .registry import check_severity, degrade_with_params, get_spec, image_seed

log = logging.getLogger(__name__)
CHAIN = "chain"


def degrade_one(img, name: str, severity: int | None, seed: int, chain_config: ChainConfig | None = None):
    """Degrade one array with a named type, or with the random chain when `name == "chain"`."""
    if name == CHAIN:
        return random_chain_with_params(img, seed, chain_config)
    return degrade_with_params(img, name, severity, seed)


def _output_name(src: Path, keep_ext: bool) -> str:
    return src.name if keep_ext else src.stem + ".png"


def degrade_path(
    src: str | Path,
    dst: str | Path,
    name: str,
    severity: int | None,
    seed: int = 0,
    chain_config: ChainConfig | None = None,
    keep_ext: bool = False,
    progress: bool = True,
) -> dict:
    """Degrade `src` (an image or a folder of images) into `dst`; return the params record that was written.

    For a single image, `dst` is the output file when it has an image extension, else a folder. For a
    folder, `dst` is a folder; unreadable images are skipped, counted and logged, and the run fails only
    when nothing could be written.
    """
    src, dst = Path(src), Path(dst)
    if name != CHAIN:
        get_spec(name)
        check_severity(severity)
    elif chain_config is not None:
        chain_config.validate()
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such file or folder")
    if src.is_dir():
        files = image_files(src)
        if not files:
            raise ValueError(f"{src}: folder holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        if dst.exists() and not dst.is_dir():
            raise NotADirectoryError(f"{dst}: exists and is not a folder")
        outputs = {p: dst / _output_name(p, keep_ext) for p in files}
        params_path = dst / "degrade_params.json"
    else:
        read_rgb(src)  # fail early, with the file's name, on a missing or unreadable input
        files = [src]
        out = dst if is_image_path(dst) else dst / _output_name(src, keep_ext)
        outputs = {src: out}
        params_path = out.with_name(out.stem + ".params.json")

    for path, out in outputs.items():
        if out.resolve() == path.resolve():  # the degraded image would replace the only clean copy
            raise ValueError(f"{out}: would overwrite its input image; write the degraded images elsewhere")
    record = {
        "lqpose_version": __version__,
        "type": name,
        "severity": severity if name != CHAIN else None,
        "seed": seed,
        "images": {},
        "skipped": {},
    }
    for _, path, img in read_images(files, record["skipped"], f"degrade {name}", progress):
        per_image = image_seed(seed, path.name, name, severity if name != CHAIN else CHAIN)
        out_img, params = degrade_one(img, name, severity, per_image, chain_config)
        write_image(outputs[path], out_img)
        record["images"][path.name] = {"output": outputs[path].name, "seed": per_image, "params": params}
        orientation = exif_orientation(path)
        if orientation != 1:  # kept out of the output, which stays on the stored grid that annotations refer to
            record["images"][path.name]["exif_orientation"] = orientation
    if not record["images"]:
        raise ValueError(f"{src}: none of the {len(files)} images could be read")
    if record["skipped"]:
        log.warning("skipped %d unreadable image(s) of %d in %s", len(record["skipped"]), len(files), src)
    turned = sum("exif_orientation" in r for r in record["images"].values())
    if turned:
        log.warning("%s: %d image(s) carry an EXIF orientation; their degraded copies keep the stored pixel grid "
                    "(which annotations refer to) and no EXIF, so viewers show them turned", src, turned)  # fmt: skip
    write_json(params_path, record)
    return record
