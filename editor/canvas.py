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
placed free of the others (:mod:`rotograph.editor.layout`); groups are drawn after, so above,
the nodes.
"""

from __future__ import annotations

from rotograph.errors import RotographError

from .items import rect
from .layout import NODE_SIZE, bounds, duplicate_offset, footprint, free_position

ZOOM_FONTS = (4, 5, 7, 9, 11, 13, 15, 18)  # font px per zoom step; 15 px is 100 %
BASE_FONT = 15
PADDING = 8.0


class Canvas:
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
        self.themes: dict[tuple, int] = {}
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

    def refit(self) -> None:
        """Frame every node again once the canvas has its new size (the window was resized)."""
        self._fit_pending = 2

    @property
    def settling(self) -> bool:
        """A fit or a reveal waits for frames to come (the window must keep drawing)."""
        return self._fit_pending > 0 or self._reveal is not None

    @property
    def zoom(self) -> float:
        return ZOOM_FONTS[self.zoom_index] / BASE_FONT

    # -- building -------------------------------------------------------------------------
    def build(self, parent, fonts: dict[int, int], pin_themes: dict[str, int]) -> None:
        import dearpygui.dearpygui as dpg

        self.fonts = fonts
        self.pin_themes = pin_themes
        with dpg.child_window(tag=self.PANEL, parent=parent, no_scrollbar=True, border=True):
            # no minimap: it was drawn over the nodes; F frames them all instead
            dpg.add_node_editor(tag=self.TAG, callback=self._on_link, delink_callback=self._on_delink, minimap=False,
                                width=-1, height=-1)
        with dpg.theme() as quiet, dpg.theme_component(dpg.mvAll):  # a quiet grid
            dpg.add_theme_color(dpg.mvNodeCol_GridBackground, (30, 30, 33, 255), category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_color(dpg.mvNodeCol_GridLine, (48, 48, 52, 255), category=dpg.mvThemeCat_Nodes)
        dpg.bind_item_theme(self.TAG, quiet)
        self.redraw()

    STATES = {  # title bar, title bar hovered/selected, outline (None: the default)
        "": None,
        "selected": ((200, 140, 30), (225, 165, 45), (250, 200, 80)),
        "error": ((170, 40, 40), (210, 60, 60), None),
        "error selected": ((210, 60, 60), (230, 80, 80), (250, 200, 80)),
        "group": ((70, 90, 150), (95, 115, 180), None),
        "group selected": ((110, 120, 170), (130, 140, 190), (250, 200, 80)),
    }

    CATEGORIES = {  # title bar colour of a node at rest, by its category (what it does at a glance)
        "Input": (45, 95, 150), "Output": (150, 95, 40), "Segment": (110, 60, 140), "Matte": (70, 110, 80),
        "Keying": (40, 125, 95), "Merge": (95, 95, 120), "Depth": (60, 105, 130), "Color": (130, 110, 50),
    }

    def _theme(self, state: str, category: str = "") -> int:
        """The theme of a node in ``state`` (of ``category``) at the current zoom: colours,
        padding, pin size."""
        import dearpygui.dearpygui as dpg

        key = (state, category if not state else "", self.zoom_index)
        if key not in self.themes:
            z = self.zoom
            with dpg.theme() as t, dpg.theme_component(dpg.mvAll):
                colours = self.STATES[state]
                if not colours and category in self.CATEGORIES:
                    c = self.CATEGORIES[category]
                    colours = (c, tuple(min(v + 30, 255) for v in c), None)
                if colours:
                    title, title_sel, outline = colours
                    dpg.add_theme_color(dpg.mvNodeCol_TitleBar, (*title, 255), category=dpg.mvThemeCat_Nodes)
                    dpg.add_theme_color(dpg.mvNodeCol_TitleBarHovered, (*title_sel, 255), category=dpg.mvThemeCat_Nodes)
                    dpg.add_theme_color(dpg.mvNodeCol_TitleBarSelected, (*title_sel, 255), category=dpg.mvThemeCat_Nodes)
                    if outline:
                        dpg.add_theme_color(dpg.mvNodeCol_NodeOutline, (*outline, 255), category=dpg.mvThemeCat_Nodes)
                        dpg.add_theme_style(dpg.mvNodeStyleVar_NodeBorderThickness, 2.5, category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_style(dpg.mvNodeStyleVar_NodePadding, PADDING * z, PADDING * z,
                                    category=dpg.mvThemeCat_Nodes)
                # rows spaced in proportion too, so that a node's drawn size scales with the zoom
                dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 8 * z, 4 * z, category=dpg.mvThemeCat_Core)
                dpg.add_theme_style(dpg.mvNodeStyleVar_PinCircleRadius, max(2.0, 4 * z), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_style(dpg.mvNodeStyleVar_PinHoverRadius, max(5.0, 10 * z), category=dpg.mvThemeCat_Nodes)
            self.themes[key] = t
        return self.themes[key]

    def _link_theme(self, ptype) -> int:
        """Links take their port type's colour (as the pins do); hovered white, selected orange."""
        import dearpygui.dearpygui as dpg

        key = ("link", ptype.name)
        if key not in self.themes:
            with dpg.theme() as t, dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvNodeCol_Link, (*ptype.color, 220), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_color(dpg.mvNodeCol_LinkHovered, (255, 255, 255, 255), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_color(dpg.mvNodeCol_LinkSelected, (250, 170, 40, 255), category=dpg.mvThemeCat_Nodes)
            self.themes[key] = t
        return self.themes[key]

    # -- model → canvas -------------------------------------------------------------------
    def _on_event(self, event: str, detail: str) -> None:
        if event == "graph":
            self.redraw()
        else:
            self.restyle()

    def _to_grid(self, pos) -> tuple[float, float]:
        return ((pos[0] - self.offset[0]) * self.zoom, (pos[1] - self.offset[1]) * self.zoom)

    def _pos(self, name: str) -> list[int]:
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
            if ptype in self.pin_themes:
                dpg.bind_item_theme(a, self.pin_themes[ptype])
            self._attr_ref[a] = ref
            self._pins[f"{kind}:{ref}"] = (kind, text)
            attr_ids[f"{kind}:{ref}"] = a

        def add_node(name, label):
            grid = tuple(round(v) for v in self._to_grid(self._pos(name)))  # imnodes keeps whole pixels
            tag = dpg.add_node(label=label, tag=f"node:{name}", parent=self.TAG, pos=grid)
            self._grid[name] = grid
            if font is not None:
                dpg.bind_item_font(tag, font)
            return tag

        for name, node in g.nodes.items():
            if name in owner:
                continue
            tag = add_node(name, f"{name}  ({node.type_id.rsplit('.', 1)[-1]})")
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
                dpg.bind_item_theme(link, self._link_theme(g.nodes[src].outputs[out].type))
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
            dpg.bind_item_theme(tag, self._theme(state.strip(), category))

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
        names = self.shown() if names is None else names
        return [(*self._pos(n), *self.sizes.get(n, NODE_SIZE)) for n in names]

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

    def add(self, type_id: str, mouse=None) -> str | None:
        """Add a node from the palette: at the mouse (or right of the selected node), free of
        the others, linked from the selected node (Nuke's way). Templates insert as a group."""
        g = self.model.graph
        sel = [n for n in self.model.selection if n in g.nodes]
        after = sel[0] if len(sel) == 1 else None
        want = self.graph_at(mouse) if mouse is not None else None
        if after is not None:  # right of the selected node, whatever the mouse (the README's promise)
            x, y = self._pos(after)
            want = (x + self.sizes.get(after, NODE_SIZE)[0] + 40, y)
        if want is None:
            want = self.view_centre()
        size = NODE_SIZE
        if not type_id.startswith("template:") and type_id in g.registry.node_types:
            cls = g.registry.get(type_id)
            size = footprint(g.unique_name(type_id.rsplit(".", 1)[-1].lower()), cls)
        pos = free_position(want, size, self.rects())
        try:
            if type_id.startswith("template:"):
                from rotograph.core.groups import list_templates

                return self.model.insert_template(list_templates()[type_id[len("template:"):]], pos)
            name = self.model.add_node(type_id, pos, after=after)
            self._reveal = (name, 2)
            self._ask_for_file(name)
            return name
        except (RotographError, KeyError, OSError) as e:
            self.services.status(f"cannot add {type_id}: {e}")
            return None

    def _ask_for_file(self, name: str) -> None:
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

    def view_centre(self) -> tuple[float, float]:
        panel = rect(self.PANEL)
        if panel is None:
            return (0.0, 0.0)
        x, y, w, h = panel
        return self.graph_at((x + w / 3, y + h / 3)) or (0.0, 0.0)

    def duplicate(self) -> None:
        names = [n for n in sorted(self.model.selection) if n in self.model.graph.nodes]
        if not names:
            return
        others = [n for n in self.shown() if n not in names]
        copies = self.model.duplicate(names, duplicate_offset(self.rects(names), self.rects(others)))
        if copies:
            self._reveal = (copies[0], 2)  # frame the graph again if the copy is out of view

    def group(self) -> None:
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
        nodes, pins = {}, {}
        for name in self.shown():
            r = rect(f"node:{name}")
            if r is not None:
                nodes[name] = [r[0] - pad, r[1] - pad, r[2], r[3]]
        for key, (side, text) in self._pins.items():
            node = key.split(":", 1)[1].split(".")[0]
            r = rect(text)
            if node in nodes and r is not None:
                pins[key] = [nodes[node][0] + (0 if side == "in" else nodes[node][2]), r[1] + r[3] / 2]
        return {"rect": rect(self.PANEL), "zoom": self.zoom, "nodes": nodes, "pins": pins,
                "links": sorted(self._link_dst.values())}
