"""The graph: named node instances and typed links, held in a ``networkx`` DAG.

Links are stored on the input side, as in the file format: each edge ``src → dst`` of the
``networkx.MultiDiGraph`` is keyed by the destination input and carries the source output.
Every edit is checked at once — unknown ports, mismatched types and cycles are refused with a
clear error — so a graph that exists is a graph that can be evaluated.
"""

from __future__ import annotations

from typing import Any, Iterator

import networkx as nx

from ..errors import GraphError, LinkError, ParamError, did_you_mean
from .groups import Group, resolve_inputs, resolve_output, resolve_param
from .node import Node
from .registry import Registry


def split_ref(ref: str, where: str = "") -> tuple[str, str]:
    """``"node.port"`` → ``("node", "port")``; node ids may not contain dots."""
    if not isinstance(ref, str) or ref.count(".") != 1 or not all(ref.split(".")):
        raise LinkError(f"{where}{' ' if where else ''}expected \"node.port\", got {ref!r}")
    node, port = ref.split(".")
    return node, port


class Graph:
    """A DAG of nodes. ``graph.add("rotograph.Grow", "grow", size=2)``,
    ``graph.connect("track.matte", "grow.matte")``, ``graph.evaluate("grow", 1001)``."""

    def __init__(self, registry: Registry | None = None):
        self.registry = registry or Registry.default()
        self.dag = nx.MultiDiGraph()
        self.nodes: dict[str, Node] = {}
        self.ui: dict[str, Any] = {}
        self.groups: dict[str, Group] = {}  # inner nodes stay in the graph
        self.revision = 0
        self._folder: str | None = None
        self._evaluator = None  # the memory-cached evaluator behind evaluate() without a cache

    @property
    def folder(self) -> str | None:
        """The folder relative file paths in params are relative to: the graph file's (set by
        :func:`~rotograph.graphio.load` and :func:`~rotograph.graphio.save`), or ``None`` for
        the current directory (a graph built in code)."""
        return self._folder

    @folder.setter
    def folder(self, folder: str | None) -> None:
        import os

        self._folder = os.path.abspath(folder) if folder else None
        for node in self.nodes.values():
            node.graph_folder = self._folder

    # -- edits ----------------------------------------------------------------------------
    def _changed(self) -> None:
        self.revision += 1

    def add(self, type_id: str | type[Node], name: str | None = None, **params) -> Node:
        """Add a node of ``type_id`` (a registered id or a Node class) named ``name`` (default:
        the type's name, lower case, numbered: ``grow1``) with ``params``; return it.

        Raises :class:`~rotograph.errors.UnknownNodeTypeError` (a :class:`GraphError`) for an
        unknown type, :class:`GraphError` for a name that is taken or not an identifier, and
        :class:`~rotograph.errors.ParamError` for a refused param value."""
        cls = self.registry.get(type_id) if isinstance(type_id, str) else type_id
        name = name or self.unique_name(cls.type_id.rsplit(".", 1)[-1].lower())
        if not name.isidentifier():
            raise GraphError(f"node id '{name}' must be a name of letters, digits and _")
        if name in self.nodes:
            raise GraphError(f"a node named '{name}' already exists")
        node = cls(name, **params)
        node._on_change = self._changed
        node.graph_folder = self._folder
        self.nodes[name] = node
        self.dag.add_node(name)
        self._changed()
        return node

    def unique_name(self, base: str) -> str:
        """``base`` followed by the smallest number ≥ 1 no node uses (``grow1``, ``grow2``, …)."""
        i = 1
        while f"{base}{i}" in self.nodes:
            i += 1
        return f"{base}{i}"

    def remove(self, name: str) -> None:
        """Remove node ``name`` and its links; a group holding it dissolves (its other nodes
        stay). Raises :class:`GraphError` for an unknown name."""
        self.node(name)
        self.dag.remove_node(name)
        del self.nodes[name]
        self.ui.pop(name, None)
        for gname, group in list(self.groups.items()):  # a group whose node went away dissolves
            if name in group.nodes:
                del self.groups[gname]
        self._changed()

    def node(self, name: str) -> Node:
        """The node named ``name``; :class:`GraphError` (with the closest name) if there is none."""
        try:
            return self.nodes[name]
        except KeyError:
            raise GraphError(f"no node named '{name}'" + did_you_mean(name, self.nodes)) from None

    def set(self, ref: str, value) -> None:
        """``graph.set("feather.size", 4)``: validate and set one param (or a group's exposed
        param: ``graph.set("keygroup.size", 4)``)."""
        name, param = split_ref(resolve_param(self, ref))
        self.node(name).set(param, value)

    def connect(self, src: str, dst: str) -> None:
        """Link output ``src`` ("node.port") to input ``dst`` ("node.port"); either may be a
        group's port ("group.port"; an input port links every inner input behind it)."""
        src = resolve_output(self, src)
        for inner in resolve_inputs(self, dst):
            self._connect(src, inner)

    def _connect(self, src: str, dst: str) -> None:
        sname, sport = split_ref(src)
        dname, dport = split_ref(dst)
        snode, dnode = self.node(sname), self.node(dname)
        if sport not in snode.outputs:
            raise LinkError(f"node '{sname}' ({snode.type_id}) has no output '{sport}'"
                            + did_you_mean(sport, snode.outputs))
        if dport not in dnode.inputs:
            raise LinkError(f"node '{dname}' ({dnode.type_id}) has no input '{dport}'"
                            + did_you_mean(dport, dnode.inputs))
        stype, dtype = snode.outputs[sport].type, dnode.inputs[dport].type
        if stype is not dtype:
            raise LinkError(f"cannot connect {src} ({stype.name}) to {dst} ({dtype.name}): "
                            f"mismatched types")
        if sname == dname or nx.has_path(self.dag, dname, sname):
            raise LinkError(f"connecting {src} to {dst} would make a cycle")
        self.disconnect(dst)
        self.dag.add_edge(sname, dname, key=dport, output=sport)
        self._changed()

    def disconnect(self, dst: str) -> None:
        """Unlink an input ("node.port"), or every inner input behind a group's input port."""
        for inner in resolve_inputs(self, dst):
            dname, dport = split_ref(inner)
            for u, _, k in list(self.dag.in_edges(dname, keys=True)):
                if k == dport:
                    self.dag.remove_edge(u, dname, key=k)
                    self._changed()

    # -- queries --------------------------------------------------------------------------
    def inputs_of(self, name: str) -> dict[str, tuple[str, str]]:
        """``{input: (source node, source output)}`` for the connected inputs of ``name``."""
        return {k: (u, d) for u, _, k, d in self.dag.in_edges(name, keys=True, data="output")}

    def topological(self) -> list[str]:
        """Every node name in dependency order (ties broken by name, so the order is stable)."""
        return list(nx.lexicographical_topological_sort(self.dag))

    def upstream(self, names) -> set[str]:
        """The nodes ``names`` and everything they depend on (a set of names)."""
        out = set()
        for n in names:
            out |= nx.ancestors(self.dag, n) | {n}
        return out

    def writers(self) -> list[str]:
        """The writer nodes (those a render renders by default), in dependency order."""
        return [n for n in self.topological() if self.nodes[n].is_writer]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __contains__(self, name: str) -> bool:
        return name in self.nodes

    def validate(self, targets: list[str] | None = None) -> None:
        """Check what a render needs: required inputs connected, nodes' own checks (files), no
        two writers writing one file. Raises :class:`GraphError` naming the node at fault."""
        from .writer import check_deliveries

        names = self.upstream(targets) if targets else set(self.nodes)
        for name in self.topological():
            if name not in names:
                continue
            node = self.nodes[name]
            connected = self.inputs_of(name)
            for iname, inp in node.inputs.items():
                if not inp.optional and iname not in connected:
                    raise GraphError(f"input '{iname}' ({inp.type.name}) is not connected",
                                     path=f"nodes.{name}.inputs.{iname}")
            try:
                node.check()
            except ParamError as e:
                raise GraphError(str(e), path=f"nodes.{name}") from None
        check_deliveries(self, [n for n in self.topological() if n in names])

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, name: str, frame: int, output: str | None = None, *, cache=None):
        """The value of one output of node ``name`` at ``frame`` (memory cache by default)."""
        from ..engine.cache import Cache
        from ..engine.evaluate import Evaluator

        if cache is not None:
            return Evaluator(self, cache).get(name, output, frame)
        if self._evaluator is None:
            self._evaluator = Evaluator(self, Cache())
        return self._evaluator.get(name, output, frame)
