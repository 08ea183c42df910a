"""The viewer panel: the selected node's output at the current frame, with its prompts.

Navigation and prompting never share a gesture: the middle button (or Alt + left) drags the
view, the wheel zooms about the cursor through fixed steps (…, 1/4, 1/3, 1/2, 2/3, 1, 3/2, 2, …)
and F fits the image to the panel. With a node that takes prompts (FlowTrack, SAM3…) in view, a
click adds a positive point, Shift/Ctrl+click a negative one, and in box mode (B toggles) a drag
draws the object's box, on the current frame. The current frame's points and boxes are drawn in
their object's colour; a click selects one, a drag moves it (a box corner resizes it, an edge
moves it) and Del removes it — each an undoable edit of the node's ``prompts``. Image coordinates are plate pixels
(x right, y down), rounded to whole pixels.

Evaluation runs on :class:`~rotograph.editor.worker.EvalWorker`; while it works the previous
image stays, dimmed, under a line saying which node and frame it waits for.
"""

from __future__ import annotations

import math
import time

import numpy as np

import rotograph

from .items import held, rect
from .display import MODES, object_colour, pixel_text
from .model import PromptRef

ZOOMS = (1 / 32, 1 / 16, 1 / 8, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 1, 3 / 2, 2, 3, 4, 6, 8, 12, 16, 32)
HANDLE = 7.0  # px: how near a click must be to a point or a box corner


def fit_zoom(image_size, area) -> float:
    """The largest step of :data:`ZOOMS` at which ``image_size`` fits in ``area``."""
    scale = min(area[0] / max(image_size[0], 1), area[1] / max(image_size[1], 1))
    return max([z for z in ZOOMS if z <= scale + 1e-9], default=ZOOMS[0])


def next_zoom(zoom: float, steps: int) -> float:
    """``steps`` steps of :data:`ZOOMS` up (positive) or down from ``zoom``."""
    if steps > 0:
        higher = [z for z in ZOOMS if z > zoom + 1e-9]
        return higher[min(steps, len(higher)) - 1] if higher else zoom
    lower = [z for z in ZOOMS if z < zoom - 1e-9]
    return lower[max(len(lower) + steps, 0)] if lower else zoom


