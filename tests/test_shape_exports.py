"""Roto shape exports read back: the Nuke script by a small parser of its curves knob, the After
Effects script by its keyframe values, SVG by svgelements, Silhouette's XML, Fusion's polylines
and the JSON — each giving the vertices it was written from, in the package's own convention."""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import rotograph
from rotograph import Context, Segment
from rotograph.errors import GraphError
from rotograph.core.shapes import Curve
from rotograph.nodes.roto.shapes import MatteToShapes
from rotograph.interop.shape_formats import (tracks, write_after_effects, write_fusion, write_json, write_nuke,
                                     write_silhouette, write_svg)

from shape_scenes import moving_star, ring

FIRST, LAST, W, H = 1001, 1004, 240, 180


@pytest.fixture(scope="module")
def anim():
    """Four frames of a moving star plus a ring (a hole), the star's third vertex feathered."""
    mattes = [np.maximum(m, ring((H, W), 200, 140, 30, 12)) for m in moving_star(LAST - FIRST + 1, (H, W))]
    node = MatteToShapes("m2s")
    out = dict(node.compute_range(Context(FIRST, "m2s"), Segment(tuple(range(FIRST, LAST + 1))),
                                  lambda f: {"matte": mattes[f - FIRST]}))
    for s in out.values():
        s.objects[0].curves[0].feather[2] = 4.0
    return out


def expected(anim):
    """name → (hole, frames, K×N×6 points) of every exported curve."""
    return {name: (hole, sorted(k), np.array([k[f].points for f in sorted(k)])) for name, _, _, hole, k in tracks(anim)}


def test_every_curve_is_exported_with_its_hole_flag(anim):
    curves = expected(anim)
    assert sum(h for h, _, _ in curves.values()) == 1 and len(curves) == 3
    assert all(frames == list(range(FIRST, LAST + 1)) for _, frames, _ in curves.values())


# -- Nuke -------------------------------------------------------------------------------------
def nk_tree(text: str) -> list:
    """Nuke script text → nested lists of tokens (braces are lists)."""
    stack, cur = [], []
    for tok in re.findall(r'"[^"]*"|[{}]|[^\s{}]+', text):
        if tok == "{":
            stack.append(cur)
            cur = []
        elif tok == "}":
            done, cur = cur, stack.pop()
            cur.append(done)
        else:
            cur.append(tok)
    assert not stack, "unbalanced braces"
    return cur


def nk_float(tok: str) -> float:
    return struct.unpack(">f", bytes.fromhex(tok[1:]))[0] if tok.startswith("x") else float(tok)


def nk_values(item) -> list[float]:
    return [nk_float(t) for t in item] if isinstance(item, list) else [nk_float(item)]


def find(tree, head):
    for item in tree:
        if isinstance(item, list):
            if item and item[0] == head:
                yield item
            yield from find(item, head)


