"""Reading graphs saved by older node versions: what a node's ``upgrade_node()`` returns
(:class:`Upgrade`: its new params, nodes to add, renamed ports and params) and how a graph-file
document is rewritten with it before the graph is built (:func:`upgrade_document`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import GraphError


@dataclass
class Upgrade:
    """What a node saved at an older ``version`` becomes when a graph file is read.

    ``params``: its params at the current version. ``nodes``: new nodes to add to the graph
    (node id → graph-file spec with ``type``, ``version``, ``params``, ``inputs``), e.g. a
    MasksToMatte after a tracker whose ``matte`` output became ``masks``. ``outputs``: outputs
    that moved (old output name → ``"node.port"``): every link from the old port is re-pointed.
    ``inputs``: this node's inputs that were renamed (old name → new): its links and the groups
    feeding them follow. ``param_names``: params that were renamed (old name → new): the groups
    exposing them follow. :meth:`rename` fills these for a node whose names changed.
    """

    params: dict
    nodes: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    param_names: dict[str, str] = field(default_factory=dict)

    def rename(self, name: str, params: dict[str, str] | None = None, inputs: dict[str, str] | None = None,
               outputs: dict[str, str] | None = None) -> "Upgrade":
        """This upgrade with node ``name``'s params, inputs and outputs renamed (each old name →
        new name): the saved values move to the new param names, and links, group interfaces and
        exposed params follow the new port and param names."""
        params, inputs, outputs = params or {}, inputs or {}, outputs or {}
        return Upgrade({params.get(k, k): v for k, v in self.params.items()}, dict(self.nodes),
                       {**self.outputs, **{old: f"{name}.{new}" for old, new in outputs.items()}},
                       {**self.inputs, **inputs}, {**self.param_names, **params})


def upgrade_document(doc: dict, reg, source: str | None) -> dict:
    """A copy of ``doc`` with every node saved at an older version upgraded by its class's
    :meth:`~rotograph.Node.upgrade_node`: new params, added nodes, links re-pointed from outputs
    that moved (inputs, group outputs); added nodes join the upgraded node's groups. Newer
    versions than installed are refused."""
    old = {n: s for n, s in doc["nodes"].items() if s["type"] in reg and s["version"] != reg.get(s["type"]).version}
    if not old:
        return doc
    doc = json.loads(json.dumps(doc))
    moved: dict[str, str] = {}
    for name in old:
        spec = doc["nodes"][name]
        cls = reg.get(spec["type"])
        where = f"nodes.{name}.version"
        if spec["version"] > cls.version:
            raise GraphError(f"{cls.type_id} version {spec['version']} is newer than the installed "
                             f"version {cls.version}: update rotograph or the plugin that provides it",
                             path=where, source=source)
        try:
            up = cls.upgrade_node(spec["version"], name, dict(spec.get("params", {})))
        except (KeyError, TypeError, ValueError) as e:
            raise GraphError(f"cannot upgrade {cls.type_id} from version {spec['version']}: {e}",
                             path=where, source=source) from None
        spec["params"], spec["version"] = up.params, cls.version
        for new, new_spec in up.nodes.items():
            if new in doc["nodes"]:
                raise GraphError(f"upgrading {cls.type_id} adds a node '{new}', but the graph has one: rename it",
                                 path=f"nodes.{new}", source=source)
            doc["nodes"][new] = new_spec
            for group in doc.get("groups", {}).values():  # a node's group gets what its upgrade adds
                if name in group.get("nodes", []):
                    group["nodes"].append(new)
            ui = doc.get("ui", {}).get(name)
            pos = ui.get("pos") if isinstance(ui, dict) else None
            if isinstance(pos, list) and len(pos) == 2 and all(isinstance(v, (int, float)) for v in pos):
                doc["ui"][new] = {"pos": [pos[0] + 40, pos[1] + 120]}
        moved.update({f"{name}.{port}": ref for port, ref in up.outputs.items()})
        if up.inputs or up.param_names:
            _renamed(doc, name, up.inputs, up.param_names)
    for spec in doc["nodes"].values():
        spec["inputs"] = {i: moved.get(ref, ref) for i, ref in spec.get("inputs", {}).items()}
    for group in doc.get("groups", {}).values():
        group["outputs"] = {p: moved.get(ref, ref) for p, ref in group.get("outputs", {}).items()}
    return doc


def _renamed(doc: dict, name: str, inputs: dict[str, str], params: dict[str, str]) -> None:
    """Node ``name``'s inputs and params were renamed (old → new): its links and the group
    interfaces naming them follow (in place)."""
    spec = doc["nodes"][name]
    spec["inputs"] = {inputs.get(i, i): ref for i, ref in spec.get("inputs", {}).items()}

    def ref(r: str, names: dict[str, str]) -> str:
        node, _, port = r.partition(".")
        return f"{node}.{names.get(port, port)}" if node == name else r

    for group in doc.get("groups", {}).values():
        group["inputs"] = {p: [ref(r, inputs) for r in refs] for p, refs in group.get("inputs", {}).items()}
        group["params"] = {p: ref(r, params) for p, r in group.get("params", {}).items()}
