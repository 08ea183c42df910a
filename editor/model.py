"""The editor's state in plain Python: the graph, layout, selection, current frame and the
undo/redo history — everything the DearPyGui view shows, testable without a window.

Every edit goes through :meth:`EditorModel.edit`, which records the graph file's text before
and after; undo and redo swap them back. Snapshots of the canonical JSON are small (a graph is a
few KB) and make every edit, present and future, undoable by construction. Observers registered
with :meth:`subscribe` are told after each change so the view can redraw.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable

import rotograph
from rotograph import Graph, Registry
from rotograph.errors import GraphError, RotographError

HISTORY = 200


@dataclass
class Step:
    label: str
    before: str
    after: str


class EditorModel:
    """A graph being edited. Node positions live in ``graph.ui[name]["pos"]`` (saved under
    ``"ui"`` in the file), so a graph saved here renders with ``rotograph render`` unchanged."""

    def __init__(self, registry: Registry | None = None, graph: Graph | None = None, path: str | None = None):
        self.registry = registry or Registry.default()
        self.graph = graph or Graph(self.registry)
        self.path = path
        self.selection: set[str] = set()
        self.frame = 1001
        self.undo_stack: list[Step] = []
        self.redo_stack: list[Step] = []
        self.saved_text = rotograph.dumps(self.graph)
        self._observers: list[Callable[[str], None]] = []

    # -- files ----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str, registry: Registry | None = None) -> "EditorModel":
        registry = registry or Registry.default()
        model = cls(registry, rotograph.load(path, registry), os.path.abspath(path))
        first = [r[0] for r in (model.evaluator_range(n) for n in model.graph.nodes) if r]
        model.frame = min(first) if first else 1001
        return model

    def save(self, path: str | None = None) -> str:
        path = path or self.path
        if not path:
            raise GraphError("no file name yet: use save as")
        rotograph.save(self.graph, path)
        self.path = os.path.abspath(path)
        self.saved_text = rotograph.dumps(self.graph)
        self._notify("saved")
        return self.path

    @property
    def dirty(self) -> bool:
        return rotograph.dumps(self.graph) != self.saved_text

    def evaluator_range(self, name: str):
        from rotograph import Cache, Evaluator

        try:
            return Evaluator(self.graph, Cache()).frame_range(name)
        except RotographError:
            return None

    # -- observers ------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[str], None]) -> None:
        self._observers.append(fn)

    def _notify(self, what: str) -> None:
        for fn in self._observers:
            fn(what)

    # -- the one way to change the graph --------------------------------------------------
    @contextlib.contextmanager
    def edit(self, label: str):
        """Run the block as one undoable step; on an error the graph is left as it was."""
        before = rotograph.dumps(self.graph)
        try:
            yield self.graph
        except Exception:
            self._restore(before)
            raise
        after = rotograph.dumps(self.graph)
        if after != before:
            self.undo_stack.append(Step(label, before, after))
            del self.undo_stack[:-HISTORY]
            self.redo_stack.clear()
            self._notify(label)

    def _restore(self, text: str) -> None:
        self.graph = rotograph.loads(text, self.registry)
        self.selection &= set(self.graph.nodes)

    def undo(self) -> str | None:
        return self._replay(self.undo_stack, self.redo_stack, "before", "undo")

    def redo(self) -> str | None:
        return self._replay(self.redo_stack, self.undo_stack, "after", "redo")

    def _replay(self, source: list[Step], target: list[Step], side: str, verb: str) -> str | None:
        """Move the newest step from ``source`` to ``target``, restoring its ``side`` snapshot."""
        if not source:
            return None
        step = source.pop()
        self._restore(getattr(step, side))
        target.append(step)
        self._notify(f"{verb} {step.label}")
        return step.label

    # -- edits ----------------------------------------------------------------------------
    def add_node(self, type_id: str, pos=(0, 0), name: str | None = None, **params) -> str:
        with self.edit(f"add {type_id}") as g:
            node = g.add(type_id, name, **params)
            g.ui[node.name] = {"pos": [int(pos[0]), int(pos[1])]}
        self.selection = {node.name}
        return node.name

    def remove_nodes(self, names) -> None:
        names = [n for n in names if n in self.graph.nodes]
        if not names:
            return
        with self.edit(f"delete {', '.join(names)}") as g:
            for n in names:
                g.remove(n)
        self.selection -= set(names)

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> None:
        """Move nodes or groups (a group's position is its collapsed node's)."""
        with self.edit("move") as g:
            for n, (x, y) in positions.items():
                if n not in g.groups:
                    g.node(n)
                g.ui.setdefault(n, {})["pos"] = [int(x), int(y)]

    def connect(self, src: str, dst: str) -> None:
        """Link ``src`` ("node.port") to ``dst``; a refused link raises and changes nothing."""
        with self.edit(f"connect {src} → {dst}") as g:
            g.connect(src, dst)

    def disconnect(self, dst: str) -> None:
        """Unlink an input ("node.port"), or every inner input behind a group's input port."""
        with self.edit(f"disconnect {dst}") as g:
            g.disconnect(dst)

    def set_param(self, node: str, param: str, value) -> None:
        with self.edit(f"set {node}.{param}") as g:
            g.node(node).set(param, value)

    def duplicate(self, names, offset=(40, 40)) -> list[str]:
        """Copy nodes with their params and the links among them; returns the new names."""
        names = [n for n in names if n in self.graph.nodes]
        mapping = {}
        with self.edit(f"duplicate {', '.join(names)}") as g:
            for n in names:
                node = g.nodes[n]
                copy = g.add(node.type_id, g.unique_name(n.rstrip("0123456789") or "node"), **node.get_params())
                mapping[n] = copy.name
                x, y = g.ui.get(n, {}).get("pos", [0, 0])
                g.ui[copy.name] = {"pos": [x + offset[0], y + offset[1]]}
            for n in names:
                for inp, (src, out) in g.inputs_of(n).items():
                    g.connect(f"{mapping.get(src, src)}.{out}", f"{mapping[n]}.{inp}")
        self.selection = set(mapping.values())
        return [mapping[n] for n in names]

    def add_prompt(self, node: str, frame: int, point=None, box=None, obj: int = 1) -> None:
        """Add a positive/negative point ``(x, y, label)`` or a box to a node's ``prompts`` on
        ``frame`` (which becomes a keyframe)."""
        n = self.graph.node(node)
        if "prompts" not in n.params:
            raise GraphError(f"node '{node}' ({n.type_id}) takes no prompts")
        prompts = [dict(k) for k in n.prompts]
        kf = next((k for k in prompts if k["frame"] == frame and k["object"] == obj), None)
        if kf is None:
            kf = {"frame": frame, "object": obj, "points": [], "box": None}
            prompts.append(kf)
        if point is not None:
            kf["points"] = kf["points"] + [list(point)]
        if box is not None:
            kf["box"] = list(box)
        self.set_param(node, "prompts", prompts)

    def keyframes(self, node: str) -> list[int]:
        n = self.graph.nodes.get(node)
        return sorted({k["frame"] for k in n.prompts}) if n is not None and "prompts" in n.params else []

    # -- groups and templates -------------------------------------------------------------
    def collapse(self, names, group: str, params=None) -> None:
        """Group ``names`` (exposing ``params``, inner "node.param" refs) as one undoable edit."""
        from rotograph.groups import collapse

        with self.edit(f"group {group}") as g:
            collapse(g, group, names, params)
        self.selection = {group}

    def save_template(self, group: str, path: str | None = None) -> str:
        from rotograph.graphio import save_template
        from rotograph.groups import templates_dir

        path = path or os.path.join(templates_dir(), f"{group}.json")
        save_template(self.graph, group, path)
        return path

    def insert_template(self, path: str, pos=(0, 0), name: str | None = None) -> str:
        from rotograph.graphio import insert_template

        with self.edit(f"insert {os.path.basename(path)}") as g:
            group = insert_template(g, path, name, pos)
        self.selection = {group.name}
        return group.name
