"""Roto shapes: the Shapes type through the caches, MatteToShapes and ShapesToMatte on mattes with
known outlines (tests/shape_scenes.py), and the nodes in a real graph."""

from __future__ import annotations

import numpy as np
import pytest

import rotograph
from rotograph import Context, Curve, Segment, ShapeObject, ShapeSet, Shapes
from rotograph.engine.cache import DiskCache
from rotograph.engine.evaluate import Evaluator
from rotograph.nodes.roto._shape_raster import rasterise
from rotograph.nodes.roto.shapes import MatteToShapes, ShapesToMatte

from conftest import build_track_graph
from shape_scenes import disc, iou, moving_star, ring, star, star_motion

SIZE = (180, 240)


def fit(mattes, first=1001, **params):
    """MatteToShapes over ``mattes`` (one per frame from ``first``), as the engine runs it."""
    node = MatteToShapes("m2s", **params)
    seg = Segment(tuple(range(first, first + len(mattes))))
    return [v for _, v in node.compute_range(Context(first, "m2s"), seg, lambda f: {"matte": mattes[f - first]})]


def sample_set():
    rng = np.random.default_rng(1)
    return ShapeSet(1920, 1080, 2.0, [
        ShapeObject(3, "person", [Curve(rng.normal(500, 200, (7, 6)), rng.random(7) * 4),
                                  Curve(rng.normal(500, 20, (4, 6)), None, True, True, key=4),
                                  Curve(rng.normal(5, 2, (3, 6)), None, False, key=2)]),
        ShapeObject(9, "", []),
    ])


# -- the type -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [sample_set(), ShapeSet(1, 1), ShapeSet(3840, 2160, 1.0, [ShapeObject(1)])],
                         ids=["curves", "empty-1x1", "object-without-curves"])
def test_shapes_round_trip_exactly_through_disk_and_json(tmp_path, value):
    assert Shapes.check(value) is None
    disk = DiskCache(str(tmp_path))
    disk.put("a" * 64, Shapes, value)
    back = disk.get("a" * 64, Shapes)
    assert back.to_json() == value.to_json()
    for c0, c1 in zip([c for o in value.objects for c in o.curves], [c for o in back.objects for c in o.curves]):
        assert np.array_equal(c0.points, c1.points) and np.array_equal(c0.feather, c1.feather)
    assert ShapeSet.from_json(value.to_json()).to_json() == value.to_json()
    memory = rotograph.Cache()
    memory.put("b" * 64, Shapes, value)
    assert memory.get("b" * 64, Shapes) is value


def test_a_shapes_entry_is_bound_to_its_content(tmp_path):
    disk = DiskCache(str(tmp_path))
    disk.put("c" * 64, Shapes, sample_set())
    other = sample_set()
    other.objects[0].curves[0].points[0, 0] += 1
    disk.put("d" * 64, Shapes, other)
    entries = tmp_path / "entries"
    src, dst = entries / "dd" / ("d" * 64) / "points", entries / "cc" / ("c" * 64) / "points"
    for chunk in (src / "c").rglob("*"):  # a valid chunk of another entry
        if chunk.is_file():
            target = dst / chunk.relative_to(src)
            target.write_bytes(chunk.read_bytes())
    assert disk.get("c" * 64, Shapes) is None


def test_bad_shapes_json_names_the_field():
    doc = sample_set().to_json()
    doc["objects"][0]["curves"][1]["points"][2] = [1, 2, 3]
    with pytest.raises(ValueError, match=r"objects\[0\]\.curves\[1\]\.points"):
        ShapeSet.from_json(doc)
    with pytest.raises(ValueError, match=r"format"):
        ShapeSet.from_json({"format": [0, 10, 1], "objects": []})
    twice = sample_set()
    twice.objects[0].curves[1].key = 0
    assert "curve keys repeat" in Shapes.check(twice)
    assert "negative feather" in Shapes.check(ShapeSet(10, 10, 1.0, [ShapeObject(1, "", [Curve(np.zeros((3, 6)), -np.ones(3))])]))


