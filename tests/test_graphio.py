"""Graph files: byte-identical round trips, errors with JSON paths, fuzzing the loader."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rotograph
from rotograph import GraphError

from conftest import GRAPHS


@pytest.mark.parametrize("name", ["quickstart.json", "greenscreen.json", "sam3_matte.json", "depth_layers.json"])
def test_load_save_is_byte_identical(name, registry):
    text = (GRAPHS / name).read_text()
    graph = rotograph.loads(text, registry)
    assert rotograph.dumps(graph) == text


def test_saved_graph_is_valid_against_the_published_schema(registry):
    import jsonschema

    doc = json.loads((GRAPHS / "quickstart.json").read_text())
    jsonschema.validate(doc, rotograph.schema())
    assert set(doc["nodes"]["feather"]["params"]) == {"size"}  # every param written out
    assert "pos" in doc["ui"]["read"] and "ui" not in doc["nodes"]["read"]


def _doc():
    return json.loads((GRAPHS / "quickstart.json").read_text())


def _error(doc, registry) -> GraphError:
    with pytest.raises(GraphError) as e:
        rotograph.loads(json.dumps(doc) if not isinstance(doc, str) else doc, registry, source="g.json")
    assert "\n" not in str(e.value)
    return e.value


def test_malformed_json(registry):
    e = _error('{"format": "rotograph.graph",\n "nodes": {,}}', registry)
    assert "malformed JSON" in str(e) and "line 2" in str(e) and str(e).startswith("g.json")


def test_unknown_node_type_suggests(registry):
    d = _doc()
    d["nodes"]["grow"]["type"] = "rotograph.Grwo"
    e = _error(d, registry)
    assert e.path == "nodes.grow.type" and "did you mean 'rotograph.Grow'" in str(e)


def test_unknown_param_suggests(registry):
    d = _doc()
    d["nodes"]["feather"]["params"]["sise"] = 2
    e = _error(d, registry)
    assert e.path == "nodes.feather.params.sise" and "did you mean 'size'" in str(e)


def test_wrong_param_type_and_range(registry):
    d = _doc()
    d["nodes"]["feather"]["params"]["size"] = "big"
    e = _error(d, registry)
    assert e.path == "nodes.feather.params.size" and "expected a number" in str(e)
    d["nodes"]["feather"]["params"]["size"] = -3
    assert "outside the range" in str(_error(d, registry))
    d = _doc()
    d["nodes"]["write_exr"]["params"]["compression"] = "zipp"
    e = _error(d, registry)
    assert "did you mean 'zip'" in str(e) and e.path == "nodes.write_exr.params.compression"


def test_unknown_field_suggests(registry):
    d = _doc()
    d["nodes"]["grow"]["parms"] = d["nodes"]["grow"].pop("params")
    e = _error(d, registry)
    assert e.path == "nodes.grow.parms" and "did you mean 'params'" in str(e)


def test_cycle_is_reported(registry):
    d = _doc()
    d["nodes"]["track"]["inputs"]["image"] = "feather.out"
    d["nodes"]["grow"]["inputs"]["matte"] = "track.matte"
    e = _error(d, registry)
    assert "cycle" in str(e)
    d = _doc()  # a type-correct cycle: grow ← feather ← grow
    d["nodes"]["grow"]["inputs"]["matte"] = "feather.out"
    e = _error(d, registry)
    assert "cycle" in str(e) and "grow" in str(e) and "feather" in str(e)


def test_dangling_link_and_bad_ports(registry):
    d = _doc()
    d["nodes"]["grow"]["inputs"]["matte"] = "trak.matte"
    e = _error(d, registry)
    assert e.path == "nodes.grow.inputs.matte" and "did you mean 'track'" in str(e)
    d = _doc()
    d["nodes"]["grow"]["inputs"]["matte"] = "track_matte.mate"
    assert "did you mean 'matte'" in str(_error(d, registry))
    d = _doc()
    d["nodes"]["grow"]["inputs"]["mate"] = d["nodes"]["grow"]["inputs"].pop("matte")
    assert "did you mean 'matte'" in str(_error(d, registry))


def test_mismatched_types_are_refused(registry):
    d = _doc()
    d["nodes"]["grow"]["inputs"]["matte"] = "read.image"
    e = _error(d, registry)
    assert "mismatched types" in str(e) and "Image" in str(e) and "Matte" in str(e)
    g = rotograph.loads(json.dumps(_doc()), registry)
    with pytest.raises(rotograph.LinkError, match="mismatched"):
        g.connect("read.image", "feather.matte")


def test_newer_version_and_bad_schema_version(registry):
    d = _doc()
    d["nodes"]["grow"]["version"] = 99
    assert "newer" in str(_error(d, registry))
    d = _doc()
    d["schema_version"] = 3
    assert _error(d, registry).path == "schema_version"


def test_reading_a_graph_never_runs_code(registry, tmp_path):
    marker = tmp_path / "pwned"
    d = _doc()
    d["nodes"]["read"]["params"]["file"] = f"__import__('os').system('touch {marker}')"
    d["nodes"]["evil"] = {"type": "os.system", "version": 1, "params": {"command": f"touch {marker}"}}
    _error(d, registry)
    assert not marker.exists()


def test_cli_validate_exit_codes(tmp_path):
    bad = tmp_path / "bad.json"
    d = _doc()
    d["nodes"]["feather"]["params"]["size"] = "big"
    bad.write_text(json.dumps(d))
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "validate", str(bad)], capture_output=True, text=True)
    assert run.returncode == 3  # bad graph
    assert run.stderr.strip().count("\n") == 0
    assert "nodes.feather.params.size" in run.stderr and "bad.json" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "rotograph.cli", "validate", str(GRAPHS / "quickstart.json")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(json_values)
def test_fuzz_any_json_gives_graph_error(registry, value):
    try:
        rotograph.loads(json.dumps(value), registry)
    except GraphError:
        pass


def _mutations():
    d = _doc()
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
    walk(d, [])
    return paths


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_mutations()), json_values, st.booleans())
def test_fuzz_mutated_graphs_give_graph_error_or_load(registry, path, value, delete):
    d = _doc()
    if not path:
        return
    parent = d
    for k in path[:-1]:
        parent = parent[k]
    if delete:
        parent.pop(path[-1])
    else:
        parent[path[-1]] = value
    try:
        g = rotograph.loads(json.dumps(d), registry)
    except GraphError:
        return
    # whatever loads must save and load again to the same graph
    assert rotograph.dumps(rotograph.loads(rotograph.dumps(g), registry)) == rotograph.dumps(g)


def test_upgrade_moves_a_tracker_matte_output_to_masks_to_matte(registry):
    """A node whose `matte` output became `masks` (SAM3Track/FlowTrack v1 → v2): an old graph
    reads with a MasksToMatte inserted, links and group outputs re-pointed, the choice of object
    moved to it."""
    from rotograph.nodes.matte.masks import matte_became_masks

    class Tracker(rotograph.Node):
        type_id = "test.Tracker"
        version = 2
        image = rotograph.Input(rotograph.Image)
        text = rotograph.Param(str, "")
        masks = rotograph.Output(rotograph.Masks)

        @classmethod
        def upgrade_node(cls, from_version, name, params):
            obj = params.pop("object", 0)
            return matte_became_masks(name, params, str(obj) if obj else "")

    registry.add(Tracker)
    doc = {"format": "rotograph.graph", "schema_version": 1, "nodes": {
        "read": {"type": "rotograph.Read", "version": 1, "params": {"file": "sample:bigbuckbunny.mp4"}},
        "track": {"type": "test.Tracker", "version": 1, "params": {"text": "dog", "object": 3},
                  "inputs": {"image": "read.image"}},
        "grow": {"type": "rotograph.Grow", "version": 1, "params": {"size": 2.0}, "inputs": {"matte": "track.matte"}}},
        "groups": {"g": {"nodes": ["grow"], "inputs": {"matte": ["grow.matte"]}, "outputs": {"out": "grow.out"}},
                   "t": {"nodes": ["track"], "outputs": {"matte": "track.matte"}}},
        "ui": {"track": {"pos": [100, 0]}}}
    g = rotograph.loads(json.dumps(doc), registry)
    assert g.nodes["track"].get_params() == {"text": "dog"}
    assert g.nodes["track_matte"].type_id == "rotograph.MasksToMatte" and g.nodes["track_matte"].objects == "3"
    assert g.inputs_of("track_matte") == {"masks": ("track", "masks")}
    assert g.inputs_of("grow") == {"matte": ("track_matte", "matte")}
    assert g.groups["t"].outputs == {"matte": "track_matte.matte"} and g.groups["t"].nodes == ["track", "track_matte"]
    assert g.ui["track_matte"]["pos"] == [140, 120]
    saved = json.loads(rotograph.dumps(g))
    assert saved["nodes"]["track"]["version"] == 2 and "track_matte" in saved["nodes"]
    # the upgrade's new node must not take an existing id
    doc["nodes"]["track_matte"] = {"type": "rotograph.Grow", "version": 1}
    err = _error(doc, registry)
    assert err.path == "nodes.track_matte" and "adds a node 'track_matte'" in str(err)
    doc["nodes"].pop("track_matte")
    doc["nodes"]["track"]["version"] = 3
    assert "newer than the installed version 2" in str(_error(doc, registry))
