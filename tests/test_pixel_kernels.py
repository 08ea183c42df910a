"""The fused pixel kernels against the plain numpy formulas they replaced (float32 tolerance),
and the fast Gaussians against OpenCV's GaussianBlur."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rotograph import Context
from rotograph.nodes.common._imaging import blur, pull_push, smooth_blur, split_alpha
from rotograph.nodes.comp.alpha import Merge, Premult, ShuffleMatte, Unpremult
from rotograph.nodes.comp.keying import Despill, Keyer

from greenscreen_plate import make_plate

CTX = Context(1001, "k")
TOL = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def plate():
    comp, alpha, _, screen = make_plate()
    return comp, alpha, screen


# --- the numpy formulas of the nodes before the kernels (the reference) ---

def ref_difference(rgb, c, combine):
    a, b = [rgb[..., i] for i in range(3) if i != c]
    other = np.maximum(a, b) if combine == "max" else (a + b) * np.float32(0.5)
    return (rgb[..., c] - other).astype(np.float32)


def ref_luminance(rgb):
    return (rgb[..., 0] * 0.2126 + rgb[..., 1] * 0.7152 + rgb[..., 2] * 0.0722).astype(np.float32)


def ref_despill(image, c, mode, amount, restore, rgb=None):
    rgb = image[..., :3] if rgb is None else rgb
    spill = np.maximum(ref_difference(rgb, c, "max" if mode == "limit" else "average"), 0)
    out = rgb.copy()
    out[..., c] -= spill * np.float32(amount)
    if restore > 0:
        out += ((ref_luminance(rgb) - ref_luminance(out)) * np.float32(restore))[..., None]
    if image.shape[2] == 4:
        out = np.dstack([out, image[..., 3]])
    return out.astype(np.float32)


def ref_keyer(image, node, screen_diff):
    d = blur(ref_difference(image[..., :3], 1, node.combine), node.prefilter)
    alpha = 1.0 - node.gain * d / screen_diff
    lo, hi = node.clip_black, max(node.clip_white, node.clip_black + 1e-6)
    return np.clip((alpha - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def ref_local_screen(d, s_global, size, blur_fn):
    reference = max(float(np.percentile(d, 90)), 1e-4)
    weight = (d > 0.25 * reference).astype(np.float32)
    for _ in range(2):
        num, den = blur_fn(d * weight, size), blur_fn(weight, size)
        trust = np.clip(den / 0.05, 0.0, 1.0)
        local = num / np.maximum(den, 1e-6)
        estimate = np.maximum(local * trust + s_global * (1 - trust), 1e-4).astype(np.float32)
        weight = (d / estimate > 0.9).astype(np.float32)
    return estimate


def ref_merge(a, b, matte, operation, mix):
    if matte is not None:
        A = np.dstack([a[..., :3] * matte[..., None], matte])
    else:
        A = a
    B = b if b.shape[2] == 4 else np.dstack([b, np.ones(b.shape[:2], np.float32)])
    out = {"over": lambda: A + B * (1.0 - A[..., 3:4]), "under": lambda: B + A * (1.0 - B[..., 3:4]),
           "plus": lambda: A + B}[operation]()
    if mix < 1.0:
        out = B + (out - B) * np.float32(mix)
    return out.astype(np.float32)


# --- tests ---

@pytest.mark.parametrize("combine", ["max", "average"])
def test_keyer_without_adaptive_equals_the_numpy_formula(plate, combine):
    comp, _, _ = plate
    node = Keyer(adaptive=False, combine=combine, gain=1.3, clip_black=0.05, clip_white=0.9)
    s = float(ref_difference(np.float32([[node.screen_color]]), 1, combine)[0, 0])
    np.testing.assert_allclose(node.compute(CTX, comp), ref_keyer(comp, node, np.float32(s)), **TOL)


def test_keyer_adaptive_screen_is_the_exact_estimate_within_its_pyramid_blur(plate):
    """The adaptive estimate blurs with smooth_blur (a pyramid Gaussian) instead of an exact
    σ = 40 Gaussian: alpha stays within 1e-4 on average and 0.03 at any pixel (a few pixels sit
    on the estimate's hard 'keyed as screen' threshold) of the exact computation."""
    comp, alpha, _ = plate
    node = Keyer(clip_black=0.05, clip_white=0.95, adaptive_size=20.0)
    d = blur(ref_difference(comp, 1, "max"), node.prefilter)
    s = max(float(ref_difference(np.float32([[node.screen_color]]), 1, "max")[0, 0]), 1e-4)
    exact = ref_keyer(comp, node, ref_local_screen(d, s, node.adaptive_size, blur))
    ours = node.compute(CTX, comp)
    diff = np.abs(ours - exact)
    assert diff.mean() < 1e-4 and diff.max() < 0.03, (diff.mean(), diff.max())
    # and with the same blur, the fused estimate is the numpy one
    same = ref_keyer(comp, node, ref_local_screen(d, s, node.adaptive_size, smooth_blur))
    assert np.abs(ours - same).mean() < 1e-6


@pytest.mark.parametrize("mode", ["average", "limit"])
@pytest.mark.parametrize("channels", [3, 4])
def test_despill_equals_the_numpy_formula(plate, mode, channels):
    comp, alpha, _ = plate
    image = comp if channels == 3 else np.dstack([comp, alpha])
    for screen, c in [("green", 1), ("blue", 2)]:
        for amount, restore in [(1.0, 1.0), (0.6, 0.0), (0.3, 0.5)]:
            out = Despill(mode=mode, screen=screen, amount=amount, restore_luminance=restore).compute(CTX, image)
            np.testing.assert_allclose(out, ref_despill(image, c, mode, amount, restore), **TOL)


def test_despill_physical_equals_the_numpy_formula(plate):
    comp, alpha, _ = plate
    out = Despill(mode="physical").compute(CTX, comp, alpha)
    background = blur(pull_push(comp, (alpha < 0.01).astype(np.float32)), 2.0)
    a = alpha[..., None]
    fg = ((comp - (1.0 - a) * background) / np.maximum(a, 1e-3)).astype(np.float32)
    rgb = pull_push(fg, np.clip(alpha / 0.1, 0.0, 1.0))
    np.testing.assert_allclose(out, ref_despill(comp, 1, "physical", 1.0, 1.0, rgb), rtol=1e-4, atol=1e-5)


def test_premult_unpremult_shuffle_equal_the_numpy_formulas(plate):
    comp, alpha, _ = plate
    alpha = alpha.copy()
    alpha[:5] = 0  # exercise the α ≤ 1e-6 branch of Unpremult
    pm = Premult().compute(CTX, comp, alpha)
    np.testing.assert_allclose(pm, np.dstack([comp * alpha[..., None], alpha]), **TOL)
    a = pm[..., 3]
    safe = np.where(a > 1e-6, a, 1.0)[..., None]
    ref = np.dstack([np.where(a[..., None] > 1e-6, pm[..., :3] / safe, pm[..., :3]), a])
    np.testing.assert_allclose(Unpremult().compute(CTX, pm), ref, **TOL)
    out = ShuffleMatte().compute(CTX, comp, alpha)
    assert np.array_equal(out["image"], np.dstack([comp, alpha]))


@pytest.mark.parametrize("operation", ["over", "under", "plus"])
def test_merge_equals_the_numpy_formula(plate, operation):
    comp, alpha, _ = plate
    rng = np.random.default_rng(1)
    fg = np.dstack([comp * alpha[..., None], alpha]).astype(np.float32)
    bg3 = rng.random(comp.shape, dtype=np.float32)
    bg4 = np.dstack([bg3, rng.random(alpha.shape, dtype=np.float32)])
    for b in (bg3, bg4):
        for mix in (1.0, 0.4):
            node = Merge(operation=operation, mix=mix)
            np.testing.assert_allclose(node.compute(CTX, fg, b, None), ref_merge(fg, b, None, operation, mix), **TOL)
            np.testing.assert_allclose(node.compute(CTX, comp, b, alpha), ref_merge(comp, b, alpha, operation, mix),
                                       **TOL)


@pytest.mark.parametrize("sigma", [2.0, 12.0, 30.0])
def test_blur_equals_opencv_gaussian(plate, sigma):
    comp, alpha, _ = plate
    for image in (alpha, comp):
        ref = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
        np.testing.assert_allclose(blur(image, sigma), ref, atol=2e-6)


def test_smooth_blur_is_close_to_the_exact_gaussian():
    step = np.zeros((300, 500), np.float32)
    step[:, 237:] = 1.0
    step[100:140, 50:90] = 1.0  # a small square near the border
    for sigma in (8.0, 17.0, 40.0):
        ref = cv2.GaussianBlur(step, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
        ours = smooth_blur(step, sigma)
        assert ours.shape == step.shape and np.abs(ours - ref).max() < 3e-3, (sigma, np.abs(ours - ref).max())
    assert split_alpha(np.dstack([step, step, step]), step, "x")[1] is step


def ref_pull_push(values, weight):
    weight = np.clip(weight, 0.0, 1.0).astype(np.float32)
    flat = values.ndim == 2
    x = values[..., None] if flat else values
    levels = [(x.astype(np.float32), weight)]
    while max(levels[-1][1].shape) > 1:
        x_l, w_l = levels[-1]
        size = (max(1, (w_l.shape[1] + 1) // 2), max(1, (w_l.shape[0] + 1) // 2))
        w_sum = cv2.resize(w_l, size, interpolation=cv2.INTER_AREA) * np.float32(4.0)
        xw = cv2.resize(x_l * w_l[..., None], size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
        levels.append((xw * np.float32(4.0) / np.maximum(w_sum, 1e-12)[..., None], np.minimum(w_sum, 1.0)))
    filled = levels[-1][0]
    for x_l, w_l in reversed(levels[:-1]):
        up = cv2.resize(filled, (w_l.shape[1], w_l.shape[0]), interpolation=cv2.INTER_LINEAR).reshape(x_l.shape)
        filled = x_l * w_l[..., None] + up * (1.0 - w_l[..., None])
    return filled[..., 0] if flat else filled


def test_pull_push_equals_the_numpy_formula(plate):
    comp, alpha, _ = plate
    for values in (comp, alpha):
        np.testing.assert_allclose(pull_push(values, alpha), ref_pull_push(values, alpha), **TOL)