def test_nuke_script_holds_the_curves_bottom_left(anim):
    text = write_nuke(anim, FIRST, LAST, 25.0)
    tree = nk_tree(text)
    root = tree[tree.index("Root") + 1]
    assert root[root.index("first_frame") + 1] == str(FIRST) and root[root.index("last_frame") + 1] == str(LAST)
    assert root[root.index("format") + 1].strip('"').split()[:2] == [str(W), str(H)]
    assert root[root.index("fps") + 1] == "25"
    groups = {g[1]: g for g in find(tree, "curvegroup")}
    # as Nuke saves a Roto node's curves knob (compared with scripts saved by Nuke: see
    # rotograph/interop/shape_formats.py): Root layer flags 512 and the format's centre, shape flags
    # 512 bezier, its transform keyed at its first frame about the shape's centre
    layer = next(find(tree, "layer"))
    assert layer[1] == "Root" and layer[2] == ["f", "512"] and [nk_float(v) for v in layer[3][1:]] == [W / 2, H / 2]
    for g in groups.values():
        assert g[2:4] == ["512", "bezier"]
        tx = next(find(g, "tx"))
        assert nk_float(tx[1]) == FIRST and 0 < nk_float(tx[2]) < W and 0 < nk_float(tx[3]) < H
    want = expected(anim)
    assert set(groups) == set(want)
    for name, (hole, frames, pts) in want.items():
        shape_cc, feather_cc = list(find(groups[name], "cc"))
        px = next(find(shape_cc, "px"))
        keys = [nk_float(t) for t in px[1:] if not isinstance(t, list)]
        assert keys == frames
        triples = np.array([[nk_values(p[0]), nk_values(p[1])] for p in px[1 + len(keys):]])  # 3N×2×K
        triples = triples.reshape(-1, 3, 2, len(keys)).transpose(3, 0, 1, 2)  # K×N×3×2
        ours = np.stack([triples[:, :, 1, 0], H - triples[:, :, 1, 1], triples[:, :, 0, 0], -triples[:, :, 0, 1],
                         triples[:, :, 2, 0], -triples[:, :, 2, 1]], axis=2)
        np.testing.assert_allclose(ours, pts, atol=1e-3 * max(W, H) * 2 ** -10)  # float32
        fpx = next(find(feather_cc, "px"))
        offsets = np.array([[nk_values(p[0]), nk_values(p[1])] for p in fpx[1 + len(keys):]])[1::3]  # N×2×K
        feather = np.linalg.norm(offsets, axis=1).T  # K×N: each vertex's feather offset, per key
        source = {c_name: c for c_name, _, _, _, c in tracks(anim)}[name]
        np.testing.assert_allclose(feather, [source[f].feather for f in frames], atol=1e-4)
        if not hole:  # pushed out of the shape: away from its centre (Nuke's y is up)
            away = (pts[0, :, :2] - pts[0, :, :2].mean(axis=0)) * [1, -1]
            assert ((offsets[:, :, 0] * away).sum(axis=1) >= 0).all()


# -- After Effects ----------------------------------------------------------------------------
def test_after_effects_keys_hold_the_vertices_top_left(anim):
    text = write_after_effects(anim, FIRST, LAST, 24000 / 1001)
    data = json.loads(re.search(r"^var ROTOGRAPH = (.*);$", text, re.M).group(1))
    assert (data["width"], data["height"], data["first"], data["frames"]) == (W, H, FIRST, LAST - FIRST + 1)
    assert "(m.keys[k].frame - d.first) / d.fps" in text and "setValuesAtTimes" in text
    assert "MaskMode.SUBTRACT" in text
    want = expected(anim)
    assert [m["name"] for m in data["masks"]] == list(want)
    for m in data["masks"]:
        hole, frames, pts = want[m["name"]]
        assert m["hole"] == hole and [k["frame"] for k in m["keys"]] == frames
        got = np.array([np.hstack([k["vertices"], k["inTangents"], k["outTangents"]]) for k in m["keys"]])
        assert np.array_equal(got, pts)
        source = {c_name: c for c_name, _, _, _, c in tracks(anim)}[m["name"]]
        assert [k["feather"] for k in m["keys"]] == [source[f].feather.tolist() for f in frames]
    assert "s.featherRadii = radii" in text


# -- SVG --------------------------------------------------------------------------------------
def test_svg_paths_read_back_by_svgelements(anim):
    svgelements = pytest.importorskip("svgelements")
    import io

    for f, shapes in anim.items():
        svg = svgelements.SVG.parse(io.StringIO(write_svg(shapes, f)), reify=True)
        assert (svg.width, svg.height) == (W, H)
        (path,) = [e for e in svg.elements() if isinstance(e, svgelements.Path)]
        assert path.values.get("fill-rule") == "evenodd"
        cubics = [s for s in path.segments() if isinstance(s, svgelements.CubicBezier)]
        ctrl = np.array([[[p.x, p.y] for p in (s.start, s.control1, s.control2, s.end)] for s in cubics])
        want = np.concatenate([c.segments() for c in shapes.objects[0].curves])
        np.testing.assert_allclose(ctrl, want, atol=1e-9)