# -- matte → shapes → matte -------------------------------------------------------------------
@pytest.mark.parametrize("name, matte, holes", [
    ("disc", disc(SIZE, 120.3, 90.6, 50), 0),
    ("small disc", disc(SIZE, 60.5, 50.2, 10), 0),
    ("star", star(SIZE, 120, 90, 55), 0),
    ("eight-arm star", star(SIZE, 120, 90, 60, arms=8, depth=0.15), 0),
    ("ring", ring(SIZE, 120, 90, 70, 30), 1),
])
def test_round_trip_matches_the_matte(name, matte, holes):
    shapes = fit([matte])[0]
    (obj,) = shapes.objects
    assert (shapes.width, shapes.height) == (SIZE[1], SIZE[0])
    assert obj.vertex_count <= 64
    assert sum(c.hole for c in obj.curves) == holes and len(obj.curves) == 1 + holes
    back = rasterise(shapes)
    assert iou(back, matte) >= 0.97, name
    assert np.abs(back - matte).mean() < 0.005  # the soft edge too, not only the 0.5 cut


def test_a_moving_turning_growing_star_keeps_its_vertex_count_and_fits_every_frame():
    mattes = moving_star(30, SIZE)
    shots = fit(mattes)
    counts = {tuple(len(c.points) for c in s.objects[0].curves) for s in shots}
    assert len(counts) == 1 and sum(next(iter(counts))) <= 64
    ious = [iou(rasterise(s), m) for s, m in zip(shots, mattes)]
    assert min(ious) >= 0.97, ious


def _local_vertices(shots, slow):
    """Vertices in the star's own frame (its true motion undone), frames × N × 2."""
    out = []
    for i, s in enumerate(shots):
        cx, cy, r, a = star_motion(i, slow)
        v = s.objects[0].curves[0].vertices - [cx, cy]
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        out.append(v @ rot / (r / star_motion(0, slow)[2]))
    return np.array(out)


def test_vertices_do_not_crawl_on_a_slowly_moving_object():
    shots = fit(moving_star(30, SIZE, slow=True))
    local = _local_vertices(shots, slow=True)
    jitter = np.linalg.norm(np.diff(local, axis=0), axis=2)  # px per frame in the object's frame
    assert jitter.mean() < 0.1 and jitter.max() < 0.3, (jitter.mean(), jitter.max())
    # the re-rasterised matte does not flicker: its frame-to-frame change matches the plate's
    mattes = moving_star(30, SIZE, slow=True)
    back = [rasterise(s) for s in shots]
    extra = [np.abs((b1 - b0) - (m1 - m0)).mean() for b0, b1, m0, m1 in zip(back, back[1:], mattes, mattes[1:])]
    assert max(extra) < 0.002


def test_vertices_follow_an_object_that_moves_turns_and_grows():
    shots = fit(moving_star(30, SIZE))
    local = _local_vertices(shots, slow=False)
    jitter = np.linalg.norm(np.diff(local, axis=0), axis=2)  # the turn (0.8 px/frame at the arms) taken out
    assert jitter.mean() < 0.15 and jitter.max() < 0.5, (jitter.mean(), jitter.max())


def test_a_featureless_disc_does_not_drift_round():
    mattes = [disc(SIZE, 100 + 0.7 * i, 80 + 0.4 * i, 40) for i in range(30)]
    shots = fit(mattes)
    angles = np.array([np.arctan2(*(s.objects[0].curves[0].vertices - [100 + 0.7 * i, 80 + 0.4 * i]).T[::-1])
                       for i, s in enumerate(shots)])
    drift = (angles[-1] - angles[0] + np.pi) % (2 * np.pi) - np.pi
    assert np.abs(drift).max() * 40 < 0.5  # px along the edge over 30 frames


def test_a_run_resumed_from_the_previous_frame_gives_the_same_shapes():
    mattes = moving_star(6, SIZE)
    whole = fit(mattes)
    node = MatteToShapes("m2s")
    seg = Segment(tuple(range(1001, 1007)))
    resumed = [v for _, v in node.compute_range(Context(1001, "m2s"), seg, lambda f: {"matte": mattes[f - 1001]},
                                                resume=(1003, {"shapes": whole[2]}))]
    assert [s.to_json() for s in resumed] == [s.to_json() for s in whole[3:]]


def test_curves_keep_their_keys_when_another_curve_goes_away():
    big, small, far = disc(SIZE, 70, 90, 40), disc(SIZE, 190, 60, 15), disc(SIZE, 190, 140, 20)
    shots = fit([np.maximum(np.maximum(big, small), far), np.maximum(big, far), np.maximum(big, far)])
    keys = [{c.key: len(c.points) for c in s.objects[0].curves} for s in shots]
    assert len(keys[0]) == 3 and keys[1] == keys[2] and set(keys[1]) < set(keys[0])
    assert all(keys[1][k] == keys[0][k] for k in keys[1])  # survivors keep key and vertex count
    far_key = next(c.key for c in shots[0].objects[0].curves if c.vertices[:, 1].mean() > 100)
    assert next(c.key for c in shots[2].objects[0].curves if c.vertices[:, 1].mean() > 100) == far_key


