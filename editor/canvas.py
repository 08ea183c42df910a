"""The node canvas: nodes, pins coloured by port type, links, selection, zoom and framing.

The canvas is redrawn from the model after every graph edit (graphs are small, and a view that
is a function of the model cannot drift from it). DearPyGui's node editor (imnodes) neither zooms
nor lets Python set its selection, so the canvas does both itself:

- zoom: node positions are drawn at ``(pos - offset) * zoom`` with a font and node style of that
  size (the wheel steps through :data:`ZOOM_FONTS`); F frames every node, as does opening a
  graph or adding a node out of view;
- selection: the model's selection is what counts; it is drawn with its own theme, a click on a
  node (or a box selection) selects in the model and a click on empty canvas clears it.

Links dragged from pin to pin become model edits (a refused link says why in the status line);
Ctrl+click on a link removes it, as does Del on a selected link. New and duplicated nodes are
placed free of the others (:mod:`rotograph.editor.node_actions`); groups are drawn after, so
above, the nodes; the colours are :mod:`rotograph.editor.themes`'.
"""

from __future__ import annotations

from rotograph.errors import RotographError

from .items import rect
from .layout import NODE_SIZE, bounds, title
from .themes import PADDING, Themes

ZOOM_FONTS = (4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 18)  # font px per zoom step; 15 px is 100 %
BASE_FONT = 15


