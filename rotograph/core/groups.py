"""Groups (Nuke's Groups/gizmos, Gaffer's Boxes) and templates.

A group is a named set of nodes with an interface: input ports (each feeding one or more inner
inputs), output ports (each an inner output) and exposed params (each an inner ``node.param``).
The inner nodes stay ordinary nodes of the graph, so evaluation — and every cache key — is
exactly that of the ungrouped graph: grouping never invalidates a cache. The graph file keeps
groups under ``"groups"``; the editor draws a group as one node.

A template is a group saved on its own (``{"format": "rotograph.template", ...}``): inserting
it copies its nodes into a graph under fresh names and records the group. Reading and writing
template files is :mod:`rotograph.core.graphio`'s (``save_template``, ``insert_template``): this
module knows no file format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import GraphError, did_you_mean

TEMPLATE_FORMAT = "rotograph.template"


@dataclass
class Group:
    """A group of ``nodes`` of a graph with its interface: ``inputs`` (port → the inner
    ``node.input`` refs it feeds), ``outputs`` (port → one inner ``node.output``) and ``params``
    (exposed name → inner ``node.param``). See the module's docstring."""

    name: str
    nodes: list[str]
    inputs: dict[str, list[str]] = field(default_factory=dict)   # port → inner "node.input"s
    outputs: dict[str, str] = field(default_factory=dict)        # port → inner "node.output"
    params: dict[str, str] = field(default_factory=dict)         # exposed name → inner "node.param"

    def to_dict(self) -> dict:
        """The group as saved in a graph file's ``"groups"`` (without its name, the key)."""
        return {"nodes": list(self.nodes), "inputs": self.inputs, "outputs": self.outputs, "params": self.params}

    @classmethod
    def from_dict(cls, name: str, d: dict) -> "Group":
        """The group ``name`` read from a graph file's ``"groups"`` entry ``d`` (not checked:
        see :meth:`check`)."""
        return cls(name, list(d.get("nodes", [])), {k: list(v) for k, v in d.get("inputs", {}).items()},
                   dict(d.get("outputs", {})), dict(d.get("params", {})))

    def check(self, graph) -> None:
        """Refuse a group (read from a file) whose nodes are not in ``graph`` or already in
        another group, or whose interface names a port, param or node outside it; raises
        :class:`GraphError` with the JSON path at fault (``groups.<name>.params.<port>``)."""
        where = f"groups.{self.name}"
        if self.name in graph.nodes:
            raise GraphError(f"group '{self.name}' shares a node's name", path=where)
        for i, n in enumerate(self.nodes):
            if n not in graph.nodes:
                raise GraphError(f"no node named '{n}'" + did_you_mean(n, graph.nodes), path=f"{where}.nodes.{i}")
            if n in self.nodes[:i]:
                raise GraphError(f"node '{n}' is listed twice", path=f"{where}.nodes.{i}")
            other = next((g for g in graph.groups.values() if g is not self and n in g.nodes), None)
            if other is not None:
                raise GraphError(f"node '{n}' is already in group '{other.name}'", path=f"{where}.nodes.{i}")
        tables = [("inputs", "an input", [(p, r) for p, refs in self.inputs.items() for r in refs or [None]]),
                  ("outputs", "an output", list(self.outputs.items())),
                  ("params", "a param", list(self.params.items()))]
        for table, what, entries in tables:
            for port, ref in entries:
                if not port.isidentifier():
                    raise GraphError(f"port name {port!r} must be letters, digits and _", path=f"{where}.{table}")
                if ref is None:
                    continue
                node, _, name = ref.partition(".")
                declared = getattr(graph.nodes[node], table) if node in self.nodes else {}
                if name not in declared:
                    raise GraphError(f"{ref!r} is not {what} of a node in the group", path=f"{where}.{table}.{port}")


