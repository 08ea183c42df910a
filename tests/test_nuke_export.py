"""``rotograph export-nuke``: a script whose Reads, Shuffles, Cryptomatte and Camera match what
was rendered, checked with a parser of Nuke's .nk syntax."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import rotograph

from conftest import PLUGINS


def parse_nk(text: str):
    """[(class, {knob: value})] and the stack commands, from .nk text; raises on bad braces."""
    items = []
    lines = text.splitlines()
    assert lines[0].startswith("#! nuke") and lines[1].startswith("version ")
    body = "\n".join(lines[2:]) + "\n"
    pos = 0
    while pos < len(body):
        m = re.compile(r"\s*(set \w+ \[stack 0\]|push \$\w+|(\w+) \{\n)").match(body, pos)
        if not m:
            assert body[pos:].strip() == "", f"unparsed: {body[pos:pos + 60]!r}"
            break
        if m.group(2) is None:
            items.append(("stack", m.group(1)))
            pos = m.end()
            continue
        pos, knobs = m.end(), {}
        while True:
            line_end = body.index("\n", pos)
            line = body[pos:line_end]
            if line == "}":
                pos = line_end + 1
                break
            key, value = line.strip().split(" ", 1)
            depth = 0
            for ch in value:  # every value is balanced on its line
                depth += {"{": 1, "}": -1}.get(ch, 0)
                assert depth >= 0
            assert depth == 0, line
            knobs[key] = value
            pos = line_end + 1
        items.append((m.group(2), knobs))
    return items


def test_export_nuke(tmp_path, monkeypatch):
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(PLUGINS))
    reg = rotograph.Registry.default()
    g = rotograph.Graph(reg)
    g.add("test.WallScene", "scene")
    g.add("rotograph.Keyer", "key", screen="blue", adaptive=False, combine="average", clip_black=0.5)
    g.add("rotograph.MasksFromMattes", "objects", names="left")
    g.add("rotograph.WriteEXR", "beauty", file=str(tmp_path / "out" / "wall.####.exr"))
    g.add("rotograph.WriteCamera", "cam", file=str(tmp_path / "out" / "wall.chan"))
    for a, b in [("scene.image", "key.image"), ("key.matte", "objects.matte_1"), ("scene.image", "beauty.image"),
                 ("key.matte", "beauty.matte"), ("scene.depth", "beauty.depth"), ("objects.masks", "beauty.masks"),
                 ("scene.camera", "cam.camera")]:
        g.connect(a, b)
    graph_file = tmp_path / "wall.json"
    rotograph.save(g, graph_file)
    assert rotograph.render(rotograph.load(graph_file), cache=rotograph.Cache()).ok
    nk = tmp_path / "wall.nk"
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "export-nuke", str(graph_file), "-o", str(nk)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    items = parse_nk(nk.read_text())
    classes = [c for c, _ in items if c != "stack"]
    assert classes[0] == "Root" and sorted(classes[1:]) == ["Camera2", "Cryptomatte", "Read", "Shuffle", "Shuffle"]
    root, read = items[0][1], dict(items)["Read"]
    assert root["first_frame"] == "1001" and root["last_frame"] == "1010"
    assert read["file"] == f'"{tmp_path}/out/wall.####.exr"' and read["format"].startswith('"64 48 ')
    shuffles = {k["in"]: k for c, k in items if c == "Shuffle"}
    assert set(shuffles) == {"matte", "depth"} and shuffles["matte"]["alpha"] == "alpha"
    assert dict(items)["Cryptomatte"]["cryptoLayer"] == "CryptoObject"
    assert [s for c, s in items if c == "stack"] == ["set Nbeauty [stack 0]", "push $Nbeauty", "push $Nbeauty",
                                                    "push $Nbeauty"]
    cam = dict(items)["Camera2"]
    assert cam["rot_order"] == "ZXY"
    curves = re.findall(r"\{curve x(\d+) ([^}]*)\}", cam["translate"])
    chan = np.loadtxt(tmp_path / "out" / "wall.chan")
    assert len(curves) == 3 and all(start == "1001" for start, _ in curves)
    for col, (_, values) in zip((1, 2, 3), curves):
        assert np.allclose([float(v) for v in values.split()], chan[:, col])
    focal = [float(v) for v in re.findall(r"\{curve x1001 ([^}]*)\}", cam["focal"])[0].split()]
    assert np.allclose(focal, 60.0 * 24.576 / 64)  # fx in mm on a 24.576 mm film back


def test_export_nuke_without_outputs(tmp_path, registry):
    g = rotograph.Graph(registry)
    with pytest.raises(rotograph.GraphError, match="no writers of images"):
        from rotograph.interop.nuke import export_nuke

        export_nuke(g, str(tmp_path / "x.nk"))


def test_export_nuke_reads_every_image_and_movie_delivery(tmp_path, monkeypatch):
    """DPX, PNG and movie writers (no EXR at all) still become Reads: export-nuke asks the
    writers what they deliver, not which node types they are."""
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(PLUGINS))
    g = rotograph.Graph(rotograph.Registry.default())
    g.add("test.WallScene", "scene")
    g.add("rotograph.WriteDPX", "dpx", file=str(tmp_path / "wall.####.dpx"))
    g.add("rotograph.WritePNG", "zpng", file=str(tmp_path / "z.####.png"), bit_depth=16)
    g.add("rotograph.WriteProRes", "mov", file=str(tmp_path / "wall.mov"))
    for a, b in [("scene.image", "dpx.image"), ("scene.depth", "zpng.depth"), ("scene.image", "mov.image")]:
        g.connect(a, b)
    assert rotograph.render(g, cache=rotograph.Cache()).ok
    from rotograph.interop.nuke import export_nuke

    items = parse_nk(export_nuke(g, str(tmp_path / "wall.nk")))
    reads = {k["name"]: k for c, k in items if c == "Read"}
    assert set(reads) == {"Read_dpx", "Read_zpng", "Read_mov"}
    assert reads["Read_dpx"]["file"] == f'"{tmp_path}/wall.####.dpx"' and reads["Read_dpx"]["colorspace"] == '"ADX10"'
    assert reads["Read_dpx"]["format"].startswith('"64 48 ') and reads["Read_dpx"]["first"] == "1001"
    assert reads["Read_zpng"]["colorspace"] == '"linear"'  # depth is data
    mov = reads["Read_mov"]
    assert (mov["first"], mov["last"], mov["frame_mode"], mov["frame"]) == ("1", "10", '"start at"', '"1001"')
    root = items[0][1]
    assert root["first_frame"] == "1001" and root["last_frame"] == "1010" and root["format"].startswith('"64 48 ')


def test_export_nuke_holds_the_rendered_range_and_every_object_folder(tmp_path, monkeypatch):
    """After rendering 1003-1006 of a 1001-1010 graph, ``export-nuke`` (no --frames) writes
    that range — not the graph's — and one Read per per-object PNG folder."""
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(PLUGINS))
    g = rotograph.Graph(rotograph.Registry.default())
    g.add("test.WallScene", "scene")
    g.add("rotograph.Keyer", "key", screen="blue", adaptive=False, combine="average", clip_black=0.5)
    g.add("rotograph.Grow", "ring", size=3.0)  # object 2: the ring around object 1
    g.add("rotograph.MasksFromMattes", "objects", names="left,ring")
    g.add("rotograph.WriteEXR", "beauty", file=str(tmp_path / "out" / "wall.####.exr"))
    g.add("rotograph.WritePNG", "mattes", file=str(tmp_path / "out" / "mattes" / "m.####.png"))
    for a, b in [("scene.image", "key.image"), ("key.matte", "objects.matte_1"), ("key.matte", "ring.matte"),
                 ("ring.out", "objects.matte_2"), ("scene.image", "beauty.image"), ("objects.masks", "mattes.masks")]:
        g.connect(a, b)
    graph_file = tmp_path / "wall.json"
    rotograph.save(g, graph_file)
    assert rotograph.render(rotograph.load(graph_file), "1003-1006", cache=rotograph.Cache()).ok
    folders = sorted(p.name for p in (tmp_path / "out" / "mattes").iterdir())
    assert folders == ["left", "ring"] and all(len(list((tmp_path / "out" / "mattes" / f).glob("m.*.png"))) == 4 for f in folders)
    nk = tmp_path / "wall.nk"
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "export-nuke", str(graph_file), "-o", str(nk)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    items = parse_nk(nk.read_text())
    root = items[0][1]
    assert (root["first_frame"], root["last_frame"]) == ("1003", "1006")
    reads = {k["name"]: k for c, k in items if c == "Read"}
    assert set(reads) == {"Read_beauty"} | {f"Read_mattes_{f}" for f in folders}
    for f in folders:
        assert reads[f"Read_mattes_{f}"]["file"] == f'"{tmp_path}/out/mattes/{f}/m.####.png"'
    assert all((r["first"], r["last"]) == ("1003", "1006") for r in reads.values())
