import numpy as np
import pytest

from lqpose.data.transforms import (
    box_to_center_scale,
    compose,
    crop,
    flip_matrix,
    invert,
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
