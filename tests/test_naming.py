"""The naming convention of docs/naming.md, checked on every bundled node.

Names that break it today are listed in KNOWN_DEBTS with the name they should get: renaming a
port or param changes saved graphs, so it is done in one round with the nodes' ``upgrade()``
(see issue 22). A debt that is paid must leave the list (the test says so), and a new name
that breaks the convention fails here."""

from __future__ import annotations

import re

import pytest

import rotograph

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
CAMEL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")

# The field's term for each port type: an input of that type is named by it (docs/naming.md).
TERMS = {"Image": "image", "Matte": "matte", "Masks": "masks", "Depth": "depth", "Normals": "normals",
         "Camera": "camera", "Shapes": "shapes", "File": "file"}
# Role names from the field for a port when one term would not say which (two inputs of a type,
# or the parts of a result).
ROLES = {"a", "b", "confidence", "trimap", "foreground", "midground", "background"}

# (node type, port or param, name) → the name it should have. Renames need upgrade() (a later round).
KNOWN_DEBTS = {
    ("rotograph.WriteEXR", "input", "rgba"): "image",
    ("rotograph.SAM3Track", "input", "seed"): "masks_seed",  # a second Masks input: term + qualifier
    ("rotograph.WriteBlender", "input", "cloud"): "file_cloud",  # a File input: term + qualifier
    ("rotograph.MatteRefine", "output", "refined"): "matte",
    ("rotograph.MatAnyoneRefine", "output", "refined"): "matte",
    ("rotograph.ShuffleMatte", "output", "image_out"): "image",
    ("rotograph.ShuffleMatte", "output", "matte_out"): "matte",
    ("rotograph.ColorSpace", "param", "src"): "input_space",
    ("rotograph.ColorSpace", "param", "dst"): "colorspace",
    ("rotograph.DA3Depth", "param", "process_size"): "work_size",
    ("rotograph.MatAnyoneRefine", "param", "max_size"): "work_size",
    ("rotograph.MatteRefine", "param", "max_size"): "work_size",
}
# The same for param kinds (a writer's path kind ends in ``_out``).
KNOWN_KIND_DEBTS = {"blender_script": "blender_out"}
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
