"""The editor's model: every edit and its undo, refused links, files, prompts — no window."""

from __future__ import annotations

import json

import pytest

import rotograph
from rotograph.editor.model import EditorModel

from conftest import GRAPHS, footage


@pytest.fixture
def model(registry):
    return EditorModel(registry)


EDITS = [
    ("add", lambda m: m.add_node("rotograph.Grow", (10, 20))),
    ("move", lambda m: m.move_nodes({"feather": (300, 40)})),
    ("set", lambda m: m.set_param("feather", "size", 7.0)),
    ("connect", lambda m: m.connect("grow.out", "write_exr.matte")),
    ("disconnect", lambda m: m.disconnect("feather.matte")),
    ("delete", lambda m: m.remove_nodes(["feather"])),
    ("duplicate", lambda m: m.duplicate(["feather", "premult"])),
    ("prompt", lambda m: m.add_prompt("track", 1050, point=(100, 200, 1))),
]


@pytest.mark.parametrize("label,edit", EDITS, ids=[e[0] for e in EDITS])
def test_every_edit_undoes_and_redoes(registry, label, edit):
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    start = rotograph.dumps(m.graph)
    edit(m)
    edited = rotograph.dumps(m.graph)
    assert edited != start and m.dirty
    assert m.undo() is not None and rotograph.dumps(m.graph) == start and not m.dirty
    assert m.redo() is not None and rotograph.dumps(m.graph) == edited


def test_refused_links_change_nothing(model):
    model.add_node("rotograph.Read", name="read")
    model.add_node("rotograph.Grow", name="grow")
    before, steps = rotograph.dumps(model.graph), len(model.undo_stack)
    with pytest.raises(rotograph.LinkError, match="mismatched types"):
        model.connect("read.image", "grow.matte")
    with pytest.raises(rotograph.LinkError, match="did you mean 'matte'"):
        model.connect("read.image", "grow.mate")
    model.add_node("rotograph.Feather", name="feather")
    model.connect("grow.out", "feather.matte")
    with pytest.raises(rotograph.LinkError, match="cycle"):
        model.connect("feather.out", "grow.matte")
    assert len(model.undo_stack) == steps + 2  # the feather and its link, nothing refused
    model.undo()
    model.undo()
    assert rotograph.dumps(model.graph) == before


def test_duplicate_keeps_params_and_inner_links(registry):
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    new = m.duplicate(["grow", "feather"])
    g = m.graph
    assert g.nodes[new[0]].size == g.nodes["grow"].size and g.nodes[new[1]].size == g.nodes["feather"].size
    assert g.inputs_of(new[1])["matte"] == (new[0], "out")  # inner link copied
    assert g.inputs_of(new[0])["matte"] == g.inputs_of("grow")["matte"]  # outer link kept
    assert m.selection == set(new)


def test_save_round_trip_keeps_positions_and_renders(registry, tmp_path):
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    m.move_nodes({"grow": (123, 456)})
    path = m.save(str(tmp_path / "edited.json"))
    again = EditorModel.open(path, registry)
    assert again.graph.ui["grow"]["pos"] == [123, 456] and not again.dirty
    assert rotograph.dumps(again.graph) == rotograph.dumps(m.graph)
    # the editor's file is the CLI's file: it validates and renders unchanged
    again.graph.set("read.file", str(footage("bedroom.mp4")))
    again.graph.set("track.prompts", [{"frame": 1001, "box": [300, 0, 520, 400]}])
    again.graph.set("write_exr.file", str(tmp_path / "r" / "x.####.exr"))
    again.graph.set("write_png.file", str(tmp_path / "r" / "x.####.png"))
    assert rotograph.render(again.graph, "1001-1002", cache=rotograph.Cache()).ok


