"""Groups and templates: collapse Keyer → FillHoles → Despill → Grow → Feather of greenscreen.json, reuse
it in a new graph, render the same pixels with no recomputation on a warm cache."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

import rotograph
from rotograph.editor.model import EditorModel

from conftest import GRAPHS, read_exr
from greenscreen_plate import make_plate

KEY_NODES = ["keyer", "fillholes", "despill", "grow", "feather"]


@pytest.fixture
def plate(tmp_path):
    comp, _, _, _ = make_plate(seed=3)
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": comp}) as f:
        f.write(str(tmp_path / "gs.1001.exr"))
    return str(tmp_path / "gs.####.exr")


def test_group_template_reuse_renders_same_pixels_without_recompute(registry, tmp_path, plate):
    m = EditorModel.open(str(GRAPHS / "greenscreen.json"), registry)
    m.graph.set("read.file", plate)
    m.graph.set("write.file", str(tmp_path / "a" / "a.####.exr"))
    ev = rotograph.Evaluator(m.graph, rotograph.Cache())
    keys_before = {n: ev.key(n, None, 1001) for n in KEY_NODES}
    m.collapse(KEY_NODES, "greenkey", params=["keyer.clip_black", "feather.size"])
    group = m.graph.groups["greenkey"]
    assert group.inputs == {"image": ["keyer.image", "despill.image"]}  # one port feeds both
    assert group.outputs == {"image": "despill.out", "matte": "feather.out"}  # named by what they carry
    assert {n: rotograph.Evaluator(m.graph, rotograph.Cache()).key(n, None, 1001) for n in KEY_NODES} == keys_before
    # the group survives a save/load and its exposed params are settable by group name
    saved = tmp_path / "grouped.json"
    m.save(str(saved))
    again = rotograph.load(saved, registry)
    assert again.groups["greenkey"].params == {"clip_black": "keyer.clip_black", "size": "feather.size"}
    template = m.save_template("greenkey", str(tmp_path / "templates" / "greenkey.json"))

    cache = rotograph.Cache()
    first = rotograph.render(m.graph, cache=cache)
    assert first.ok, first.error
    # a new graph built around the template
    new = EditorModel(registry)
    new.add_node("rotograph.Read", name="plate", file=plate, colorspace="linear")  # as in greenscreen.json
    name = new.insert_template(template, pos=(300, 0))
    new.add_node("rotograph.Premult", name="pm")
    new.add_node("rotograph.WriteEXR", name="out", file=str(tmp_path / "b" / "b.####.exr"))
    new.connect("plate.image", f"{name}.image")  # a group port feeds both inner inputs
    outs = new.graph.groups[name].outputs
    port_of = {ref: port for port, ref in outs.items()}
    new.connect(f"{name}.{port_of[f'{name}_despill.out']}", "pm.image")
    new.connect(f"{name}.{port_of[f'{name}_feather.out']}", "pm.matte")
    new.connect("pm.out", "out.image")
    new.connect(f"{name}.{port_of[f'{name}_feather.out']}", "out.matte")
    second = rotograph.render(new.graph, cache=cache)
    assert second.ok, second.error
    inner = {f"{name}_{n}" for n in KEY_NODES}
    assert not inner & set(second.stats.computes), second.stats.computes  # zero recomputation inside
    assert second.stats.computes["out"] == 1
    a, b = read_exr(tmp_path / "a" / "a.1001.exr"), read_exr(tmp_path / "b" / "b.1001.exr")
    assert all(np.array_equal(a[c], b[c]) for c in a)
    # exposed params by group name; undo dissolves the grouping edit
    new.graph.set(f"{name}.size", 4.0)
    assert new.graph.nodes[f"{name}_feather"].size == 4.0
    with pytest.raises(rotograph.GraphError, match="did you mean 'size'"):
        new.graph.set(f"{name}.sise", 1.0)
    m.undo()
    assert "greenkey" not in m.graph.groups


def test_group_validation(registry):
    m = EditorModel.open(str(GRAPHS / "greenscreen.json"), registry)
    with pytest.raises(rotograph.GraphError, match="cannot name a group"):
        m.collapse(["grow"], "read")
    m.collapse(["grow"], "g1")
    with pytest.raises(rotograph.GraphError, match="already in a group"):
        m.collapse(["grow", "feather"], "g2")
    with pytest.raises(rotograph.GraphError, match="cannot expose"):
        m.collapse(["feather"], "g3", params=["keyer.gain"])
    with pytest.raises(rotograph.GraphError, match="group 'g1' has no input port 'mate'.*did you mean 'matte'"):
        m.connect("keyer.matte", "g1.mate")
    m.disconnect("g1.matte")  # a group input port unlinks the inner inputs behind it
    assert "matte" not in m.graph.inputs_of("grow")
    m.remove_nodes(["grow"])
    assert "g1" not in m.graph.groups


@pytest.mark.parametrize("edit, error", [
    (lambda g: g["params"].update(size="grow.sise"), "groups.edge.params.size: 'grow.sise' is not a param of a node"),
    (lambda g: g["params"].update(x="feather"), "groups.edge.params.x: 'feather' is not a param of a node"),
    (lambda g: g["params"].update(gain="read.file"), "groups.edge.params.gain: 'read.file' is not a param of a node"),
    (lambda g: g["outputs"].update(out="nope.out"), "groups.edge.outputs.out: 'nope.out' is not an output"),
    (lambda g: g["inputs"].update(matte=["grow.image"]), "groups.edge.inputs.matte: 'grow.image' is not an input"),
    (lambda g: g["inputs"].update({"a.b": ["grow.matte"]}), "groups.edge.inputs: port name 'a.b' must be letters"),
    (lambda g: g["nodes"].append("grow"), "groups.edge.nodes.2: node 'grow' is listed twice"),
    (lambda g: g["nodes"].append("ghost"), "groups.edge.nodes.2: no node named 'ghost'"),
])
def test_group_interface_is_checked_on_load(registry, edit, error):
    """A group read from a file names only ports, params and nodes inside it (else the editor
    and Graph.set would meet refs that lead nowhere)."""
    import json

    g = rotograph.load(GRAPHS / "quickstart.json", registry)
    rotograph.core.groups.collapse(g, "edge", ["grow", "feather"], params=["grow.size", "feather.size"])
    doc = json.loads(rotograph.dumps(g))
    edit(doc["groups"]["edge"])
    with pytest.raises(rotograph.GraphError) as e:
        rotograph.loads(json.dumps(doc), registry, source="g.json")
    assert str(e.value).startswith("g.json: " + error), str(e.value)
    doc["groups"] = {"edge": json.loads(rotograph.dumps(g))["groups"]["edge"], "edge2": {"nodes": ["grow"]}}
    with pytest.raises(rotograph.GraphError, match="groups.edge2.nodes.0: node 'grow' is already in group 'edge'"):
        rotograph.loads(json.dumps(doc), registry)


def test_params_exposed_and_hidden_by_the_editor_are_undoable(registry):
    m = EditorModel.open(str(GRAPHS / "greenscreen.json"), registry)
    m.collapse(KEY_NODES, "key")
    assert m.graph.groups["key"].params == {} and set(m.graph.groups["key"].outputs) == {"image", "matte"}
    m.expose("key", "keyer.clip_black")
    m.expose("key", "fillholes.threshold")
    m.expose("key", "keyer.clip_black")  # once only
    assert m.graph.groups["key"].params == {"clip_black": "keyer.clip_black", "threshold": "fillholes.threshold"}
    m.graph.set("key.clip_black", 0.1)  # by the group's name, as the inspector's field sets it
    assert m.graph.nodes["keyer"].clip_black == 0.1
    m.expose("key", "keyer.clip_black", False)
    assert m.graph.groups["key"].params == {"threshold": "fillholes.threshold"}
    m.undo()
    assert "clip_black" in m.graph.groups["key"].params
    with pytest.raises(rotograph.GraphError, match="not a param of a node in group"):
        m.expose("key", "read.file")
