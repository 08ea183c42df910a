"""The real editor window under Xvfb, driven by X events only (xdotool): the canvas, palette,
inspector, shortcuts, viewer navigation and prompts, timeline, play, resizing and closing.

What the window shows is read from its probe (tests/editor_session.py); every change is made by
the mouse or the keyboard.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import GRAPHS
from editor_session import EditorError, Session, click_node, overlap


def params(p, node):
    return p["graph"]["nodes"][node]["params"]


def pins(s, *keys):
    p = s.wait(lambda p: all(k in p["canvas"]["pins"] for k in keys), f"the pins {keys}")
    return [p["canvas"]["pins"][k] for k in keys]


def test_canvas_inspector_and_shortcuts(tmp_path, quickstart):
    n = len(json.loads(quickstart.read_text())["nodes"])
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        p = s.wait(lambda p: len(p["canvas"]["nodes"]) == n, "every node framed at open")
        canvas = p["canvas"]["rect"]
        assert all(canvas[0] <= r[0] and r[0] + r[2] <= canvas[0] + canvas[2] for r in p["canvas"]["nodes"].values())
        assert p["title"] == "rotograph — quickstart.json" and not p["dirty"]

        # wheel zooms the canvas about the mouse; F frames every node again
        zoom = p["canvas"]["zoom"]
        s.wheel(canvas[0] + 200, canvas[1] + 200, 2)
        s.wait(lambda p: p["canvas"]["zoom"] > zoom, "zoomed in")
        s.key("f")
        s.wait(lambda p: p["canvas"]["zoom"] == zoom and len(p["canvas"]["nodes"]) == n, "framed")

        # a click selects: the inspector and the viewer follow
        p = click_node(s, "read")
        assert "read.file" in p["params"]
        s.wait(lambda p: p["viewer"]["shown"] == ["read", 1001, None], "the plate at 1001")
        s.key("Right")
        s.wait(lambda p: p["frame"] == 1002 and p["viewer"]["shown"][:2] == ["read", 1002], "frame 1002")
        s.key("bracketright")  # the next keyframe
        s.wait(lambda p: p["frame"] == 1041, "the keyframe 1041")

        # a choice among three: one click on its radio button
        w = s.probe()["params"]["read.missing_frames"]
        assert w["widget"] == "mvRadioButton" and w["items"] == ["error", "hold", "black"]
        s.click(w["rect"][0] + w["option_x"][1], w["rect"][1] + w["rect"][3] / 2)
        s.wait(lambda p: params(p, "read")["missing_frames"] == "hold", "missing_frames = hold")

        # Feather's size dragged on its slider: the graph follows, one undo step, the viewer updates
        click_node(s, "feather")
        p = s.wait(lambda p: p["viewer"]["shown"] and p["viewer"]["shown"][0] == "feather" and
                   not p["viewer"]["waiting"], "feather in the viewer", timeout=60)
        steps = len(p["undo"])
        r = p["params"]["feather.size"]["rect"]
        s.drag((r[0] + 3, r[1] + r[3] / 2), (r[0] + r[2] * 0.2, r[1] + r[3] / 2))
        p = s.wait(lambda p: params(p, "feather")["size"] > 50 and not p["viewer"]["waiting"], "a wider feather")
        assert len(p["undo"]) == steps + 1 and p["undo"][-1] == "set feather.size"
        assert p["params"]["feather.size"]["value"] == pytest.approx(params(p, "feather")["size"], abs=1e-3)
        s.key("ctrl+z")
        p = s.wait(lambda p: params(p, "feather")["size"] == 3.0, "undone")
        assert p["params"]["feather.size"]["value"] == pytest.approx(3.0)  # the widget shows it too
        s.key("ctrl+shift+z")
        s.wait(lambda p: params(p, "feather")["size"] > 50, "redone")
        s.key("ctrl+z")

        # a typed value (Ctrl+click a slider); a refused one is reported, not applied
        r = s.probe()["params"]["feather.size"]["rect"]
        s.click(*s.centre(r, 0.3), modifier="ctrl")
        s.type("4.5")
        s.key("Return")
        s.wait(lambda p: params(p, "feather")["size"] == 4.5, "feather 4.5")

        # a refused value is reported and the widget shows the graph's value again
        p = click_node(s, "write_exr")
        w = s.wait(lambda p: p["params"]["write_exr.file"]["rect"], "the file field")["params"]["write_exr.file"]
        s.click(w["rect"][0] + 30, w["rect"][1] + w["rect"][3] / 2)
        s.type("out.exr")
        s.key("Return")
        p = s.wait(lambda p: p["status"].startswith("refused"), "the refusal")
        assert "no frame pattern" in p["status"] and params(p, "write_exr")["file"] == w["value"]
        s.wait(lambda p: p["params"]["write_exr.file"]["value"] == w["value"], "the widget reverted")
        click_node(s, "feather")

        # Ctrl+D: a copy free of every node, selected and inspected; Del removes it
        s.key("ctrl+d")
        p = s.wait(lambda p: len(p["graph"]["nodes"]) == n + 1 and p["selection"][0] in p["canvas"]["nodes"], "a copy")
        name = p["selection"][0]
        copy = p["canvas"]["nodes"][name]
        assert not any(overlap(copy, r) for n, r in p["canvas"]["nodes"].items() if n != name)
        assert f"{name}.size" in p["params"] and params(p, name)["size"] == 4.5
        s.move(copy[0] + 5, copy[1] + 5)
        s.key("Delete")
        s.wait(lambda p: name not in p["graph"]["nodes"], "the copy deleted")

        # a refused link says why and changes nothing
        before = s.probe()["graph"]
        s.drag(*pins(s, "out:read.image", "in:grow.matte"))
        p = s.wait(lambda p: "refused" in p["status"], "the refusal")
        assert "mismatched types" in p["status"] and p["graph"] == before

        # a click on a link selects it and Del removes it; Ctrl+click on a link removes it too
        def unlink(dst, port, modifier=None):
            a, b = pins(s, "out:" + s.probe()["graph"]["nodes"][dst]["inputs"][port], f"in:{dst}.{port}")
            s.click((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, modifier=modifier)  # a link's middle: between its pins
            if modifier is None:
                s.key("Delete")
            s.wait(lambda p: port not in p["graph"]["nodes"][dst].get("inputs", {}), f"{dst}.{port} unlinked")
            s.key("ctrl+z")
            s.wait(lambda p: port in p["graph"]["nodes"][dst].get("inputs", {}), f"{dst}.{port} linked again")

        unlink("write_png", "image")
        unlink("grow", "matte", modifier="ctrl")
        s.key("Escape")
        s.wait(lambda p: p["selection"] == [], "nothing selected")

        # Tab opens the palette at the mouse; a click outside closes it
        c = s.probe()["canvas"]["rect"]
        s.move(c[0] + 100, c[1] + 120)
        s.key("Tab")
        p = s.wait(lambda p: p["palette"]["open"] and p["items"]["palette_filter"], "the palette")
        assert abs(p["items"]["palette_filter"][0] - (c[0] + 100)) < 40
        s.click(c[0] + c[2] - 30, c[1] + c[3] - 150)
        s.wait(lambda p: not p["palette"]["open"], "the palette closed")

        # Tab with a node selected: the new node is fed by it and placed free of the others
        click_node(s, "premult")
        s.key("Tab")
        s.wait(lambda p: p["palette"]["open"] and p["palette"]["filter_active"], "the palette")
        s.type("unprem")
        s.wait(lambda p: p["palette"]["filter"] == "unprem", "typed")
        s.key("Down")
        s.key("Up")
        s.key("Return")
        p = s.wait(lambda p: "unpremult1" in p["canvas"]["nodes"], "an Unpremult")
        assert p["graph"]["nodes"]["unpremult1"]["inputs"] == {"image": "premult.out"}
        new = p["canvas"]["nodes"]["unpremult1"]
        assert not any(overlap(new, r) for n, r in p["canvas"]["nodes"].items() if n != "unpremult1")

        # a box selection of two nodes, Ctrl+G: one group node, drawn, selected, inspected
        p = s.wait(lambda p: {"grow", "feather"} <= set(p["canvas"]["nodes"]), "grow and feather")
        g, f = p["canvas"]["nodes"]["grow"], p["canvas"]["nodes"]["feather"]
        # from below the nodes (above them runs the link that wraps the chain into its next row)
        bottom = max(g[1] + g[3], f[1] + f[3]) + 8
        s.drag((g[0] - 8, bottom), (f[0] + f[2] + 8, min(g[1], f[1]) - 12))
        s.wait(lambda p: p["selection"] == ["feather", "grow"], "grow and feather selected")
        s.key("ctrl+g")
        p = s.wait(lambda p: p["graph"].get("groups") and p["selection"] == list(p["graph"]["groups"]) and
                   p["selection"][0] in p["canvas"]["nodes"], "the group")
        group = p["selection"][0]
        assert "grow" not in p["canvas"]["nodes"] and p["graph"]["groups"][group]["nodes"] == ["grow", "feather"]
        p = s.wait(lambda p: {"grow.size", "feather.size"} <= set(p["params"]), "the inner params in the inspector")
        assert not any(overlap(p["canvas"]["nodes"][group], r) for n, r in p["canvas"]["nodes"].items() if n != group)
        s.key("ctrl+z")
        s.wait(lambda p: "grow" in p["canvas"]["nodes"] and not p["graph"].get("groups"), "ungrouped")

        # the render panel renders the writers over in→out in the background
        for field in ("in", "out"):
            r = s.probe()["items"][field]
            s.click(r[0] + 20, r[1] + r[3] / 2)
            s.type("1041")
            s.key("Return")
        s.click(*s.centre(s.probe()["items"]["render_btn"]))
        s.wait(lambda p: p["render"].startswith("rendered 1 frames"), "a frame rendered", timeout=90)
        assert (tmp_path / "render" / "quickstart" / "quickstart.1041.exr").exists()  # beside graphs/

        # Ctrl+S saves; the title says so
        assert s.probe()["title"].endswith(" *")
        s.key("ctrl+s")
        s.wait(lambda p: p["title"] == "rotograph — quickstart.json", "saved")
        assert json.loads(quickstart.read_text())["nodes"]["feather"]["params"]["size"] == 4.5

        # the panels follow the window's size
        s.resize_window(1000, 640)
        p = s.wait(lambda p: p["viewport"][2] == 1000 and p["canvas"]["rect"][2] < canvas[2] * 0.85, "a smaller layout")
        v = p["viewer"]["rect"]
        assert v[0] + v[2] <= 1000 and p["items"]["render_btn"][1] + 10 < 640

        # New and closing with unsaved changes ask first; Cancel keeps the graph and the window
        s.key("ctrl+z")
        graph = s.wait(lambda p: p["dirty"], "unsaved")["graph"]
        s.key("ctrl+n")
        p = s.wait(lambda p: p["confirm"] and p["items"]["confirm_cancel"], "the question")
        s.click(*s.centre(p["items"]["confirm_cancel"]))
        s.wait(lambda p: not p["confirm"] and p["graph"] == graph, "the graph kept")
        s.close_window()
        p = s.wait(lambda p: p["confirm"] and p["items"]["confirm_cancel"], "the question")
        s.click(*s.centre(p["items"]["confirm_cancel"]))
        s.wait(lambda p: not p["confirm"], "cancelled")
        s.close_window()
        p = s.wait(lambda p: p["confirm"] and p["items"]["confirm_discard"], "the question again")
        s.click(*s.centre(p["items"]["confirm_discard"]))
        assert s.editor.wait(20) == 0
        assert json.loads(quickstart.read_text())["nodes"]["feather"]["params"]["size"] == 4.5  # not saved
        assert "Traceback" not in s.stderr, s.stderr[-3000:]


def test_viewer_navigation_and_prompts(tmp_path, quickstart):
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        s.wait(lambda p: "track" in p["canvas"]["nodes"], "the canvas")
        s.key("bracketright")  # to the keyframe; then its box is drawn, the tracked matte over the plate
        s.wait(lambda p: p["frame"] == 1041, "the keyframe")
        click_node(s, "track")
        p = s.wait(lambda p: p["frame"] == 1041 and p["viewer"]["shown"] == ["track", 1041, None], "the track",
                   timeout=90)
        v = p["viewer"]
        assert v["image"] == [1280, 720] and v["zoom"] == 1 / 3 and p["timeline"]["keyframes"] == [1041]
        steps = len(p["undo"])

        # the wheel zooms about the cursor, by steps: the plate pixel under it stays under it
        at = lambda v, x, y: (v["origin"][0] + x * v["zoom"], v["origin"][1] + y * v["zoom"])  # noqa: E731
        s.wheel(*at(v, 450, 330), 1)
        v = s.wait(lambda p: p["viewer"]["zoom"] == 0.5, "zoom 1/2")["viewer"]
        s.wheel(*at(v, 450, 330), 1)
        v2 = s.wait(lambda p: p["viewer"]["zoom"] == 2 / 3, "zoom 2/3")["viewer"]
        assert at(v2, 450, 330) == pytest.approx(at(v, 450, 330), abs=1.5)
        # the middle button and Alt + left pan; neither adds a prompt
        s.drag(at(v2, 300, 200), (at(v2, 300, 200)[0] + 60, at(v2, 300, 200)[1] + 20), button=2)
        v3 = s.wait(lambda p: p["viewer"]["origin"] != v2["origin"], "panned")["viewer"]
        assert v3["origin"][0] - v2["origin"][0] == pytest.approx(60, abs=2)
        s._xdo("keydown", "alt")
        s.drag(at(v3, 300, 200), (at(v3, 300, 200)[0] - 60, at(v3, 300, 200)[1] - 20))
        s._xdo("keyup", "alt")
        s.wait(lambda p: p["viewer"]["origin"] == pytest.approx(v2["origin"], abs=2), "panned back")
        s.wheel(*at(v2, 450, 330), -1)
        v = s.wait(lambda p: p["viewer"]["zoom"] == 0.5, "zoom 1/2")["viewer"]
        assert len(s.probe()["undo"]) == steps

        # a click adds a + point, Shift+click a - point, on the current frame, in plate pixels
        s.click(*at(v, 400, 300))
        s.click(*at(v, 600, 100), modifier="shift")
        p = s.wait(lambda p: len(params(p, "track")["prompts"][0]["points"]) == 2, "two points")
        assert params(p, "track")["prompts"][0]["points"] == [[400.0, 300.0, 1], [600.0, 100.0, 0]]

        # a click on a point selects it, a drag moves it, Del removes it
        s.drag(at(v, 400, 300), at(v, 420, 310))
        p = s.wait(lambda p: params(p, "track")["prompts"][0]["points"][0] == [420.0, 310.0, 1], "moved")
        assert p["viewer"]["selected_prompt"] == [1041, 1, "point", 0]
        s.key("Delete")
        p = s.wait(lambda p: len(params(p, "track")["prompts"][0]["points"]) == 1, "deleted")
        assert "track" in p["graph"]["nodes"]  # Del over the viewer removed the point, not the node

        # a box corner dragged resizes the box, an edge moves it; box mode draws a new one
        s.drag(at(v, 720, 610), at(v, 700, 600))
        s.wait(lambda p: params(p, "track")["prompts"][0]["box"] == [190.0, 30.0, 700.0, 600.0], "resized")
        s.drag(at(v, 190, 300), at(v, 200, 320))
        s.wait(lambda p: params(p, "track")["prompts"][0]["box"] == [200.0, 50.0, 710.0, 620.0], "moved")
        s.key("ctrl+z")
        s.wait(lambda p: params(p, "track")["prompts"][0]["box"] == [190.0, 30.0, 700.0, 600.0], "moved back")
        s.key("b")
        s.wait(lambda p: p["viewer"]["prompt_mode"] == "box", "box mode")
        s.drag(at(v, 240, 80), at(v, 680, 560))  # from inside the box: a new box, not a move
        s.wait(lambda p: params(p, "track")["prompts"][0]["box"] == [240.0, 80.0, 680.0, 560.0], "a new box")
        s.key("ctrl+z")
        s.wait(lambda p: params(p, "track")["prompts"][0]["box"] == [190.0, 30.0, 700.0, 600.0], "undone")

        # a prompt on another frame makes it a keyframe, marked on the timeline
        s.key("Right")
        s.wait(lambda p: p["frame"] == 1042, "1042")
        assert s.probe()["viewer"]["prompt_mode"] == "point"  # box mode ended with the box drawn
        s.click(*at(v, 500, 300))
        s.wait(lambda p: p["timeline"]["keyframes"] == [1041, 1042], "a second keyframe")
        s.key("bracketleft")
        s.wait(lambda p: p["frame"] == 1041, "back to the first keyframe")

        # a long run: the viewer says what it waits for; play waits for each frame
        s.key("space")
        p = s.wait(lambda p: p["frame"] >= 1043, "playing", timeout=90)
        assert p["timeline"]["playing"]
        s.key("space")
        p = s.wait(lambda p: not p["timeline"]["playing"] and not p["viewer"]["waiting"], "stopped", timeout=90)
        assert p["viewer"]["shown"][1] == p["frame"]
        assert "Traceback" not in s.stderr, s.stderr[-3000:]


def test_progress_while_a_range_node_runs(tmp_path, quickstart):
    """Far from its keyframe FlowTrack runs many frames: the viewer says which node and frame it
    waits for, the run's frame of its right total (keyframe 1041 to 1090: 50) and the elapsed
    time, both live; choosing another node does not wait for it."""
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        s.wait(lambda p: "track" in p["canvas"]["nodes"], "the canvas")
        r = s.probe()["items"]["frame_no"]
        s.click(r[0] + 20, r[1] + r[3] / 2)
        s.type("1090")
        s.key("Return")
        click_node(s, "grow")
        line = re.compile(r"waiting for grow @ 1090: \S+ @ \d+ \(track: frame (\d+)/(\d+) of its run\)  (\d+)s$")
        p = s.wait(lambda p: p["viewer"]["waiting"] and line.match(p["view_status"]), "the waiting line", timeout=60)
        done, total, seconds = map(int, line.match(p["view_status"]).groups())
        assert total == 50 and 1 <= done <= total  # the run emits 1041-1090 from the keyframe
        # the elapsed time and the frame count move while the run goes on (nothing else happens)
        p = s.wait(lambda p: (m := line.match(p["view_status"])) and int(m[3]) >= seconds + 2 and int(m[1]) > done,
                   "the timer and the count moving", timeout=60)
        click_node(s, "read")
        s.wait(lambda p: p["viewer"]["shown"] == ["read", 1090, None], "the plate, without waiting for the track",
               timeout=20)
        assert "Traceback" not in s.stderr, s.stderr[-3000:]


def test_edit_reuses_what_render_cached(tmp_path, quickstart):
    """``rotograph edit --cache URL`` reads the cache ``rotograph render`` filled: viewing the
    keyframe computes that frame at most, yet the frames the CLI tracked after it are cached."""
    cache = tmp_path / "shared"
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "render", str(quickstart), "--frames", "1041-1046",
                          "--cache", str(cache), "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    with Session(tmp_path / "s", quickstart, size=(1280, 800), cache=cache) as s:
        r = s.wait(lambda p: p["items"]["frame_no"], "the timeline")["items"]["frame_no"]
        s.click(r[0] + 20, r[1] + r[3] / 2)
        s.type("1041")
        s.key("Return")
        s.wait(lambda p: p["frame"] == 1041, "the keyframe")
        click_node(s, "track")
        s.wait(lambda p: p["viewer"]["shown"] == ["track", 1041, None] and not p["viewer"]["waiting"], "the track",
               timeout=60)
        # the timeline's cached-frames bar follows the image (computed after it)
        s.wait(lambda p: set(range(1041, 1047)) <= set(p["timeline"]["cached"]), "the CLI's frames marked cached")


def test_no_display_is_a_one_line_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    for extra in ({}, {"DISPLAY": ":987"}):
        run = subprocess.run([sys.executable, "-m", "rotograph.cli", "edit", str(GRAPHS / "quickstart.json")],
                             env={**env, **extra}, capture_output=True, text=True, timeout=60)
        assert run.returncode == 1, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: no display found") and "xvfb-run" in lines[0]


CURVE_PLUGIN = '''
from rotograph import Input, Node, Output, Param
from rotograph.core.params import ParamKind
from rotograph.core.types import Matte


class Gamma(ParamKind):
    """A gamma curve: one positive exponent, drawn by its own editor widget."""
    name = "gamma"

    @classmethod
    def canonical(cls, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError("expected a positive exponent")
        return float(value)


class MatteGamma(Node):
    """matte ** gamma."""
    type_id = "studio.MatteGamma"
    matte = Input(Matte)
    gamma = Param(Gamma, 1.0, ui={"widget": "gamma_buttons"})
    out = Output(Matte)

    def compute(self, ctx, matte):
        return matte ** self.gamma


def register(registry):
    registry.add(MatteGamma)
'''

CURVE_WIDGETS = '''
import dearpygui.dearpygui as dpg

from rotograph.editor.widgets import Widget


def gamma_buttons(field):
    """Preset gammas as buttons."""
    with dpg.group(horizontal=True, parent=field.parent):
        dpg.add_text(f"{field.label} {field.value:g}")
        for g in (0.5, 2.0):
            dpg.add_button(label=f"gamma {g}", tag=f"gamma_{g}", callback=lambda s, a, u: field.commit(u), user_data=g)
    return Widget(f"gamma_2.0")


def register(widgets):
    widgets.add("gamma_buttons", gamma_buttons)
'''


def test_a_plugin_param_kind_brings_its_widget(tmp_path):
    """A node plugin declares a param kind with ``ui={"widget": ...}``; an editor plugin (entry
    point ``rotograph.editor_widgets``) draws it; a click on that widget edits the graph."""
    plugins, site = tmp_path / "plugins", tmp_path / "site"
    plugins.mkdir()
    (plugins / "studio_nodes.py").write_text(CURVE_PLUGIN)
    (site / "studio_widgets-1.0.dist-info").mkdir(parents=True)
    (site / "studio_widgets.py").write_text(textwrap.dedent(CURVE_WIDGETS))
    (site / "studio_widgets-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: studio-widgets\n"
                                                                   "Version: 1.0\n")
    (site / "studio_widgets-1.0.dist-info" / "entry_points.txt").write_text(
        "[rotograph.editor_widgets]\nstudio = studio_widgets:register\n")
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"format": "rotograph.graph", "schema_version": 1, "nodes": {
        "gamma": {"type": "studio.MatteGamma", "version": 1, "params": {"gamma": 1.0}}}}))
    env = {"ROTOGRAPH_PLUGIN_PATH": str(plugins), "PYTHONPATH": os.pathsep.join([str(site), os.environ.get(
        "PYTHONPATH", "")])}
    with Session(tmp_path / "s", graph, size=(1024, 700), env=env) as s:
        s.wait(lambda p: "gamma" in p["canvas"]["nodes"], "the plugin node")
        p = click_node(s, "gamma")
        p = s.wait(lambda p: p["params"]["gamma.gamma"]["rect"] is not None, "the plugin's widget")
        assert p["params"]["gamma.gamma"]["kind"] == "gamma_buttons"
        s.click(*s.centre(p["params"]["gamma.gamma"]["rect"]))
        s.wait(lambda p: params(p, "gamma")["gamma"] == 2.0, "gamma 2 through the plugin's widget")
        s.key("ctrl+z")
        s.wait(lambda p: params(p, "gamma")["gamma"] == 1.0, "undone")
        assert "Traceback" not in s.stderr, s.stderr[-3000:]


def test_driver_refuses_without_tools(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(EditorError, match="apt-get install xvfb xdotool imagemagick"):
        with Session(tmp_path, tmp_path / "g.json"):
            pass


def _screen_rgb(s, tmp_path, points):
    """The screen's 8-bit RGB at each (x, y) of ``points`` (viewport pixels), from a screenshot."""
    from PIL import Image

    s.settle(2)  # the frame the probe describes is on the screen
    img = Image.open(s.screenshot(tmp_path / "wipe.png")).convert("RGB")
    vx, vy = s.probe()["viewport"][:2]
    return [img.getpixel((int(x - vx), int(y - vy))) for x, y in points]