class Viewer:
    TAG = "viewer"

    def __init__(self, model, worker, services):
        self.model = model
        self.worker = worker
        self.services = services
        self.mode = "rgb"
        self.prompt_mode = "point"
        self.obj = 1
        self.zoom = 1.0
        self.origin = [0.0, 0.0]  # the image's top left in the drawlist (px)
        self.size = (640, 360)
        self.image_size: tuple[int, int] | None = None
        self.shown = None           # the Result on screen
        self.latency = None         # seconds from the last request to the end of the frame drawing it
        self._asked_at = 0.0
        self._taken = False
        self.requested = None       # (node, output, frame) last asked for
        self.waiting = False
        self.selected: PromptRef | None = None
        self._texture_size = None
        self._texture = None
        self._stale: list = []
        self._fit_pending = True
        self._drag = None
        self._buttons = [False, False, False]
        self._scene = None
        self._seq = -1
        model.subscribe(self._on_event, "graph", "selection", "frame")

    # -- building -------------------------------------------------------------------------
    def build(self, parent) -> None:
        import dearpygui.dearpygui as dpg

        with dpg.group(horizontal=True, parent=parent):
            dpg.add_combo(MODES, default_value=self.mode, width=90, tag="view_mode",
                          callback=lambda s, a: self.set_mode(a))
            dpg.add_combo(("point", "box"), default_value=self.prompt_mode, width=70, tag="prompt_mode",
                          callback=lambda s, a: self.set_prompt_mode(a))
            dpg.add_input_int(label="object", default_value=1, min_value=1, min_clamped=True, width=80,
                              tag="prompt_object", callback=lambda s, a: setattr(self, "obj", int(a)))
            dpg.add_text("", tag="view_zoom")
            dpg.add_text("", tag="pixel")
        dpg.add_drawlist(*self.size, tag=self.TAG, parent=parent)
        dpg.add_text("", tag="view_status", parent=parent)
        with dpg.texture_registry(tag="view_textures"):
            pass

    def resize(self, width: int, height: int) -> None:
        import dearpygui.dearpygui as dpg

        width, height = max(int(width), 50), max(int(height), 50)
        if (width, height) != self.size:
            self.size = (width, height)
            dpg.configure_item(self.TAG, width=width, height=height)
            self._fit_pending = True
            self._scene = None

    def drawn(self) -> None:
        """After each frame: the time from the request to the frame that drew its answer."""
        if self._taken:
            self._taken = False
            self.latency = time.perf_counter() - self._asked_at

    @property
    def settling(self) -> bool:
        """A fit waits for the next frame."""
        return self._fit_pending and self.image_size is not None

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.request()

    def set_prompt_mode(self, mode: str) -> None:
        import dearpygui.dearpygui as dpg

        self.prompt_mode = mode
        dpg.set_value("prompt_mode", mode)

    def toggle_box_mode(self) -> None:
        self.set_prompt_mode("point" if self.prompt_mode == "box" else "box")

    # -- what is viewed -------------------------------------------------------------------
    def viewed(self) -> tuple[str, str | None] | None:
        """(node, output) the viewer shows: the one selected node's first output (a group's
        first output; a writer's input), or None."""
        g = self.model.graph
        sel = [n for n in self.model.selection if n in g.nodes or n in g.groups]
        if len(sel) != 1:
            return None
        name = sel[0]
        if name in g.groups:
            outs = list(g.groups[name].outputs.values())
            return tuple(outs[0].split(".")) if outs else None
        node = g.nodes[name]
        if node.is_writer:
            links = g.inputs_of(name)
            return next(iter(links.values())) if links else None
        return name, next((o for o, p in node.outputs.items() if p.type.name != "File"), None)

    def prompt_node(self) -> str | None:
        g = self.model.graph
        sel = [n for n in self.model.selection if n in g.nodes]
        return sel[0] if len(sel) == 1 and "prompts" in g.nodes[sel[0]].params else None

    def _on_event(self, event: str, detail: str) -> None:
        if event != "graph":
            self.selected = None
        self.request()

    def request(self) -> None:
        import dearpygui.dearpygui as dpg

        target = self.viewed()
        self._scene = None
        if target is None:  # nothing (or a node just deleted, undone, or of the graph closed): a blank viewer
            self.requested = None
            self.waiting = False
            self.shown = None
            dpg.set_value("view_status", "select one node to view it")
            return
        name, output = target
        plate = self.model.plate_of(name) if (self.mode == "overlay" or self.prompt_node()) else None
        rng = self.model.frame_range()
        frames = range(rng[0], rng[1] + 1) if rng else ()
        self.requested = (name, output, self.model.frame)
        self.waiting = True
        self._asked_at = time.perf_counter()
        self._seq = self.worker.request(rotograph.dumps(self.model.graph), name, output, self.model.frame,
                                        plate if plate != name else None, frames, self.mode,
                                        self.downscale() if self.image_size else 1)
        dpg.set_value("view_status", f"evaluating {name} at {self.model.frame}...")

    def await_answer(self, within: float) -> None:
        """Just after a request, wait (the GIL released) up to ``within`` s from it for its
        answer, so that the frame about to be drawn shows it: a cached frame is ready in tens
        of milliseconds, and a frame drawn before it would delay it by a whole frame."""
        left = within - (time.perf_counter() - self._asked_at)
        if self.waiting and left > 0:
            self.worker.wait_result(left)

    @property
    def current(self) -> bool:
        """Whether the image on screen is the one asked for last (play waits for it)."""
        return not self.waiting

    # -- results --------------------------------------------------------------------------
    def take(self, res) -> None:
        """Show a finished evaluation (its pixels were made on the worker's thread)."""
        import dearpygui.dearpygui as dpg

        if self.requested is None or res.seq != self._seq:
            return  # an answer to an older question
        self.waiting = False
        self.shown = res
        self._taken = True
        self._scene = None
        if res.rgba is None:
            dpg.set_value("view_status", res.display_error or f"error: {res.error}")
            return
        self._upload(res.rgba, res.size)
        w, h = res.size
        dpg.set_value("view_status", f"error: {res.error}" if res.error else
                      f"{res.node} @ {res.frame}: {w}x{h}, {res.seconds * 1000:.0f} ms")
        if res.downscale != self.downscale():
            self.request()  # zoomed since: the pixels at the resolution drawn (a cache hit)

    def downscale(self) -> int:
        """How many times smaller than 1:1 the image is drawn (a whole factor, at least 1)."""
        return max(1, int(1 / self.zoom + 1e-6))

    def _upload(self, rgba: np.ndarray, size) -> None:
        """A static texture per image: uploaded once (a raw or dynamic texture is uploaded again
        on every frame the window draws); the old one goes once nothing draws it."""
        import dearpygui.dearpygui as dpg

        h, w = rgba.shape[:2]
        if self._texture is not None:
            self._stale.append(self._texture)
        self._texture = dpg.add_static_texture(w, h, np.ascontiguousarray(rgba, np.float32).ravel(),
                                               parent="view_textures")
        self._texture_size = (w, h)
        self._scene = None
        if self.image_size != tuple(size):
            self.image_size = tuple(size)
            self._fit_pending = True  # a new size of image: fit it

    # -- coordinates ----------------------------------------------------------------------
    def _rect(self):
        r = rect(self.TAG)
        return (r[0], r[1], self.size[0], self.size[1]) if r else (0.0, 0.0, *self.size)

    def to_image(self, mouse) -> tuple[float, float]:
        x, y, _, _ = self._rect()
        return (mouse[0] - x - self.origin[0]) / self.zoom, (mouse[1] - y - self.origin[1]) / self.zoom

    def to_screen(self, pt) -> tuple[float, float]:
        x, y, _, _ = self._rect()
        return x + self.origin[0] + pt[0] * self.zoom, y + self.origin[1] + pt[1] * self.zoom

    def fit(self) -> None:
        if self.image_size is None:
            return
        w, h = self.image_size
        self.zoom = fit_zoom((w, h), (self.size[0] - 8, self.size[1] - 8))
        self.origin = [float(round((self.size[0] - w * self.zoom) / 2)), float(round((self.size[1] - h * self.zoom) / 2))]
        self._fit_pending = False
        self._scene = None
        self._match_resolution()

    def _match_resolution(self) -> None:
        """Ask for the pixels again when the zoom wants another resolution of them."""
        if self.shown is not None and not self.waiting and self.shown.downscale != self.downscale():
            self.request()

    def wheel(self, steps: int, mouse) -> None:
        z = next_zoom(self.zoom, steps)
        if z == self.zoom:
            return
        x, y, _, _ = self._rect()
        p = self.to_image(mouse)
        self.origin = [float(round(mouse[0] - x - p[0] * z)), float(round(mouse[1] - y - p[1] * z))]
        self.zoom = z
        self._scene = None
        self._match_resolution()

    # -- prompts --------------------------------------------------------------------------
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

    def delete_selected(self) -> bool:
        """Remove the selected point or box (Del over the viewer); False if none is selected."""
        name = self.prompt_node()
        if name is None or self.selected is None:
            return False
        ref, self.selected = self.selected, None
        try:
            self.model.remove_prompt(name, ref)
        except (StopIteration, IndexError):
            return False
        return True

    # -- the mouse ------------------------------------------------------------------------
    def update(self, hovered: bool) -> None:
        """Per frame: turn the mouse into navigation or prompt edits; redraw what changed."""
        import dearpygui.dearpygui as dpg

        mouse = dpg.get_mouse_pos(local=False)
        down = [dpg.is_mouse_button_down(b) for b in range(3)]
        pressed = [d and not w for d, w in zip(down, self._buttons)]
        released = [w and not d for d, w in zip(down, self._buttons)]
        self._buttons = down
        alt = held(dpg.mvKey_LAlt, dpg.mvKey_RAlt)
        if self._drag is None and hovered:
            if pressed[2] or (pressed[0] and alt):
                self._drag = ("pan", mouse, list(self.origin), 2 if pressed[2] else 0)
            elif pressed[0]:
                self._press(mouse)
        elif self._drag is not None:
            self._dragging(mouse, released)
        if self._fit_pending and self.image_size is not None:
            self.fit()
        if hovered and self.shown is not None:
            ix, iy = self.to_image(mouse)
            value = self.shown.value if self.shown.error is None else self.shown.plate
            dpg.set_value("pixel", pixel_text(value, int(math.floor(ix)), int(math.floor(iy))))
        self._draw(mouse)

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

    # -- drawing --------------------------------------------------------------------------
    def _draw(self, mouse) -> None:
        import dearpygui.dearpygui as dpg

        progress = self.worker.progress if self.waiting else None
        live_drag = self._drag is not None and self._drag[0] in ("move", "box")
        scene = (self.zoom, tuple(self.origin), self.image_size, id(self.shown), self.waiting, progress,
                 self.selected, tuple(mouse) if live_drag else None, self.model.frame,
                 int(time.monotonic() * 8) if self.waiting else 0)
        if scene == self._scene:
            return
        self._scene = scene
        dpg.delete_item(self.TAG, children_only=True)
        W, H = self.size
        dpg.draw_rectangle((0, 0), (W, H), fill=(28, 28, 30, 255), color=(28, 28, 30, 255), parent=self.TAG)
        for old in self._stale:
            dpg.delete_item(old)
        self._stale.clear()
        if self.shown is not None and self.image_size is not None and self._texture is not None:
            w, h = self.image_size
            ox, oy = self.origin
            dim = (255, 255, 255, 110) if self.waiting else (255, 255, 255, 255)
            dpg.draw_image(self._texture, (ox, oy), (ox + w * self.zoom, oy + h * self.zoom), color=dim, parent=self.TAG)
            self._draw_prompts(mouse)
        dpg.set_value("view_zoom", f"{self.zoom * 100:.0f}%")
        if self.waiting:
            self._draw_waiting(progress)

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

    def _draw_waiting(self, progress) -> None:
        import dearpygui.dearpygui as dpg

        name, _, frame = self.requested
        text = f"waiting for {name} @ {frame}"
        since = self._asked_at
        if progress is not None and (progress.node, progress.frame) == (name, frame):
            if progress.total or progress.at != name:
                text += f": {progress.text()}"
            since = progress.since
        text += f"  {time.perf_counter() - since:.0f}s"  # live: the scene changes 8 times a second
        t = time.monotonic() * 6
        cx, cy = 22, 22
        dpg.draw_circle((cx, cy), 10, color=(90, 90, 90, 255), thickness=3, parent=self.TAG)
        dpg.draw_line((cx, cy), (cx + 10 * math.cos(t), cy + 10 * math.sin(t)), color=(240, 200, 60, 255),
                      thickness=3, parent=self.TAG)
        dpg.draw_text((40, 14), text, color=(240, 220, 120, 255), size=15, parent=self.TAG)
        dpg.set_value("view_status", text)

    # -- for tests and tools --------------------------------------------------------------
    def describe(self) -> dict:
        x, y, w, h = self._rect()
        res = self.shown
        return {"rect": [x, y, w, h], "zoom": self.zoom, "origin": [x + self.origin[0], y + self.origin[1]],
                "image": list(self.image_size) if self.image_size else None, "mode": self.mode,
                "prompt_mode": self.prompt_mode, "object": self.obj, "waiting": self.waiting,
                "latency": self.latency,
                "shown": [res.node, res.frame, res.error] if res is not None else None,
                "selected_prompt": list(self.selected.__dict__.values()) if self.selected else None}
