"""Reformat, Crop, Transform and Merge of different sizes against known answers: a checker
board moved by known amounts, OpenCV's resize as the reference for resizing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rotograph import Context, ParamError, RotographError
from rotograph.nodes.comp.alpha import Merge
from rotograph.nodes.spatial.transform import Crop, Reformat, Transform

CTX = Context(1001, "t")


def checker(h=64, w=96, square=8, channels=4) -> np.ndarray:
    """A checker board of ``square`` px cells, colours varying per cell, alpha 1."""
    yy, xx = np.mgrid[0:h, 0:w]
    cell = ((yy // square) + (xx // square)) % 2
    img = np.zeros((h, w, channels), np.float32)
    img[..., 0] = cell
    img[..., 1] = (xx // square) / (w / square)
    img[..., 2] = (yy // square) / (h / square)
    if channels == 4:
        img[..., 3] = 1.0
    return img


@pytest.mark.parametrize("filt", ["nearest", "linear", "cubic"])
def test_transform_translates_by_whole_pixels_exactly(filt):
    img = checker()
    out = Transform(translate_x=5, translate_y=3, filter=filt).compute(CTX, img)
    # y is up: +3 in y moves the picture 3 rows towards row 0
    np.testing.assert_allclose(out[:-3, 5:], img[3:, :-5], atol=1e-5)
    assert not out[-3:].any() and not out[:, :5].any()  # uncovered: black, transparent


def test_transform_subpixel_translation_is_the_linear_mix():
    img = checker()
    out = Transform(translate_x=0.25, filter="linear").compute(CTX, img)
    expect = 0.75 * img[:, 1:] + 0.25 * img[:, :-1]
    np.testing.assert_allclose(out[:, 1:], expect, atol=1e-2)  # OpenCV's 5-bit interpolation weights


def test_transform_rotates_counter_clockwise_about_the_centre():
    img = checker(64, 64)
    out = Transform(rotate=90.0, filter="nearest").compute(CTX, img)
    np.testing.assert_array_equal(out, np.rot90(img, 1))
    back = Transform(rotate=-90.0, filter="nearest").compute(CTX, out)
    np.testing.assert_array_equal(back, img)


def test_transform_scales_about_its_centre_like_resize():
    img = checker(64, 96)
    out = Transform(scale=2.0, center_x=0.0, center_y=1.0, filter="nearest").compute(CTX, img)
    # about the top-left corner (x = 0, y = H): the top-left quarter, doubled
    ref = cv2.resize(img[:32, :48], (96, 64), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(out, ref)
    assert Transform().passthrough() == "image" and Transform(rotate=360.0).passthrough() == "image"


def test_reformat_distort_equals_opencv_resize():
    img = checker(216, 410, 10)
    for filt, flag in [("area", cv2.INTER_AREA), ("cubic", cv2.INTER_CUBIC), ("lanczos", cv2.INTER_LANCZOS4)]:
        out = Reformat(format="custom", width=192, height=108, resize="distort", filter=filt).compute(CTX, img)
        np.testing.assert_array_equal(out, cv2.resize(img, (192, 108), interpolation=flag))


def test_reformat_4k_dci_to_hd_fits_with_bars_and_fill_cuts():
    img = checker(2160 // 8, 4096 // 8, 6)  # 512×270: the 4K DCI aspect ratio
    node = Reformat(format="custom", width=240, height=135, filter="area")  # the HD aspect, /8
    out = node.compute(CTX, img)
    assert out.shape == (135, 240, 4)
    ref = cv2.resize(img, (240, 127), interpolation=cv2.INTER_AREA)  # 270·240/512 = 126.6
    top = (135 - 127) - (135 - 127) // 2  # centred (rounding the bar at the bottom down)
    np.testing.assert_array_equal(out[top:top + 127], ref)
    assert not out[:top].any() and not out[top + 127:].any()
    fill = Reformat(format="custom", width=240, height=135, resize="fill", filter="area").compute(CTX, img)
    wide = cv2.resize(img, (256, 135), interpolation=cv2.INTER_AREA)  # 512·135/270
    np.testing.assert_array_equal(fill, wide[:, 8:248])


def test_reformat_named_formats_and_anamorphic_input():
    img = checker(108, 96, 4, channels=3)
    out = Reformat(format="HD_720", resize="distort", filter="linear").compute(CTX, img)
    assert out.shape == (720, 1280, 3)
    # a 2:1 anamorphic 96×108 plate shows 192×108: fit to a square-pixel 192×108 format = distort
    squeezed = Reformat(format="custom", width=192, height=108, input_pixel_aspect=2.0, filter="linear")
    np.testing.assert_array_equal(squeezed.compute(CTX, img),
                                  cv2.resize(img, (192, 108), interpolation=cv2.INTER_LINEAR))
    with pytest.raises(ParamError, match="format"):
        Reformat(format="HD1080")


def test_crop_blacks_outside_the_box_or_reformats_to_it():
    img = checker()  # 96×64
    out = Crop(x=10, y=4, right=50, top=40).compute(CTX, img)
    assert out.shape == img.shape
    # y from the bottom: rows 64 − 40 = 24 … 64 − 4 = 60
    np.testing.assert_array_equal(out[24:60, 10:50], img[24:60, 10:50])
    inside = np.zeros(img.shape[:2], bool)
    inside[24:60, 10:50] = True
    assert not out[~inside].any()
    box = Crop(x=10, y=4, right=50, top=40, reformat=True).compute(CTX, img)
    np.testing.assert_array_equal(box, img[24:60, 10:50])
    past = Crop(x=-4, y=0, right=100, top=64, reformat=True).compute(CTX, img)  # wider than the image
    assert past.shape == (64, 104, 4) and not past[:, :4].any() and not past[:, 100:].any()
    np.testing.assert_array_equal(past[:, 4:100], img)
    with pytest.raises(RotographError, match="empty"):
        Crop(x=10, right=10).compute(CTX, img)


def test_merge_4k_over_1080p_follows_the_b_format():
    """A (4K, premultiplied) over B (1080p): the output has B's format and A's bottom-left
    1920×1080 pixels, as in Nuke without a Reformat; and a 1080p element over a 4K plate lands
    in the plate's bottom-left corner, the rest of the plate untouched."""
    rng = np.random.default_rng(0)
    a4k = rng.random((2160, 4096, 4), dtype=np.float32)
    a4k[..., :3] *= a4k[..., 3:]
    b_hd = rng.random((1080, 1920, 3), dtype=np.float32)
    out = Merge().compute(CTX, a4k, b_hd, None)
    assert out.shape == (1080, 1920, 4)
    a = a4k[-1080:, :1920]
    np.testing.assert_allclose(out[..., :3], a[..., :3] + b_hd * (1 - a[..., 3:]), rtol=1e-6)
    np.testing.assert_allclose(out[..., 3], a[..., 3] + (1 - a[..., 3]), rtol=1e-6)

    plate = rng.random((2160, 4096, 4), dtype=np.float32)
    elem = np.zeros((1080, 1920, 4), np.float32)
    elem[500:600, 100:300] = [0.5, 0.25, 0.0, 1.0]
    comp = Merge().compute(CTX, elem, plate, None)
    assert comp.shape == plate.shape
    np.testing.assert_array_equal(comp[1080 + 500:1080 + 600, 100:300], np.broadcast_to(elem[500, 100], (100, 200, 4)))
    untouched = np.ones(plate.shape[:2], bool)
    untouched[1080 + 500:1080 + 600, 100:300] = False
    np.testing.assert_array_equal(comp[untouched], plate[untouched])
    # a Transform moves the element before the merge (here to the top-right of the 4K plate)
    moved = Transform(translate_x=4096 - 1920, translate_y=2160 - 1080, filter="nearest").compute(
        CTX, np.pad(elem, ((1080, 0), (0, 4096 - 1920), (0, 0))))
    np.testing.assert_array_equal(moved[500:600, 2176 + 100:2176 + 300], elem[500:600, 100:300])
