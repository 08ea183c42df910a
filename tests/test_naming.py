"""The naming convention of docs/naming.md, checked on every bundled node.

Names that break it today are listed in KNOWN_DEBTS with the name they should get: renaming a
port or param changes saved graphs, so it is done in one round with the nodes' ``upgrade()``
(see issue 22). A debt that is paid must leave the list (the test says so), and a new name
that breaks the convention fails here."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import rotograph
from conftest import GRAPHS, ROOT
from rotograph.io.samples import make_plates

OLD_GRAPHS = ROOT / "tests" / "old_graphs"  # the bundled graphs as shipped before the renames

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
CAMEL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")

# The field's term for each port type: an input of that type is named by it (docs/naming.md).
TERMS = {"Image": "image", "Matte": "matte", "Masks": "masks", "Depth": "depth", "Normals": "normals",
         "Camera": "camera", "Shapes": "shapes", "File": "file"}
# Role names from the field for a port when one term would not say which (two inputs of a type,
# or the parts of a result).
ROLES = {"a", "b", "confidence", "trimap", "foreground", "midground", "background"}

# (node type, port or param, name) → the name it should have, while a rename is owed (none now: the
# twelve names of issue 22 were renamed with upgrade(), see RENAMED below).
KNOWN_DEBTS: dict[tuple[str, str, str], str] = {}
# The same for param kinds (a writer's path kind ends in ``_out``).
KNOWN_KIND_DEBTS: dict[str, str] = {}
# Names renamed by issue 22: (node type, port or param, old name, new name, the version that renamed it).
RENAMED = [
    ("rotograph.WriteEXR", "input", "rgba", "image", 2),
    ("rotograph.SAM3Track", "input", "seed", "masks_seed", 4),
    ("rotograph.WriteBlender", "input", "cloud", "file_cloud", 2),
    ("rotograph.MatteRefine", "output", "refined", "matte", 2),
    ("rotograph.MatAnyoneRefine", "output", "refined", "matte", 2),
    ("rotograph.ShuffleMatte", "output", "image_out", "image", 2),
    ("rotograph.ShuffleMatte", "output", "matte_out", "matte", 2),
    ("rotograph.ColorSpace", "param", "src", "input_space", 2),
    ("rotograph.ColorSpace", "param", "dst", "colorspace", 2),
    ("rotograph.DA3Depth", "param", "process_size", "work_size", 2),
    ("rotograph.MatAnyoneRefine", "param", "max_size", "work_size", 2),
    ("rotograph.MatteRefine", "param", "max_size", "work_size", 2),
]
# Params whose name says their kind's job; a new one of these kinds must use the name.
PARAM_NAMES_BY_KIND = {"prompts": "prompts", "frame_rate": "fps"}
# One word per concept: synonyms and abbreviations that must not appear in a name, with the word.
SYNONYMS = {"process_size": "work_size", "max_size": "work_size", "src": "input_space", "dst": "colorspace",
            "colour": "color", "fg": "foreground", "bg": "background", "filename": "file", "path": "file",
            "framerate": "fps", "thresh": "threshold", "checkpoint": "weights"}


def _term_name(name: str, type_name: str) -> bool:
    term = TERMS.get(type_name)
    return term is not None and (name == term or name.startswith(term + "_"))


def _problem(cls, kind: str, name: str, type_name: str) -> str | None:
    if not SNAKE.match(name):
        return "not lower_snake"
    if name in SYNONYMS:
        return f"the project's word is '{SYNONYMS[name]}'"
    if kind != "param" and name.endswith(("_in", "_out")):
        return "no _in/_out suffix: a port is an input or an output by where it is declared"
    if kind == "param":
        want = PARAM_NAMES_BY_KIND.get(type_name)
        if want and name != want:
            return f"a {type_name} param is named '{want}'"
        return None
    if _term_name(name, type_name) or name in ROLES:
        return None
    if kind == "output" and name == "out" and len(cls.outputs) == 1:
        first = next(iter(cls.inputs.values()), None)
        if first is not None and first.type.name == type_name:
            return None  # a filter: its one output is its first input's type, changed
        return "'out' is for a filter whose one output has its first input's type"
    if kind == "output" and name == "written" and type_name == "File":
        return None
    return f"a {type_name} {kind} is named by its term ('{TERMS.get(type_name, '?')}', or with a _qualifier)"


def _declared():
    reg = rotograph.Registry.builtin()
    for type_id, cls in reg.node_types.items():
        for kind, ports in (("input", cls.inputs), ("output", cls.outputs)):
            for name, port in ports.items():
                yield type_id, cls, kind, name, port.type.name
        for name, param in cls.params.items():
            yield type_id, cls, "param", name, param.type_name


def test_bundled_port_and_param_names_follow_the_convention():
    broken = {}
    for type_id, cls, kind, name, type_name in _declared():
        problem = _problem(cls, kind, name, type_name)
        if problem and (type_id, kind, name) not in KNOWN_DEBTS:
            broken[(type_id, kind, name)] = problem
    assert not broken, "names against docs/naming.md:\n" + "\n".join(f"{k}: {v}" for k, v in broken.items())


def test_known_debts_are_still_owed():
    declared = {(t, k, n): (cls, ty) for t, cls, k, n, ty in _declared()}
    paid = [d for d in KNOWN_DEBTS if d not in declared or _problem(declared[d][0], d[1], d[2], declared[d][1]) is None]
    assert not paid, f"renamed or now conforming: remove from KNOWN_DEBTS: {paid}"


def test_type_and_kind_names():
    reg = rotograph.Registry.builtin()
    assert all(CAMEL.match(name) for name in reg.port_types), list(reg.port_types)
    assert set(TERMS) >= set(reg.port_types), "a new port type needs its field term in docs/naming.md and TERMS"
    kinds = {p.type_name for cls in reg.node_types.values() for p in cls.params.values()}
    assert all(SNAKE.match(k) for k in kinds), kinds
    writer_kinds = {cls.params["file"].type_name for cls in reg.node_types.values() if cls.is_writer}
    bad = {k for k in writer_kinds if not k.endswith("_out") and k not in KNOWN_KIND_DEBTS}
    assert not bad, f"a writer's path kind ends in _out: {bad}"
    assert set(KNOWN_KIND_DEBTS) <= writer_kinds


@pytest.mark.parametrize("name, ok", [("image", True), ("matte_1", True), ("Matte", False), ("screenColor", False),
                                      ("work__size", False), ("a", True)])
def test_the_snake_rule(name, ok):
    assert bool(SNAKE.match(name)) == ok


# A node of each port type to link from / to, and a valid saved value for each renamed param.
SOURCES = {"Image": ("rotograph.Read", "image"), "Masks": ("rotograph.MasksFromMattes", "masks"),
           "File": ("rotograph.WritePointCloud", "written")}
SINKS = {"Image": ("rotograph.Premult", "image"), "Matte": ("rotograph.Grow", "matte")}
VALUES = {"src": "sRGB", "dst": "Rec.709", "process_size": 98, "max_size": 256}


def _doc(nodes: dict, groups: dict | None = None) -> str:
    return json.dumps({"format": "rotograph.graph", "schema_version": 1, "nodes": nodes, "groups": groups or {}})


@pytest.mark.parametrize("type_id, kind, old, new, version", RENAMED, ids=lambda v: str(v))
def test_an_old_graph_reads_under_the_new_name(registry, type_id, kind, old, new, version):
    """A graph saved before the rename (the node one version older, the old name in its params,
    its links or its group's interface) reads with the new name in every place."""
    cls = registry.get(type_id)
    assert cls.version == version
    nodes = {"n": {"type": type_id, "version": version - 1, "params": {}}}
    group = {"nodes": ["n"], "inputs": {}, "outputs": {}, "params": {}}
    if kind == "param":
        nodes["n"]["params"][old] = VALUES[old]
        group["params"]["exposed"] = f"n.{old}"
    elif kind == "input":
        src_type, src_port = SOURCES[cls.inputs[new].type.name]
        nodes["src"] = {"type": src_type, "version": registry.get(src_type).version}
        nodes["n"]["inputs"] = {old: f"src.{src_port}"}
        group["inputs"]["exposed"] = [f"n.{old}"]
        group["nodes"].append("src")
    else:
        dst_type, dst_port = SINKS[cls.outputs[new].type.name]
        nodes["dst"] = {"type": dst_type, "version": registry.get(dst_type).version, "inputs": {dst_port: f"n.{old}"}}
        group["outputs"]["exposed"] = f"n.{old}"
    g = rotograph.loads(_doc(nodes, {"grp": group}), registry)
    grp = g.groups["grp"]
    if kind == "param":
        assert g.nodes["n"].get_params()[new] == VALUES[old] and old not in g.nodes["n"].get_params()
        assert grp.params == {"exposed": f"n.{new}"}
    elif kind == "input":
        assert g.inputs_of("n")[new] == ("src", SOURCES[cls.inputs[new].type.name][1])
        assert grp.inputs == {"exposed": [f"n.{new}"]}
    else:
        assert g.inputs_of("dst") == {SINKS[cls.outputs[new].type.name][1]: ("n", new)}
        assert grp.outputs == {"exposed": f"n.{new}"}
    saved = json.loads(rotograph.dumps(g))["nodes"]["n"]
    assert saved["version"] == version and old not in saved["params"] and old not in saved.get("inputs", {})


def test_sam3track_from_version_1_gets_both_upgrades(registry):
    """v1 (a `matte` output) → v4: the MasksToMatte insertion of v2 and the masks_seed rename of v4."""
    nodes = {"read": {"type": "rotograph.Read", "version": 1, "params": {"file": "sample:bigbuckbunny.mp4"}},
             "seeds": {"type": "rotograph.MasksFromMattes", "version": registry.get("rotograph.MasksFromMattes").version},
             "track": {"type": "rotograph.SAM3Track", "version": 1, "params": {"object": 2, "seed_frames": "1"},
                       "inputs": {"image": "read.image", "seed": "seeds.masks"}},
             "grow": {"type": "rotograph.Grow", "version": 1, "inputs": {"matte": "track.matte"}}}
    g = rotograph.loads(_doc(nodes), registry)
    assert g.inputs_of("track") == {"image": ("read", "image"), "masks_seed": ("seeds", "masks")}
    assert g.inputs_of("grow") == {"matte": ("track_matte", "matte")} and g.nodes["track_matte"].objects == "2"


@pytest.mark.parametrize("name", sorted(p.name for p in GRAPHS.glob("*.json")))
def test_a_bundled_graph_as_shipped_before_the_renames_reads_as_the_bundled_one(registry, name, monkeypatch):
    """Each bundled graph's file from before the renames (tests/old_graphs) upgrades to exactly the
    re-saved bundled graph: the same nodes, params and links, so the same pixels. (Its paths, of
    format v1, meant the repository's root: read from there, then spelt from graphs/.)"""
    from rotograph.core.graphio import relocate

    monkeypatch.chdir(ROOT)
    old = rotograph.load(OLD_GRAPHS / name, registry)
    relocate(old, str(GRAPHS))
    new = rotograph.load(GRAPHS / name, registry)
    assert rotograph.dumps(old) == rotograph.dumps(new)
    assert json.loads((OLD_GRAPHS / name).read_text()) != json.loads((GRAPHS / name).read_text())  # it was renamed


def test_the_green_screen_graph_renders_the_same_pixels_before_and_after(registry, tmp_path, monkeypatch):
    """greenscreen.json (Keyer, Despill, Premult, WriteEXR's renamed input) rendered from its old
    file and from the re-saved one, on the sample plates: the written EXRs hold the same pixels."""
    from rotograph.io.media import read_image

    monkeypatch.chdir(tmp_path)
    make_plates(str(tmp_path), frames=1, width=128)
    written = {}
    (tmp_path / "graphs").mkdir()  # format v2: its paths are relative to its folder, beside plates/
    (tmp_path / "graphs" / "greenscreen.json").write_text((GRAPHS / "greenscreen.json").read_text())
    for tag, path in (("old", OLD_GRAPHS / "greenscreen.json"), ("new", tmp_path / "graphs" / "greenscreen.json")):
        g = rotograph.load(path, registry)
        g.set("write.file", str(tmp_path / tag / "out.####.exr"))
        assert rotograph.render(g, "1001", cache=rotograph.Cache()).ok
        written[tag] = {layer: read_image(str(tmp_path / tag / "out.1001.exr"), layer)[0] for layer in ("", "matte")}
    for layer in ("", "matte"):
        assert written["old"][layer].shape[:2] == (72, 128) and written["old"][layer].any()
        assert np.array_equal(written["old"][layer], written["new"][layer]), layer