def test_tolerance_and_max_vertices_bound_the_fit():
    matte = star(SIZE, 120, 90, 60, arms=8, depth=0.15)
    loose, capped = fit([matte], tolerance=5.0)[0], fit([matte], max_vertices=12)[0]
    assert loose.objects[0].vertex_count < fit([matte])[0].objects[0].vertex_count
    assert capped.objects[0].vertex_count <= 12


def test_masks_give_one_shape_object_per_object_and_specks_are_dropped():
    labels = np.zeros(SIZE, np.uint16)
    labels[disc(SIZE, 60, 60, 30) > 0.5] = 4
    labels[star(SIZE, 170, 100, 40) > 0.5] = 7
    labels[5:7, 5:7] = 7  # a 4-pixel speck
    masks = rotograph.MaskSet(labels, [rotograph.MaskObject(4, "ball"), rotograph.MaskObject(7, "star")])
    node = MatteToShapes("m2s", min_area=16.0)
    (_, shapes), = node.compute_range(Context(1001, "m2s"), Segment((1001,)), lambda f: {"masks": masks})
    assert [(o.id, o.name, len(o.curves)) for o in shapes.objects] == [(4, "ball", 1), (7, "star", 1)]
    assert iou(rasterise(shapes, object_ids=[7]), (labels == 7).astype(np.float32) * (labels[6, 6] == 7)) > 0.95
    only = MatteToShapes("m2s", objects="ball")
    (_, one), = only.compute_range(Context(1001, "m2s"), Segment((1001,)), lambda f: {"masks": masks})
    assert [o.id for o in one.objects] == [4]


def test_neither_or_both_inputs_is_a_clear_error():
    node = MatteToShapes("m2s")
    with pytest.raises(rotograph.RotographError, match="connect either 'matte' or 'masks'"):
        list(node.compute_range(Context(1001, "m2s"), Segment((1001,)), lambda f: {"matte": None, "masks": None}))


# -- shapes → matte ----------------------------------------------------------------------------
def test_shapes_rasterise_at_another_resolution():
    shapes = fit([disc(SIZE, 120.3, 90.6, 50)])[0]
    big = ShapesToMatte("s2m", width=480, height=360).compute(Context(1001, "s2m"), shapes)
    assert big.shape == (360, 480) and big.dtype == np.float32
    assert iou(big, disc((360, 480), 240.6, 181.2, 100)) >= 0.98


def test_feather_softens_outwards_only_where_the_vertices_say():
    shapes = fit([disc(SIZE, 120, 90, 50)], tolerance=0.1)[0]
    hard = rasterise(shapes)
    curve = shapes.objects[0].curves[0]
    right = int(np.argmax(curve.vertices[:, 0]))  # the vertex at the disc's right edge
    curve.feather[right] = 10.0
    soft = rasterise(shapes)
    assert np.all(soft >= hard - 1e-6)  # feather only adds outside the edge
    assert 0.2 < soft[90, 175] < 0.8 and hard[90, 175] == 0  # 5 px out on the right: half way
    assert soft[90, 185] == 0  # past the feather
    assert soft[90, 50] == hard[90, 50]  # the left side (far from that vertex) untouched
    uniform = ShapesToMatte("s2m", feather=10.0).compute(Context(1001, "s2m"), fit([disc(SIZE, 120, 90, 50)])[0])
    assert 0.2 < uniform[90, 64] < 0.8 and 0.2 < uniform[90, 175] < 0.8 and 0.2 < uniform[35, 120] < 0.8


