"""An artist's working day in the real editor window (Xvfb, X events only): nothing typed into
a dialog reaches the graph, no keystroke is dropped, a typed value is saved as typed, files and
sequences are chosen with the picker, a render stops when asked, and a graph without positions
opens laid out.
"""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import OpenEXR
import pytest

from conftest import GRAPHS
from editor_session import Session, click_node, missing_tools, overlap

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason="needs xvfb, xdotool and imagemagick")


def test_the_open_dialog_owns_the_keyboard(tmp_path, quickstart):
    """BackSpace, Ctrl+A, G, Ctrl+G, B, Delete and Tab typed into the Open dialog's file name
    edit the name, never the graph behind it."""
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        click_node(s, "grow")
        before = s.probe()
        s.key("ctrl+o")
        p = s.wait(lambda p: p["picker"]["open"], "the Open dialog")
        assert "quickstart.json" in p["picker"]["entries"]
        s.type("abc")
        s.wait(lambda p: p["picker"]["name"] == "abc", "typed into the file name")
        for chord in ("BackSpace", "Delete", "ctrl+a", "g", "ctrl+g", "b", "Tab", "ctrl+d", "ctrl+z", "space"):
            s.key(chord)
        p = s.settle(3)
        assert p["picker"]["open"] and p["picker"]["name"] != "abc"  # the keys edited the name
        assert p["graph"] == before["graph"] and p["selection"] == ["grow"] and not p["dirty"]
        assert p["viewer"]["prompt_mode"] == before["viewer"]["prompt_mode"] and not p["palette"]["open"]
        assert p["undo"] == before["undo"] and p["timeline"]["playing"] is False
        s.key("Escape")
        p = s.wait(lambda p: not p["picker"]["open"], "the dialog closed")
        assert p["graph"] == before["graph"] and p["selection"] == ["grow"]
        assert "Traceback" not in s.stderr, s.stderr[-3000:]


def test_the_picker_chooses_a_sequence_relative_to_the_graph_file(tmp_path, quickstart):
    """The Read node's "..." opens the picker: a double click enters a folder, numbered images
    are one entry ``plate.####.exr`` with their frame range, and the path saved is relative to
    the graph file's folder."""
    shots = tmp_path / "s" / "shots"
    shots.mkdir(parents=True)
    for f in (1001, 1002, 1003):
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": np.full((8, 8, 3), 0.5, np.float32)}) as exr:
            exr.write(str(shots / f"plate.{f}.exr"))
    (shots / "notes.txt").write_text("x")
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        p = click_node(s, "read")
        r = s.wait(lambda p: p["params"]["read.file"]["browse"], "the browse button")["params"]["read.file"]["browse"]
        s.click(*s.centre(r))
        p = s.wait(lambda p: p["picker"]["open"] and p["picker"]["rects"] and all(p["picker"]["rects"]), "the picker")
        assert not any(e.endswith(".*") for e in p["picker"]["entries"])
        i = p["picker"]["entries"].index("[Dir] shots/")
        x, y = s.centre(p["picker"]["rects"][i])
        s.move(x, y)
        s._xdo("click", "--repeat", "2", "--delay", "90", "1")
        s._count("double click", 2)
        p = s.wait(lambda p: p["picker"]["folder"].endswith("shots") and p["picker"]["rects"] and all(p["picker"]["rects"]),
                   "inside shots/")
        assert p["picker"]["entries"] == ["notes.txt", "plate.####.exr  (1001-1003, 3 frames)"]
        s.click(*s.centre(p["picker"]["rects"][1]))
        s.wait(lambda p: p["picker"]["name"] == "plate.####.exr", "the sequence chosen")
        s.click(*s.centre(s.probe()["picker"]["ok"]))
        p = s.wait(lambda p: not p["picker"]["open"] and
                   p["graph"]["nodes"]["read"]["params"]["file"] != "sample:bigbuckbunny.mp4", "the path set")
        assert p["graph"]["nodes"]["read"]["params"]["file"] == "../s/shots/plate.####.exr"  # the graph: tmp_path/graphs/


def test_tab_then_typing_at_once_adds_the_node(tmp_path, quickstart):
    """Tab and the node's name typed straight after, as fast as a user types: no keystroke is
    lost, Enter adds the node."""
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        click_node(s, "feather")
        n = len(s.probe()["graph"]["nodes"])
        s._xdo("key", "--delay", "30", "Tab", "g", "r", "o", "w")
        s._count("Tab grow", 5)
        p = s.wait(lambda p: p["palette"]["open"] and p["palette"]["filter"] == "grow", "grow typed", timeout=10)
        assert p["palette"]["items"][0].startswith("Grow")
        s.key("Return")
        p = s.wait(lambda p: len(p["graph"]["nodes"]) == n + 1, "a node added")
        new = p["selection"][0]
        assert p["graph"]["nodes"][new]["type"] == "rotograph.Grow"
        assert p["graph"]["nodes"][new]["inputs"] == {"matte": "feather.out"}


