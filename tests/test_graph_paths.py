"""File paths in a graph file are relative to the graph file's folder (format v2): the CLI renders
the same files from any working directory, a save stores paths relative to the file it writes and
Save As elsewhere rewrites them, and a format v1 file (paths relative to the working directory)
keeps its meaning when it is read."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import rotograph
from rotograph.core.graphio import portable
from rotograph.io.samples import make_plates

from conftest import GRAPHS, read_exr


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A show folder: plates/ (3 frames of the green-screen sample) and comp/greenscreen.json."""
    root = tmp_path_factory.mktemp("show")
    make_plates(str(root), frames=3, width=128)
    (root / "comp").mkdir()
    (root / "comp" / "greenscreen.json").write_text((GRAPHS / "greenscreen.json").read_text())
    return root


def _render(graph_file, cwd, cache):
    return subprocess.run([sys.executable, "-m", "rotograph.cli", "render", str(graph_file), "--frames", "1002",
                           "--cache", str(cache), "-q"], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_renders_the_same_from_any_working_directory(project, tmp_path):
    graph = project / "comp" / "greenscreen.json"
    assert json.loads(graph.read_text())["nodes"]["read"]["params"]["file"] == "../plates/greenscreen.####.exr"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    written = project / "render" / "greenscreen" / "greenscreen.1002.exr"
    frames = []
    for cwd in (elsewhere, project / "comp", project):
        written.unlink(missing_ok=True)
        run = _render(graph, cwd, tmp_path / "cache")
        assert run.returncode == 0, run.stderr
        assert written.exists()
        assert cwd == project or not (cwd / "render").exists()
        frames.append(read_exr(written))
    assert all(np.array_equal(frames[0][c], f[c]) for f in frames[1:] for c in frames[0])
    assert frames[0]["matte.A"].max() == 1 and frames[0]["matte.A"].min() == 0
    # a relative path given with --set means the working directory, as on any command line
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "render", str(graph), "--frames", "1002",
                          "--set", "write.file=out/k.####.exr", "--cache", str(tmp_path / "cache"), "-q"],
                         cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (elsewhere / "out" / "k.1002.exr").exists()


def test_save_stores_paths_relative_to_the_file_and_save_as_rewrites_them(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g = rotograph.load(project / "comp" / "greenscreen.json")
    assert g.folder == str(project / "comp")
    plate = g.nodes["read"]._real()
    assert plate == str(project / "plates" / "greenscreen.####.exr")
    # a path chosen in a file picker is absolute: saved relative to the graph file
    g.set("write.file", str(project / "render" / "v2" / "gs.####.exr"))
    rotograph.save(g, project / "comp" / "v2.json")
    doc = json.loads((project / "comp" / "v2.json").read_text())
    assert doc["schema_version"] == 2
    assert doc["nodes"]["write"]["params"]["file"] == "../render/v2/gs.####.exr"
    assert doc["nodes"]["read"]["params"]["file"] == "../plates/greenscreen.####.exr"
    # load → save of a saved file is byte-identical
    text = (project / "comp" / "v2.json").read_text()
    rotograph.save(rotograph.load(project / "comp" / "v2.json"), project / "comp" / "v2.json")
    assert (project / "comp" / "v2.json").read_text() == text
    # Save As two folders down: the same files, spelt from there
    deep = project / "comp" / "a" / "b"
    deep.mkdir(parents=True)
    rotograph.save(g, deep / "v3.json")
    doc = json.loads((deep / "v3.json").read_text())
    assert doc["nodes"]["read"]["params"]["file"] == "../../../plates/greenscreen.####.exr"
    moved = rotograph.load(deep / "v3.json")
    assert moved.nodes["read"]._real() == plate
    assert moved.nodes["write"].pattern() == str(project / "render" / "v2" / "gs.####.exr")
    # sample: names stay as they are; a path sharing only the root with the graph stays absolute
    assert portable("sample:bigbuckbunny.mp4", str(deep)) == "sample:bigbuckbunny.mp4"
    assert portable("/mnt/plates/a.####.exr", "/shows/x/comp") == "/mnt/plates/a.####.exr"
    assert portable("/shows/x/plates/a.exr", "/shows/x/comp") == "../plates/a.exr"


def test_a_v1_file_keeps_its_meaning_relative_to_the_working_directory(project, tmp_path, monkeypatch):
    doc = json.loads((GRAPHS / "greenscreen.json").read_text())
    doc["schema_version"] = 1
    doc["nodes"]["read"]["params"]["file"] = "plates/greenscreen.####.exr"  # as v1 graphs were shipped
    doc["nodes"]["write"]["params"]["file"] = "render/old/old.####.exr"
    old = tmp_path / "graphs" / "old.json"
    old.parent.mkdir()
    old.write_text(json.dumps(doc))
    monkeypatch.chdir(project)  # v1: the paths meant this folder
    g = rotograph.load(old)
    assert g.nodes["read"]._real() == str(project / "plates" / "greenscreen.####.exr")
    assert g.nodes["write"].pattern() == str(project / "render" / "old" / "old.####.exr")
    monkeypatch.chdir(tmp_path)  # read, the graph no longer depends on the working directory
    assert g.nodes["read"]._real() == str(project / "plates" / "greenscreen.####.exr")
    rotograph.save(g, old)  # upgraded to v2 on save, the same files
    again = rotograph.load(old)
    assert json.loads(old.read_text())["schema_version"] == 2
    assert again.nodes["read"]._real() == str(project / "plates" / "greenscreen.####.exr")
    # a v1 document read from text (no file) still means the working directory
    text = json.dumps(doc)
    assert rotograph.loads(text).nodes["read"]._real() == str(tmp_path / "plates" / "greenscreen.####.exr")


def test_parallel_render_workers_resolve_against_the_graph_file(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g = rotograph.load(project / "comp" / "greenscreen.json")
    g.set("write.file", str(tmp_path / "par" / "p.####.exr"))
    report = rotograph.render(g, "1001-1002", cache=rotograph.open_cache(str(tmp_path / "cache")), workers=2)
    assert report.ok, report.error
    assert sorted(p.name for p in (tmp_path / "par").iterdir()) == ["p.1001.exr", "p.1002.exr"]


def test_a_template_keeps_its_files_wherever_it_is_inserted(project, tmp_path, monkeypatch):
    from rotograph.core.graphio import insert_template, save_template
    from rotograph.core.groups import collapse

    monkeypatch.chdir(tmp_path)
    g = rotograph.load(project / "comp" / "greenscreen.json")
    collapse(g, "source", ["read", "keyer"])
    save_template(g, "source", str(project / "templates" / "source.json"))
    doc = json.loads((project / "templates" / "source.json").read_text())
    assert doc["schema_version"] == 2
    assert doc["nodes"]["read"]["params"]["file"] == "../plates/greenscreen.####.exr"  # from the template's folder
    other = rotograph.Graph()
    other.folder = str(project / "comp" / "v2")
    insert_template(other, str(project / "templates" / "source.json"), "src")
    assert other.nodes["src_read"].file == "../../plates/greenscreen.####.exr"
    assert other.nodes["src_read"]._real() == str(project / "plates" / "greenscreen.####.exr")