def test_prompts_make_keyframes(registry):
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    m.add_prompt("track", 1060, box=(10, 10, 50, 60))
    m.add_prompt("track", 1060, point=(30, 30, 0))
    assert m.keyframes("track") == [1041, 1060]
    kf = [k for k in m.graph.nodes["track"].prompts if k["frame"] == 1060][0]
    assert kf["box"] == [10.0, 10.0, 50.0, 60.0] and kf["points"] == [[30.0, 30.0, 0]]
    with pytest.raises(rotograph.GraphError, match="takes no prompts"):
        m.add_prompt("grow", 1001, point=(1, 1, 1))
    m.undo()
    assert len([k for k in m.graph.nodes["track"].prompts if k["frame"] == 1060][0]["points"]) == 0


def test_observers_hear_every_change(model):
    heard, graph_only = [], []
    model.subscribe(lambda event, detail: heard.append((event, detail)))
    model.subscribe(lambda event, detail: graph_only.append(detail), "graph")
    model.add_node("rotograph.Grow", name="g")
    model.undo()
    model.redo()
    model.set_frame(1005)
    model.select(set())
    assert heard == [("graph", "add rotograph.Grow"), ("selection", "g"), ("graph", "undo add rotograph.Grow"),
                     ("selection", ""),  # the node went away, and with it the selection
                     ("graph", "redo add rotograph.Grow"), ("frame", "1005")]  # selecting nothing again: no event
    assert graph_only == ["add rotograph.Grow", "undo add rotograph.Grow", "redo add rotograph.Grow"]
    with pytest.raises(ValueError, match="unknown editor event 'frames'"):
        model.subscribe(print, "frames")


def test_a_slider_drag_is_one_undo_step(registry):
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    steps = len(m.undo_stack)
    for size in (3.5, 4.0, 4.5, 6.0):  # a drag: one edit per frame
        m.set_param("feather", "size", size, merge=True)
    m.set_param("grow", "size", 1.0, merge=True)  # another param: a step of its own
    assert len(m.undo_stack) == steps + 2
    m.undo()
    m.undo()
    assert m.graph.nodes["feather"].size == 3.0 and m.graph.nodes["grow"].size == -2.0


def test_adding_after_the_selected_node_links_it(model):
    """Nuke's way: a new node is fed by the selected one (first output → first free input of
    that type), in the same undo step."""
    model.add_node("rotograph.Read", name="read")
    model.add_node("rotograph.Premult", name="premult", after="read")
    assert model.graph.inputs_of("premult") == {"image": ("read", "image")}
    model.add_node("rotograph.Keyer", name="keyer", after="read")
    model.add_node("rotograph.Grow", name="grow", after="keyer")
    assert model.graph.inputs_of("grow") == {"matte": ("keyer", "matte")}
    model.add_node("rotograph.Read", name="other", after="grow")  # nothing to feed: no link
    assert model.graph.inputs_of("other") == {} and model.selection == {"other"}
    model.undo()
    model.undo()
    assert "grow" not in model.graph.nodes and model.graph.inputs_of("premult")


def test_the_plate_is_found_by_what_nodes_are(registry):
    """The plate under a matte is the nearest upstream source of an Image — a plugin reader
    counts as much as the built-in Read."""
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    assert m.plate_of("feather") == "read" and m.plate_of("read") == "read"
    m.add_node("rotograph.Grow", name="lonely")
    assert m.plate_of("lonely") is None


def test_prompts_move_and_delete(registry):
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    ref = m.add_prompt("track", 1041, point=(300, 200, 1))
    assert ref.kind == "point" and ref.index == 0
    m.move_prompt("track", ref, (310, 205))
    box = m.add_prompt("track", 1041, box=(10, 20, 30, 40), obj=2)
    m.move_prompt("track", box, (12, 20, 40, 44))
    kfs = {k["object"]: k for k in m.graph.nodes["track"].prompts if k["frame"] == 1041}
    assert kfs[1]["points"] == [[310.0, 205.0, 1]] and kfs[1]["box"] == [190.0, 30.0, 720.0, 610.0]
    assert kfs[2]["box"] == [12.0, 20.0, 40.0, 44.0]
    m.remove_prompt("track", box)  # object 2 is left with nothing: its keyframe goes
    m.remove_prompt("track", ref)
    assert m.graph.nodes["track"].prompts == rotograph.load(GRAPHS / "quickstart.json").nodes["track"].prompts