def test_svg_rendered_by_skias_svg_reader_equals_shapes_to_matte(anim):
    """A real SVG reader (Skia's SVGDOM, the SVG module of Chrome's 2D library) draws our file as
    ShapesToMatte rasterises the shapes: same coverage, the ring's hole cut out (even-odd)."""
    skia = pytest.importorskip("skia")
    from rotograph.nodes.roto._shape_raster import rasterise

    shapes = anim[FIRST]
    hard = rotograph.ShapeSet(W, H, objects=[rotograph.ShapeObject(o.id, o.name, [
        Curve(c.points, None, c.closed, c.hole, c.key) for c in o.curves]) for o in shapes.objects])
    dom = skia.SVGDOM.MakeFromStream(skia.MemoryStream(write_svg(hard, FIRST).encode()))
    surface = skia.Surface(W, H)
    surface.getCanvas().clear(skia.ColorTRANSPARENT)
    dom.render(surface.getCanvas())
    drawn = surface.makeImageSnapshot().toarray()[..., 3] / 255.0
    want = rasterise(hard)
    assert np.abs(drawn - want).mean() < 1e-3 and want.sum() > 1000
    assert drawn[140, 200] == 0 and drawn[140, 221] == 1   # the ring's hole and its body


def test_svg_is_flame_importable_one_colour_per_object():
    """What Flame's Action Import of SVG asks (module notes): path elements only, absolute
    commands, no transform or CSS, the colour as a presentation attribute — and a colour per
    object, since Flame groups elements of one colour."""
    objects = [rotograph.ShapeObject(i, f"o{i}", [Curve(np.array([[20.0 * i, 10, 0, 0, 5, 0], [20.0 * i + 10, 30, 0, 0, 0, 0],
                                                                   [20.0 * i, 30, 0, 0, 0, 0]]))]) for i in range(1, 9)]
    root = ET.fromstring(write_svg(rotograph.ShapeSet(W, H, objects=objects), FIRST))
    paths = list(root)
    assert {e.tag for e in paths} == {"{http://www.w3.org/2000/svg}path"} and len(paths) == 8
    assert not any("transform" in e.attrib or "style" in e.attrib for e in root.iter())
    assert all(re.fullmatch(r"[MCZ0-9.\- ]+", e.get("d")) for e in paths)
    fills = [e.get("fill") for e in paths]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in fills) and len(set(fills)) == 8


# -- Silhouette -------------------------------------------------------------------------------
def test_silhouette_points_are_centred_and_normalised_by_height(anim):
    root = ET.fromstring(write_silhouette(anim, FIRST, LAST))
    assert (root.get("width"), root.get("height"), root.get("sessionStartFrame")) == (str(W), str(H), str(FIRST))
    want = expected(anim)
    shapes = root.findall(".//Object[@type='Shape']")
    assert [s.get("label") for s in shapes] == list(want)
    for s in shapes:
        hole, frames, pts = want[s.get("label")]
        assert s.find(".//Property[@id='mode']/Value").text == ("Subtract" if hole else "Add")
        keys = s.findall(".//Property[@id='path']/Key")
        assert [int(k.get("frame")) + FIRST for k in keys] == frames
        got = fxs_points(keys)  # K×N×6: vertex, in handle, out handle
        x, y = got[..., 0::2] * H + W / 2, got[..., 1::2] * H + H / 2
        ours = np.stack([x[..., 0], y[..., 0], x[..., 1] - x[..., 0], y[..., 1] - y[..., 0],
                         x[..., 2] - x[..., 0], y[..., 2] - y[..., 0]], axis=2)
        np.testing.assert_allclose(ours, pts, atol=1e-6 * H)


def fxs_points(keys) -> np.ndarray:
    """K×N×6 numbers of the ``Point`` texts of Silhouette path keys."""
    return np.array([[[float(v) for v in re.findall(r"-?[\d.]+(?:e-?\d+)?", p.text)] for p in k.iter("Point")]
                     for k in keys])


def nuke_fxs_exporter_points(vertex, in_offset, out_offset) -> np.ndarray:
    """What the only public .fxs writer (NukeFXSExporter) writes for a Nuke control point, before
    the change of coordinates: ``(centre, centre − rightTangent, centre − leftTangent)`` with Nuke's
    left tangent = in offset and right tangent = out offset (the order a Nuke-saved Rectangle
    shows: module notes of rotograph.interop.shape_formats)."""
    return np.concatenate([vertex, vertex - out_offset, vertex - in_offset], axis=-1)


