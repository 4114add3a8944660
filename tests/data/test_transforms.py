import numpy as np
import pytest

from lqpose.data.transforms import (
    AugmentConfig,
    box_to_center_scale,
    compose,
    crop,
    flip_matrix,
    invert,
    occlude,
    transform_points,
    warp_matrix,
)


def test_box_centre_maps_to_crop_centre_and_width_spans_the_crop():
    center, scale = box_to_center_scale([100, 50, 60, 200], aspect=192 / 256, padding=1.25)
    np.testing.assert_allclose(center, [130, 150])
    np.testing.assert_allclose(scale, [200 * 0.75 * 1.25, 250])
    m = warp_matrix(center, scale, 0.0, (192, 256))
    np.testing.assert_allclose(transform_points(center[None], m)[0], [95.5, 127.5], atol=1e-4)
    left = center - [scale[0] / 2, 0]
    np.testing.assert_allclose(transform_points(left[None], m)[0], [0, 127.5], atol=1e-4)


@pytest.mark.parametrize("rotation", [0.0, 30.0, -75.0])
@pytest.mark.parametrize("flip", [False, True])
def test_image_and_keypoints_move_together(rotation, flip):
    img = np.zeros((300, 400, 3), np.uint8)
    point = np.array([[231.0, 140.0]])
    img[139:142, 230:233] = 255
    m = warp_matrix(np.array([200.0, 150.0]), np.array([240.0, 320.0]), rotation, (192, 256))
    if flip:
        m = compose(flip_matrix((192, 256)), m)
    out = crop(img, m, (192, 256)).astype(np.float64).sum(2)
    ys, xs = np.mgrid[0 : out.shape[0], 0 : out.shape[1]]
    found = [(out * xs).sum() / out.sum(), (out * ys).sum() / out.sum()]
    np.testing.assert_allclose(found, transform_points(point, m)[0], atol=0.35)
    np.testing.assert_allclose(transform_points(transform_points(point, m), invert(m)), point, atol=1e-3)


def test_crop_that_keeps_or_enlarges_the_image_is_the_plain_warp():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (120, 90, 3), np.uint8)
    m = warp_matrix(np.array([45.0, 60.0]), np.array([72.0, 96.0]), 20.0, (144, 192))  # zoom 143/72 ~ 2
    np.testing.assert_array_equal(crop(img, m, (144, 192)), crop(img, m, (144, 192), antialias=False))


def test_shrinking_crop_averages_fine_texture_instead_of_aliasing_it():
    # A one-pixel checkerboard shrunk 5x: the plain warp's 4-pixel footprint leaves a beat pattern (std ~ 44),
    # a low-passed crop sees its mean grey.
    ys, xs = np.mgrid[0:1000, 0:800]
    img = np.repeat((((xs + ys) % 2) * 255).astype(np.uint8)[..., None], 3, 2)
    m = warp_matrix(np.array([400.0, 500.0]), np.array([719.0, 959.0]), 0.0, (144, 192))  # zoom 143/719 ~ 0.2
    plain = crop(img, m, (144, 192), antialias=False).astype(np.float64)
    smooth = crop(img, m, (144, 192)).astype(np.float64)
    assert plain.std() > 30
    assert abs(smooth.mean() - 127.5) < 2 and smooth.std() < 3


@pytest.mark.parametrize("rotation", [0.0, 35.0])
def test_shrinking_crop_keeps_points_where_the_matrix_puts_them(rotation):
    img = np.zeros((900, 700, 3), np.uint8)
    img[596:605, 196:205] = 255  # a 9-px dot centred on (200, 600), near the image's left edge
    m = warp_matrix(np.array([300.0, 450.0]), np.array([600.0, 800.0]), rotation, (144, 192))  # zoom ~ 0.24
    out = crop(img, m, (144, 192)).astype(np.float64).sum(2)
    ys, xs = np.mgrid[0 : out.shape[0], 0 : out.shape[1]]
    found = [(out * xs).sum() / out.sum(), (out * ys).sum() / out.sum()]
    np.testing.assert_allclose(found, transform_points(np.array([[200.0, 600.0]]), m)[0], atol=0.25)


def test_shrinking_crop_outside_the_image_is_zero():
    img = np.full((400, 300, 3), 200, np.uint8)
    m = warp_matrix(np.array([1500.0, 1500.0]), np.array([600.0, 800.0]), 0.0, (144, 192))
    assert not crop(img, m, (144, 192)).any()
    # the box spans x -> [0, 600] and y -> [-200, 600]: the image fills crop columns 0..71 and rows 48..143
    half = warp_matrix(np.array([300.0, 200.0]), np.array([600.0, 800.0]), 0.0, (144, 192))
    out = crop(img, half, (144, 192))
    assert out[56:136, :64].min() == 200  # a flat image stays flat under the blur
    assert not out[:, 80:].any() and not out[:40].any() and not out[152:].any()


