"""EXIF orientation: inference reads photos upright, as a viewer shows them; datasets keep the stored pixel grid."""

import json
import logging

import numpy as np
import pytest
from PIL import Image, ImageOps

import lqpose
from lqpose.cli import main
from lqpose.demo import DEMO_PHOTOS
from lqpose.imageio import exif_orientation, read_rgb


def save_with_orientation(path, rgb: np.ndarray, orientation: int) -> None:
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(path, exif=exif)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_upright_reading_matches_pillows_exif_transpose_for_all_eight_orientations(tmp_path, small_image, suffix):
    for orientation in range(1, 9):
        path = tmp_path / f"o{orientation}{suffix}"
        save_with_orientation(path, small_image, orientation)
        with Image.open(path) as im:
            stored = np.asarray(im.convert("RGB"))
            viewed = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        assert exif_orientation(path) == orientation == exif_orientation(path.read_bytes())
        atol = 0 if suffix == ".png" else 2  # Pillow's and OpenCV's JPEG decoders may round differently
        np.testing.assert_allclose(read_rgb(path, upright=True), viewed, atol=atol, rtol=0)
        np.testing.assert_allclose(read_rgb(path), stored, atol=atol, rtol=0)  # datasets: the grid annotations use
        assert read_rgb(path, upright=True).shape[:2] == (small_image.shape[:2][::-1] if orientation >= 5
                                                          else small_image.shape[:2])  # fmt: skip


def test_no_or_broken_exif_means_as_stored(tmp_path, small_image):
    plain = tmp_path / "plain.png"
    Image.fromarray(small_image).save(plain)
    assert exif_orientation(plain) == 1 and exif_orientation(b"not an image") == 1
    np.testing.assert_array_equal(read_rgb(plain, upright=True), small_image)
    odd = tmp_path / "odd.png"  # a tag outside 1-8 is ignored, as viewers do
    save_with_orientation(odd, small_image, 9)
    assert exif_orientation(odd) == 1
    np.testing.assert_array_equal(lqpose.read_image(odd), small_image)


def test_infer_reads_a_sideways_stored_portrait_upright(astronaut, tmp_path, capsys):
    """A phone stores a portrait shot on its side with orientation 6 (turn 90 degrees clockwise to view): `lqpose
    infer` finds the same pose as on the upright file, in the upright frame, and records the tag."""
    x, y, w, h = (int(v) for v in DEMO_PHOTOS["astronaut"][1])
    portrait = np.ascontiguousarray(astronaut[y : y + h, x : x + w])  # 500 tall, 350 wide
    upright_dir, sideways_dir = tmp_path / "upright", tmp_path / "sideways"
    upright_dir.mkdir()
    sideways_dir.mkdir()
    Image.fromarray(portrait).save(upright_dir / "astronaut.png")
    save_with_orientation(sideways_dir / "astronaut.png", np.ascontiguousarray(np.rot90(portrait)), 6)
    for folder in (upright_dir, sideways_dir):
        assert main(["infer", str(folder), "--out", str(tmp_path / f"out_{folder.name}")]) == 0
    capsys.readouterr()
    results = {k: json.loads((tmp_path / f"out_{k}" / "results.json").read_text()) for k in ("upright", "sideways")}
    images = json.loads((tmp_path / "out_sideways" / "images.json").read_text())
    assert images == [{"id": 0, "file_name": "astronaut.png", "width": 350, "height": 500, "exif_orientation": 6}]
    assert "exif_orientation" not in json.loads((tmp_path / "out_upright" / "images.json").read_text())[0]
    assert results["sideways"] == results["upright"]
    head = np.asarray(results["sideways"][0]["keypoints"]).reshape(-1, 3)[lqpose.load().spec.names.index("head")]
    assert 130 <= head[0] <= 280 and head[1] <= 140  # her face, about (205, 80) in the upright crop


def test_degrade_keeps_the_stored_grid_and_records_the_orientation(tmp_path, small_image, caplog):
    src = tmp_path / "in"
    src.mkdir()
    save_with_orientation(src / "turned.png", small_image, 8)
    Image.fromarray(small_image).save(src / "plain.png")
    with caplog.at_level(logging.WARNING):
        assert main(["degrade", str(src), str(tmp_path / "out"), "--type", "jpeg", "--severity", "1"]) == 0
    assert "1 image(s) carry an EXIF orientation" in caplog.text
    assert read_rgb(tmp_path / "out" / "turned.png").shape == small_image.shape  # not turned
    params = json.loads((tmp_path / "out" / "degrade_params.json").read_text())["images"]
    assert params["turned.png"]["exif_orientation"] == 8 and "exif_orientation" not in params["plain.png"]


def test_a_png_without_exif_in_its_header_is_not_decoded_to_look_for_one(tmp_path, small_image, monkeypatch):
    """Pillow decodes a whole PNG to look for an eXIf chunk after the pixels (7 ms a 768x576 frame, twice per image
    in `lqpose infer` on a folder); writers put it before them, where the header read finds it."""
    from PIL import PngImagePlugin

    loads = []
    real_load = PngImagePlugin.PngImageFile.load
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", lambda self: loads.append(1) or real_load(self))
    plain, turned = tmp_path / "plain.png", tmp_path / "turned.png"
    Image.fromarray(small_image).save(plain)
    save_with_orientation(turned, small_image, 6)
    loads.clear()
    assert exif_orientation(plain) == 1 and exif_orientation(turned) == 6
    assert loads == []