# -- in a graph --------------------------------------------------------------------------------
def test_tracked_masks_become_shapes_in_a_graph_and_come_back_from_the_disk_cache(registry, square_shot, tmp_path,
                                                                                   cache):
    pattern, truth = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    g.add("rotograph.MatteToShapes", "shapes")
    g.add("rotograph.ShapesToMatte", "roto")
    g.connect("track.masks", "shapes.masks")
    g.connect("shapes.shapes", "roto.shapes")
    ev = Evaluator(g, cache)
    ev.wanted = {"shapes": set(range(1001, 1013)), "track": set(range(1001, 1013))}
    mattes = {f: ev.get("roto", None, f) for f in range(1001, 1013)}
    tracked = {f: ev.get("track_matte", None, f) for f in range(1001, 1013)}
    assert all(iou(mattes[f], tracked[f]) > 0.9 for f in mattes)
    counts = {ev.get("shapes", None, f).objects[0].vertex_count for f in range(1001, 1013)}
    assert len(counts) == 1
    again = Evaluator(g, rotograph.open_cache(cache.disk.url))
    assert again.get("shapes", None, 1012).to_json() == ev.get("shapes", None, 1012).to_json()
    assert again.stats.computes["shapes"] == 0 and again.stats.computes["track"] == 0


# -- Roto --------------------------------------------------------------------------------------
def _keys(*frames_and_mattes):
    return [{"frame": f, "shapes": fit([m])[0].to_json()} for f, m in frames_and_mattes]


def test_roto_interpolates_between_keyframes_and_holds_outside_them():
    from rotograph.nodes.roto.shapes_roto import Roto

    a, b = disc(SIZE, 80, 90, 30), disc(SIZE, 160, 90, 30)  # the same disc moved 80 px: same vertex count
    node = Roto("roto", keys=_keys((1010, b), (1000, a)), operation="replace")
    assert [k["frame"] for k in node.keys] == [1000, 1010]  # kept sorted
    mid = node.compute(Context(1005, "roto"), None)
    assert iou(mid["matte_combined"], disc(SIZE, 120, 90, 30)) > 0.97
    before, after = node.compute(Context(990, "roto"), None), node.compute(Context(1020, "roto"), None)
    assert iou(before["matte_combined"], a) > 0.97 and iou(after["matte_combined"], b) > 0.97
    assert mid["shapes"].objects[0].vertex_count == before["shapes"].objects[0].vertex_count


def test_roto_adds_and_subtracts_from_a_matte():
    from rotograph.nodes.roto.shapes_roto import Roto

    model = disc(SIZE, 120, 90, 50)
    patch, cut = disc(SIZE, 175, 90, 15), disc(SIZE, 120, 90, 20)
    added = Roto("r", keys=_keys((1001, patch)), operation="add").compute(Context(1001, "r"), model)["matte_combined"]
    assert iou(added, np.maximum(model, patch)) > 0.97
    removed = Roto("r", keys=_keys((1001, cut)), operation="subtract").compute(Context(1001, "r"), model)["matte_combined"]
    assert iou(removed, model * (1 - cut)) > 0.97 and removed[90, 120] == 0
    kept = Roto("r", keys=_keys((1001, cut)), operation="intersect").compute(Context(1001, "r"), model)["matte_combined"]
    assert iou(kept, cut) > 0.97
    none = Roto("r").compute(Context(1001, "r"), model)
    assert none["matte_combined"] is model and none["shapes"].objects == []


def test_roto_keys_are_validated_with_the_field_named():
    from rotograph.nodes.roto.shapes_roto import Roto

    good = _keys((1001, disc(SIZE, 80, 90, 30)))
    with pytest.raises(rotograph.ParamError, match=r"keys.*\[1\]\.frame: frame 1001 is keyed twice"):
        Roto("r", keys=good + good)
    bad = [{"frame": 1001, "shapes": {**good[0]["shapes"], "format": [0, 1, 1]}}]
    with pytest.raises(rotograph.ParamError, match=r"\[0\]\.shapes\.format"):
        Roto("r", keys=bad)


def test_a_changed_frame_recomputes_only_the_shapes_from_there_on(registry, tmp_path, cache):
    import cv2

    mattes = moving_star(8, SIZE, slow=True)
    folder = tmp_path / "mattes"
    folder.mkdir()

    def write(f, m):
        rgba = np.dstack([np.zeros(SIZE + (3,), np.uint8), (m * 255 + 0.5).astype(np.uint8)])
        cv2.imwrite(str(folder / f"m.{f}.png"), rgba)

    for i, m in enumerate(mattes):
        write(1001 + i, m)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(folder / "m.####.png"), colorspace="linear")
    g.add("rotograph.ShuffleMatte", "alpha")
    g.add("rotograph.MatteToShapes", "shapes")
    g.connect("read.image", "alpha.image")
    g.connect("alpha.matte", "shapes.matte")
    ev = Evaluator(g, cache)
    before = {f: ev.get("shapes", None, f) for f in range(1001, 1009)}
    write(1005, star(SIZE, 110, 85, 45, angle=0.3))  # a correction on frame 1005
    again = Evaluator(g, rotograph.open_cache(cache.disk.url))
    assert again.get("shapes", None, 1004).to_json() == before[1004].to_json()
    assert again.stats.computes["shapes"] == 0
    after = again.get("shapes", None, 1008)
    assert again.stats.computes["shapes"] == 4  # 1005..1008, resumed from the cached 1004
    assert after.to_json() != before[1008].to_json()
    assert after.objects[0].vertex_count == before[1008].objects[0].vertex_count