def templates_dir() -> str:
    """Where templates live: ``$ROTOGRAPH_TEMPLATES`` or ``~/.config/rotograph/templates``."""
    return os.environ.get("ROTOGRAPH_TEMPLATES") or os.path.join(os.path.expanduser("~"), ".config", "rotograph",
                                                                   "templates")


def list_templates(folder: str | None = None) -> dict[str, str]:
    """Template name → file, for the palette."""
    folder = folder or templates_dir()
    if not os.path.isdir(folder):
        return {}
    return {f[:-5]: os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".json")}


def collapse(graph, name: str, nodes, params=None) -> Group:
    """Make a group of ``nodes``: its ports are the links crossing the selection's boundary,
    named after the inner ports (:func:`port_name`); ``params`` (inner ``"node.param"`` refs)
    are exposed under their param names."""
    nodes = list(dict.fromkeys(nodes))
    if not name.isidentifier() or name in graph.nodes or name in graph.groups:
        raise GraphError(f"'{name}' cannot name a group (taken, or not letters, digits and _)")
    for n in nodes:
        graph.node(n)
        if any(n in g.nodes for g in graph.groups.values()):
            raise GraphError(f"node '{n}' is already in a group")
    inside = set(nodes)
    group = Group(name, nodes)
    sources: dict[tuple[str, str], str] = {}
    for n in nodes:
        for inp, (src, out) in sorted(graph.inputs_of(n).items()):
            if src in inside:
                continue
            port = sources.get((src, out))
            if port is None:
                port = unique_name(inp, group.inputs)
                sources[(src, out)] = port
                group.inputs[port] = []
            group.inputs[port].append(f"{n}.{inp}")
    for u, v, k, out in sorted(graph.dag.edges(keys=True, data="output"), key=lambda e: (e[0], e[3])):
        if u in inside and v not in inside and f"{u}.{out}" not in group.outputs.values():
            group.outputs[unique_name(port_name(graph, u, out), group.outputs)] = f"{u}.{out}"
    for ref in params or []:
        node, param = ref.split(".")
        if node not in inside or param not in graph.nodes[node].params:
            raise GraphError(f"cannot expose {ref}: not a param of a node in the group")
        group.params[unique_name(param, group.params)] = ref
    graph.groups[name] = group
    graph._changed()
    return group


def port_name(graph, node: str, output: str) -> str:
    """The name a group's output port takes from the inner output it passes on: the output's
    own name, or for the generic ``out``, its value type (``image``, ``matte``) — never the
    inner node's id, which says nothing outside the group."""
    if output != "out":
        return output
    return graph.nodes[node].outputs[output].type.name.lower()


def unique_name(base: str, taken) -> str:
    """``base``, or ``base2``, ``base3``, … : the first not in ``taken``."""
    name, i = base, 2
    while name in taken:
        name, i = f"{base}{i}", i + 1
    return name


def _resolve(graph, ref: str, table: str, what: str):
    """The entry of a group's ``table`` (params, inputs, outputs) that ``"group.name"`` names,
    or ``None`` when ``ref`` does not start with a group."""
    if not isinstance(ref, str):
        return None  # not a ref at all: split_ref refuses it
    head, _, tail = ref.partition(".")
    group = graph.groups.get(head)
    if group is None:
        return None
    entries = getattr(group, table)
    if tail not in entries:
        raise GraphError(f"group '{head}' has no {what} '{tail}'" + did_you_mean(tail, entries))
    return entries[tail]


def resolve_param(graph, ref: str) -> str:
    """``"group.param"`` → the inner ``"node.param"`` it exposes (other refs unchanged)."""
    return _resolve(graph, ref, "params", "exposed param") or ref


def resolve_output(graph, ref: str) -> str:
    """``"group.port"`` → the inner ``"node.output"`` behind the group's output port."""
    return _resolve(graph, ref, "outputs", "output port") or ref


def resolve_inputs(graph, ref: str) -> list[str]:
    """``"group.port"`` → every inner ``"node.input"`` the group's input port feeds."""
    return _resolve(graph, ref, "inputs", "input port") or [ref]
