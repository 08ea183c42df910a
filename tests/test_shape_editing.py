"""The Roto node edited in the editor: the pure editing steps of editor/roto.py on a node's keys,
then the real window under Xvfb driven by X events only — a 4-point shape drawn, a vertex
moved, keyframes set on other frames (by an edit and by the key button), tangents pulled out of
a vertex, a vertex deleted and the deletion undone — and the saved graph rendering the matte
those vertices enclose."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import rotograph
from rotograph.editor.display import size_of, viewer_rgba
from rotograph.editor.roto import add_vertex, move_point, remove_vertex, shape_here
from rotograph.engine.evaluate import Evaluator
from rotograph.core.shapes import ShapeKeys, ShapeSet

from conftest import footage
from editor_session import Session, click_node, missing_tools
from shape_scenes import iou

SQUARE = [(300, 150), (600, 150), (600, 400), (300, 400)]


def polygon(points, size=(960, 540)) -> np.ndarray:
    """The exact-ish coverage of a polygon (8× supersampled), float32 H×W."""
    ss = 8
    big = np.zeros((size[1] * ss, size[0] * ss), np.uint8)
    cv2.fillPoly(big, [np.round(np.array(points) * ss).astype(np.int32)], 1)
    return cv2.resize(big.astype(np.float32), size, interpolation=cv2.INTER_AREA)


def test_vertices_are_added_moved_and_removed_on_every_keyframe():
    keys, i = [], None
    for xy in SQUARE:
        keys, i = add_vertex(keys, 1001, (960, 540), 2, xy, i)
    keys = move_point(keys, 1005, (960, 540), 2, 2, "vertex", (650, 450))  # auto-key at 1005
    assert [k["frame"] for k in keys] == [1001, 1005]
    assert ShapeKeys.canonical(keys) == keys  # a valid param value
    mid = shape_here(keys, 1003, (960, 540)).object(2).curves[0]
    np.testing.assert_allclose(mid.vertices[2], (625, 425))  # interpolated half way
    keys = move_point(keys, 1005, (960, 540), 2, 0, "out", (330, 150))  # a smooth handle: in mirrors out
    c = shape_here(keys, 1005, (960, 540)).object(2).curves[0]
    np.testing.assert_allclose(c.points[0, 2:], [-30, 0, 30, 0])
    keys, i = add_vertex(keys, 1001, (960, 540), 2, (450, 100), 0)  # between vertex 0 and 1, on both keys
    assert i == 1 and all(len(ShapeSet.from_json(k["shapes"]).objects[0].curves[0].points) == 5 for k in keys)
    keys = remove_vertex(keys, 1001, (960, 540), 2, 1)
    assert all(len(ShapeSet.from_json(k["shapes"]).objects[0].curves[0].points) == 4 for k in keys)


def test_the_viewer_shows_a_shapes_value_as_its_matte():
    keys, i = [], None
    for xy in SQUARE:
        keys, i = add_vertex(keys, 1001, (960, 540), 1, xy, i)
    shapes = shape_here(keys, 1001, (960, 540))
    assert size_of(shapes) == (960, 540)
    rgba = viewer_rgba(shapes, None, "rgb", downscale=2)
    assert rgba.shape == (270, 480, 4)
    assert rgba[140, 225, 0] == pytest.approx(1.0) and rgba[20, 20, 0] == 0  # inside white, outside black


# -- in the window ------------------------------------------------------------------------------
def roto_graph(path):
    g = rotograph.Graph()
    g.add("rotograph.Read", "read", file=str(footage("bedroom.mp4")), first_frame=1001)
    g.add("rotograph.Keyer", "keyer")
    g.add("rotograph.Roto", "roto", operation="replace")
    g.connect("read.image", "keyer.image")
    g.connect("keyer.matte", "roto.matte")
    rotograph.save(g, path)


@pytest.mark.skipif(bool(missing_tools()), reason="needs xvfb, xdotool and imagemagick")
def test_a_shape_drawn_moved_and_keyed_with_the_mouse_is_saved_and_renders(tmp_path):
    graph = tmp_path / "s" / "roto.json"
    graph.parent.mkdir()
    roto_graph(graph)
    with Session(tmp_path / "s", graph, size=(1280, 800)) as s:
        click_node(s, "roto")
        p = s.wait(lambda p: p["viewer"]["shown"] and p["viewer"]["shown"][0] == "roto" and not p["viewer"]["waiting"]
                   and p["viewer"]["image"] == [960, 540] and p["viewer"]["roto"]["node"] == "roto", "roto in view")
        zoom, origin = p["viewer"]["zoom"], p["viewer"]["origin"]

        def screen(pt):
            return origin[0] + pt[0] * zoom, origin[1] + pt[1] * zoom

        tol = 1.0 / zoom + 0.5  # a screen pixel in image pixels, and rounding
        for n, pt in enumerate(SQUARE, 1):
            s.click(*screen(pt))
            p = s.wait(lambda p: len(p["viewer"]["roto"]["points"]) == n, f"vertex {n} added")
        pts = np.array(p["viewer"]["roto"]["points"])
        np.testing.assert_allclose(pts[:, :2], SQUARE, atol=tol)
        assert not pts[:, 2:].any() and p["viewer"]["roto"]["keyframes"] == [1001]

        s.drag(screen(SQUARE[2]), screen((650, 450)))  # move a vertex
        p = s.wait(lambda p: p["viewer"]["roto"]["points"][2][0] > 640, "vertex 3 moved")
        np.testing.assert_allclose(p["viewer"]["roto"]["points"][2][:2], (650, 450), atol=tol)

        for _ in range(4):  # to frame 1005: move vertex 1 there (an auto-key)
            s.key("Right")
        s.wait(lambda p: p["frame"] == 1005 and not p["viewer"]["waiting"], "frame 1005")
        s.drag(screen(SQUARE[0]), screen((260, 110)))
        p = s.wait(lambda p: p["viewer"]["roto"]["keyframes"] == [1001, 1005], "a key at 1005")
        np.testing.assert_allclose(p["viewer"]["roto"]["points"][0][:2], (260, 110), atol=tol)

        s.key("Left")
        s.key("Left")  # frame 1003: the key button keys the shape interpolated there
        p = s.wait(lambda p: p["frame"] == 1003 and p["viewer"]["roto"]["key_button"], "frame 1003")
        s.click(*s.centre(p["viewer"]["roto"]["key_button"]))
        p = s.wait(lambda p: p["viewer"]["roto"]["keyframes"] == [1001, 1003, 1005], "a key at 1003")

        for _ in range(4):  # frame 1007 (holds 1005's shape): Ctrl + drag pulls tangents out of vertex 3
            s.key("Right")
        s.wait(lambda p: p["frame"] == 1007 and not p["viewer"]["waiting"], "frame 1007")
        s.move(*screen((650, 450)))
        s._xdo("keydown", "ctrl")
        s._step()
        s.drag(screen((650, 450)), screen((650, 510)))
        s._xdo("keyup", "ctrl")
        p = s.wait(lambda p: p["viewer"]["roto"]["keyframes"] == [1001, 1003, 1005, 1007], "a key at 1007")
        np.testing.assert_allclose(p["viewer"]["roto"]["points"][2], [650, 450, 0, -60, 0, 60], atol=tol)
        assert p["timeline"]["keyframes"] == [1001, 1003, 1005, 1007]  # marked on the timeline

        s.click(*screen(SQUARE[3]))  # select vertex 4 (a click on it moves nothing), then Del
        s.wait(lambda p: p["viewer"]["roto"]["selected"] == 3, "vertex 4 selected")
        s.key("Delete")
        p = s.wait(lambda p: len(p["viewer"]["roto"]["points"]) == 3, "vertex 4 deleted")
        assert all(len(ShapeSet.from_json(k["shapes"]).object(1).curves[0].points) == 3
                   for k in p["graph"]["nodes"]["roto"]["params"]["keys"])  # from every keyframe
        s.key("ctrl+z")
        s.wait(lambda p: len(p["viewer"]["roto"]["points"]) == 4, "the deletion undone")
        s.key("ctrl+s")
        s.wait(lambda p: not p["dirty"], "saved")
        assert "Traceback" not in s.stderr, s.stderr[-3000:]

    g = rotograph.load(graph)
    keys = {k["frame"]: ShapeSet.from_json(k["shapes"]).object(1).curves[0].points for k in g.nodes["roto"].keys}
    assert sorted(keys) == [1001, 1003, 1005, 1007]
    at = {1001: [SQUARE[0], SQUARE[1], (650, 450), SQUARE[3]], 1005: [(260, 110), SQUARE[1], (650, 450), SQUARE[3]]}
    at[1003] = [tuple((np.array(a) + b) / 2) for a, b in zip(at[1001], at[1005])]
    ev = Evaluator(g, rotograph.open_cache(str(tmp_path / "render_cache")))
    for f, want in at.items():
        np.testing.assert_allclose(keys[f][:, :2], want, atol=tol)
        matte = ev.get("roto", "matte_combined", f)
        assert matte.shape == (540, 960)
        assert iou(matte, polygon(keys[f][:, :2])) >= 0.99  # the saved vertices' polygon
        assert iou(matte, polygon(want)) >= 0.97  # where the mouse put them
    # at 1007 the bottom edge leaves vertex 3 downwards (its out tangent): it bulges below the chord
    curved, straight = ev.get("roto", "matte_combined", 1007), ev.get("roto", "matte_combined", 1005)
    assert curved[440, 475] > 0.5 and straight[440, 475] == 0 and polygon(at[1005])[440, 475] == 0


def test_a_proxy_sized_image_is_edited_in_the_keys_format():
    """The viewer shows a half-size image (a proxy): the overlay draws the keys' vertices at half
    their coordinates and turns the mouse back into the keys' pixels."""
    from types import SimpleNamespace

    from rotograph.editor.model import EditorModel
    from rotograph.editor.roto import RotoOverlay

    g = rotograph.Graph()
    keys, i = [], None
    for xy in SQUARE:
        keys, i = add_vertex(keys, 1001, (960, 540), 1, xy, i)
    g.add("rotograph.Roto", "roto", keys=keys)
    model = EditorModel(graph=g)
    model.select({"roto"})
    viewer = SimpleNamespace(model=model, image_size=(480, 270), obj=1, to_screen=lambda pt: tuple(pt),
                             to_image=lambda m: tuple(m))
    overlay = RotoOverlay(viewer)
    assert overlay.active() == ("roto", "keys")
    np.testing.assert_allclose(overlay._screen(SQUARE[2]), (300, 200))
    np.testing.assert_allclose(overlay._shape_xy((300, 200)), SQUARE[2])
    assert overlay._hit((300.5, 200.5)) == ("vertex", 2) and overlay._hit((600, 400)) is None
