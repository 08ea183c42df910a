"""The Writer protocol: a plugin writer gets validate and --on-error hold with no engine change;
held frames name their own frame; built-ins load as a plugin; the engine has no type checks."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import rotograph

from conftest import PLUGINS, ROOT, footage


def _cli(*args, cwd=None):
    env = {**os.environ, "ROTOGRAPH_PLUGIN_PATH": str(PLUGINS)}
    return subprocess.run([sys.executable, "-m", "rotograph.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd)


def _text_graph(registry, out, fail="1003"):
    g = rotograph.Graph(registry)
    g.add("test.Squares", "scene")
    g.add("test.FailAt", "fail", frames=fail)
    g.add("test.WriteText", "text", file=str(out / "report.####.txt"))
    g.connect("scene.matte", "fail.matte")
    g.connect("fail.out", "text.matte")
    return g


def test_plugin_writer_gets_validate_and_hold(plugin_registry, tmp_path):
    g = _text_graph(plugin_registry, tmp_path / "out")
    graph_file = tmp_path / "g.json"
    rotograph.save(g, graph_file)
    ok = _cli("validate", graph_file)
    assert ok.returncode == 0, ok.stderr
    assert f"text: writes file {tmp_path}/out/report.####.txt" in ok.stdout
    render = _cli("render", graph_file, "--on-error", "hold", "--retries", "0", "-q", "--cache", tmp_path / "cache")
    assert render.returncode == 1 and "held" in render.stderr, render.stderr
    texts = {f: (tmp_path / "out" / f"report.{f}.txt").read_text() for f in range(1001, 1007)}
    mean = lambda f: float(texts[f].split()[-1])  # noqa: E731
    assert texts[1003].startswith("frame 1003 ")  # the held frame names itself ...
    assert mean(1003) == mean(1002) and mean(1003) != mean(1004)  # ... and holds the nearest earlier frame
    assert all(texts[f].startswith(f"frame {f} ") for f in texts)
    # validate refuses what a render would get wrong, naming the node
    (tmp_path / "a_file").write_text("")
    g.set("text.file", str(tmp_path / "a_file" / "x.####.txt"))
    rotograph.save(g, graph_file)
    bad = _cli("validate", graph_file)
    assert bad.returncode == 3 and "nodes.text" in bad.stderr and "cannot write to" in bad.stderr
    g.set("text.file", str(tmp_path / "out" / "report.####.txt"))
    g.add("test.WriteText", "again", file=str(tmp_path / "out" / "report.%04d.txt"))
    g.connect("scene.matte", "again.matte")
    rotograph.save(g, graph_file)
    clash = _cli("validate", graph_file)
    assert clash.returncode == 3 and "writers 'again' and 'text' both write" in clash.stderr, clash.stderr


def test_held_exr_carries_its_own_frame_and_timecode(plugin_registry, tmp_path):
    import OpenImageIO as oiio

    g = rotograph.Graph(plugin_registry)
    g.add("rotograph.Read", "read", file=str(footage("01_dog.mp4")))
    g.add("rotograph.Keyer", "key", screen="green", adaptive=False)
    g.add("test.FailAt", "fail", frames="1003")
    g.add("rotograph.WriteEXR", "exr", file=str(tmp_path / "dog.####.exr"))
    for a, b in [("read.image", "key.image"), ("key.matte", "fail.matte"), ("fail.out", "exr.matte"),
                 ("read.image", "exr.image")]:
        g.connect(a, b)
    report = rotograph.render(g, "1001-1004", cache=rotograph.Cache(), on_error="hold", retries=0)
    assert report.held == [1003] and set(report.failed) == {1003}

    def header_and_pixels(frame):
        inp = oiio.ImageInput.open(str(tmp_path / f"dog.{frame}.exr"))
        spec, pixels = inp.spec(), inp.read_image(oiio.FLOAT)
        inp.close()
        return spec, pixels

    held, held_pixels = header_and_pixels(1003)
    source, source_pixels = header_and_pixels(1002)
    assert held.get_int_attribute("rotograph/frame") == 1003 and source.get_int_attribute("rotograph/frame") == 1002
    assert held.get_string_attribute("smpte:TimeCode") == "00:00:00:02"  # the dog starts at 00:00:00:00
    assert source.get_string_attribute("smpte:TimeCode") == "00:00:00:01"
    assert held.get_string_attribute("rotograph/key") == source.get_string_attribute("rotograph/key")
    assert np.array_equal(held_pixels, source_pixels)


def test_two_writers_of_one_file_are_refused(registry, tmp_path):
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(footage("bedroom.mp4")))
    for name in ("a", "b"):
        g.add("rotograph.WritePNG", name, file=str(tmp_path / f"{'x' if name == 'a' else 'y'}.####.png"))
        g.connect("read.image", f"{name}.image")
    g.validate()
    g.set("b.file", str(tmp_path / "x.@@@@.png"))
    with pytest.raises(rotograph.GraphError, match="writers 'a' and 'b' both write"):
        g.validate()


def test_builtin_nodes_are_a_plugin_and_the_engine_tests_no_node_types():
    reg = rotograph.Registry.builtin()
    assert reg.source_of("rotograph.Read") == "rotograph.nodes:register (built-in)"
    assert not rotograph.Registry().node_types  # a bare registry holds nothing
    engine = {p.stem: ast.parse(p.read_text()) for p in (ROOT / "rotograph").rglob("*.py") if p.name != "__init__.py"}
    imports = {}
    for name, tree in engine.items():
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found |= {(node.module or "").split(".")[-1] if node.level else node.module or ""}
                found |= {a.name for a in node.names if node.level and not node.module}
            elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "type_id":
                pytest.fail(f"rotograph/{name}.py compares a type_id")
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "hasattr"
                  and getattr(node.args[0], "id", "") != "os"):
                pytest.fail(f"rotograph/{name}.py duck-types with hasattr")
        imports[name] = found
    assert not any("nodes" in found for name, found in imports.items()), imports
    assert "graphio" not in imports["graph"] | imports["groups"] and "graph" not in imports["groups"]
    assert {"graph", "groups"} <= imports["graphio"]


def test_validate_prints_node_warnings(tmp_path):
    import cv2

    for f in (1001, 1002, 1005):
        cv2.imwrite(str(tmp_path / f"g.{f}.png"), np.zeros((4, 4, 3), np.uint8))
    doc = {"format": "rotograph.graph", "schema_version": 1, "nodes": {
        "read": {"type": "rotograph.Read", "version": 1, "params": {"file": str(tmp_path / "g.####.png")}}}}
    (tmp_path / "g.json").write_text(json.dumps(doc))
    out = _cli("validate", tmp_path / "g.json")
    assert out.returncode == 0 and "warning: read: " in out.stdout and "2 missing frames in 1001-1005" in out.stdout