def test_silhouette_handles_agree_with_the_public_fxs_writer():
    """On smooth points (in = −out) our (vertex, in, out) equals what NukeFXSExporter writes — the
    order under which its smooth shapes import right; on a rectangle's corners (handles along two
    edges) it differs exactly where that exporter's README reports "swapped tangents"."""
    t = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    v = np.stack([120 + 50 * np.cos(t), 90 + 40 * np.sin(t)], 1)
    d = np.stack([-50 * np.sin(t), 40 * np.cos(t)], 1) * (2 * np.pi / 8) / 3   # smooth: in = −out
    corners = np.array([[60.0, 40], [180, 40], [180, 140], [60, 140]])
    prev, nxt = np.roll(corners, 1, 0), np.roll(corners, -1, 0)
    cases = {"smooth": (v, -d, d), "rectangle": (corners, (prev - corners) / 3, (nxt - corners) / 3)}
    for name, (vert, tin, tout) in cases.items():
        shapes = rotograph.ShapeSet(W, H, objects=[rotograph.ShapeObject(1, "o", [Curve(np.hstack([vert, tin, tout]))])])
        keys = ET.fromstring(write_silhouette({FIRST: shapes}, FIRST, FIRST)).findall(".//Property[@id='path']/Key")
        ours = fxs_points(keys)[0]
        px = nuke_fxs_exporter_points(vert, tin, tout)
        theirs = np.stack([(px[:, 0::2] - W / 2) / H, (px[:, 1::2] - H / 2) / H], axis=2).reshape(-1, 6)
        if name == "smooth":
            np.testing.assert_allclose(ours, theirs, atol=1e-8)
        else:
            np.testing.assert_allclose(ours[:, :2], theirs[:, :2], atol=1e-8)
            assert np.abs(ours[:, 2:] - theirs[:, 2:]).min(axis=1).min() > 0.05   # every corner's handles differ
            # ours: the in handle on the edge to the previous corner, the out handle on the next one
            np.testing.assert_allclose(ours[:, 2:4] * H, ((corners + (prev - corners) / 3) - [W / 2, H / 2]), atol=1e-6)


# -- Fusion -----------------------------------------------------------------------------------
def test_fusion_polylines_are_centred_and_normalised_by_width(anim):
    text = write_fusion(anim, FIRST, LAST)
    assert text.count("{") == text.count("}") and f"RenderRange = {{ {FIRST}, {LAST} }}" in text
    want = expected(anim)
    for name, (hole, frames, pts) in want.items():
        block = re.search(rf"\t\t{name}Polyline = BezierSpline {{(.*?)\n\t\t}},", text, re.S).group(1)
        keys = re.findall(r"\[(\d+)\] = \{.*?Points = \{(.*?)\n\t+\}", block, re.S)
        assert [int(k) for k, _ in keys] == frames
        got = np.array([[[float(v) for v in re.findall(r"[XY] = (-?[\d.e+-]+)", p)]
                         for p in re.findall(r"\{ X = [^}]*\}", body)] for _, body in keys])  # K×N×6
        ours = np.stack([(got[..., 0] + 0.5) * W, H / 2 - got[..., 1] * W, got[..., 2] * W, -got[..., 3] * W,
                         got[..., 4] * W, -got[..., 5] * W], axis=2)
        np.testing.assert_allclose(ours, pts, atol=1e-9)
        if hole:
            assert re.search(rf'{name} = PolygonMask {{.*?PaintMode = Input {{ Value = FuID {{ "Subtract" }}', text, re.S)


# -- JSON and the writer node -----------------------------------------------------------------
def test_json_round_trips_exactly(anim):
    doc = json.loads(write_json(anim, FIRST, LAST, 24000 / 1001))
    assert (doc["first"], doc["last"], doc["fps"]) == (FIRST, LAST, "24000/1001")
    for f, shapes in anim.items():
        assert rotograph.ShapeSet.from_json(doc["frames"][str(f)]).to_json() == shapes.to_json()