def test_wipe_compares_a_node_with_its_input(tmp_path, quickstart):
    """Shift+W wipes the viewed Premult (A, left) against its input, the plate (B, right): left
    of the line the background is premultiplied to black, right of it the plate shows; dragging
    the line moves the split; Shift+W again shows A alone."""
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        r = s.wait(lambda p: p["items"]["frame_no"], "the frame field")["items"]["frame_no"]
        s.click(r[0] + 20, r[1] + r[3] / 2)
        s.type("1041")  # the keyframe: the tracker seeds there, no run
        s.key("Return")
        click_node(s, "premult")
        s.wait(lambda p: p["viewer"]["shown"] == ["premult", 1041, None] and not p["viewer"]["waiting"], "premult",
               timeout=90)
        s.key("shift+w")  # (W alone adds a Write)
        p = s.wait(lambda p: (p["viewer"]["wipe"] or {}).get("x") is not None, "the wipe", timeout=60)
        v = p["viewer"]
        assert v["wipe"]["a"] == "premult" and v["wipe"]["b"] == "read" and v["wipe"]["frac"] == 0.5
        (ox, oy), z = v["origin"], v["zoom"]
        at = lambda ix, iy: (ox + ix * z, oy + iy * z)  # noqa: E731 (image pixels → screen)
        left, right = _screen_rgb(s, tmp_path, [at(100, 360), at(1150, 360)])  # both outside the box
        assert sum(left) < 30 and sum(right) > 90, (left, right)  # A: black background; B: the plate
        s.drag((v["wipe"]["x"], oy + 300 * z), at(1230, 300))
        p = s.wait(lambda p: p["viewer"]["wipe"]["frac"] > 0.9, "the line dragged")
        assert p["selection"] == ["premult"] and p["graph"] == s.probe()["graph"]
        assert not p["graph"]["nodes"]["track"]["params"]["prompts"][1:]  # the drag added no prompt
        right, = _screen_rgb(s, tmp_path, [at(1150, 360)])
        assert sum(right) < 30, right  # now left of the line: A
        n = len(p["graph"]["nodes"])
        s.key("shift+w")
        p = s.wait(lambda p: p["viewer"]["wipe"] is None, "the wipe off")
        assert len(p["graph"]["nodes"]) == n  # no Write added
        assert "Traceback" not in s.stderr, s.stderr[-3000:]


