"""Keying a green-screen comp with a known alpha (lemur, ../shared/footage/lemur)."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

import rotograph
from rotograph.io.colour import from_linear
from rotograph.nodes.comp.keying import Despill, Keyer

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
    g.connect("refine.matte", "grow.matte")
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


def _over_beach_edge_errors(straight, alpha, true_alpha, fg):
    """(mean |comp − true comp|, green left in the premultiplied foreground) on the soft edge of the
    true alpha, comp = straight·α over the beach (../shared/footage/lemur/beach.png)."""
    from rotograph.io.colour import to_linear

    beach = to_linear(load_png("beach.png"), "sRGB")
    edge = (true_alpha > 0.02) & (true_alpha < 0.98)
    premult, truth = straight[..., :3] * alpha[..., None], fg * true_alpha[..., None]
    comp, true_comp = premult + beach * (1 - alpha[..., None]), truth + beach * (1 - true_alpha[..., None])
    green = lambda p: p[..., 1] - np.maximum(p[..., 0], p[..., 2])
    return float(np.abs(comp - true_comp)[edge].mean()), float((green(premult) - green(truth))[edge].mean())


def test_physical_despill_beats_average_on_edge_spill():
    comp, alpha, fg, _ = make_plate(seed=0)
    keyed = Keyer(clip_black=0.05, clip_white=0.95).compute(rotograph.Context(1001, "key"), comp)
    ctx = rotograph.Context(1001, "despill")
    for name, matte in (("true alpha", alpha), ("keyed matte", keyed)):
        average = Despill(mode="average").compute(ctx, comp, matte)
        physical = Despill(mode="physical").compute(ctx, comp, matte)
        raw, avg, phys = (_over_beach_edge_errors(x, matte, alpha, fg) for x in (comp, average, physical))
        print(f"{name}: over the beach, mean |error| on the edge {raw[0]:.4f} plate, {avg[0]:.4f} average, "
              f"{phys[0]:.4f} physical; green spill left {raw[1]:.4f}, {avg[1]:.4f}, {phys[1]:.4f}")
        assert phys[0] < 0.9 * avg[0] and abs(phys[1]) < 0.5 * abs(avg[1])


def test_blue_despill_is_green_despill_on_a_blue_screen():
    comp, alpha, _, _ = make_plate(seed=1)
    blue = comp[..., [0, 2, 1]]  # the same plate shot on a blue screen: G and B swapped
    ctx = rotograph.Context(1001, "despill")
    for mode in ("average", "physical"):
        green = Despill(mode=mode, restore_luminance=0.0).compute(ctx, comp, alpha)
        on_blue = Despill(mode=mode, screen="blue", restore_luminance=0.0).compute(ctx, blue, alpha)
        assert np.allclose(on_blue[..., [0, 2, 1]], green, atol=1e-6), mode


def test_physical_despill_needs_a_matte():
    from rotograph import RotographError

    plate = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(RotographError, match="needs an image with alpha or a connected matte"):
        Despill(mode="physical").compute(rotograph.Context(1001, "d"), plate, None)


def test_graph_clean_up_nodes_help(plate, tmp_path):
    """greenscreen.json's FillHoles and physical Despill, measured against the graph without them."""
    folder, truth = plate
    comp, alpha, fg, _ = make_plate(seed=0)
    g = _graph(folder, tmp_path)
    with_nodes = (g.evaluate("feather", 1001), g.evaluate("despill", 1001))
    g.set("fillholes.max_area", 0.0)
    g.set("despill.mode", "average")
    without = (g.evaluate("feather", 1001), g.evaluate("despill", 1001))
    sads = [sad(m, alpha) for m in (with_nodes[0], without[0])]
    edge = [_over_beach_edge_errors(d, m, alpha, fg)[0] for m, d in (with_nodes, without)]
    print(f"greenscreen.json: SAD {sads[0]:.2f} with FillHoles, {sads[1]:.2f} without; mean |error| on the edge "
          f"over the beach {edge[0]:.4f} with physical Despill, {edge[1]:.4f} with average")
    assert sads[0] < sads[1] and edge[0] < 0.9 * edge[1]