def test_open_a_new_file_and_the_title(registry, tmp_path):
    path = tmp_path / "shot.json"
    m = EditorModel.open(str(path), registry)  # not there yet: an empty graph that saves there
    assert m.graph.nodes == {} and m.title == "rotograph — shot.json"
    m.add_node("rotograph.Grow", name="g")
    assert m.title == "rotograph — shot.json *"
    m.save()
    assert path.exists() and m.title == "rotograph — shot.json"
    m.open_file(str(GRAPHS / "quickstart.json"))
    assert m.frame == 1001 and not m.undo_stack and m.frame_range() == (1001, 1132)


def test_free_positions():
    from rotograph.editor.layout import duplicate_offset, free_position, overlaps

    taken = [(0, 0, 200, 100), (260, 0, 200, 100)]
    x, y = free_position((10, 10), (200, 100), taken)
    assert not any(overlaps((x, y, 200, 100), r) for r in taken) and abs(x - 10) + abs(y - 10) < 400
    assert free_position((600, 0), (200, 100), taken) == (600, 0)  # already free
    dx, dy = duplicate_offset(taken, [(0, 150, 200, 100)])
    copies = [(r[0] + dx, r[1] + dy, r[2], r[3]) for r in taken]
    assert not any(overlaps(c, r) for c in copies for r in taken + [(0, 150, 200, 100)])


def test_widget_kinds_follow_the_declarations():
    from rotograph.editor.widgets import WidgetKinds
    from rotograph.errors import RegistryError
    from rotograph.core.params import ParamKind

    reg = rotograph.Registry.builtin()
    kinds = WidgetKinds.builtin()
    read, track, grow = (reg.get(f"rotograph.{n}") for n in ("Read", "FlowTrack", "Grow"))
    assert kinds.kind_for(read.params["file"]) == "file_open"  # ui["widget"]
    assert kinds.kind_for(read.params["colorspace"]) == "colorspace"
    assert kinds.kind_for(read.params["missing_frames"]) == "choice"
    assert kinds.kind_for(track.params["prompts"]) == "prompts"
    assert kinds.kind_for(grow.params["size"]) == "float"
    # the param kinds say which widget they want: no second table maps kinds to widgets
    from rotograph.core.params import FileIn, FileOut, FrameRate, MovieOut, output_file_kind

    for kind, widget in ((FileIn, "file_open"), (FileOut, "file_save"), (MovieOut, "file_save"),
                         (output_file_kind("x_out", (".csv",), "tables"), "file_save"), (FrameRate, "str")):
        assert kinds.kind_for(rotograph.Param(kind, "" if kind is not FrameRate else "auto")) == widget, kind
    assert not {"file_in", "file_out", "movie_out"} & set(kinds._kinds)
    for type_id in reg.node_types:  # every param of the core kinds gets a widget (shape keys: drawn in the viewer)
        for pname, param in reg.get(type_id).params.items():
            if getattr(param.type, "__module__", "builtins") in ("builtins", "rotograph.params"):
                assert kinds.kind_for(param) != "readonly", (type_id, pname, param.type_name)

    class Curve(ParamKind):
        name = "curve"

        @classmethod
        def canonical(cls, value):
            return [float(v) for v in value]

    curve = rotograph.Param(Curve, [0.0, 1.0])
    assert kinds.kind_for(curve) == "readonly"  # a kind nobody registered: shown, not editable
    kinds.add("curve", lambda field: None)
    assert kinds.kind_for(curve) == "curve"
    with pytest.raises(RegistryError, match="widget kind 'float' is claimed by both"):
        kinds.add("float", lambda field: None)