def test_nuke_timeline_keys(tmp_path, quickstart):
    """L plays forwards, K stops, J plays backwards; I and O set the in and out points at the
    current frame."""
    with Session(tmp_path / "s", quickstart, size=(1280, 800)) as s:
        click_node(s, "read")
        f0 = s.wait(lambda p: p["viewer"]["shown"] and not p["viewer"]["waiting"], "the plate")["frame"]
        s.key("l")
        p = s.wait(lambda p: p["timeline"]["playing"] and p["frame"] >= f0 + 3, "playing forwards", timeout=60)
        assert p["timeline"]["direction"] == 1
        s.key("k")
        p = s.wait(lambda p: not p["timeline"]["playing"], "stopped")
        f1 = s.settle(3)["frame"]
        s.key("j")
        p = s.wait(lambda p: p["timeline"]["playing"] and p["frame"] <= f1 - 2, "playing backwards", timeout=60)
        assert p["timeline"]["direction"] == -1
        s.key("k")
        s.wait(lambda p: not p["timeline"]["playing"], "stopped again")
        f2 = s.settle(3)["frame"]
        s.key("i")
        p = s.wait(lambda p: p["timeline"]["in_out"][0] == f2, "the in point")
        s.key("Right")
        s.key("Right")
        s.wait(lambda p: p["frame"] == f2 + 2, "two frames on")
        s.key("o")
        p = s.wait(lambda p: p["timeline"]["in_out"] == [f2, f2 + 2], "the out point")
        assert p["items"]["in"] and "Traceback" not in s.stderr, s.stderr[-3000:]
