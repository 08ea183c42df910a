"""The editor's state in plain Python: the graph, layout, selection, current frame and the
undo/redo history — everything the DearPyGui view shows, testable without a window.

Every graph edit goes through :meth:`EditorModel.edit`, which records the graph file's text
before and after; undo and redo swap them back. Snapshots of the canonical JSON are small (a
graph is a few KB) and make every edit, present and future, undoable by construction.

The panels of the window never call each other: they change the model and listen to its events
(:meth:`EditorModel.subscribe`): ``"graph"`` after an edit, undo or redo (detail: the step's
label), ``"selection"``, ``"frame"`` and ``"file"`` (opened, saved, renamed).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Callable

import rotograph
from rotograph import Graph, Registry
from rotograph.errors import GraphError, RotographError
from rotograph.core.graphio import portable
from rotograph.core.params import FileIn

from .group_edits import GroupEdits
from .links import NodeLinks
from .prompt_edits import PromptEdits, PromptRef  # noqa: F401  (PromptRef: importable from here too)

HISTORY = 200
EVENTS = ("graph", "selection", "frame", "file")
MERGE_SECONDS = 1.0  # repeated edits of one param within this time are one undo step (a slider drag)


@dataclass
class Step:
    """One undoable edit: the graph file's text before and after it."""

    label: str
    before: str
    after: str
    at: float = 0.0
    merge: bool = False