def test_viewer_display_modes():
    import numpy as np

    from rotograph.editor.display import pixel_text, to_display
    from rotograph.core.types import DepthMap, MaskObject, MaskSet

    img = np.zeros((2, 3, 4), np.float32)
    img[..., 0] = 0.2140411  # sRGB 0.5
    img[..., 3] = 0.25
    rgb = to_display(img)
    assert rgb.shape == (2, 3, 4) and np.allclose(rgb[..., 0], 0.5, atol=1e-3) and np.all(rgb[..., 3] == 1)
    assert np.allclose(to_display(img, "alpha")[..., :3], 0.25)
    matte = np.array([[0, 1, 0.5]], np.float32)
    assert np.allclose(to_display(matte)[0, :, 1], [0, 1, 0.5])
    over = to_display(matte, "overlay", np.ones((1, 3, 3), np.float32))
    assert over[0, 1, 0] > over[0, 0, 0]  # the matte tints the plate red
    depth = to_display(DepthMap(np.array([[1.0, 10.0]], np.float32)))
    assert not np.allclose(depth[0, 0], depth[0, 1])  # near and far differ in colour
    masks = to_display(MaskSet(np.array([[0, 1, 2]], np.uint16), [MaskObject(1, "a"), MaskObject(2, "b")]))
    assert np.all(masks[0, 0, :3] == 0) and not np.allclose(masks[0, 1], masks[0, 2])
    assert pixel_text(img, 1, 0) == "x 1 y 0: 0.2140 0.0000 0.0000 0.2500" and pixel_text(img, 9, 9) == ""


def test_quickstart_built_from_nothing_renders_the_same(registry, tmp_path):
    """Build graphs/quickstart.json through the editor's actions only, save, render both."""
    m = EditorModel(registry)
    m.add_node("rotograph.Read", (0, 0), "read")
    m.set_param("read", "file", "sample:bigbuckbunny.mp4")
    m.set_param("read", "colorspace", "sRGB")
    m.add_node("rotograph.FlowTrack", (260, 0), "track")
    m.add_prompt("track", 1041, box=(190, 30, 720, 610))
    m.set_param("track", "band", 6.0)
    m.add_node("rotograph.MasksToMatte", (300, 120), "track_matte")
    for type_id, name, pos in (("rotograph.Grow", "grow", 520), ("rotograph.Feather", "feather", 780),
                               ("rotograph.Premult", "premult", 1040), ("rotograph.WriteEXR", "write_exr", 1300),
                               ("rotograph.WritePNG", "write_png", 1300)):
        m.add_node(type_id, (pos, 0), name)
    m.set_param("grow", "size", -2.0)
    m.set_param("feather", "size", 3.0)
    for a, b in [("read.image", "track.image"), ("track.masks", "track_matte.masks"),
                 ("track_matte.matte", "grow.matte"), ("grow.out", "feather.matte"),
                 ("read.image", "premult.image"), ("feather.out", "premult.matte"), ("premult.out", "write_exr.image"),
                 ("feather.out", "write_exr.matte"), ("premult.out", "write_png.image"), ("feather.out", "write_png.matte")]:
        m.connect(a, b)
    m.set_param("write_exr", "file", str(tmp_path / "built" / "q.####.exr"))
    m.set_param("write_png", "file", str(tmp_path / "built" / "png" / "q.####.png"))
    path = m.save(str(tmp_path / "built.json"))
    ours = rotograph.load(path, registry)
    shipped = rotograph.load(GRAPHS / "quickstart.json", registry)
    shipped.set("write_exr.file", str(tmp_path / "shipped" / "q.####.exr"))
    shipped.set("write_png.file", str(tmp_path / "shipped" / "png" / "q.####.png"))
    for g in (ours, shipped):
        assert rotograph.render(g, "1041-1042", cache=rotograph.Cache()).ok
    import numpy as np

    from conftest import read_exr

    for f in (1041, 1042):  # same pixels (the headers differ only in the output path's key)
        a, b = read_exr(tmp_path / "built" / f"q.{f}.exr"), read_exr(tmp_path / "shipped" / f"q.{f}.exr")
        assert a.keys() == b.keys() and all(np.array_equal(a[c], b[c]) for c in a)
        assert (tmp_path / "built" / "png" / f"q.{f}.png").read_bytes() == \
            (tmp_path / "shipped" / "png" / f"q.{f}.png").read_bytes()


