"""Adding, duplicating and grouping nodes from the canvas: where a new node goes (right of the
selected node, else at the mouse, free of the others; :mod:`rotograph.editor.layout`), what it is
linked from (the selected node, Nuke's way) and what it asks for at once (a new reader's file).
The model makes each one undoable step; the canvas then brings the new node into view."""

from __future__ import annotations

from rotograph.errors import RotographError

from .items import mouse
from .layout import NODE_SIZE, duplicate_offset, footprint, free_position


class NodeActions:
    """The node edits the palette, the menus and the keys ask for (Tab, R, W, Ctrl+D, Ctrl+G)."""

    def __init__(self, model, services, canvas):
        self.model = model
        self.services = services
        self.canvas = canvas  # where nodes are drawn: positions, sizes, the mouse's graph position

    def add(self, type_id: str, mouse=None) -> str | None:
        """Add a node (or ``template:NAME``): at the mouse (or right of the selected node),
        free of the others, linked from the selected node. Templates insert as a group."""
        g, canvas = self.model.graph, self.canvas
        sel = [n for n in self.model.selection if n in g.nodes]
        after = sel[0] if len(sel) == 1 else None
        want = canvas.graph_at(mouse) if mouse is not None else None
        if after is not None:  # right of the selected node, whatever the mouse (the README's promise)
            x, y = canvas.position(after)
            want = (x + canvas.sizes.get(after, NODE_SIZE)[0] + 40, y)
        if want is None:
            want = canvas.view_centre()
        size = NODE_SIZE
        if not type_id.startswith("template:") and type_id in g.registry.node_types:
            cls = g.registry.get(type_id)
            size = footprint(g.unique_name(type_id.rsplit(".", 1)[-1].lower()), cls)
        pos = free_position(want, size, canvas.rects())
        try:
            if type_id.startswith("template:"):
                from rotograph.core.groups import list_templates

                return self.model.insert_template(list_templates()[type_id[len("template:"):]], pos)
            name = self.model.add_node(type_id, pos, after=after)
            canvas.reveal(name)
            self.ask_for_file(name)
            return name
        except (RotographError, KeyError, OSError) as e:
            self.services.status(f"cannot add {type_id}: {e}")
            return None

    def add_read(self) -> str | None:
        """R (Nuke's key): a Read at the mouse or after the selection; its file picker opens."""
        return self.add("rotograph.Read", mouse())

    def add_write(self) -> str | None:
        """W (Nuke's key): a WriteEXR after the selection (its file: the graph's render folder)."""
        return self.add("rotograph.WriteEXR", mouse())

    def ask_for_file(self, name: str) -> None:
        """A new reader with no file opens the file picker at once (Nuke's way)."""
        node = self.model.graph.nodes[name]
        decl = node.params.get("file")
        if decl is None or decl.type_name != "file_in" or node.get_params()["file"]:
            return

        def chosen(path: str) -> None:
            try:
                self.model.set_param(name, "file", path)
            except RotographError as e:
                self.services.status(f"refused: {e}")

        self.services.file_dialog("open", chosen)

    def duplicate(self) -> None:
        """Ctrl+D: copy the selected nodes, placed free of the others."""
        names = [n for n in sorted(self.model.selection) if n in self.model.graph.nodes]
        if not names:
            return
        others = [n for n in self.canvas.shown() if n not in names]
        copies = self.model.duplicate(names, duplicate_offset(self.canvas.rects(names), self.canvas.rects(others)))
        if copies:
            self.canvas.reveal(copies[0])  # frame the graph again if the copy is out of view

    def group(self) -> None:
        """Ctrl+G: group the selected nodes (as ``groupN``)."""
        g = self.model.graph
        names = [n for n in g.topological() if n in self.model.selection]  # a stable order
        if not names:
            return
        taken = set(g.nodes) | set(g.groups)
        name = next(f"group{i}" for i in range(1, len(taken) + 2) if f"group{i}" not in taken)
        try:
            self.model.collapse(names, name)
        except RotographError as e:
            self.services.status(str(e))