def test_a_typed_value_is_saved_as_typed(tmp_path, quickstart):
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        click_node(s, "feather")
        r = s.wait(lambda p: p["params"]["feather.size"]["rect"], "the slider")["params"]["feather.size"]["rect"]
        s.click(*s.centre(r, 0.3), modifier="ctrl")
        s.type("0.05")
        s.key("Return")
        s.wait(lambda p: p["graph"]["nodes"]["feather"]["params"]["size"] != 3.0, "the typed size")
        s.key("ctrl+s")
        s.wait(lambda p: not p["dirty"], "saved")
        assert '"size": 0.05\n' in quickstart.read_text() or '"size": 0.05,' in quickstart.read_text()
        assert json.loads(quickstart.read_text())["nodes"]["feather"]["params"]["size"] == 0.05


def _start_render(s, first, last):
    for field, value in (("in", first), ("out", last)):
        r = s.wait(lambda p: p["items"][field], f"the {field} field")["items"][field]
        s.click(r[0] + 20, r[1] + r[3] / 2)
        s.type(str(value))
        s.key("Return")
    s.click(*s.centre(s.probe()["items"]["render_btn"]))
    return s.wait(lambda p: p["rendering"], "the render running")


def test_cancel_stops_a_render_within_a_second(tmp_path, quickstart):
    """Cancel in the middle of FlowTrack's run (a range node): the render stops within a
    second; the frames written stay; Ctrl+O to another graph stops a render too."""
    other = quickstart.parent / "other.json"  # beside it: the picker opens in the graph's folder
    shutil.copy(quickstart, other)
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        _start_render(s, 1041, 1100)
        s.wait(lambda p: "(track: frame 3/" in p["render_status"], "the tracker's run going", timeout=60)
        s.click(*s.centre(s.probe()["items"]["render_cancel"]))
        clicked = time.monotonic()
        s.wait(lambda p: not p["rendering"], "the panel free again", timeout=5)
        assert time.monotonic() - clicked < 1.0  # the window returns at once (the probe is 30 ms behind)
        # the render thread stops at its next cancellation point: a value read, a frame the
        # tracker emits, or a step inside its frame (Context.check: between flows and objects)
        p = s.wait(lambda p: p["render"].startswith("cancelled after"), "the render stopped", timeout=20)
        assert p["render_cancel_seconds"] < 1.0, p["render"]
        print(p["render"])

        _start_render(s, 1041, 1100)
        s.key("ctrl+o")
        s.wait(lambda p: p["picker"]["open"], "the Open dialog")
        s.type("nothere.json")
        s.key("Return")
        p = s.wait(lambda p: "no file" in p["picker"]["message"], "a missing file refused")
        assert p["picker"]["open"] and p["rendering"]
        s.type("other.json")
        s.key("Return")
        p = s.wait(lambda p: p["path"] == str(other) and not p["rendering"], "the other graph, no render", timeout=20)
        p = s.wait(lambda p: p["render_cancel_seconds"] is not None, "the render thread stopped", timeout=20)
        assert p["render_cancel_seconds"] < 5.0
        assert "Traceback" not in s.stderr, s.stderr[-3000:]


def _assert_laid_out(p, graph):
    """Every node drawn inside the canvas panel, none overlapping; the flow reads left → right
    in a row, and a long chain wraps into rows read top to bottom: each input is drawn left of
    its node, or in a row above it."""
    rects = p["canvas"]["nodes"]
    assert set(rects) == set(graph["nodes"])
    bad = [(a, b) for a in rects for b in rects if a < b and overlap(rects[a], rects[b])]
    assert not bad, bad
    x, y, w, h = p["canvas"]["rect"]
    outside = [n for n, r in rects.items() if r[0] < x or r[1] < y or r[0] + r[2] > x + w or r[1] + r[3] > y + h]
    assert not outside, (outside, p["canvas"]["rect"])
    for name, spec in graph["nodes"].items():
        for ref in spec.get("inputs", {}).values():
            src = ref.split(".")[0]
            assert rects[src][0] + rects[src][2] < rects[name][0] or \
                rects[src][1] + rects[src][3] < rects[name][1], (src, name, rects[src], rects[name])