def test_a_graph_without_positions_is_laid_out_left_to_right(registry, tmp_path):
    from rotograph.editor.layout import READABLE, bounds, estimate_size, overlaps

    doc = json.loads((GRAPHS / "quickstart.json").read_text())
    doc.pop("ui")
    doc["ui"] = {}
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(doc))
    m = EditorModel.open(str(path), registry)
    g = m.graph
    rects = {n: (*g.ui[n]["pos"], *estimate_size(g, n)) for n in g.nodes}
    assert not [(a, b) for a in rects for b in rects if a < b and overlaps(rects[a], rects[b], 0)]
    for n in g.nodes:  # left → right in a row; the chain wraps into a row below
        for src, _ in g.inputs_of(n).values():
            assert rects[src][0] + rects[src][2] < rects[n][0] or rects[src][1] + rects[src][3] < rects[n][1]
    box = bounds(rects.values())  # about square (the canvas is), where one row was 1500 x 420
    assert max(box[2:]) <= READABLE and len({r[1] for r in rects.values()}) > 1
    assert not m.dirty  # laying out is no edit
    # a node added to the file without a position goes right of its input, free of the others
    doc["ui"] = {n: {"pos": list(r[:2])} for n, r in rects.items() if n != "grow"}
    path.write_text(json.dumps(doc))
    m = EditorModel.open(str(path), registry)
    x, y = m.graph.ui["grow"]["pos"]
    assert x > rects["fill_holes"][0] + rects["fill_holes"][2]
    grow = (x, y, *estimate_size(m.graph, "grow"))
    assert not any(overlaps(grow, (*m.graph.ui[n]["pos"], *estimate_size(m.graph, n)), 0) for n in rects if n != "grow")


def test_the_picker_lists_sequences_as_patterns(tmp_path):
    from rotograph.editor.filepicker import list_folder

    (tmp_path / "plates").mkdir()
    (tmp_path / ".hidden").write_text("")
    for f in (1001, 1002, 1010):
        (tmp_path / f"shot.{f}.exr").write_text("")
    (tmp_path / "single.0001.png").write_text("")
    (tmp_path / "take2.mov").write_text("")
    (tmp_path / "a.json").write_text("{}")
    assert list_folder(str(tmp_path)) == [
        ("dir", "plates", "[Dir] plates/"), ("file", "a.json", "a.json"),
        ("seq", "shot.####.exr", "shot.####.exr  (1001-1010, 3 frames)"),
        ("file", "single.0001.png", "single.0001.png"), ("file", "take2.mov", "take2.mov")]
    assert [e[1] for e in list_folder(str(tmp_path), {".json"})] == ["plates", "a.json"]


def test_file_paths_are_spelt_relative_to_the_graph_file(tmp_path, monkeypatch):
    """A picked (absolute) path is stored relative to the graph file's folder, a new writer
    writes to render/ in the folder holding the graph and its plates, Save As elsewhere respells
    the paths, and undo keeps the graph's folder."""
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "show" / "plates").mkdir(parents=True)
    (tmp_path / "show" / "plates" / "a.1001.exr").write_text("")
    m = EditorModel.open(str(tmp_path / "show" / "comp" / "a.json"))  # not there yet: created on save
    read = m.add_node("rotograph.Read")
    m.set_param(read, "file", str(tmp_path / "show" / "plates" / "a.####.exr"))
    assert m.graph.nodes[read].file == "../plates/a.####.exr"
    m.set_param(read, "file", "../plates/./a.####.exr")  # typed: relative to the graph file, normalised
    assert m.graph.nodes[read].file == "../plates/a.####.exr"
    write = m.add_node("rotograph.WriteEXR", after=read)
    assert m.graph.nodes[write].file == "../render/a/a.####.exr"
    m.undo()
    assert m.graph.folder == str(tmp_path / "show" / "comp") and write not in m.graph.nodes
    m.redo()
    (tmp_path / "show" / "comp").mkdir()
    m.save()
    assert json.loads((tmp_path / "show" / "comp" / "a.json").read_text())["nodes"][read]["params"]["file"] == \
        "../plates/a.####.exr"
    m.save(str(tmp_path / "b.json"))  # Save As in another folder
    saved = json.loads((tmp_path / "b.json").read_text())["nodes"]
    assert saved[read]["params"]["file"] == "show/plates/a.####.exr"
    assert saved[write]["params"]["file"] == "show/render/a/a.####.exr"
    assert not m.dirty and m.graph.nodes[read].file == "show/plates/a.####.exr"
    m.undo()  # the history was respelt too: undo keeps the same files
    assert m.graph.nodes[read]._real() == str(tmp_path / "show" / "plates" / "a.####.exr")