class Canvas:
    """The node graph panel (see the module docstring)."""

    TAG = "canvas"
    PANEL = "canvas_panel"

    def __init__(self, model, services, errors: dict):
        self.model = model
        self.services = services
        self.errors = errors
        self.zoom_index = ZOOM_FONTS.index(BASE_FONT)
        self.offset = [0.0, 0.0]          # graph position drawn at the node editor's grid origin
        self.grid_zero: list[float] | None = None  # screen position of that origin (imnodes' panning included)
        self.sizes: dict[str, tuple[float, float]] = {}  # node → drawn size, graph units
        self.fonts: dict[int, int] = {}
        self.themes = Themes(model.registry)
        self._grid: dict[str, tuple[float, float]] = {}
        self._attr_ref: dict[int, str] = {}
        self._link_dst: dict[int, str] = {}
        self._pins: dict[str, tuple[str, int]] = {}  # "in:node.port" → (side, text item)
        self._fit_pending = 2  # frame the graph once it has been drawn (twice: sizes settle)
        self._reveal: tuple[str, int] | None = None  # a node just added (and frames to wait), to bring into view
        self._picked: set[str] | None = set()
        self._press = None
        self._buttons = [False, False]
        model.subscribe(self._on_event, "graph", "selection")

    def reveal(self, name: str) -> None:
        """Bring ``name`` (just added or copied) into view once it has been drawn."""
        self._reveal = (name, 2)

    def refit(self) -> None:
        """Frame every node again once the canvas has its new size (the window was resized)."""
        self._fit_pending = 2

    @property
    def settling(self) -> bool:
        """A fit or a reveal waits for frames to come (the window must keep drawing)."""
        return self._fit_pending > 0 or self._reveal is not None

    @property
    def zoom(self) -> float:
        """The scale nodes are drawn at (1.0: 100 %)."""
        return ZOOM_FONTS[self.zoom_index] / BASE_FONT

    # -- building -------------------------------------------------------------------------
    def build(self, parent, fonts: dict[int, int]) -> None:
        """Make the panel under ``parent``; ``fonts``: px size → font, one per zoom step."""
        import dearpygui.dearpygui as dpg

        self.fonts = fonts
        with dpg.child_window(tag=self.PANEL, parent=parent, no_scrollbar=True, border=True):
            # no minimap: it was drawn over the nodes; F frames them all instead
            dpg.add_node_editor(tag=self.TAG, callback=self._on_link, delink_callback=self._on_delink, minimap=False,
                                width=-1, height=-1)
        dpg.bind_theme(self.themes.grid())
        self.redraw()

    # -- model → canvas -------------------------------------------------------------------
    def _on_event(self, event: str, detail: str) -> None:
        if event == "graph":
            self.redraw()
        else:
            self.restyle()

    def _to_grid(self, pos) -> tuple[float, float]:
        return ((pos[0] - self.offset[0]) * self.zoom, (pos[1] - self.offset[1]) * self.zoom)

    def position(self, name: str) -> list[int]:
        """A node's (or a group's: its first node's, until moved) position in the graph."""
        g = self.model.graph
        if name in g.groups:
            first = g.groups[name].nodes[0] if g.groups[name].nodes else None
            return g.ui.get(name, {}).get("pos", g.ui.get(first, {}).get("pos", [0, 0]))
        return g.ui.get(name, {}).get("pos", [0, 0])

    def shown(self) -> list[str]:
        """Nodes and groups drawn: nodes inside a group are drawn as their group."""
        g = self.model.graph
        hidden = {n for grp in g.groups.values() for n in grp.nodes}
        return [n for n in g.nodes if n not in hidden] + list(g.groups)

    def redraw(self) -> None:
        """Draw the graph anew from the model: nodes, groups, pins and links."""
        import dearpygui.dearpygui as dpg

        if not dpg.does_item_exist(self.TAG):
            return
        g = self.model.graph
        dpg.delete_item(self.TAG, children_only=True)
        self._attr_ref.clear()
        self._link_dst.clear()
        self._pins.clear()
        self._grid.clear()
        # imnodes keeps its selection by node id, and a new node may reuse a deleted one's id:
        # clear it, and do not read it as the user's until it has been drawn again
        dpg.clear_selected_nodes(self.TAG)
        dpg.clear_selected_links(self.TAG)
        self._picked = None
        attr_ids: dict[str, int] = {}
        owner = {n: gname for gname, grp in g.groups.items() for n in grp.nodes}
        font = self.fonts.get(ZOOM_FONTS[self.zoom_index])

        def pin(kind, ref, label, ptype, node_tag):
            with dpg.node_attribute(attribute_type=dpg.mvNode_Attr_Input if kind == "in" else dpg.mvNode_Attr_Output,
                                    parent=node_tag) as a:
                text = dpg.add_text(label)
            theme = self.themes.pin(ptype)
            if theme is not None:
                dpg.bind_item_theme(a, theme)
            self._attr_ref[a] = ref
            self._pins[f"{kind}:{ref}"] = (kind, text)
            attr_ids[f"{kind}:{ref}"] = a

        def add_node(name, label):
            grid = tuple(round(v) for v in self._to_grid(self.position(name)))  # imnodes keeps whole pixels
            tag = dpg.add_node(label=label, tag=f"node:{name}", parent=self.TAG, pos=grid)
            self._grid[name] = grid
            if font is not None:
                dpg.bind_item_font(tag, font)
            return tag

        for name, node in g.nodes.items():
            if name in owner:
                continue
            tag = add_node(name, title(name, node))
            for port, inp in node.inputs.items():
                pin("in", f"{name}.{port}", port + (" (opt)" if inp.optional else ""), inp.type.name, tag)
            for port, out in node.outputs.items():
                pin("out", f"{name}.{port}", port, out.type.name, tag)
        for gname, grp in g.groups.items():  # after the nodes: drawn above them
            tag = add_node(gname, f"{gname}  (Group)")
            for port, refs in grp.inputs.items():
                n, p = refs[0].split(".")
                pin("in", f"{gname}.{port}", port, g.nodes[n].inputs[p].type.name, tag)
            for port, ref in grp.outputs.items():
                n, p = ref.split(".")
                pin("out", f"{gname}.{port}", port, g.nodes[n].outputs[p].type.name, tag)
        drawn = set()
        for name in g.nodes:
            for port, (src, out) in g.inputs_of(name).items():
                if name in owner and src in owner and owner[name] == owner[src]:
                    continue  # inside one group
                s_ref, d_ref = f"{src}.{out}", f"{name}.{port}"
                if src in owner:
                    s_ref = next(f"{owner[src]}.{p}" for p, r in g.groups[owner[src]].outputs.items() if r == s_ref)
                if name in owner:
                    d_ref = next(f"{owner[name]}.{p}" for p, refs in g.groups[owner[name]].inputs.items()
                                 if d_ref in refs)
                if (s_ref, d_ref) in drawn:
                    continue
                drawn.add((s_ref, d_ref))
                link = dpg.add_node_link(attr_ids[f"out:{s_ref}"], attr_ids[f"in:{d_ref}"], parent=self.TAG)
                dpg.bind_item_theme(link, self.themes.link(g.nodes[src].outputs[out].type))
                self._link_dst[link] = d_ref
        self.restyle()

    def restyle(self) -> None:
        """Draw the model's selection and the error badges (node themes)."""
        import dearpygui.dearpygui as dpg

        g = self.model.graph
        for name in self.shown():
            tag = f"node:{name}"
            if not dpg.does_item_exist(tag):
                continue
            state = ("error" if name in self.errors else "group" if name in g.groups else "") + \
                    (" selected" if name in self.model.selection else "")
            category = g.nodes[name].category if name in g.nodes else ""
            dpg.bind_item_theme(tag, self.themes.node(state.strip(), category, self.zoom_index, self.zoom))

    # -- canvas → model -------------------------------------------------------------------
    def _on_link(self, sender, app_data) -> None:
        a, b = app_data
        src, dst = self._attr_ref.get(a), self._attr_ref.get(b)
        if src is None or dst is None:
            return
        try:
            self.model.connect(src, dst)
        except RotographError as e:
            self.services.status(f"refused: {e}")

    def _on_delink(self, sender, app_data) -> None:
        dst = self._link_dst.get(app_data)
        if dst:
            self.model.disconnect(dst)

    def delete(self) -> None:
        """Del: the selected links, then the selected nodes."""
        import dearpygui.dearpygui as dpg

        links = [self._link_dst[i] for i in dpg.get_selected_links(self.TAG) if i in self._link_dst]
        if links:
            with self.model.edit(f"disconnect {', '.join(links)}") as g:
                for dst in links:
                    g.disconnect(dst)
            return
        self.model.remove_nodes(sorted(self.model.selection))

    # -- placing nodes --------------------------------------------------------------------
    def rects(self, names=None) -> list[tuple[float, float, float, float]]:
        """``(x, y, w, h)`` in graph units of ``names`` (default: every node drawn)."""
        names = self.shown() if names is None else names
        return [(*self.position(n), *self.sizes.get(n, NODE_SIZE)) for n in names]

    def graph_at(self, mouse) -> tuple[float, float] | None:
        """The graph position under a screen position, or None outside the canvas."""
        panel = rect(self.PANEL)
        if panel is None:
            return None
        x, y, w, h = panel
        if not (x <= mouse[0] < x + w and y <= mouse[1] < y + h):
            return None
        zero = self.grid_zero or [x + PADDING, y + PADDING]
        return ((mouse[0] - zero[0]) / self.zoom + self.offset[0], (mouse[1] - zero[1]) / self.zoom + self.offset[1])

    def view_centre(self) -> tuple[float, float]:
        """The graph position a node goes to when there is no mouse or selection to follow."""
        panel = rect(self.PANEL)
        if panel is None:
            return (0.0, 0.0)
        x, y, w, h = panel
        return self.graph_at((x + w / 3, y + h / 3)) or (0.0, 0.0)

    # -- view -----------------------------------------------------------------------------
    def fit(self) -> None:
        """Frame every node: the largest zoom step (up to 100 %) at which they fit, centred."""
        box = bounds(self.rects())
        panel = rect(self.PANEL)
        if box is None or self.grid_zero is None or panel is None:
            return
        x, y, w, h = panel
        fits = [i for i, px in enumerate(ZOOM_FONTS) if px <= BASE_FONT and
                box[2] * px / BASE_FONT <= w - 40 and box[3] * px / BASE_FONT <= h - 40]
        self.zoom_index = max(fits) if fits else 0
        z = self.zoom
        target = (x + (w - box[2] * z) / 2, y + (h - box[3] * z) / 2)
        self.offset = [box[0] - (target[0] - self.grid_zero[0]) / z, box[1] - (target[1] - self.grid_zero[1]) / z]
        self.redraw()

    def _show_node(self, name: str) -> None:
        """Frame the graph again if ``name`` (just added) is not wholly in view."""
        r, panel = rect(f"node:{name}"), rect(self.PANEL)
        if panel is None:
            return
        if r is None or r[0] < panel[0] or r[1] < panel[1] or r[0] + r[2] > panel[0] + panel[2] or \
                r[1] + r[3] > panel[1] + panel[3]:
            self.fit()

    def wheel(self, steps: int, mouse) -> None:
        """Zoom one step per wheel notch about the mouse."""
        i = min(max(self.zoom_index + steps, 0), len(ZOOM_FONTS) - 1)
        at = self.graph_at(mouse)
        if i == self.zoom_index or at is None or self.grid_zero is None:
            return
        self.zoom_index = i
        self.offset = [at[0] - (mouse[0] - self.grid_zero[0]) / self.zoom,
                       at[1] - (mouse[1] - self.grid_zero[1]) / self.zoom]
        self.redraw()

    # -- per frame ------------------------------------------------------------------------
    def update(self, hovered: bool) -> None:
        """Measure what imnodes drew, follow clicks and drags into the model."""
        import dearpygui.dearpygui as dpg

        z, pad = self.zoom, PADDING * self.zoom
        for name in self.shown():
            r = rect(f"node:{name}")
            if r is not None and r[2] > 0:
                self.sizes[name] = (r[2] / z, r[3] / z)
                gx, gy = dpg.get_item_pos(f"node:{name}")
                self.grid_zero = [r[0] - pad - gx, r[1] - pad - gy]
        if self._fit_pending and self.grid_zero is not None:
            self._fit_pending -= 1
            self.fit()
        elif self._reveal is not None:  # once it has been drawn (or found out of view)
            name, frames = self._reveal
            self._reveal = (name, frames - 1) if frames > 0 else None
            if frames == 0:
                self._show_node(name)
        self._follow_mouse(hovered)

    def _follow_mouse(self, hovered: bool) -> None:
        import dearpygui.dearpygui as dpg

        down = [dpg.is_mouse_button_down(0), dpg.is_mouse_button_down(1)]
        pressed = down[0] and not self._buttons[0]
        released = self._buttons[0] and not down[0]
        self._buttons = down
        mouse = dpg.get_mouse_pos(local=False)
        if pressed and hovered:
            on_node = any(dpg.is_item_hovered(f"node:{n}") for n in self.shown() if dpg.does_item_exist(f"node:{n}"))
            self._press = (mouse, on_node)
        picked = {dpg.get_item_alias(i)[len("node:"):] for i in dpg.get_selected_nodes(self.TAG)
                  if (dpg.get_item_alias(i) or "").startswith("node:")}
        if self._picked is None:  # redrawn: what imnodes reports is not a click yet
            self._picked = set()
        elif picked != self._picked:  # the user clicked or box-selected in the canvas
            self._picked = picked
            if picked:
                self.model.select(picked)
        if released and self._press is not None:
            start, on_node = self._press
            self._press = None
            moved = abs(mouse[0] - start[0]) + abs(mouse[1] - start[1]) > 2
            if not on_node and not moved and not picked:
                self.model.select(set())
            elif on_node and not moved and picked:
                self.model.select(picked)
            self._moved_nodes()

    def _moved_nodes(self) -> None:
        import dearpygui.dearpygui as dpg

        moved = {}
        for name, grid in self._grid.items():
            tag = f"node:{name}"
            if dpg.does_item_exist(tag):
                gx, gy = dpg.get_item_pos(tag)
                if abs(gx - grid[0]) > 0.5 or abs(gy - grid[1]) > 0.5:
                    moved[name] = (gx / self.zoom + self.offset[0], gy / self.zoom + self.offset[1])
        if moved:
            self.model.move_nodes(moved)

    # -- for tests and tools --------------------------------------------------------------
    def describe(self) -> dict:
        """Where the nodes and pins are on screen, and the view."""

        pad = PADDING * self.zoom
        nodes, pins, label_px = {}, {}, []
        for name in self.shown():
            r = rect(f"node:{name}")
            if r is not None:
                nodes[name] = [r[0] - pad, r[1] - pad, r[2], r[3]]
        for key, (side, text) in self._pins.items():
            node = key.split(":", 1)[1].split(".")[0]
            r = rect(text)
            if node in nodes and r is not None:
                pins[key] = [nodes[node][0] + (0 if side == "in" else nodes[node][2]), r[1] + r[3] / 2]
                label_px.append(r[3])
        # label_px: the smallest drawn height of a pin label (its text item's), screen pixels
        return {"rect": rect(self.PANEL), "zoom": self.zoom, "nodes": nodes, "pins": pins,
                "links": sorted(self._link_dst.values()), "font_px": ZOOM_FONTS[self.zoom_index],
                "label_px": min(label_px) if label_px else None}
