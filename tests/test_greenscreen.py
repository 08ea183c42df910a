"""Keying a green-screen comp with a known alpha (lemur, ../shared/footage/lemur)."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

import rotograph
from rotograph.colour import from_linear

from conftest import GRAPHS, read_exr
from greenscreen_plate import colour_difference_key, load_png, make_plate, sad


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    """Two frames of the comp as a linear EXR sequence (different grain per frame)."""
    folder = tmp_path_factory.mktemp("greenscreen")
    truth = {}
    for i, f in enumerate((1001, 1002)):
        comp, alpha, fg, screen = make_plate(seed=i)
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": comp}) as exr:
            exr.write(str(folder / f"gs.{f}.exr"))
        truth[f] = (comp, alpha, screen)
    return folder, truth


def _graph(folder, out):
    g = rotograph.load(GRAPHS / "greenscreen.json")
    g.set("read.file", str(folder / "gs.####.exr"))
    g.set("write.file", str(out / "key.####.exr"))
    return g


def test_graph_keys_better_than_a_plain_colour_difference_key(plate, tmp_path):
    folder, truth = plate
    g = _graph(folder, tmp_path)
    report = rotograph.render(g, cache=rotograph.Cache())
    assert report.ok, report.error
    for f, (comp, alpha, screen) in truth.items():
        keyed = read_exr(tmp_path / f"key.{f}.exr")["matte.A"].astype(np.float32)
        ours, baseline = sad(keyed, alpha), sad(colour_difference_key(comp, screen), alpha)
        print(f"frame {f}: SAD greenscreen.json {ours:.2f}, colour-difference key {baseline:.2f}")
        assert ours < 0.5 * baseline


def test_matte_refine_lands_near_closed_form_with_a_good_trimap(plate, tmp_path):
    from pymatting import estimate_alpha_cf

    folder, truth = plate
    g = _graph(folder, tmp_path)
    g.add("rotograph.MatteRefine", "refine", method="closed_form", threshold=0.1, band=20.0)
    g.connect("read.image", "refine.image")
    g.connect("keyer.matte", "refine.matte")
    g.connect("refine.refined", "grow.matte")
    comp, alpha, _ = truth[1001]
    refined = g.evaluate("feather", 1001)
    reference = estimate_alpha_cf(from_linear(np.clip(comp, 0, 1), "sRGB").astype(np.float64),
                                  load_png("lemur_trimap.png", gray=True).astype(np.float64))
    ours, best = sad(refined, alpha), sad(reference, alpha)
    print(f"SAD with MatteRefine {ours:.2f}, closed-form with the hand-drawn trimap {best:.2f}")
    assert ours <= 1.5 * best
    assert sad(g.evaluate("keyer", 1001), alpha) > ours  # refining helped


def test_despill_removes_the_green_cast_on_the_edge(plate, tmp_path):
    folder, truth = plate
    g = _graph(folder, tmp_path)
    comp, alpha, _ = truth[1001]
    edge = (alpha > 0.3) & (alpha < 0.9)
    cast = lambda img: float(np.mean(img[..., 1][edge] - np.maximum(img[..., 0], img[..., 2])[edge]))  # noqa
    before, after = cast(comp), cast(g.evaluate("despill", 1001))
    print(f"green cast on the edge: {before:.4f} before, {after:.4f} after Despill")
    assert before > 0.01 and after < 0.25 * before
    core = alpha > 0.99  # luminance kept where there was no spill to speak of
    y = lambda img: img[..., :3] @ np.float32([0.2126, 0.7152, 0.0722])  # noqa
    assert abs(float(y(g.evaluate("despill", 1001))[core].mean() - y(comp)[core].mean())) < 0.01
