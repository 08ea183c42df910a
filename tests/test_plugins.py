"""Plugins: entry points and ROTOGRAPH_PLUGIN_PATH folders; duplicate type ids are errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rotograph
from rotograph import Registry, RegistryError

from conftest import build_track_graph, read_exr

PLUGIN = textwrap.dedent('''
    """A tiny studio plugin: invert a matte."""
    import numpy as np
    from rotograph import Input, Matte, Node, Output, Param

    class Invert(Node):
        """Invert a matte: 1 - matte, scaled by ``amount``. matte: float32 H×W in [0, 1]."""
        type_id = "{tid}"
        version = 1
        matte = Input(Matte)
        amount = Param(float, 1.0, range=(0.0, 1.0))
        out = Output(Matte)

        def compute(self, ctx, matte):
            return (matte + self.amount * (1.0 - 2.0 * matte)).astype(np.float32)

    def register(registry):
        registry.add(Invert)
''')


def _plugin_folder(tmp_path, tid="studio.Invert", name="invert_plugin"):
    folder = tmp_path / f"plugins_{name}"
    folder.mkdir()
    (folder / f"{name}.py").write_text(PLUGIN.format(tid=tid))
    return folder


def test_plugin_folder_node_renders(tmp_path, square_shot, monkeypatch):
    pattern, _ = square_shot
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(_plugin_folder(tmp_path)))
    reg = Registry.default()
    assert "studio.Invert" in reg and "plugin file" in reg.source_of("studio.Invert")
    g = build_track_graph(reg, pattern, tmp_path / "out")
    g.add("studio.Invert", "invert")
    g.connect("feather.out", "invert.matte")
    g.connect("invert.out", "write.matte")
    path = tmp_path / "g.json"
    rotograph.save(g, path)
    report = rotograph.render(rotograph.load(path), cache=rotograph.Cache())
    assert report.ok, report.error
    layers = read_exr(tmp_path / "out" / "out.1005.exr")
    feather = g.evaluate("feather", 1005)
    assert np.allclose(layers["matte.A"], 1 - feather, atol=1e-3)


def test_entry_point_plugin(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "studio_nodes.py").write_text(PLUGIN.format(tid="studio.EPInvert"))
    dist = site / "studio_nodes-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: studio-nodes\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[rotograph.plugins]\nstudio = studio_nodes:register\n")
    monkeypatch.syspath_prepend(str(site))
    reg = Registry.default()
    assert "studio.EPInvert" in reg
    assert reg.source_of("studio.EPInvert").startswith("entry point 'studio'")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-m", "rotograph.cli", "nodes", "--json"], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr
    nodes = json.loads(out.stdout)
    assert nodes["studio.EPInvert"]["params"]["amount"]["range"] == [0.0, 1.0]
    assert nodes["rotograph.Grow"]["inputs"]["matte"]["type"] == "Matte"


def test_two_sources_claiming_one_type_id_is_an_error(tmp_path, monkeypatch):
    a = _plugin_folder(tmp_path, "studio.Same", "first")
    b = _plugin_folder(tmp_path, "studio.Same", "second")
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", os.pathsep.join([str(a), str(b)]))
    with pytest.raises(RegistryError) as e:
        Registry.default()
    assert "studio.Same" in str(e.value) and "first.py" in str(e.value) and "second.py" in str(e.value)
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(_plugin_folder(tmp_path, "rotograph.Grow", "clash")))
    with pytest.raises(RegistryError, match="rotograph.Grow.*built-in.*clash.py"):
        Registry.default()


def test_registries_are_independent():
    a, b = Registry.builtin(), Registry.builtin()

    class Extra(rotograph.Node):
        type_id = "test.Extra"
        out = rotograph.Output(rotograph.Matte)

    a.add(Extra)
    assert "test.Extra" in a and "test.Extra" not in b


def test_broken_plugin_is_reported(tmp_path, monkeypatch):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "bad.py").write_text("import does_not_exist\n")
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(folder))
    with pytest.raises(RegistryError, match="bad.py.*ModuleNotFoundError"):
        Registry.default()