@pytest.mark.parametrize("seed", range(6))
def test_occluder_is_one_crop_aligned_rectangle_of_the_drawn_size(seed):
    """Drawn in crop pixels and mapped into the (rotated) image, an occluder of 0.3 of each side shows in the
    crop as an axis-aligned 57.6 x 76.8 px rectangle; everything else, and the input image, stay as they were."""
    img = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    m = warp_matrix(np.array([200.0, 150.0]), np.array([150.0, 200.0]), 30.0, (192, 256))
    before = img.copy()
    cfg = AugmentConfig(occlusion_size=(0.3, 0.3), occlusion_holes=(1, 1))
    out = occlude(img, m, (192, 256), cfg, np.random.default_rng(seed))
    np.testing.assert_array_equal(img, before)
    changed = np.nonzero((crop(out, m, (192, 256)) != crop(img, m, (192, 256))).any(2))
    ys, xs = changed
    edge = 2 * (1 + 1.5 * 192 / 150)  # per side: bilinear reach + a rasterised, rotated image pixel (1.28 crop px)
    assert 0 <= (xs.max() - xs.min() + 1) - 0.3 * 192 <= edge and 0 <= (ys.max() - ys.min() + 1) - 0.3 * 256 <= edge
    assert 0.9 < len(xs) / (0.3 * 192 * 0.3 * 256) < 1.15  # a filled rectangle, not a scatter
    image_changed = (out != img).any(2)
    fill = out[image_changed]
    solid = (fill == fill[0]).all()
    assert solid or len(np.unique(fill, axis=0)) > 100  # one random colour, or a texture patch from elsewhere


def test_occluders_off_the_image_change_nothing_and_counts_follow_the_config():
    img = np.random.default_rng(0).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    outside = warp_matrix(np.array([500.0, 500.0]), np.array([60.0, 80.0]), 0.0, (96, 128))
    cfg = AugmentConfig(occlusion_holes=(3, 3))
    np.testing.assert_array_equal(occlude(img, outside, (96, 128), cfg, np.random.default_rng(1)), img)
    inside = warp_matrix(np.array([50.0, 50.0]), np.array([75.0, 100.0]), 0.0, (96, 128))
    cfg = AugmentConfig(occlusion_holes=(3, 3), occlusion_size=(0.1, 0.1))
    out = occlude(img, inside, (96, 128), cfg, np.random.default_rng(2))
    one = (0.1 * 96 * 75 / 96) * (0.1 * 128 * 100 / 128)  # one occluder's area in image pixels: 7.5 x 10
    rasterised = (7.5 + 2) * (10 + 2)  # fillConvexPoly keeps boundary pixels: up to one more on every side
    assert 1.5 * one < (out != img).any(2).sum() <= 3 * rasterised  # three (they may overlap)


@pytest.mark.parametrize(
    "field,value,words",
    [("occlusion_prob", 1.5, "occlusion_prob"), ("occlusion_holes", (2, 1), "occlusion_holes"),
     ("occlusion_size", (0.5, 1.5), "occlusion_size")],
)  # fmt: skip
def test_bad_occlusion_settings_are_named(field, value, words):
    cfg = AugmentConfig(**{field: value})
    with pytest.raises(ValueError, match=words):
        cfg.validate()


def test_color_jitter_scales_brightness_and_saturation_and_turns_the_hue():
    from lqpose.data.transforms import AugmentConfig, color_jitter, sample_color_jitter

    img = np.full((2, 3, 3), (100, 50, 200), np.uint8)
    assert np.array_equal(color_jitter(img, 1.0, 1.0, 0.0), img)  # the neutral factors change nothing
    assert color_jitter(img, 0.5, 1.0, 0.0)[0, 0].tolist() == [50, 25, 100]
    assert color_jitter(img, 1.0, 0.0, 0.0)[0, 0].tolist() == [82, 82, 82]  # the luma 0.299 R + 0.587 G + 0.114 B
    assert color_jitter(img, 1.0, 2.0, 0.0)[0, 0].tolist() == [118, 18, 255]  # twice as far from it, clipped
    red = np.full((1, 1, 3), (255, 0, 0), np.uint8)
    assert color_jitter(red, 1.0, 1.0, 0.5)[0, 0].tolist() == [0, 255, 255]  # half the circle: cyan
    cfg = AugmentConfig(color_brightness=(0.5, 0.5), color_saturation=(1.0, 1.0), color_hue=0.0)
    assert sample_color_jitter(img, cfg, np.random.default_rng(0))[0, 0].tolist() == [50, 25, 100]
    bad = {
        "augment.color_prob must be within 0..1": AugmentConfig(color_prob=2.0),
        r"augment.color_saturation must be \[min, max\]": AugmentConfig(color_saturation=(1.2, 0.8)),
        "augment.color_hue is a fraction of the hue circle": AugmentConfig(color_hue=0.7),
    }
    for words, cfg in bad.items():
        with pytest.raises(ValueError, match=words):
            cfg.validate()
