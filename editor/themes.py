"""How the node canvas looks: a node's title bar by its state (selected, failed, a group) or,
at rest, by its category; pins and links in their port type's colour; a quiet grid. Each
DearPyGui theme is made once and kept (a node's, per zoom step: padding and pins scale)."""

from __future__ import annotations

PADDING = 8.0  # a node's padding at 100 %, graph units

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


GRID = ((34, 34, 38), (44, 44, 49), (52, 52, 58))  # background, lines, the lines through the origin


class Themes:
    """The canvas's themes, made on first use (they need a DearPyGui context)."""

    def __init__(self, registry):
        self.registry = registry  # its port types colour pins and links
        self._made: dict[tuple, int] = {}

    def node(self, state: str, category: str, zoom_index: int, zoom: float) -> int:
        """A node in ``state`` (of ``category``) drawn at ``zoom`` (step ``zoom_index``):
        colours, padding, row spacing and pin size."""
        import dearpygui.dearpygui as dpg

        key = ("node", state, category if not state else "", zoom_index)
        if key not in self._made:
            z = zoom
            with dpg.theme() as t, dpg.theme_component(dpg.mvAll):
                colours = STATES[state]
                if not colours and category in CATEGORIES:
                    c = CATEGORIES[category]
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
            self._made[key] = t
        return self._made[key]

    def link(self, ptype) -> int:
        """Links take their port type's colour (as the pins do); hovered white, selected orange."""
        import dearpygui.dearpygui as dpg

        key = ("link", ptype.name)
        if key not in self._made:
            with dpg.theme() as t, dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvNodeCol_Link, (*ptype.color, 220), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_color(dpg.mvNodeCol_LinkHovered, (255, 255, 255, 255), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_color(dpg.mvNodeCol_LinkSelected, (250, 170, 40, 255), category=dpg.mvThemeCat_Nodes)
            self._made[key] = t
        return self._made[key]

    def pin(self, type_name: str) -> int | None:
        """A pin of port type ``type_name`` (None for a type the registry does not know)."""
        import dearpygui.dearpygui as dpg

        ptype = self.registry.port_types.get(type_name)
        if ptype is None:
            return None
        key = ("pin", type_name)
        if key not in self._made:
            with dpg.theme() as t, dpg.theme_component(dpg.mvNodeAttribute):
                dpg.add_theme_color(dpg.mvNodeCol_Pin, (*ptype.color, 255), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_color(dpg.mvNodeCol_PinHovered, (255, 255, 255, 255), category=dpg.mvThemeCat_Nodes)
            self._made[key] = t
        return self._made[key]

    def grid(self) -> int:
        """The canvas: a quiet grid, lines a shade off the background (imnodes draws the grid
        before an item theme of the node editor applies: bind this one globally)."""
        import dearpygui.dearpygui as dpg

        if ("grid",) not in self._made:
            with dpg.theme() as t, dpg.theme_component(dpg.mvAll):
                for col, rgb in ((dpg.mvNodeCol_GridBackground, GRID[0]), (dpg.mvNodeCol_GridLine, GRID[1]),
                                 (dpg.mvNodesCol_GridLinePrimary, GRID[2])):
                    dpg.add_theme_color(col, (*rgb, 255), category=dpg.mvThemeCat_Nodes)
            self._made[("grid",)] = t
        return self._made[("grid",)]