def test_typed_floats_keep_the_declared_precision():
    import numpy as np

    from rotograph import Param
    from rotograph.editor.widgets import typed_float

    assert typed_float(float(np.float32(0.05)), Param(float, 0.0)) == 0.05
    assert typed_float(53.28761, Param(float, 0.0)) == 53.288
    assert typed_float(0.123456, Param(float, 0.0, ui={"precision": 5})) == 0.12346


def test_rename_keeps_links_groups_and_positions(registry):
    m = EditorModel.open(str(GRAPHS / "quickstart.json"), registry)
    m.collapse(["grow", "feather"], "clean")
    m.select({"grow"})
    m.rename("grow", "expand")
    g = m.graph
    assert "grow" not in g.nodes and g.inputs_of("expand") == {"matte": ("fill_holes", "out")}
    assert g.inputs_of("feather")["matte"] == ("expand", "out") and g.groups["clean"].nodes == ["expand", "feather"]
    assert "expand" in g.ui and m.selection == {"expand"}
    # the renamed graph still reads its files from beside the graph file, not from the cwd
    assert g.folder == str(GRAPHS) and g.nodes["read"].resolve("a.exr") == str(GRAPHS / "a.exr")
    m.rename("clean", "cleanup")
    assert m.graph.groups["cleanup"].nodes == ["expand", "feather"]
    with pytest.raises(rotograph.errors.GraphError, match="already exists"):
        m.rename("expand", "feather")
    with pytest.raises(rotograph.errors.GraphError, match="cannot name"):
        m.rename("expand", "2x")
    m.undo()
    m.undo()
    assert "grow" in m.graph.nodes and m.graph.inputs_of("feather")["matte"] == ("grow", "out")


def test_colours_are_scene_linear_floats_shown_through_the_view_transform():
    """The colour widget's swatch and picker show a linear colour as the viewer does (sRGB,
    clipped); picking on the display comes back linear with the colour's intensity kept."""
    from rotograph.editor.widgets import display_colour, picked_colour

    assert display_colour([0.18, 0.0, 1.0]) == pytest.approx([0.4613, 0.0, 1.0], abs=1e-3)  # 18% grey → 46%
    assert display_colour([4.0, -1.0, 0.5])[:2] == pytest.approx([1.0, 0.0])  # out of the screen's range: clipped
    back = picked_colour(display_colour([0.08, 0.45, 0.1]), 1.0)
    assert back == pytest.approx([0.08, 0.45, 0.1], abs=1e-5)
    assert picked_colour([255, 0, 0, 255], 2.5) == pytest.approx([2.5, 0.0, 0.0])  # 0-255 too; intensity kept


def test_help_shows_docstrings_as_text():
    """The inspector's help renders reST as readable text, for every registered node."""
    import re

    from rotograph.editor.inspector import plain_doc

    doc = """Track **objects** with :class:`~rotograph.nodes.SAM3Track` (see ``prompts``).

    .. note:: needs *CUDA*.

    .. code-block:: python

    a * b stays, `x` is x::

        indented
    """
    assert plain_doc(doc) == ("Track objects with SAM3Track (see prompts).\n\nNote: needs CUDA.\n\n"
                              "a * b stays, x is x:\n\n    indented")
    registry = rotograph.Registry.default()
    for type_id in registry.node_types:
        text = plain_doc(registry.get(type_id).__doc__ or "")
        assert not re.search(r"``|\*\*|:[a-z]+:`|^\s*\.\. ", text, re.M), (type_id, text)