def test_write_shapes_in_a_graph(registry, square_shot, tmp_path):
    from conftest import build_track_graph

    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    g.add("rotograph.MatteToShapes", "shapes")
    g.connect("track.masks", "shapes.masks")
    for ext in ("nk", "jsx", "setting", "fxs", "json"):
        g.add("rotograph.WriteShapes", f"w_{ext}", file=str(tmp_path / f"roto.{ext}"))
        g.connect("shapes.shapes", f"w_{ext}.shapes")
    g.add("rotograph.WriteShapes", "w_svg", file=str(tmp_path / "svg" / "roto.####.svg"))
    g.connect("shapes.shapes", "w_svg.shapes")
    report = rotograph.render(g, "1001-1012", cache=rotograph.Cache())
    assert report is not None
    doc = json.loads((tmp_path / "roto.json").read_text())
    assert sorted(map(int, doc["frames"])) == list(range(1001, 1013))
    assert len(list((tmp_path / "svg").glob("roto.*.svg"))) == 12
    nk = nk_tree((tmp_path / "roto.nk").read_text())
    assert len(list(find(nk, "curvegroup"))) == 1
    g.set("w_svg.file", str(tmp_path / "roto.svg"))
    with pytest.raises(GraphError, match="frame pattern"):
        g.validate()
    with pytest.raises(rotograph.ParamError, match="shape files end in"):
        g.set("w_nk.file", str(tmp_path / "roto.txt"))


def test_bundled_roto_shapes_graph_writes_matte_shapes_and_nuke_script(registry, tmp_path):
    from conftest import CHILD_BOX, GRAPHS, footage, read_exr

    g = rotograph.load(GRAPHS / "roto_shapes.json", registry)
    g.set("read.file", str(footage("bedroom.mp4")))
    g.set("track.prompts", [{"frame": 1001, "box": CHILD_BOX}])
    g.set("track.work_size", 192)
    for node, name in (("write_exr", "roto.####.exr"), ("write_nk", "roto.nk"), ("write_json", "roto.json")):
        g.set(f"{node}.file", str(tmp_path / name))
    rotograph.render(g, "1001-1004", cache=rotograph.Cache())
    matte = read_exr(tmp_path / "roto.1004.exr")["matte.A"]
    assert matte.shape == (540, 960) and 0.01 < matte.mean() < 0.5
    doc = json.loads((tmp_path / "roto.json").read_text())
    back = rotograph.ShapeSet.from_json(doc["frames"]["1004"])
    from rotograph.nodes.roto._shape_raster import rasterise
    from shape_scenes import iou

    assert iou(rasterise(back), matte) > 0.99
    tree = nk_tree((tmp_path / "roto.nk").read_text())
    root = tree[tree.index("Root") + 1]
    assert (root[root.index("first_frame") + 1], root[root.index("last_frame") + 1]) == ("1001", "1004")
    assert root[root.index("format") + 1].startswith('"960 540')
    assert len(list(find(tree, "curvegroup"))) >= 1


def test_two_objects_of_one_name_get_distinct_names_in_every_export(anim):
    twin = {f: rotograph.ShapeSet(s.width, s.height, 1.0, [rotograph.ShapeObject(1, "él", s.objects[0].curves),
                                                             rotograph.ShapeObject(2, "él", s.objects[0].curves)])
            for f, s in anim.items()}
    names = [name for name, *_ in tracks(twin)]
    assert len(set(names)) == len(names) == 6 and all(n.isascii() for n in names)
    groups = [g[1] for g in find(nk_tree(write_nuke(twin, FIRST, LAST)), "curvegroup")]
    assert sorted(groups) == sorted(names)


AE_MODEL = """
// A stand-in for the parts of After Effects' object model the script uses; it records calls.
var MaskMode = {ADD: "add", SUBTRACT: "subtract"};
function Shape() {}
var layer = {masks: [], property: function (group) {
  if (group !== "ADBE Mask Parade") throw new Error("unknown layer property " + group);
  return {addProperty: function (kind) {
    if (kind !== "ADBE Mask Atom") throw new Error("unknown mask kind " + kind);
    var mask = {keys: null, property: function (name) {
      if (name !== "ADBE Mask Shape") throw new Error("unknown mask property " + name);
      return {setValuesAtTimes: function (times, shapes) { mask.keys = {times: times, shapes: shapes}; }};
    }};
    layer.masks.push(mask);
    return mask;
  }};
}};
var app = {undo: 0, beginUndoGroup: function () { app.undo++; }, endUndoGroup: function () { app.undo--; },
  project: {items: {addComp: function (name, w, h, pa, duration, fps) {
    app.comp = {name: name, width: w, height: h, pixelAspect: pa, duration: duration, frameRate: fps,
      layers: {addSolid: function (colour, n, sw, sh, spa, sd) { app.solid = [sw, sh, spa, sd]; return layer; }}};
    return app.comp;
  }}}};
"""


