"""Prompts on the viewer: the current frame's points and boxes of the node in view, drawn in
their object's colour; a click adds a point (Shift/Ctrl: negative), in box mode a drag draws a
box; a click selects one, a drag moves it (a box corner resizes it, an edge moves it). Each is an
undoable edit of the node's ``prompts``, in plate pixels rounded to whole pixels."""

from __future__ import annotations

import math

from .display import object_colour
from .items import held
from .model import PromptRef
from .view_nav import HANDLE


class PromptEditing:
    """Prompt editing (a mixin of :class:`~rotograph.editor.viewer.Viewer`)."""

    def _keyframes_here(self):
        name = self.prompt_node()
        if name is None:
            return []
        return [k for k in self.model.graph.nodes[name].prompts if k["frame"] == self.model.frame]

    def _hit(self, mouse) -> tuple[PromptRef, str] | None:
        """The prompt under the mouse: (ref, handle) with handle "point", a box corner
        ("x0y0", "x1y0", "x0y1", "x1y1") or "edge" (the whole box moves). Anywhere else a click
        adds a point, or in box mode a drag draws a new box."""
        best = None
        for kf in self._keyframes_here():
            for i, (px, py, _) in enumerate(kf["points"]):
                d = math.dist(self.to_screen((px, py)), mouse)
                if d <= HANDLE and (best is None or d < best[0]):
                    best = (d, PromptRef(kf["frame"], kf["object"], "point", i), "point")
            if kf["box"]:
                x0, y0, x1, y1 = kf["box"]
                for cx, cy, handle in ((x0, y0, "x0y0"), (x1, y0, "x1y0"), (x0, y1, "x0y1"), (x1, y1, "x1y1")):
                    d = math.dist(self.to_screen((cx, cy)), mouse)
                    if d <= HANDLE and (best is None or d < best[0]):
                        best = (d, PromptRef(kf["frame"], kf["object"], "box"), handle)
        if best:
            return best[1], best[2]
        for kf in self._keyframes_here():  # a box's edge moves the box
            if not kf["box"]:
                continue
            (x0, y0), (x1, y1) = self.to_screen(kf["box"][:2]), self.to_screen(kf["box"][2:])
            if x0 - HANDLE <= mouse[0] <= x1 + HANDLE and y0 - HANDLE <= mouse[1] <= y1 + HANDLE and \
                    min(abs(mouse[0] - x0), abs(mouse[0] - x1), abs(mouse[1] - y0), abs(mouse[1] - y1)) <= HANDLE:
                return PromptRef(kf["frame"], kf["object"], "box"), "edge"
        return None

    def _value_of(self, ref: PromptRef):
        kf = next(k for k in self._keyframes_here() if k["object"] == ref.obj)
        return list(kf["points"][ref.index][:2]) if ref.kind == "point" else list(kf["box"])

    @staticmethod
    def _moved(ref: PromptRef, handle: str, start, delta):
        if ref.kind == "point":
            return [round(start[0] + delta[0]), round(start[1] + delta[1])]
        x0, y0, x1, y1 = start
        dx, dy = round(delta[0]), round(delta[1])
        if handle == "edge":
            return [x0 + dx, y0 + dy, x1 + dx, y1 + dy]
        if "x0" in handle:
            x0 += dx
        if "x1" in handle:
            x1 += dx
        if "y0" in handle:
            y0 += dy
        if "y1" in handle:
            y1 += dy
        return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]

    def _press(self, mouse) -> None:
        import dearpygui.dearpygui as dpg

        if self.image_size is None:
            return
        name = self.prompt_node()
        if name is None:
            self.services.status("select a node that takes prompts (FlowTrack, SAM3...) to add points or boxes")
            return
        hit = self._hit(mouse)
        if hit is not None:
            ref, handle = hit
            self.selected = ref
            self._drag = ("move", mouse, ref, handle, self._value_of(ref))
            return
        self.selected = None
        negative = held(dpg.mvKey_LShift, dpg.mvKey_RShift, dpg.mvKey_LControl, dpg.mvKey_RControl)
        self._drag = ("box" if self.prompt_mode == "box" else "point", mouse, 0 if negative else 1)

    def _dragging(self, mouse, released) -> None:
        kind = self._drag[0]
        if kind == "wipe":
            self.drag_wipe(mouse, released[0])
            return
        if kind == "pan":
            _, start, origin, button = self._drag
            self.origin = [origin[0] + mouse[0] - start[0], origin[1] + mouse[1] - start[1]]
            self._scene = None
            if released[button]:
                self.origin = [float(round(v)) for v in self.origin]
                self._drag = None
            return
        if not released[0]:
            return
        drag, self._drag = self._drag, None
        name = self.prompt_node()
        if name is None:
            return
        start = drag[1]
        a, b = self.to_image(start), self.to_image(mouse)
        if kind == "move":
            _, _, ref, handle, value = drag
            delta = (b[0] - a[0], b[1] - a[1])
            if abs(mouse[0] - start[0]) + abs(mouse[1] - start[1]) >= 2:
                self.model.move_prompt(name, ref, self._moved(ref, handle, value, delta))
                self.selected = ref
        elif kind == "box":
            x0, x1 = sorted((round(a[0]), round(b[0])))
            y0, y1 = sorted((round(a[1]), round(b[1])))
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                self.selected = self.model.add_prompt(name, self.model.frame, box=(x0, y0, x1, y1), obj=self.obj)
                self.set_prompt_mode("point")  # B draws one box, then clicks add points again
        elif kind == "point" and abs(mouse[0] - start[0]) + abs(mouse[1] - start[1]) < 4:
            self.selected = self.model.add_prompt(name, self.model.frame, point=(round(b[0]), round(b[1]), drag[2]),
                                                  obj=self.obj)

    def _draw_prompts(self, mouse) -> None:
        import dearpygui.dearpygui as dpg

        x, y, _, _ = self._rect()
        local = lambda pt: (self.origin[0] + pt[0] * self.zoom, self.origin[1] + pt[1] * self.zoom)  # noqa: E731
        drag = self._drag if self._drag is not None and self._drag[0] == "move" else None
        for kf in self._keyframes_here():
            colour = [int(c * 255) for c in object_colour(kf["object"])] + [255]
            box = kf["box"]
            ref_box = PromptRef(kf["frame"], kf["object"], "box")
            if drag is not None and drag[2] == ref_box:
                box = self._moved(ref_box, drag[3], drag[4], self._delta(drag[1], mouse))
            if box:
                thick = 3 if self.selected == ref_box else 1.5
                dpg.draw_rectangle(local(box[:2]), local(box[2:]), color=colour, thickness=thick, parent=self.TAG)
                for cx, cy in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
                    dpg.draw_rectangle([v - 3 for v in local((cx, cy))], [v + 3 for v in local((cx, cy))],
                                       color=colour, fill=colour, parent=self.TAG)
            for i, (px, py, label) in enumerate(kf["points"]):
                ref = PromptRef(kf["frame"], kf["object"], "point", i)
                if drag is not None and drag[2] == ref:
                    px, py = self._moved(ref, "point", [px, py], self._delta(drag[1], mouse))
                c = local((px, py))
                r = 7 if self.selected == ref else 5
                dpg.draw_circle(c, r + 2, color=(0, 0, 0, 255), fill=(0, 0, 0, 160), parent=self.TAG)
                dpg.draw_circle(c, r, color=colour, fill=colour if label else (0, 0, 0, 0), thickness=2,
                                parent=self.TAG)
                dpg.draw_text((c[0] + r + 2, c[1] - r - 10), "+" if label else "-", color=colour, size=14,
                              parent=self.TAG)
        if self._drag is not None and self._drag[0] == "box":
            colour = [int(c * 255) for c in object_colour(self.obj)] + [255]
            a = (self._drag[1][0] - x, self._drag[1][1] - y)
            dpg.draw_rectangle(a, (mouse[0] - x, mouse[1] - y), color=colour, thickness=1, parent=self.TAG)

    def _delta(self, start, mouse):
        a, b = self.to_image(start), self.to_image(mouse)
        return b[0] - a[0], b[1] - a[1]