def test_a_graph_without_positions_opens_laid_out(tmp_path):
    graph = json.loads((GRAPHS / "quickstart.json").read_text())
    graph.pop("ui")
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(graph))
    with Session(tmp_path / "s", path, size=(1920, 1000)) as s:
        p = s.wait(lambda p: len(p["canvas"]["nodes"]) == len(graph["nodes"]), "every node drawn")
        p = s.settle(3)
        _assert_laid_out(p, graph)
        assert not p["dirty"]


# the least label height (px, a pin label's text item) of a bundled graph framed on opening, by
# window size; measured 11 / 13 px at 1280×720 and 15 / 15 at 1920×1080 (quickstart / greenscreen;
# 5 / 6 and 8 / 9 before the layout wrapped long chains into rows)
READABLE_PX = {(1280, 720): 8, (1920, 1080): 10}


@pytest.mark.parametrize("size", sorted(READABLE_PX))
@pytest.mark.parametrize("name", ["quickstart", "greenscreen"])
def test_a_bundled_graph_opens_framed_and_readable(tmp_path, name, size):
    """A shipped graph opened in a window of ``size`` is framed with every node in view, none
    overlapping, flowing left → right by rows, and its labels drawn at least READABLE_PX high."""
    graph = json.loads((GRAPHS / f"{name}.json").read_text())
    path = tmp_path / "graphs" / f"{name}.json"
    path.parent.mkdir()
    shutil.copy(GRAPHS / f"{name}.json", path)
    with Session(tmp_path / "s", path, size=size) as s:
        s.resize_window(*size)
        s.wait(lambda p: p["viewport"][2:] == list(size) and len(p["canvas"]["nodes"]) == len(graph["nodes"]),
               "every node drawn at the window's size")
        p = s.settle(3)
        _assert_laid_out(p, graph)
        assert p["canvas"]["label_px"] >= READABLE_PX[size], p["canvas"]


# the bound; measured 34 (58 at first; then the picker a new Read opens, default writer
# paths, stream links of optional inputs, Nuke's R and W keys, radio buttons for three choices or
# fewer, Tab from one typed field to the next)
GESTURE_BUDGET = 35


@pytest.mark.slow
def test_greenscreen_graph_built_from_an_empty_editor(tmp_path):
    """graphs/greenscreen.json built in an empty editor by the mouse and keyboard (Tab palette,
    the inspector, the picker a new Read opens, pin drags), saved, rendered: the same pixels
    as the shipped graph. The gestures it took are counted and printed."""
    import rotograph
    from editor_session import Builder
    from greenscreen_plate import make_plate

    from conftest import read_exr

    shipped = json.loads((GRAPHS / "greenscreen.json").read_text())
    work = tmp_path / "work"
    (work / "plates").mkdir(parents=True)
    comp = make_plate(seed=0)[0]
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": comp}) as exr:
        exr.write(str(work / "plates" / "greenscreen.1001.exr"))
    shutil.copy(work / "plates" / "greenscreen.1001.exr", work / "plates" / "greenscreen.1002.exr")
    built = work / "built" / "greenscreen.json"
    built.parent.mkdir()
    with Session(work, built, size=(1600, 940)) as s:
        builder = Builder(s, shipped, rotograph.Registry.default())
        builder.build()
        s.key("ctrl+s")
        s.wait(lambda p: not p["dirty"], "saved")
        gestures, x_events = s.gestures, s.x_events
        assert "Traceback" not in s.stderr, s.stderr[-3000:]
    saved = json.loads(built.read_text())
    ours = {editor: name for name, editor in builder.names.items()}  # the editor's names → the file's

    def renamed(ref):
        node, port = ref.split(".")
        return f"{ours[node]}.{port}"

    assert {ours[n]: (v["type"], {i: renamed(r) for i, r in v.get("inputs", {}).items()}, v["params"])
            for n, v in saved["nodes"].items()} == \
        {n: (v["type"], v.get("inputs", {}), v["params"]) for n, v in shipped["nodes"].items()}
    g = rotograph.load(built)
    (work / "ref").mkdir()  # the shipped graph beside it: its paths are relative to its folder
    shutil.copy(GRAPHS / "greenscreen.json", work / "ref" / "greenscreen.json")
    ref = rotograph.load(work / "ref" / "greenscreen.json")
    ref.set("write.file", str(work / "ref" / "greenscreen.####.exr"))
    for graph in (g, ref):
        report = rotograph.render(graph, "1001", cache=rotograph.Cache())
        assert report.ok, report.error
    a, b = read_exr(work / "render/greenscreen/greenscreen.1001.exr"), read_exr(work / "ref/greenscreen.1001.exr")
    assert a.keys() == b.keys() and all(np.array_equal(a[c], b[c]) for c in a)
    print(f"greenscreen.json built with {gestures} gestures ({x_events} X key/button events)")
    assert gestures <= GESTURE_BUDGET, f"{gestures} gestures"
