"""EdgeExtend on the lemur (../shared/footage/lemur): the plate and its alpha composited over the
beach, against the estimated true foreground composited the same way."""

from __future__ import annotations

import numpy as np
import pytest

from rotograph import Context
from rotograph.io.colour import to_linear
from rotograph.nodes.comp.edge_extend import EdgeExtend

from greenscreen_plate import load_png

CTX = Context(1001, "extend")


@pytest.fixture(scope="module")
def lemur():
    alpha = load_png("lemur_alpha.png", gray=True)
    plate = to_linear(load_png("lemur.png"), "sRGB")  # α·F + (1 − α)·B: the old background under the fur
    fg = to_linear(load_png("lemur_foreground.png"), "sRGB")
    beach = to_linear(load_png("beach.png"), "sRGB")
    return plate, alpha, fg, beach


def _edge_error(rgb, alpha, fg, beach) -> float:
    """Mean |comp − true comp| over the soft edge (0.02 < α < 0.98), comp = rgb·α + beach·(1 − α)."""
    a = alpha[..., None]
    comp, truth = rgb * a + beach * (1 - a), fg * a + beach * (1 - a)
    edge = (alpha > 0.02) & (alpha < 0.98)
    return float(np.abs(comp - truth)[edge].mean())


def test_edge_extend_removes_the_old_background_halo(lemur):
    plate, alpha, fg, beach = lemur
    out = EdgeExtend().compute(CTX, plate, alpha)
    before, after = _edge_error(plate, alpha, fg, beach), _edge_error(out, alpha, fg, beach)
    print(f"lemur over the beach, mean |error| on the edge: {before:.4f} plate as is, {after:.4f} with EdgeExtend "
          f"({before / after:.2f}× smaller)")
    assert after < 0.5 * before
    core = alpha == 1.0
    assert np.array_equal(out[core], plate[core])  # the opaque core is the plate, bit for bit


def test_edge_extend_alpha_channel_erode_and_empty_matte(lemur):
    plate, alpha, fg, beach = lemur
    rgba = np.dstack([plate, alpha]).astype(np.float32)
    out = EdgeExtend(erode=2.0).compute(CTX, rgba, None)
    assert out.shape == rgba.shape and np.array_equal(out[..., 3], alpha)
    assert _edge_error(out[..., :3], alpha, fg, beach) < 0.6 * _edge_error(plate, alpha, fg, beach)
    empty = np.zeros(alpha.shape, np.float32)
    assert np.array_equal(EdgeExtend().compute(CTX, plate, empty), plate)  # nothing to extend from