def test_a_speckled_matte_stays_within_the_vertex_budget():
    import cv2

    rng = np.random.default_rng(0)
    noisy = (cv2.GaussianBlur(rng.random((270, 480)).astype(np.float32), (0, 0), 4) > 0.52).astype(np.float32)
    shots = fit([noisy, np.roll(noisy, 3, axis=1)], max_vertices=64, min_area=4.0)
    for s in shots:
        assert s.objects[0].vertex_count <= 64 and 1 <= len(s.objects[0].curves) <= 16


def test_roto_refuses_a_matte_of_another_aspect_and_scales_to_a_proxy():
    from rotograph.nodes.roto.shapes_roto import Roto

    node = Roto("roto", keys=_keys((1001, disc(SIZE, 120, 90, 40))), operation="replace")
    with pytest.raises(rotograph.RotographError, match="differ in aspect"):
        node.compute(Context(1001, "roto"), np.zeros((100, 100), np.float32))
    half = node.compute(Context(1001, "roto"), np.zeros((90, 120), np.float32))["matte_combined"]
    assert half.shape == (90, 120) and iou(half, disc((90, 120), 60, 45, 20)) > 0.95


def test_scaling_to_another_format_keeps_the_outline_and_open_curves_are_not_filled():
    shapes = fit([disc(SIZE, 120, 90, 40)])[0]
    squeezed = shapes.scaled(120, 180)  # half the width: pixels twice as wide
    assert squeezed.pixel_aspect == 2.0
    np.testing.assert_allclose(squeezed.objects[0].curves[0].vertices[:, 0], shapes.objects[0].curves[0].vertices[:, 0] / 2)
    path = Curve(shapes.objects[0].curves[0].points, None, closed=False, key=1)
    with_path = ShapeSet(shapes.width, shapes.height, 1.0, [ShapeObject(1, "", [shapes.objects[0].curves[0], path])])
    assert np.array_equal(rasterise(with_path), rasterise(shapes))
    assert len(path.segments()) == len(path.points) - 1 and np.allclose(path.sample(8)[-1], path.vertices[-1])


def test_soft_edge_becomes_per_vertex_feather_and_rasterises_back_as_the_soft_matte():
    """A disc whose matte ramps linearly over 12 px (1 at r = 34, 0 at r = 46): with soft_edge
    every vertex moves in to the 95% level (r ≈ 34.6 + 0.45) and its feather spans the ramp out
    to the 5% level (0.9 · 12 − 0.9 ≈ 9.9 px); rasterised, the shapes follow the soft matte far
    better than the hard outline does. A hard disc's shapes do not change."""
    yy, xx = np.mgrid[0:SIZE[0], 0:SIZE[1]] + 0.5
    soft = np.clip((46 - np.hypot(xx - 120, yy - 90)) / 12, 0, 1).astype(np.float32)
    shapes = fit([soft], soft_edge=True)[0]
    curve = shapes.objects[0].curves[0]
    np.testing.assert_allclose(curve.feather, 0.9 * 12 - 0.9, atol=0.6)
    np.testing.assert_allclose(np.hypot(*(curve.vertices - [120, 90]).T), 34.6 + 0.45, atol=0.6)
    plain = fit([soft])[0]
    assert np.all(plain.objects[0].curves[0].feather == 0)
    err_soft = np.abs(rasterise(shapes) - soft).mean()
    err_hard = np.abs(rasterise(plain) - soft).mean()
    assert err_soft < 0.5 * err_hard, (err_soft, err_hard)
    hard_matte = disc(SIZE, 120, 90, 40)
    a, b = fit([hard_matte])[0], fit([hard_matte], soft_edge=True, feather=2.0)[0]
    np.testing.assert_allclose(b.objects[0].curves[0].vertices, a.objects[0].curves[0].vertices, atol=0.3)
    np.testing.assert_allclose(b.objects[0].curves[0].feather, 2.0, atol=0.6)