def test_after_effects_script_runs_against_a_model_of_ae(anim, tmp_path):
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node.js is not installed: the script's run is not checked")
    fps = 24000 / 1001
    script = tmp_path / "run.js"
    script.write_text(AE_MODEL + write_after_effects(anim, FIRST, LAST, fps)
                      + "\nconsole.log(JSON.stringify({comp: app.comp, solid: app.solid, undo: app.undo,"
                        " masks: layer.masks}));\n")
    out = json.loads(subprocess.run([node, str(script)], capture_output=True, text=True, check=True).stdout)
    comp = out["comp"]
    assert (comp["width"], comp["height"], comp["displayStartFrame"], out["undo"]) == (W, H, FIRST, 0)
    assert comp["duration"] == pytest.approx((LAST - FIRST + 1) / fps) and out["solid"][:2] == [W, H]
    want = expected(anim)
    assert [m["name"] for m in out["masks"]] == list(want)
    for m in out["masks"]:
        hole, frames, pts = want[m["name"]]
        assert m["maskMode"] == ("subtract" if hole else "add")
        assert m["keys"]["times"] == pytest.approx([(f - FIRST) / fps for f in frames])
        got = np.array([np.hstack([s["vertices"], s["inTangents"], s["outTangents"]]) for s in m["keys"]["shapes"]])
        assert np.array_equal(got, pts) and all(s["closed"] for s in m["keys"]["shapes"])
        feathered = [s for s in m["keys"]["shapes"] if "featherRadii" in s]
        assert bool(feathered) == (m["name"] == "matte")  # the star's third vertex
        for s in feathered:
            assert s["featherSegLocs"] == [2] and s["featherRadii"] == [4.0] and s["featherTypes"] == [0]


FUSION_MODEL = """
local function tagged(kind) return function(t) t.__kind = kind; return t end end
ordered = function() return function(t) return t end end
PolygonMask, BezierSpline, Polyline, Input = tagged("PolygonMask"), tagged("BezierSpline"), tagged("Polyline"), tagged("Input")
FuID = function(t) return t[1] end
"""


def test_fusion_setting_is_lua_that_holds_the_polylines(anim):
    lupa = pytest.importorskip("lupa")
    lua = lupa.LuaRuntime()
    lua.execute(FUSION_MODEL)
    setting = lua.execute("return " + write_fusion(anim, FIRST, LAST))  # a Lua table, as Fusion reads it
    tools = setting["Tools"]
    want = expected(anim)
    for name, (hole, frames, pts) in want.items():
        mask, spline = tools[name], tools[name + "Polyline"]
        assert (mask["__kind"], spline["__kind"]) == ("PolygonMask", "BezierSpline")
        assert mask["Inputs"]["Polyline"]["SourceOp"] == name + "Polyline"
        assert (mask["Inputs"]["PaintMode"] is not None and mask["Inputs"]["PaintMode"]["Value"] == "Subtract") == hole
        keys = spline["KeyFrames"]
        assert sorted(keys.keys()) == frames
        for k, f in enumerate(frames):
            poly = keys[f]["Value"]
            got = np.array([[p["X"], p["Y"], p["LX"], p["LY"], p["RX"], p["RY"]] for p in poly["Points"].values()])
            ours = np.stack([(got[:, 0] + 0.5) * W, H / 2 - got[:, 1] * W, got[:, 2] * W, -got[:, 3] * W,
                             got[:, 4] * W, -got[:, 5] * W], axis=1)
            np.testing.assert_allclose(ours, pts[k], atol=1e-9)
            assert poly["Closed"] is True
    assert list(setting["RenderRange"].values()) == [FIRST, LAST]
