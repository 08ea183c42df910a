"""The viewer panel: the selected node's output at the current frame, with its prompts
(:mod:`.view_prompts`), zoom and pan (:mod:`.view_nav`) and a before/after wipe (:mod:`.wipe`).

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
from collections import OrderedDict

import numpy as np

from .items import held
from .display import MODES, pixel_text
from .model import PromptRef
from .proxy_view import ProxyView
from .roto import RotoOverlay
from .view_nav import ZOOMS, Navigation  # noqa: F401 (ZOOMS: read by the test driver from here)
from .view_prompts import PromptEditing
from .wipe import Wipe

KEEP_TEXTURES = 12  # textures of the images shown last, kept for stepping back over them


class Viewer(Navigation, PromptEditing, Wipe):
    """The viewer panel (see the module's docstring)."""
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
        self.proxy = ProxyView(model)  # Ctrl+P: view at proxy 0.5 (editor/proxy_view.py)
        self._texture_size = None
        self._texture = None
        self._textures: OrderedDict = OrderedDict()  # pixel key → texture, the last KEEP_TEXTURES shown
        self._stale: list = []
        self._fit_pending = True
        self._drag = None
        self._buttons = [False, False, False]
        self._scene = None
        self._seq = -1
        self.roto = RotoOverlay(self)  # a Roto node's shapes: editor/roto.py
        model.subscribe(self._on_event, "graph", "selection", "frame")

    # -- building -------------------------------------------------------------------------
    def build(self, parent) -> None:
        """The toolbar, the drawlist and the texture registry, under ``parent``."""
        import dearpygui.dearpygui as dpg

        with dpg.group(horizontal=True, parent=parent):
            self.build_wipe()
            dpg.add_combo(MODES, default_value=self.mode, width=90, tag="view_mode",
                          callback=lambda s, a: self.set_mode(a))
            dpg.add_combo(("point", "box"), default_value=self.prompt_mode, width=70, tag="prompt_mode",
                          callback=lambda s, a: self.set_prompt_mode(a))
            dpg.add_input_int(label="object", default_value=1, min_value=1, min_clamped=True, width=80,
                              tag="prompt_object", callback=lambda s, a: setattr(self, "obj", int(a)))
            self.roto.build()
            dpg.add_text("", tag="view_zoom")
            dpg.add_text("", tag="pixel")
        dpg.add_drawlist(*self.size, tag=self.TAG, parent=parent)
        dpg.add_text("", tag="view_status", parent=parent)
        with dpg.texture_registry(tag="view_textures"):
            pass

    def resize(self, width: int, height: int) -> None:
        """Follow the panel's size; the image is fitted again."""
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
        """Show the image as ``mode`` (one of :data:`~rotograph.editor.display.MODES`)."""
        self.mode = mode
        self.request()

    def set_prompt_mode(self, mode: str) -> None:
        """"point" (a click adds a point) or "box" (a drag draws a box)."""
        import dearpygui.dearpygui as dpg

        self.prompt_mode = mode
        dpg.set_value("prompt_mode", mode)

    def toggle_box_mode(self) -> None:
        """B: box mode on or off."""
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
        """The selected node if it is one node that takes prompts, else None."""
        g = self.model.graph
        sel = [n for n in self.model.selection if n in g.nodes]
        return sel[0] if len(sel) == 1 and "prompts" in g.nodes[sel[0]].params else None

    def _on_event(self, event: str, detail: str) -> None:
        if event == "graph":
            self.wipe_choices()
        else:
            self.selected = None
        self.request()

    def toggle_proxy(self) -> None:
        """Ctrl+P / View ▸ Proxy: view at proxy 0.5, or at full resolution again."""
        import dearpygui.dearpygui as dpg

        self.proxy.toggle()
        if dpg.does_item_exist("proxy_menu"):
            dpg.set_value("proxy_menu", self.proxy.on)
        self.services.status(f"viewer: {self.proxy.label()}")
        self.request()

    def request(self) -> None:
        """Ask the worker for what is viewed now (the newest request wins)."""
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
        plate = self.model.plate_of(name) if (self.mode == "overlay" or self.prompt_node() or self.roto.active()) else None
        rng = self.model.frame_range()
        frames = range(rng[0], rng[1] + 1) if rng else ()
        self.requested = (name, output, self.model.frame)
        self.waiting = True
        self._asked_at = time.perf_counter()
        self._seq = self.worker.request(self.proxy.graph_text(), name, output, self.model.frame,
                                        plate if plate != name else None, frames, self.mode,
                                        self.downscale() if self.image_size else 1, self.proxy.factor,
                                        compare=self.compare_target(), folder=self.model.graph.folder)
        dpg.set_value("view_status", f"evaluating {name} at {self.model.frame}...")

    def await_answer(self, within: float) -> None:
        """Just after a request, wait (the GIL released) up to ``within`` s from it for its
        answer, so that the frame about to be drawn shows it: a cached frame is ready in tens
        of milliseconds, and a frame drawn before it would delay it by a whole frame."""
        left = within - (time.perf_counter() - self._asked_at)
        if self.waiting and left > 0:
            self.worker.wait_result(left)

    def viewed_node(self) -> str | None:
        """The node the viewer shows (see :meth:`viewed`), or None."""
        return (self.viewed() or (None,))[0]

    def cached_frames(self) -> list[int]:
        """The frames of the viewed node the cache holds (the timeline marks them)."""
        return self.shown.cached if self.shown else []

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
        self._upload(res.rgba, res.size, res.pixel_key)
        self.take_compare(res)
        w, h = res.size
        dpg.set_value("view_status", f"error: {res.error}" if res.error else
                      f"{res.node} @ {res.frame}: {w}x{h}, {res.seconds * 1000:.0f} ms")
        if res.downscale != self.downscale():
            self.request()  # zoomed since: the pixels at the resolution drawn (a cache hit)

    def downscale(self) -> int:
        """How many times smaller than 1:1 the image is drawn (a whole factor, at least 1)."""
        return max(1, int(1 / self.zoom + 1e-6))

    def _upload(self, rgba: np.ndarray, size, key=None) -> None:
        """A static texture per image: uploaded once (a raw or dynamic texture is uploaded again
        on every frame the window draws). The last :data:`KEEP_TEXTURES` are kept by what they
        show (``key``): stepping back to one is no upload at all. Others go once nothing draws them."""
        import dearpygui.dearpygui as dpg

        h, w = rgba.shape[:2]
        if self._texture is not None and self._texture not in self._textures.values():
            self._stale.append(self._texture)
        texture = self._textures.pop(key, None) if key is not None else None
        if texture is None:
            texture = dpg.add_static_texture(w, h, np.ascontiguousarray(rgba, np.float32).ravel(),
                                             parent="view_textures")
        if key is not None:
            self._textures[key] = texture  # the most recent last
            while len(self._textures) > KEEP_TEXTURES:
                self._stale.append(self._textures.popitem(last=False)[1])
        self._texture = texture
        self._texture_size = (w, h)
        self._scene = None
        if self.image_size != tuple(size):
            self.image_size = tuple(size)
            self._fit_pending = True  # a new size of image: fit it

    def delete_selected(self) -> bool:
        """Remove the selected point or box (Del over the viewer); False if none is selected."""
        name = self.prompt_node()
        if self.roto.delete():
            return True
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
        if hovered and pressed[0] and not alt and self._drag is None and self.grab_wipe(mouse):
            pressed[0] = False  # the wipe's line took the click
        if self._drag is None and hovered:
            if pressed[2] or (pressed[0] and alt):
                self._drag = ("pan", mouse, list(self.origin), 2 if pressed[2] else 0)
            elif pressed[0] and not self.roto.press(mouse):
                self._press(mouse)
        elif self._drag is not None:
            self._dragging(mouse, released)
        self.roto.track(mouse, released)
        if self._fit_pending and self.image_size is not None:
            self.fit()
        if hovered and self.shown is not None:
            ix, iy = self.to_image(mouse)
            value = self.shown.value if self.shown.error is None else self.shown.plate
            k = self.proxy.factor  # a proxy value is that much smaller than the plate's pixels
            dpg.set_value("pixel", pixel_text(value, int(math.floor(ix * k)), int(math.floor(iy * k))))
        self._draw(mouse)

    # -- drawing --------------------------------------------------------------------------
    def _draw(self, mouse) -> None:
        import dearpygui.dearpygui as dpg

        progress = self.worker.progress if self.waiting else None
        live_drag = self._drag is not None and self._drag[0] in ("move", "box")
        scene = (self.zoom, tuple(self.origin), self.image_size, id(self.shown), self.waiting, progress,
                 self.selected, tuple(mouse) if live_drag else None, self.model.frame,
                 int(time.monotonic() * 8) if self.waiting else 0, self.roto.scene(mouse))
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
            self.draw_images(dim)
            self._draw_prompts(mouse)
            self.roto.draw(self.TAG)
        dpg.set_value("view_zoom", f"{self.zoom * 100:.0f}%")
        if self.waiting:
            self._draw_waiting(progress)

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
        """What the viewer shows, for the probe."""
        x, y, w, h = self._rect()
        res = self.shown
        return {"wipe": self.describe_wipe(),
                "rect": [x, y, w, h], "zoom": self.zoom, "origin": [x + self.origin[0], y + self.origin[1]],
                "image": list(self.image_size) if self.image_size else None, "mode": self.mode,
                "prompt_mode": self.prompt_mode, "object": self.obj, "waiting": self.waiting,
                "latency": self.latency, "proxy": self.proxy.factor,
                "texture": list(self._texture_size) if self._texture_size else None,
                "shown": [res.node, res.frame, res.error] if res is not None else None,
                "selected_prompt": list(self.selected.__dict__.values()) if self.selected else None,
                "roto": self.roto.describe()}
