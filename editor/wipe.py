"""The viewer's before/after wipe (Nuke's habit): Shift+W shows the viewed node (A) left of a
vertical line and another image (B) right of it — by default the viewed node's input of the
same type as what is viewed (its "before": a Premult's image), else its first input, or any
node chosen in the viewer's "wipe B" menu. Drag the line (a click within a few pixels of it)
to move it; Shift+W again goes back to A alone (W alone adds a Write, Nuke's other habit).
Both images are the same frame, mode and resolution; B is evaluated with A (cached like any
other value)."""

from __future__ import annotations

from dataclasses import dataclass

from .view_nav import HANDLE

INPUT = "(input)"  # the "wipe B" menu's first entry: the viewed node's first input


@dataclass
class WipeState:
    """The wipe's B (``INPUT`` or a node's name) and where its line is."""
    choice: str = INPUT  # INPUT or a node's name
    frac: float = 0.5     # where the line is, as a fraction of the image's width from its left


class Wipe:
    """The wipe (a mixin of :class:`~rotograph.editor.viewer.Viewer`)."""

    wipe: WipeState | None = None
    _texture_b = None

    def build_wipe(self) -> None:
        """The "wipe B" menu in the viewer's toolbar."""
        import dearpygui.dearpygui as dpg

        dpg.add_combo((INPUT,), default_value=INPUT, width=100, tag="wipe_b", label="wipe B",
                      callback=lambda s, a: self.set_wipe(a))

    def toggle_wipe(self) -> None:
        """Shift+W: the wipe on (against the chosen B) or off."""
        import dearpygui.dearpygui as dpg

        self.wipe = None if self.wipe else WipeState(dpg.get_value("wipe_b") or INPUT)
        self._scene = None
        self.request()

    def set_wipe(self, choice: str) -> None:
        """Wipe against ``choice`` (a node's name, or the viewed node's input), turning it on."""
        self.wipe = WipeState(choice, self.wipe.frac if self.wipe else 0.5)
        self._scene = None
        self.request()

    def wipe_choices(self) -> None:
        """The menu's entries follow the graph."""
        import dearpygui.dearpygui as dpg

        dpg.configure_item("wipe_b", items=(INPUT, *sorted(self.model.graph.nodes)))

    def compare_target(self) -> tuple[str, str | None] | None:
        """(node, output) of B, or None (no wipe, or nothing to compare with)."""
        if self.wipe is None:
            return None
        viewed = self.viewed()
        if viewed is None:
            return None
        g = self.model.graph
        if self.wipe.choice == INPUT:  # the input of the viewed output's type (a Premult's image), else the first
            node = g.nodes.get(viewed[0])
            links = g.inputs_of(viewed[0]) if node is not None else {}
            if not links:
                return None
            kind = node.outputs[viewed[1]].type if viewed[1] in node.outputs else None
            same = [links[i] for i in node.inputs if i in links and node.inputs[i].type == kind]
            return tuple((same or list(links.values()))[0])
        name = self.wipe.choice
        if name not in g.nodes:
            return None
        return name, next((o for o, p in g.nodes[name].outputs.items() if p.type.name != "File"), None)

    def take_compare(self, res) -> None:
        """Upload B's pixels with A's (a static texture each)."""
        import dearpygui.dearpygui as dpg
        import numpy as np

        if self._texture_b is not None:
            self._stale.append(self._texture_b)
            self._texture_b = None
        rgba = getattr(res, "compare_rgba", None)
        if rgba is not None:
            h, w = rgba.shape[:2]
            self._texture_b = dpg.add_static_texture(w, h, np.ascontiguousarray(rgba, np.float32).ravel(),
                                                     parent="view_textures")

    # -- the line ---------------------------------------------------------------------------
    def _wipe_x(self) -> float | None:
        """The line's x in the drawlist, or None when no wipe is drawn."""
        if self.wipe is None or self._texture_b is None or self.image_size is None:
            return None
        return self.origin[0] + self.image_size[0] * self.zoom * self.wipe.frac

    def grab_wipe(self, mouse) -> bool:
        """A press within a few pixels of the line starts dragging it."""
        x = self._wipe_x()
        if x is None or abs(mouse[0] - self._rect()[0] - x) > HANDLE:
            return False
        self._drag = ("wipe",)
        return True

    def drag_wipe(self, mouse, released: bool) -> None:
        """Move the line with the mouse (clamped to the image); ``released`` ends the drag."""
        x0 = self._rect()[0] + self.origin[0]
        frac = min(max((mouse[0] - x0) / max(self.image_size[0] * self.zoom, 1e-6), 0.0), 1.0)
        if frac != self.wipe.frac:
            self.wipe.frac = frac
            self._scene = None
        if released:
            self._drag = None

    def draw_images(self, dim) -> None:
        """A alone, or A left of the line and B right of it, with the line and their names."""
        import dearpygui.dearpygui as dpg

        w, h = self.image_size
        ox, oy = self.origin
        x1, y1 = ox + w * self.zoom, oy + h * self.zoom
        sx = self._wipe_x()
        if sx is None:
            dpg.draw_image(self._texture, (ox, oy), (x1, y1), color=dim, parent=self.TAG)
            return
        f = self.wipe.frac
        dpg.draw_image(self._texture, (ox, oy), (sx, y1), uv_min=(0, 0), uv_max=(f, 1), color=dim, parent=self.TAG)
        dpg.draw_image(self._texture_b, (sx, oy), (x1, y1), uv_min=(f, 0), uv_max=(1, 1), color=dim, parent=self.TAG)
        dpg.draw_line((sx, oy), (sx, y1), color=(250, 250, 250, 230), thickness=2, parent=self.TAG)
        dpg.draw_circle((sx, (oy + y1) / 2), 6, color=(250, 250, 250, 230), fill=(40, 40, 40, 230), parent=self.TAG)
        a, b = self.describe_wipe()["a"], self.describe_wipe()["b"]
        dpg.draw_text((sx - 8 - 7 * len(a), oy + 4), a, color=(250, 250, 250, 255), size=14, parent=self.TAG)
        dpg.draw_text((sx + 8, oy + 4), b, color=(250, 250, 250, 255), size=14, parent=self.TAG)

    def describe_wipe(self) -> dict | None:
        """For the probe: the names of A and B and the line's screen x (None when off)."""
        if self.wipe is None:
            return None
        target, viewed = self.compare_target(), self.viewed()
        x = self._wipe_x()
        return {"a": viewed[0] if viewed else "", "b": target[0] if target else "", "frac": self.wipe.frac,
                "x": None if x is None else self._rect()[0] + x, "choice": self.wipe.choice}