class EditorModel(NodeLinks, PromptEdits, GroupEdits):
    """A graph being edited. Node positions live in ``graph.ui[name]["pos"]`` (saved under
    ``"ui"`` in the file), so a graph saved here renders with ``rotograph render`` unchanged."""

    def __init__(self, registry: Registry | None = None, graph: Graph | None = None, path: str | None = None):
        self.registry = registry or Registry.default()
        self.graph = graph or Graph(self.registry)
        self.path = os.path.abspath(path) if path else None
        if self.path and not self.graph.folder:
            self.graph.folder = os.path.dirname(self.path)  # file paths are spelt from the graph file's folder
        self.selection: set[str] = set()
        self.frame = 1001
        self.undo_stack: list[Step] = []
        self.redo_stack: list[Step] = []
        self.saved_text = rotograph.dumps(self.graph)
        self._observers: list[tuple[Callable[[str, str], None], tuple[str, ...]]] = []
        self._range_memo: dict[tuple, tuple[int, int] | None] = {}

    # -- files ----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str, registry: Registry | None = None) -> "EditorModel":
        """Open a graph file; a path that does not exist yet gives an empty graph that saves there."""
        model = cls(registry or Registry.default())
        model.open_file(path)
        return model

    def open_file(self, path: str | None) -> None:
        """Start over on the graph in ``path`` (File > Open), or on an empty graph (File > New,
        ``path`` None, or a file that does not exist yet, which Save then creates): the history
        is cleared and every panel is told."""
        exists = path is not None and os.path.exists(path)
        self.graph = rotograph.load(path, self.registry) if exists else Graph(self.registry)
        self.lay_out_unplaced()
        self.path = os.path.abspath(path) if path else None
        if self.path:
            self.graph.folder = os.path.dirname(self.path)  # a new file's paths too: it will be saved there
        self.selection = set()
        self.undo_stack.clear()
        self.redo_stack.clear()
        self.saved_text = rotograph.dumps(self.graph)
        self._range_memo.clear()  # files may have changed since
        rng = self.frame_range()
        self.frame = rng[0] if rng else 1001
        for event in EVENTS:
            self._notify(event, "opened" if exists else "new")

    def lay_out_unplaced(self) -> list[str]:
        """Give the nodes without a ``ui`` position one (no undo step; not an edit): a graph
        with none is laid out left → right (:func:`~rotograph.editor.layout.auto_layout`);
        otherwise each goes right of its first input, free of the others. Returns them."""
        from .layout import COLUMN_GAP, auto_layout, estimate_size, free_position

        g = self.graph
        unplaced = [n for n in g.topological() if "pos" not in g.ui.get(n, {})]
        if not unplaced:
            return []
        placed = [n for n in g.nodes if n not in unplaced]
        if not placed:
            positions = auto_layout(g)
        else:
            rects = {n: (*g.ui[n]["pos"], *estimate_size(g, n)) for n in placed}
            positions = {}
            for n in unplaced:
                src = next((s for s, _ in g.inputs_of(n).values() if s in rects), None)
                r = rects[src] if src else (0, max((r[1] + r[3] for r in rects.values()), default=0) + COLUMN_GAP, 0, 0)
                size = estimate_size(g, n)
                positions[n] = free_position((r[0] + r[2] + COLUMN_GAP, r[1]), size, list(rects.values()))
                rects[n] = (*positions[n], *size)
        for n, (x, y) in positions.items():
            g.ui.setdefault(n, {})["pos"] = [int(x), int(y)]
        return unplaced

    def save(self, path: str | None = None) -> str:
        """Write the graph to ``path`` (default: its file; Save As when given): its file paths are
        spelt from the file's folder. Returns the absolute path written."""
        path = path or self.path
        if not path:
            raise GraphError("no file name yet: use File > Save as")
        before = self.graph.folder
        rotograph.save(self.graph, path)
        if before and before != self.graph.folder:
            self._respell_history(before)
        self.path = os.path.abspath(path)
        self.saved_text = rotograph.dumps(self.graph)
        self._notify("file", "saved")
        return self.path

    def _respell_history(self, folder: str) -> None:
        """After Save As to another folder: the undo and redo snapshots spelt their file paths
        from ``folder``; respell them from the graph's new one (undo keeps the same files)."""
        from rotograph.core.graphio import relocate

        for step in (*self.undo_stack, *self.redo_stack):
            for side in ("before", "after"):
                g = rotograph.loads(getattr(step, side), self.registry, folder=folder)
                relocate(g, self.graph.folder)
                setattr(step, side, rotograph.dumps(g))

    @property
    def dirty(self) -> bool:
        """Whether the graph differs from the file it was opened from or last saved to."""
        return rotograph.dumps(self.graph) != self.saved_text

    @property
    def title(self) -> str:
        """The window title: ``rotograph — quickstart.json *`` (``*``: unsaved changes)."""
        name = os.path.basename(self.path) if self.path else "untitled"
        return f"rotograph — {name}{' *' if self.dirty else ''}"

    def frame_range(self) -> tuple[int, int] | None:
        """The span of every node's frame range. Each node's range is memoised by its type,
        params and input ranges, so an edit that cannot change a range (a slider drag) probes
        no file."""
        import json

        ranges: dict[str, tuple[int, int] | None] = {}
        for name in self.graph.topological():
            node = self.graph.nodes[name]
            ins = {i: ranges.get(src) for i, (src, _) in self.graph.inputs_of(name).items()}
            key = (node.type_id, node.version, json.dumps(node.get_params(), sort_keys=True), tuple(sorted(ins.items())))
            if key not in self._range_memo:
                try:
                    self._range_memo[key] = node.frame_range(ins)
                except (RotographError, OSError, ValueError):
                    self._range_memo[key] = None
            ranges[name] = self._range_memo[key]
        found = [r for r in ranges.values() if r]
        return (min(r[0] for r in found), max(r[1] for r in found)) if found else None

    # -- events ---------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[str, str], None], *events: str) -> None:
        """Call ``fn(event, detail)`` after each of ``events`` (default: all of :data:`EVENTS`)."""
        unknown = set(events) - set(EVENTS)
        if unknown:
            raise ValueError(f"unknown editor event {sorted(unknown)[0]!r} (known: {', '.join(EVENTS)})")
        self._observers.append((fn, events or EVENTS))

    def _notify(self, event: str, detail: str = "") -> None:
        for fn, events in list(self._observers):
            if event in events:
                fn(event, detail)

    # -- selection and time ---------------------------------------------------------------
    def select(self, names) -> None:
        """Select nodes or groups (unknown names are dropped)."""
        names = {n for n in names if n in self.graph.nodes or n in self.graph.groups}
        if names != self.selection:
            self.selection = names
            self._notify("selection", ", ".join(sorted(names)))

    def set_frame(self, frame: int) -> None:
        """Go to ``frame``, clamped to the graph's frame range when it has one."""
        rng = self.frame_range()
        frame = int(frame)
        if rng:
            frame = min(max(frame, rng[0]), rng[1])
        if frame != self.frame:
            self.frame = frame
            self._notify("frame", str(frame))

    # -- the one way to change the graph --------------------------------------------------
    @contextlib.contextmanager
    def edit(self, label: str, merge: bool = False):
        """Run the block as one undoable step; on an error the graph is left as it was.

        ``merge``: fold into the previous step when that was the same edit (same label, also
        mergeable) less than :data:`MERGE_SECONDS` ago — a slider drag is one step."""
        before = rotograph.dumps(self.graph)
        try:
            yield self.graph
        except Exception:
            self._restore(before)
            raise
        after = rotograph.dumps(self.graph)
        if after == before:
            return
        now = time.monotonic()
        last = self.undo_stack[-1] if self.undo_stack else None
        if merge and last is not None and last.merge and last.label == label and now - last.at < MERGE_SECONDS:
            last.after, last.at = after, now
        else:
            self.undo_stack.append(Step(label, before, after, now, merge))
            del self.undo_stack[:-HISTORY]
        self.redo_stack.clear()
        self._notify("graph", label)
        self._prune_selection()

    def _restore(self, text: str) -> None:
        self.graph = rotograph.loads(text, self.registry, folder=self.graph.folder)

    def _prune_selection(self) -> None:
        """Drop what an edit removed from the selection (telling the panels)."""
        self.select(self.selection)

    def undo(self) -> str | None:
        """Undo the last edit; returns its label (None when there is none)."""
        return self._replay(self.undo_stack, self.redo_stack, "before", "undo")

    def redo(self) -> str | None:
        """Redo the last undone edit; returns its label (None when there is none)."""
        return self._replay(self.redo_stack, self.undo_stack, "after", "redo")

    def _replay(self, source: list[Step], target: list[Step], side: str, verb: str) -> str | None:
        """Move the newest step from ``source`` to ``target``, restoring its ``side`` snapshot."""
        if not source:
            return None
        step = source.pop()
        step.merge = False  # an undone-then-redone step never absorbs later edits
        self._restore(getattr(step, side))
        target.append(step)
        self._notify("graph", f"{verb} {step.label}")
        self._prune_selection()
        return step.label

    # -- edits ----------------------------------------------------------------------------
    def add_node(self, type_id: str, pos=(0, 0), name: str | None = None, after: str | None = None, **params) -> str:
        """Add a node at graph position ``pos`` and select it. With ``after`` (a node), link the
        first output of ``after`` to the first free input of the new node of the same type, as
        Nuke does with the selected node — one undoable step."""
        with self.edit(f"add {type_id}") as g:
            node = g.add(type_id, name, **params)
            g.ui[node.name] = {"pos": [int(pos[0]), int(pos[1])]}
            link = self.auto_link(after, node.name) if after in g.nodes else None
            if link:
                g.connect(*link)
                for link in self.stream_links(after, node.name):
                    g.connect(*link)
            if node.is_writer and "file" in node.params and not node.params["file"].default and self.path:
                self._default_output(node)
        self.select({node.name})
        return node.name

    def remove_nodes(self, names) -> None:
        """Delete nodes; a group in ``names`` deletes its inner nodes."""
        expanded = []
        for n in names:
            expanded += self.graph.groups[n].nodes if n in self.graph.groups else [n]
        names = [n for n in dict.fromkeys(expanded) if n in self.graph.nodes]
        if not names:
            return
        with self.edit(f"delete {', '.join(names)}") as g:
            for n in names:
                g.remove(n)
        self.select(self.selection - set(names))

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

    def set_param(self, node: str, param: str, value, merge: bool = False) -> None:
        """Set a param as one undoable step. A file path (absolute, as a picker gives it, or
        relative to the graph file's folder, as the file stores it) is spelt as the file will
        store it: relative to the graph file's folder where it can be."""
        with self.edit(f"set {node}.{param}", merge=merge) as g:
            target = g.node(node)
            decl = target.params.get(param)
            if decl is not None and isinstance(value, str) and value and isinstance(decl.type, type) and \
                    issubclass(decl.type, FileIn) and g.folder:
                value = portable(target.resolve(value), g.folder)
            target.set(param, value)

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
                g.ui[copy.name] = {"pos": [int(x + offset[0]), int(y + offset[1])]}
            for n in names:
                for inp, (src, out) in g.inputs_of(n).items():
                    g.connect(f"{mapping.get(src, src)}.{out}", f"{mapping[n]}.{inp}")
        self.select(set(mapping.values()))
        return [mapping[n] for n in names]

    def rename(self, old: str, new: str) -> None:
        """Rename a node or group (its id); every link, group entry and position follows. One
        undoable step; a name that is taken or not an identifier raises :class:`GraphError`."""
        import json

        g = self.graph
        if old not in g.nodes and old not in g.groups:
            raise GraphError(f"no node named '{old}'")
        if new == old:
            return
        if not new.isidentifier():
            raise GraphError(f"'{new}' cannot name a node (letters, digits and _, not starting with a digit)")
        if new in g.nodes or new in g.groups:
            raise GraphError(f"a node named '{new}' already exists")

        def ref(r: str) -> str:
            node, _, port = r.partition(".")
            return f"{new}.{port}" if node == old else r

        def key(n: str) -> str:
            return new if n == old else n

        doc = json.loads(rotograph.dumps(g))
        doc["nodes"] = {key(n): spec for n, spec in doc["nodes"].items()}
        for spec in doc["nodes"].values():
            if "inputs" in spec:
                spec["inputs"] = {i: ref(r) for i, r in spec["inputs"].items()}
        if "ui" in doc:
            doc["ui"] = {key(n): v for n, v in doc["ui"].items()}
        if "groups" in doc:
            doc["groups"] = {key(gname): {"nodes": [key(n) for n in grp["nodes"]],
                                          "inputs": {p: [ref(r) for r in refs] for p, refs in grp["inputs"].items()},
                                          "outputs": {p: ref(r) for p, r in grp["outputs"].items()},
                                          "params": {p: ref(r) for p, r in grp["params"].items()}}
                             for gname, grp in doc["groups"].items()}
        selection = {key(n) for n in self.selection}
        with self.edit(f"rename {old} → {new}"):
            self.graph = rotograph.loads(json.dumps(doc), self.registry, folder=self.graph.folder)
        self.select(selection)

