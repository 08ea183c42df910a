"""The DearPyGui window: node canvas, palette, inspector, viewer, timeline and render panel.

All state lives in :class:`~rotograph.editor.model.EditorModel`; this module only draws it and
turns clicks and keys into model edits. The canvas is rebuilt from the model after every change
(graphs are small, and a view that is always a function of the model cannot drift from it).
Evaluation runs on :class:`~rotograph.editor.worker.EvalWorker`'s thread and renders on their own
threads, so the UI never waits for a node.
"""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np

import rotograph
from rotograph.errors import RotographError
from rotograph.params import Color, FileIn, FileOut, MovieOut, Prompts

from .display import MODES, pixel_text, to_display
from .model import EditorModel
from .worker import EvalWorker

RECENT_FILE = os.path.join(os.path.expanduser("~"), ".config", "rotograph", "recent.json")


class Cancelled(Exception):
    pass


class EditorApp:
    """``EditorApp(model).run()`` opens the window; tests drive it with :meth:`start`,
    :meth:`pump` and :meth:`screenshot`."""

    def __init__(self, model: EditorModel, cache=None, size=(1600, 900)):
        self.model = model
        self.size = size
        self.worker = EvalWorker(model.registry, cache or rotograph.open_cache(memory_bytes="1G"))
        self.view_mode = "rgb"
        self.prompt_mode = "point +"
        self.last_result = None
        self.requested = None
        self.texture_size = None
        self.playing = False
        self.status = ""
        self.render_state = {"thread": None, "cancel": False, "done": 0, "total": 0, "message": ""}
        self._pending_view = True
        self._drag_start = None
        self._positions: dict[str, list[int]] = {}
        self.view_offset = [0, 0]  # canvas view = graph position − offset (F frames all)
        self._link_dst: dict[int, str] = {}
        self._attr_ref: dict[int, str] = {}
        model.subscribe(lambda what: self._model_changed(what))

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        import dearpygui.dearpygui as dpg

        self.dpg = dpg
        dpg.create_context()
        self._themes()
        self._build()
        dpg.create_viewport(title="rotograph", width=self.size[0], height=self.size[1])
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window("main", True)
        self._rebuild_canvas()
        self._rebuild_inspector()

    def run(self) -> None:
        self.start()
        while self.dpg.is_dearpygui_running():
            self._tick()
            self.dpg.render_dearpygui_frame()
        self.close()

    def pump(self, frames: int = 1) -> None:
        for _ in range(frames):
            self._tick()
            self.dpg.render_dearpygui_frame()

    def wait_for_view(self, timeout: float = 60.0) -> None:
        """Pump frames until the viewer shows the current request (tests)."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            self.pump()
            r = self.last_result
            if not self._pending_view and r is not None and (r.node, r.frame) == self.requested:
                return
            time.sleep(0.01)
        raise TimeoutError("the viewer did not update")

    def screenshot(self) -> np.ndarray:
        """The window's pixels, float32 H×W×4."""
        shot = {}
        self.dpg.output_frame_buffer(callback=lambda s, buf: shot.setdefault(
            "img", np.array(buf, dtype=np.float32).reshape(buf.get_height(), buf.get_width(), 4)))
        for _ in range(3):
            self.dpg.render_dearpygui_frame()
        return shot["img"]

    def close(self) -> None:
        self.worker.close()
        self.dpg.destroy_context()

    # -- building the window --------------------------------------------------------------
    def _font(self) -> None:
        """A font with the Greek, arrows and maths glyphs the docstrings use (DejaVu Sans)."""
        dpg = self.dpg
        for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/Library/Fonts/Arial Unicode.ttf",
                     "C:/Windows/Fonts/arial.ttf"):
            if os.path.exists(path):
                with dpg.font_registry(), dpg.font(path, 15) as font:
                    dpg.add_font_range_hint(dpg.mvFontRangeHint_Default)
                    dpg.add_font_range(0x0370, 0x03FF)  # Greek (σ, α)
                    dpg.add_font_range(0x2000, 0x22FF)  # punctuation, arrows, maths (—, …, →, ×, ≤)
                dpg.bind_font(font)
                return

    def _themes(self) -> None:
        dpg = self.dpg
        self._font()
        self.pin_themes = {}
        for name, ptype in self.model.registry.port_types.items():
            with dpg.theme() as t, dpg.theme_component(dpg.mvNodeAttribute):
                dpg.add_theme_color(dpg.mvNodeCol_Pin, (*ptype.color, 255), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_color(dpg.mvNodeCol_PinHovered, (255, 255, 255, 255), category=dpg.mvThemeCat_Nodes)
            self.pin_themes[name] = t
        with dpg.theme() as self.error_theme, dpg.theme_component(dpg.mvNode):
            dpg.add_theme_color(dpg.mvNodeCol_TitleBar, (170, 40, 40, 255), category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_color(dpg.mvNodeCol_TitleBarSelected, (210, 60, 60, 255), category=dpg.mvThemeCat_Nodes)

    def _build(self) -> None:
        dpg = self.dpg
        w, h = self.size
        with dpg.texture_registry(tag="textures"):
            pass
        with dpg.window(tag="main"):
            with dpg.menu_bar():
                with dpg.menu(label="File"):
                    dpg.add_menu_item(label="New", callback=lambda: self.new())
                    dpg.add_menu_item(label="Open...", callback=lambda: self._file_dialog("open"))
                    dpg.add_menu_item(label="Save  (Ctrl+S)", callback=lambda: self.save())
                    dpg.add_menu_item(label="Save as...", callback=lambda: self._file_dialog("save"))
                    with dpg.menu(label="Recent", tag="recent_menu"):
                        pass
                with dpg.menu(label="Edit"):
                    dpg.add_menu_item(label="Undo  (Ctrl+Z)", callback=lambda: self.model.undo())
                    dpg.add_menu_item(label="Redo  (Ctrl+Shift+Z)", callback=lambda: self.model.redo())
                    dpg.add_menu_item(label="Duplicate  (Ctrl+D)", callback=lambda: self.duplicate())
                    dpg.add_menu_item(label="Delete  (Del)", callback=lambda: self.delete())
                    dpg.add_menu_item(label="Add node...  (Tab)", callback=lambda: self.open_palette())
                    dpg.add_menu_item(label="Group selection  (Ctrl+G)", callback=lambda: self.group())
            with dpg.group(horizontal=True):
                with dpg.child_window(width=int(w * 0.5), height=h - 250, tag="canvas_panel"):
                    dpg.add_node_editor(tag="canvas", callback=self._on_link, delink_callback=self._on_delink,
                                        minimap=True, minimap_location=dpg.mvNodeMiniMap_Location_BottomRight)
                with dpg.group():
                    with dpg.child_window(width=-1, height=int((h - 250) * 0.62), tag="viewer_panel"):
                        with dpg.group(horizontal=True):
                            dpg.add_combo(MODES, default_value="rgb", width=90, tag="view_mode",
                                          callback=lambda s, a: self._set_view_mode(a))
                            dpg.add_combo(("point +", "point -", "box"), default_value="point +", width=90,
                                          tag="prompt_mode", callback=lambda s, a: setattr(self, "prompt_mode", a))
                            dpg.add_text("", tag="pixel")
                        with dpg.plot(tag="viewer", width=-1, height=-30, equal_aspects=True, no_menus=True,
                                      no_box_select=True):
                            dpg.add_plot_axis(dpg.mvXAxis, tag="vx", no_tick_labels=True)
                            dpg.add_plot_axis(dpg.mvYAxis, tag="vy", no_tick_labels=True)
                        dpg.add_text("", tag="view_status")
                    with dpg.child_window(width=-1, height=(h - 250) - int((h - 250) * 0.62) - 4, tag="inspector"):
                        pass
            with dpg.child_window(height=150, width=-1, tag="bottom"):
                with dpg.group(horizontal=True):
                    dpg.add_button(label="|<", callback=lambda: self.jump_keyframe(-1))
                    dpg.add_button(label="<", callback=lambda: self.step(-1))
                    dpg.add_button(label="play", tag="play", callback=lambda: self.toggle_play())
                    dpg.add_button(label=">", callback=lambda: self.step(1))
                    dpg.add_button(label=">|", callback=lambda: self.jump_keyframe(1))
                    dpg.add_slider_int(tag="frame", width=-320, min_value=1001, max_value=1100,
                                       default_value=self.model.frame, callback=lambda s, a: self.set_frame(a))
                    dpg.add_input_int(tag="in", label="in", width=100, step=0, default_value=1001)
                    dpg.add_input_int(tag="out", label="out", width=100, step=0, default_value=1100)
                dpg.add_drawlist(tag="cachebar", width=max(200, w - 340), height=8)
                with dpg.group(horizontal=True):
                    dpg.add_button(label="Render writers in->out", tag="render_btn", callback=lambda: self.render())
                    dpg.add_button(label="Cancel", callback=lambda: self.render_state.update(cancel=True))
                    dpg.add_progress_bar(tag="render_progress", width=300, default_value=0.0)
                    dpg.add_text("", tag="render_status")
                dpg.add_text("", tag="status")
        with dpg.window(label="Add node", tag="palette", show=False, modal=False, popup=False, width=320,
                        height=360, no_collapse=True):
            dpg.add_input_text(tag="palette_filter", hint="search...", width=-1,
                               callback=lambda s, a: self._fill_palette(a), on_enter=True)
            dpg.add_listbox([], tag="palette_list", width=-1, num_items=14,
                            callback=lambda s, a: self.add_from_palette(a))
        with dpg.handler_registry():
            dpg.add_key_press_handler(dpg.mvKey_Tab, callback=lambda: self.open_palette())
            dpg.add_key_press_handler(dpg.mvKey_Delete, callback=lambda: self._unless_typing(self.delete))
            dpg.add_key_press_handler(dpg.mvKey_Spacebar, callback=lambda: self._unless_typing(self.toggle_play))
            dpg.add_key_press_handler(dpg.mvKey_Left, callback=lambda: self._unless_typing(lambda: self.step(-1)))
            dpg.add_key_press_handler(dpg.mvKey_Right, callback=lambda: self._unless_typing(lambda: self.step(1)))
            dpg.add_key_press_handler(dpg.mvKey_Open_Brace,
                                      callback=lambda: self._unless_typing(lambda: self.jump_keyframe(-1)))
            dpg.add_key_press_handler(dpg.mvKey_Close_Brace,
                                      callback=lambda: self._unless_typing(lambda: self.jump_keyframe(1)))
            dpg.add_key_press_handler(dpg.mvKey_Z, callback=lambda: self._ctrl_z())
            dpg.add_key_press_handler(dpg.mvKey_S, callback=lambda: self._ctrl(self.save))
            dpg.add_key_press_handler(dpg.mvKey_D, callback=lambda: self._ctrl(self.duplicate))
            dpg.add_key_press_handler(dpg.mvKey_G, callback=lambda: self._ctrl(self.group))
            dpg.add_key_press_handler(dpg.mvKey_F, callback=lambda: self._unless_typing(self.frame_all))
            dpg.add_mouse_release_handler(callback=lambda: self._mouse_released())
            dpg.add_mouse_click_handler(callback=lambda s, a: self._mouse_clicked(a))
        self._fill_palette("")
        self._fill_recent()

    # -- keyboard helpers -----------------------------------------------------------------
    def _typing(self) -> bool:
        return self.dpg.is_item_focused("palette_filter") or any(
            self.dpg.is_item_active(i) for i in self.dpg.get_item_children("inspector", 1) or [])

    def _unless_typing(self, fn) -> None:
        if not self._typing():
            fn()

    def _ctrl(self, fn) -> None:
        if self.dpg.is_key_down(self.dpg.mvKey_LControl) or self.dpg.is_key_down(self.dpg.mvKey_RControl):
            fn()

    def _ctrl_z(self) -> None:
        shift = self.dpg.is_key_down(self.dpg.mvKey_LShift) or self.dpg.is_key_down(self.dpg.mvKey_RShift)
        self._ctrl(self.model.redo if shift else self.model.undo)

    # -- model ↔ canvas -------------------------------------------------------------------
    def _model_changed(self, what: str) -> None:
        if not hasattr(self, "dpg"):
            return
        self._rebuild_canvas()
        self._rebuild_inspector()
        self._pending_view = True
        self.status = what

    def _rebuild_canvas(self) -> None:
        dpg, g = self.dpg, self.model.graph
        dpg.delete_item("canvas", children_only=True)
        self._attr_ref.clear()
        self._link_dst.clear()
        attr_ids: dict[tuple[str, str], int] = {}  # ("in"/"out", "node.port") → attribute
        owner = {n: gname for gname, grp in g.groups.items() for n in grp.nodes}

        def pin(kind, ref, label, ptype, node_tag):
            with dpg.node_attribute(attribute_type=dpg.mvNode_Attr_Input if kind == "in" else dpg.mvNode_Attr_Output,
                                    parent=node_tag) as a:
                dpg.add_text(label, indent=0 if kind == "in" else 60)
            dpg.bind_item_theme(a, self.pin_themes[ptype])
            self._attr_ref[a] = ref
            attr_ids[(kind, ref)] = a

        for name, node in g.nodes.items():
            if name in owner:
                continue
            pos = g.ui.get(name, {}).get("pos", [0, 0])
            tag = dpg.add_node(label=f"{name}  ({node.type_id.rsplit('.', 1)[-1]})", tag=f"node:{name}",
                               parent="canvas", pos=self._to_view(pos))
            for port, inp in node.inputs.items():
                pin("in", f"{name}.{port}", port + (" (opt)" if inp.optional else ""), inp.type.name, tag)
            for port, out in node.outputs.items():
                pin("out", f"{name}.{port}", port, out.type.name, tag)
            if name in self.worker.errors:
                dpg.bind_item_theme(tag, self.error_theme)
            self._positions[name] = list(pos)
        for gname, grp in g.groups.items():  # a group is drawn as one node with its interface
            pos = g.ui.get(gname, {}).get("pos", g.ui.get(grp.nodes[0], {}).get("pos", [0, 0]))
            tag = dpg.add_node(label=f"{gname}  (Group)", tag=f"node:{gname}", parent="canvas",
                               pos=self._to_view(pos))
            for port, refs in grp.inputs.items():
                n, p = refs[0].split(".")
                pin("in", f"{gname}.{port}", port, g.nodes[n].inputs[p].type.name, tag)
            for port, ref in grp.outputs.items():
                n, p = ref.split(".")
                pin("out", f"{gname}.{port}", port, g.nodes[n].outputs[p].type.name, tag)
            self._positions[gname] = list(pos)
        drawn = set()
        for name in g.nodes:
            for port, (src, out) in g.inputs_of(name).items():
                if name in owner and src in owner and owner[name] == owner[src]:
                    continue  # inside one group
                s_ref = f"{src}.{out}"
                if src in owner:
                    grp = g.groups[owner[src]]
                    s_ref = next(f"{owner[src]}.{p}" for p, r in grp.outputs.items() if r == s_ref)
                d_ref = f"{name}.{port}"
                if name in owner:
                    grp = g.groups[owner[name]]
                    d_ref = next(f"{owner[name]}.{p}" for p, refs in grp.inputs.items() if d_ref in refs)
                if (s_ref, d_ref) in drawn:
                    continue
                drawn.add((s_ref, d_ref))
                link = dpg.add_node_link(attr_ids[("out", s_ref)], attr_ids[("in", d_ref)], parent="canvas")
                self._link_dst[link] = d_ref
        self._update_timeline_range()

    def _to_view(self, pos) -> list[int]:
        return [int(pos[0]) - self.view_offset[0], int(pos[1]) - self.view_offset[1]]

    def frame_all(self) -> None:
        """Frame the graph (F): recreate the canvas with its panning reset and the top left of
        the selection's (or every node's) bounding box in view. DearPyGui's node editor cannot
        zoom, so a graph wider than the canvas is framed from its top left. Node positions in
        the graph do not change."""
        g = self.model.graph
        hidden = {n for grp in g.groups.values() for n in grp.nodes}
        names = [n for n in self.model.selection if n not in hidden] or [*g.nodes, *g.groups]
        pts = [g.ui.get(n, {}).get("pos", [0, 0]) for n in names if n not in hidden]
        if not pts:
            return
        self.view_offset = [min(p[0] for p in pts) - 20, min(p[1] for p in pts) - 20]
        self.dpg.delete_item("canvas")
        self.dpg.add_node_editor(tag="canvas", parent="canvas_panel", callback=self._on_link,
                                 delink_callback=self._on_delink, minimap=True,
                                 minimap_location=self.dpg.mvNodeMiniMap_Location_BottomRight)
        self._rebuild_canvas()

    def _on_link(self, sender, app_data) -> None:
        a, b = app_data
        src, dst = self._attr_ref.get(a), self._attr_ref.get(b)
        try:
            self.model.connect(src, dst)
        except RotographError as e:
            self.status = f"refused: {e}"
            self.dpg.set_value("status", self.status)

    def _on_delink(self, sender, link) -> None:
        dst = self._link_dst.get(link)
        if dst:
            self.model.disconnect(dst)

    def selected(self) -> list[str]:
        ids = self.dpg.get_selected_nodes("canvas")
        return [self.dpg.get_item_alias(i)[len("node:"):] for i in ids if self.dpg.get_item_alias(i)]

    def select(self, names) -> None:
        """Select nodes (view and model), as a click would."""
        self.dpg.clear_selected_nodes("canvas")
        self.model.selection = set(names)
        self._rebuild_inspector()
        self._pending_view = True

    def _mouse_released(self) -> None:
        moved = {}
        for name in [*self.model.graph.nodes, *self.model.graph.groups]:
            tag = f"node:{name}"
            if self.dpg.does_item_exist(tag):
                view = self.dpg.get_item_pos(tag)
                pos = [int(view[0]) + self.view_offset[0], int(view[1]) + self.view_offset[1]]
                if pos != self._positions.get(name):
                    moved[name] = pos
        if moved:
            self.model.move_nodes(moved)
        sel = set(self.selected())
        if sel and sel != self.model.selection:
            self.model.selection = sel
            self._rebuild_inspector()
            self._pending_view = True
        if self._drag_start is not None:
            end = self._viewer_pixel()
            start, self._drag_start = self._drag_start, None
            if end and self.prompt_mode == "box":
                self.add_box(start, end)

    def _mouse_clicked(self, button) -> None:
        if not self.dpg.is_item_hovered("viewer") or button != 0:
            return
        px = self._viewer_pixel()
        if px is None:
            return
        if self.prompt_mode == "box":
            self._drag_start = px
        else:
            self.add_point(px[0], px[1], 1 if self.prompt_mode == "point +" else 0)

    # -- palette --------------------------------------------------------------------------
    def _fill_palette(self, text: str) -> None:
        from rotograph.groups import list_templates

        words = text.lower().split()
        names = list(self.model.registry.node_types) + [f"template:{t}" for t in list_templates()]
        items = [t for t in names if all(w in t.lower() for w in words)]
        self.dpg.configure_item("palette_list", items=items)
        if text and items:
            self.dpg.set_value("palette_list", items[0])

    def open_palette(self) -> None:
        if self._typing():
            return
        x, y = self.dpg.get_mouse_pos(local=False)
        self.dpg.configure_item("palette", show=True, pos=(int(x), int(y)))
        self.dpg.set_value("palette_filter", "")
        self._fill_palette("")
        self.dpg.focus_item("palette_filter")

    def add_from_palette(self, type_id: str, pos=None) -> str:
        if pos is None:
            x, y = self.dpg.get_item_pos("palette")
            pos = (max(0, int(x) - 20), max(0, int(y) - 60))
        self.dpg.configure_item("palette", show=False)
        if type_id.startswith("template:"):
            from rotograph.groups import list_templates

            return self.model.insert_template(list_templates()[type_id[len("template:"):]], pos)
        return self.model.add_node(type_id, pos)

    # -- inspector ------------------------------------------------------------------------
    def _rebuild_inspector(self) -> None:
        dpg = self.dpg
        dpg.delete_item("inspector", children_only=True)
        sel = [n for n in self.model.selection if n in self.model.graph.nodes or n in self.model.graph.groups]
        if len(sel) != 1:
            dpg.add_text("Select one node to edit its parameters." if not sel else f"{len(sel)} nodes selected",
                         parent="inspector")
            return
        name = sel[0]
        if name in self.model.graph.groups:
            grp = self.model.graph.groups[name]
            dpg.add_text(f"{name} - group of {', '.join(grp.nodes)}", parent="inspector", color=(230, 200, 60),
                         wrap=0)
            for exposed, ref in grp.params.items():
                n, p = ref.split(".")
                self._param_widget(n, self.model.graph.nodes[n], p, self.model.graph.nodes[n].params[p], label=exposed)
            dpg.add_button(label="Save as template", parent="inspector",
                           callback=lambda: setattr(self, "status", f"saved {self.model.save_template(name)}"))
            return
        node = self.model.graph.nodes[name]
        dpg.add_text(f"{name} - {node.type_id} v{node.version}", parent="inspector", color=(230, 200, 60))
        for pname, p in node.params.items():
            self._param_widget(name, node, pname, p)
        if name in self.worker.errors:
            dpg.add_text(f"last error: {self.worker.errors[name]}", parent="inspector", wrap=0, color=(240, 90, 90))
        dpg.add_separator(parent="inspector")
        import inspect

        dpg.add_text(inspect.cleandoc(node.__doc__ or ""), parent="inspector", wrap=0, color=(170, 170, 170))

    def _param_widget(self, name, node, pname, p, label=None) -> None:
        dpg = self.dpg
        value = getattr(node, pname)
        label = label or p.ui.get("label", pname)

        def setter(s, a, n=name, k=pname):
            try:
                self.model.set_param(n, k, a)
            except RotographError as e:
                self.status = str(e)

        kw = dict(label=label, parent="inspector", width=-160, callback=setter)
        if p.choices:
            dpg.add_combo([str(c) for c in p.choices], default_value=str(value),
                          **{**kw, "callback": lambda s, a, n=name, k=pname, t=p.type: setter(s, t(a), n, k)})
        elif p.type is bool:
            dpg.add_checkbox(default_value=value, label=label, parent="inspector", callback=setter)
        elif p.type is float:
            lo, hi = p.range or (-1e6, 1e6)
            dpg.add_slider_float(default_value=value, min_value=lo, max_value=hi, **kw) if p.range else \
                dpg.add_input_float(default_value=value, **kw)
        elif p.type is int:
            lo, hi = p.range or (-10**9, 10**9)
            dpg.add_input_int(default_value=value, min_value=lo, max_value=hi, min_clamped=True, max_clamped=True,
                              **{**kw, "on_enter": True})
        elif p.type is Color:
            dpg.add_color_edit(default_value=[min(1.0, v) * 255 for v in value] + [255], no_alpha=True,
                               **{**kw, "callback": lambda s, a, n=name, k=pname: setter(s, [float(c) for c in a[:3]], n, k)})
        elif p.type is Prompts:
            frames = sorted({k["frame"] for k in value})
            dpg.add_text(f"{label}: keyframes {frames or 'none'} - click the viewer to add", parent="inspector")
            dpg.add_button(label="clear prompts on this frame", parent="inspector",
                           callback=lambda n=name, k=pname: self.model.set_param(
                               n, k, [kf for kf in getattr(self.model.graph.nodes[n], k) if kf["frame"] != self.model.frame]))
        else:  # strings and paths
            with dpg.group(horizontal=True, parent="inspector"):
                tag = dpg.add_input_text(default_value=value, label=label, width=-200, on_enter=True, callback=setter)
                if isinstance(p.type, type) and issubclass(p.type, (FileIn, FileOut, MovieOut)):
                    dpg.add_button(label="...", callback=lambda s, a, t=tag, n=name, k=pname: self._file_dialog(
                        "param", target=(n, k)))
        if p.doc:
            with dpg.tooltip(dpg.last_item()):
                dpg.add_text(p.doc)

    # -- viewer ---------------------------------------------------------------------------
    def _set_view_mode(self, mode: str) -> None:
        self.view_mode = mode
        self._pending_view = True

    def _viewed(self):
        """The node the viewer shows: the selected node, or a selected group's first output."""
        g = self.model.graph
        sel = [n for n in self.model.selection if n in g.nodes or n in g.groups]
        if len(sel) != 1:
            return None
        if sel[0] in g.groups:
            outs = list(g.groups[sel[0]].outputs.values())
            return outs[0].split(".")[0] if outs else None
        return sel[0]

    def _plate_for(self, name: str):
        """The Read upstream of ``name`` (for matte overlays)."""
        g = self.model.graph
        for n in reversed(g.topological()):
            if n in g.upstream([name]) and g.nodes[n].type_id == "rotograph.Read":
                return n
        return None

    def _request_view(self) -> None:
        name = self._viewed()
        if name is None:
            return
        node = self.model.graph.nodes[name]
        output = next((o for o, p in node.outputs.items() if p.type.name != "File"), None)
        if node.is_writer:  # show what the writer receives
            links = self.model.graph.inputs_of(name)
            if not links:
                return
            name, output = next(iter(links.values()))
        plate = self._plate_for(name) if self.view_mode == "overlay" else None
        self.requested = (name, self.model.frame)
        self.worker.request(rotograph.dumps(self.model.graph), name, output, self.model.frame, plate)
        self.dpg.set_value("view_status", f"evaluating {name} at {self.model.frame}...")

    def _show(self, res) -> None:
        dpg = self.dpg
        self.last_result = res
        if res.error:
            dpg.set_value("view_status", f"error: {res.error}")
            self._rebuild_canvas()
            return
        try:
            rgba = to_display(res.value, self.view_mode, res.plate)
        except TypeError as e:
            dpg.set_value("view_status", str(e))
            return
        h, w = rgba.shape[:2]
        if self.texture_size != (w, h):
            if dpg.does_item_exist("view_tex"):
                dpg.delete_item("view_series")
                dpg.delete_item("view_tex")
            dpg.add_raw_texture(w, h, rgba.ravel(), format=dpg.mvFormat_Float_rgba, tag="view_tex", parent="textures")
            dpg.add_image_series("view_tex", (0, 0), (w, h), parent="vy", tag="view_series")
            dpg.fit_axis_data("vx")
            dpg.fit_axis_data("vy")
            self.texture_size = (w, h)
        else:
            dpg.set_value("view_tex", rgba.ravel())
        dpg.set_value("view_status", f"{res.node} @ {res.frame}: {w}x{h}, {res.seconds * 1000:.0f} ms")
        if self.worker.errors.keys() & set(self.model.graph.nodes):
            self._rebuild_canvas()

    def _viewer_pixel(self):
        if self.texture_size is None:
            return None
        x, y = self.dpg.get_plot_mouse_pos()
        w, h = self.texture_size
        px, py = int(x), int(h - y)
        return (px, py) if 0 <= px < w and 0 <= py < h else None

    # -- prompts --------------------------------------------------------------------------
    def _prompt_node(self):
        name = self._viewed()
        node = self.model.graph.nodes.get(name) if name else None
        return name if node is not None and "prompts" in node.params else None

    def add_point(self, x: float, y: float, label: int = 1) -> bool:
        name = self._prompt_node()
        if name is None:
            self.status = "select a node with prompts (FlowTrack, SAM3...) to add points"
            return False
        self.model.add_prompt(name, self.model.frame, point=(float(x), float(y), label))
        return True

    def add_box(self, a, b) -> bool:
        name = self._prompt_node()
        if name is None:
            return False
        x0, x1 = sorted((a[0], b[0]))
        y0, y1 = sorted((a[1], b[1]))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return False
        self.model.add_prompt(name, self.model.frame, box=(x0, y0, x1, y1))
        return True

    # -- timeline -------------------------------------------------------------------------
    def _update_timeline_range(self) -> None:
        ranges = [r for r in (self.model.evaluator_range(n) for n in self.model.graph.nodes) if r]
        if ranges:
            lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
            self.dpg.configure_item("frame", min_value=lo, max_value=hi)
            if not getattr(self, "_range_set", False):
                self.dpg.set_value("in", lo)
                self.dpg.set_value("out", hi)
                self._range_set = True

    def set_frame(self, frame: int) -> None:
        lo = self.dpg.get_item_configuration("frame")["min_value"]
        hi = self.dpg.get_item_configuration("frame")["max_value"]
        self.model.frame = int(min(max(frame, lo), hi))
        self.dpg.set_value("frame", self.model.frame)
        self._pending_view = True

    def step(self, delta: int) -> None:
        self.set_frame(self.model.frame + delta)

    def jump_keyframe(self, direction: int) -> None:
        keys = sorted({k for n in self.model.graph.nodes for k in self.model.keyframes(n)})
        f = self.model.frame
        target = [k for k in keys if (k > f if direction > 0 else k < f)]
        if target:
            self.set_frame(target[0] if direction > 0 else target[-1])

    def toggle_play(self) -> None:
        self.playing = not self.playing
        self.dpg.configure_item("play", label="stop" if self.playing else "play")

    def _draw_cache_bar(self) -> None:
        dpg = self.dpg
        name = self._viewed()
        dpg.delete_item("cachebar", children_only=True)
        if name is None:
            return
        cfg = dpg.get_item_configuration("frame")
        lo, hi = cfg["min_value"], cfg["max_value"]
        frames = range(lo, hi + 1)
        cached = self.worker.cached_frames(rotograph.dumps(self.model.graph), name, frames)
        width = dpg.get_item_width("cachebar") or 400
        for f in cached:
            x = (f - lo) / max(hi - lo, 1) * (width - 2)
            dpg.draw_rectangle((x, 0), (x + max(1, width / max(len(frames), 1)), 8), fill=(80, 200, 90, 255),
                               color=(80, 200, 90, 255), parent="cachebar")

    # -- files ----------------------------------------------------------------------------
    def new(self) -> None:
        self._replace_model(EditorModel(self.model.registry))

    def open(self, path: str) -> None:
        try:
            self._replace_model(EditorModel.open(path, self.model.registry))
            self._remember(path)
        except RotographError as e:
            self.status = f"cannot open: {e}"

    def save(self, path: str | None = None) -> None:
        try:
            saved = self.model.save(path)
            self._remember(saved)
            self.status = f"saved {saved}"
        except RotographError as e:
            self.status = str(e)

    def _replace_model(self, model: EditorModel) -> None:
        self.model = model
        model.subscribe(lambda what: self._model_changed(what))
        self._range_set = False
        self._model_changed("opened")

    def _remember(self, path: str) -> None:
        recent = self.recent_files()
        recent = [os.path.abspath(path)] + [p for p in recent if p != os.path.abspath(path)]
        os.makedirs(os.path.dirname(RECENT_FILE), exist_ok=True)
        with open(RECENT_FILE, "w") as f:
            json.dump(recent[:10], f)
        self._fill_recent()

    @staticmethod
    def recent_files() -> list[str]:
        try:
            with open(RECENT_FILE) as f:
                return [p for p in json.load(f) if isinstance(p, str)]
        except (OSError, ValueError):
            return []

    def _fill_recent(self) -> None:
        self.dpg.delete_item("recent_menu", children_only=True)
        for p in self.recent_files():
            self.dpg.add_menu_item(label=p, parent="recent_menu", callback=lambda s, a, u: self.open(u), user_data=p)

    def _file_dialog(self, purpose: str, target=None) -> None:
        dpg = self.dpg

        def done(sender, app_data):
            path = app_data.get("file_path_name")
            if not path:
                return
            if purpose == "open":
                self.open(path)
            elif purpose == "save":
                self.save(path)
            else:
                self.model.set_param(target[0], target[1], path)

        with dpg.file_dialog(directory_selector=False, show=True, callback=done, width=700, height=400,
                             modal=True):
            dpg.add_file_extension(".json" if purpose != "param" else ".*")

    # -- editing shortcuts ----------------------------------------------------------------
    def delete(self) -> None:
        names = self.selected() or list(self.model.selection)
        self.model.remove_nodes(names)

    def group(self, name: str | None = None) -> None:
        chosen = set(self.selected() or self.model.selection)
        names = [n for n in self.model.graph.topological() if n in chosen]  # a stable order
        if not names:
            return
        from rotograph.groups import unique_name

        name = name or unique_name("group", set(self.model.graph.nodes) | set(self.model.graph.groups))
        try:
            self.model.collapse(names, name)
        except RotographError as e:
            self.status = str(e)

    def duplicate(self) -> None:
        names = self.selected() or list(self.model.selection)
        if names:
            self.model.duplicate(names)

    # -- rendering ------------------------------------------------------------------------
    def render(self, frames: str | None = None) -> None:
        """Render the writers over ``frames`` (default: in->out) on a thread."""
        st = self.render_state
        if st["thread"] is not None and st["thread"].is_alive():
            return
        frames = frames or f"{self.dpg.get_value('in')}-{self.dpg.get_value('out')}"
        graph = rotograph.loads(rotograph.dumps(self.model.graph), self.model.registry)
        st.update(cancel=False, done=0, total=0, message=f"rendering {frames}...")

        def progress(report):
            st.update(done=len(report.done), total=len(report.frames))
            if st["cancel"]:
                raise Cancelled()

        def run():
            try:
                r = rotograph.render(graph, frames, cache=self.worker.cache, progress=progress)
                st["message"] = (f"rendered {len(r.done)} frames in {r.seconds:.1f}s" if r.ok else
                                 f"error: {r.error or next(iter(r.failed.values()))}")
            except Cancelled:
                st["message"] = f"cancelled after {st['done']} frames"
            except RotographError as e:
                st["message"] = f"error: {e}"

        st["thread"] = threading.Thread(target=run, daemon=True, name="rotograph-render")
        st["thread"].start()

    # -- the per-frame tick ---------------------------------------------------------------
    def _tick(self) -> None:
        dpg = self.dpg
        if self.playing:
            nxt = self.model.frame + 1
            self.set_frame(nxt if nxt <= dpg.get_value("out") else dpg.get_value("in"))
        if self._pending_view:
            self._pending_view = False
            self._request_view()
        res = self.worker.result()
        if res is not None:
            self._show(res)
            self._draw_cache_bar()
        if self.last_result is not None and dpg.is_item_hovered("viewer"):
            px = self._viewer_pixel()
            dpg.set_value("pixel", pixel_text(self.last_result.value, *px) if px else "")
        st = self.render_state
        if st["total"]:
            dpg.set_value("render_progress", st["done"] / st["total"])
        dpg.set_value("render_status", st["message"])
        dpg.set_value("status", self.status)


def main(path: str | None = None) -> int:
    model = EditorModel.open(path) if path else EditorModel()
    EditorApp(model).run()
    return 0
