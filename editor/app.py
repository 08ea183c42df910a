"""The DearPyGui window: menus, layout, keyboard shortcuts and the per-frame loop that drives the
panels — canvas (:mod:`.canvas`, with the :mod:`.palette`), inspector (:mod:`.inspector`),
viewer (:mod:`.viewer`), timeline (:mod:`.timeline`) and render panel (:mod:`.render_panel`).

The panels never call each other: each changes the :class:`~rotograph.editor.model.EditorModel`
and redraws on its events. This module only builds the window, routes keys and the wheel to the
panel under the mouse, and runs DearPyGui's callbacks on the UI thread (manual callback
management), so that no callback races the frame loop.
"""

from __future__ import annotations

import json
import os
import time

import rotograph
from rotograph.errors import RotographError

from .canvas import BASE_FONT, ZOOM_FONTS, Canvas
from .inspector import Inspector
from .idle import Wakeup
from .items import held
from .model import EditorModel
from .palette import FILTER, Palette
from .render_panel import RenderPanel
from .timeline import Timeline
from .viewer import Viewer
from .services import Services, check_display
from .widgets import WidgetKinds
from .worker import EvalWorker

RECENT_FILE = os.path.join(os.path.expanduser("~"), ".config", "rotograph", "recent.json")
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/Library/Fonts/Arial Unicode.ttf",
              "C:/Windows/Fonts/arial.ttf")
MAX_FPS = 60
AWAKE = 0.5  # seconds of frames at MAX_FPS after any event
WAIT_FOR_RESULT = 0.2  # after a request, the longest the next frame waits for the worker's result


class EditorApp:
    """``EditorApp(model).run()`` opens the window. ``probe``: a file where the window writes
    what it shows, several times a second (tests that drive it with X events read it)."""

    def __init__(self, model: EditorModel, cache=None, size=(1600, 900), widgets: WidgetKinds | None = None,
                 probe: str | None = None):
        self.model = model
        self.size = size
        self.services = Services()
        self.worker = EvalWorker(model.registry, cache if cache is not None else rotograph.Cache())
        self.wakeup = Wakeup()
        self.worker.on_result = self.wakeup.set
        self._awake_until = 0.0
        heartbeat = os.environ.get("ROTOGRAPH_EDITOR_HEARTBEAT", "")
        self.heartbeat = float(heartbeat) if heartbeat else 60.0  # idle: a frame at least this often (s)
        self.widgets = widgets or WidgetKinds.default()
        self.canvas = Canvas(model, self.services, self.worker.errors)
        self.inspector = Inspector(model, self.widgets, self.services, self.worker.errors)
        self.viewer = Viewer(model, self.worker, self.services)
        self.timeline = Timeline(model, self.services, lambda: self.viewer.current,
                                 lambda: self.viewer.shown.cached if self.viewer.shown else [],
                                 lambda: (self.viewer.viewed() or (None,))[0])
        self.render_panel = RenderPanel(model, self.worker.cache, self.timeline.in_out)
        self.palette = Palette(model.registry, lambda entry, mouse: self.canvas.add(entry, mouse), self.services.typed)
        self.services.graph_path = lambda: self.model.path
        self.probe = probe
        self.check_graph()
        self._probe_at = 0.0
        self._errors_version = 0
        self._started = False
        model.subscribe(self._on_event, "graph", "file")

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        import dearpygui.dearpygui as dpg

        dpg.create_context()
        dpg.configure_app(manual_callback_management=True)
        fonts = self._fonts()
        self._build(fonts)
        self.wakeup.before_window()
        dpg.create_viewport(title=self.model.title, width=self.size[0], height=self.size[1], x_pos=0, y_pos=0,
                            disable_close=True, min_width=800, min_height=500)
        dpg.set_exit_callback(lambda: self.request_close())
        dpg.set_viewport_resize_callback(lambda: self._layout())
        dpg.setup_dearpygui()
        dpg.show_viewport()
        self.wakeup.after_window()
        dpg.set_primary_window("main", True)
        self._started = True
        self._awake_until = time.monotonic() + 2.0  # the first frames: sizes, fit, the first layout
        self._layout()

    def run(self) -> None:
        import dearpygui.dearpygui as dpg

        self.start()
        try:
            while dpg.is_dearpygui_running():
                t0 = time.perf_counter()
                self.pump_once()
                if self._active():
                    spare = 1 / MAX_FPS - (time.perf_counter() - t0)
                    if spare > 0:
                        time.sleep(spare)
                elif self.wakeup.wait(self.heartbeat):
                    self._awake_until = time.monotonic() + AWAKE
        finally:
            self.close()

    def _active(self) -> bool:
        """Whether the next frame must come at once: just after an event (ImGui needs a few
        frames to settle hover, popups and queued input), while a button is held, or while
        something changes on its own (an evaluation or render running, play, a pending fit).
        Otherwise the loop sleeps until an X event or a worker's news (0 % CPU at idle)."""
        import dearpygui.dearpygui as dpg

        return (time.monotonic() < self._awake_until or any(dpg.is_mouse_button_down(b) for b in range(3))
                or self.worker.busy or self.viewer.waiting or self.render_panel.animating or self.timeline.playing
                or self.canvas.settling or self.viewer.settling)

    def pump_once(self) -> None:
        import dearpygui.dearpygui as dpg

        self._run_callbacks(dpg.get_callback_queue())
        self.viewer.await_answer(WAIT_FOR_RESULT)  # a cached frame comes in milliseconds: draw it, not a frame before it
        self._tick()
        dpg.render_dearpygui_frame()
        self.viewer.drawn()

    def _run_callbacks(self, jobs) -> None:
        """DearPyGui's queued callbacks, each with as many of (sender, app_data, user_data) as it
        takes. A callback that fails is reported in the status line (its traceback on stderr)
        and the window goes on: an unexpected error never closes it with unsaved work."""
        import inspect
        import traceback

        for job in jobs or ():
            if job[0] is None:
                continue
            try:
                job[0](*job[1:1 + len(inspect.signature(job[0]).parameters)])
            except Exception as e:
                traceback.print_exc()
                self.services.status(f"internal error (nothing was lost; details on stderr): {type(e).__name__}: {e}")

    def close(self) -> None:
        import dearpygui.dearpygui as dpg

        self.worker.close()
        self.wakeup.close()
        dpg.destroy_context()

    # -- building the window --------------------------------------------------------------
    def _fonts(self) -> dict[int, int]:
        """DejaVu Sans (it has the Greek, arrows and maths glyphs the docstrings use) at the UI
        size and at each canvas zoom step."""
        import dearpygui.dearpygui as dpg

        path = next((p for p in FONT_FILES if os.path.exists(p)), None)
        if path is None:
            return {}
        fonts = {}
        with dpg.font_registry():
            for px in sorted(set(ZOOM_FONTS) | {BASE_FONT}):
                fonts[px] = dpg.add_font(path, px)  # DearPyGui 2 loads the glyphs a text needs
        dpg.bind_font(fonts[BASE_FONT])
        return fonts

    def _pin_themes(self) -> dict[str, int]:
        import dearpygui.dearpygui as dpg

        themes = {}
        for name, ptype in self.model.registry.port_types.items():
            with dpg.theme() as t, dpg.theme_component(dpg.mvNodeAttribute):
                dpg.add_theme_color(dpg.mvNodeCol_Pin, (*ptype.color, 255), category=dpg.mvThemeCat_Nodes)
                dpg.add_theme_color(dpg.mvNodeCol_PinHovered, (255, 255, 255, 255), category=dpg.mvThemeCat_Nodes)
            themes[name] = t
        return themes

    def _build(self, fonts) -> None:
        import dearpygui.dearpygui as dpg

        with dpg.window(tag="main"):
            with dpg.menu_bar():
                with dpg.menu(label="File"):
                    dpg.add_menu_item(label="New  (Ctrl+N)", callback=lambda: self.confirm_discard(self._new))
                    dpg.add_menu_item(label="Open...  (Ctrl+O)", callback=lambda: self.confirm_discard(self._open_dialog))
                    dpg.add_menu_item(label="Save  (Ctrl+S)", callback=lambda: self.save())
                    dpg.add_menu_item(label="Save as...  (Ctrl+Shift+S)", callback=lambda: self.save_as())
                    with dpg.menu(label="Recent", tag="recent_menu"):
                        pass
                    dpg.add_menu_item(label="Quit  (Ctrl+Q)", callback=lambda: self.request_close())
                with dpg.menu(label="Edit"):
                    dpg.add_menu_item(label="Undo  (Ctrl+Z)", callback=lambda: self.model.undo())
                    dpg.add_menu_item(label="Redo  (Ctrl+Shift+Z)", callback=lambda: self.model.redo())
                    dpg.add_menu_item(label="Add node...  (Tab)", callback=lambda: self.palette.open(self._mouse()))
                    dpg.add_menu_item(label="Duplicate  (Ctrl+D)", callback=lambda: self.canvas.duplicate())
                    dpg.add_menu_item(label="Delete  (Del)", callback=lambda: self.canvas.delete())
                    dpg.add_menu_item(label="Group selection  (Ctrl+G)", callback=lambda: self.canvas.group())
                with dpg.menu(label="View"):
                    dpg.add_menu_item(label="Frame nodes  (F over the graph)", callback=lambda: self.canvas.fit())
                    dpg.add_menu_item(label="Fit image  (F over the viewer)", callback=lambda: self.viewer.fit())
                    dpg.add_menu_item(label="Proxy 0.5  (Ctrl+P)", check=True, tag="proxy_menu",
                                      callback=lambda: self.viewer.toggle_proxy())
            with dpg.group(horizontal=True):
                self.canvas.build(dpg.last_container(), fonts, self._pin_themes())
                with dpg.group(tag="right_column"):
                    with dpg.child_window(tag="viewer_panel", no_scrollbar=True):
                        self.viewer.build("viewer_panel")
                    self.inspector.build("right_column")
            with dpg.child_window(tag="bottom", height=112, no_scrollbar=True):
                self.timeline.build("bottom")
                self.render_panel.build("bottom")
                dpg.add_text("", tag="status")
        self.palette.build()
        self.services.picker.build()
        with dpg.window(label="Unsaved changes", tag="confirm", modal=True, show=False, no_collapse=True,
                        no_resize=True, width=420, height=110):
            dpg.add_text("", tag="confirm_text", wrap=400)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Save", tag="confirm_save", width=110, callback=lambda: self._confirmed("save"))
                dpg.add_button(label="Don't save", tag="confirm_discard", width=110,
                               callback=lambda: self._confirmed("discard"))
                dpg.add_button(label="Cancel", tag="confirm_cancel", width=110, callback=lambda: self._confirmed(None))
        with dpg.handler_registry():
            dpg.add_key_press_handler(callback=lambda s, a: self.on_key(a))
            dpg.add_mouse_wheel_handler(callback=lambda s, a: self.on_wheel(a))
        self._fill_recent()

    def _layout(self) -> None:
        """Size the panels to the window (called when it is resized)."""
        import dearpygui.dearpygui as dpg

        w, h = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        if w <= 0 or h <= 0:
            w, h = self.size
        main_h = max(h - 112 - 56, 200)
        canvas_w = int(w * 0.46)
        right_w = w - canvas_w - 24
        viewer_h = int(main_h * 0.64)
        dpg.configure_item(Canvas.PANEL, width=canvas_w, height=main_h)
        dpg.configure_item("viewer_panel", width=right_w, height=viewer_h)
        dpg.configure_item(Inspector.TAG, width=right_w, height=main_h - viewer_h - 4)
        self.viewer.resize(right_w - 16, viewer_h - 66)
        self.timeline.resize(w - 32)
        if (w, h) != getattr(self, "_laid_out", None):
            self._laid_out = (w, h)
            self.canvas.refit()

    # -- events ---------------------------------------------------------------------------
    def _on_event(self, event: str, detail: str) -> None:
        import dearpygui.dearpygui as dpg

        if self._started:
            dpg.set_viewport_title(self.model.title)
        if event == "graph":
            self.services.status(detail)
        elif detail in ("opened", "new"):
            self.check_graph()

    def check_graph(self) -> None:
        """Flag what would stop a render (a missing input file, an unconnected input) on the
        nodes and in the status line, as soon as a graph opens."""
        self.worker.errors.clear()
        self.worker.errors_version += 1
        problems = self.worker.check(self.model.graph)
        if problems:
            more = f" (and {len(problems) - 1} more, marked red)" if len(problems) > 1 else ""
            self.services.status(f"to fix before rendering: {problems[0]}{more}")

    def _mouse(self):
        import dearpygui.dearpygui as dpg

        return dpg.get_mouse_pos(local=False)

    def typing(self) -> bool:
        """Whether a text field has the keyboard (then keys type, they are no shortcuts)."""
        import dearpygui.dearpygui as dpg

        if self.palette.is_open:
            return True
        items = [FILTER, "frame_no", "in", "out", "prompt_object", *self.inspector.text_items()]
        return any(dpg.does_item_exist(i) and dpg.get_item_state(i).get("active", False) for i in items)

    def modal(self) -> bool:
        """Whether a dialog (the file picker, the unsaved-changes question) owns the keyboard —
        no graph shortcut fires — and the canvas and viewer ignore the mouse. (The picker is no
        ImGui modal: one closed by hiding it kept eating the next click; the inspector's widgets
        behind it stay clickable.)"""
        import dearpygui.dearpygui as dpg

        return self.services.picker.is_open or bool(dpg.is_item_shown("confirm"))

    def on_key(self, key: int) -> None:
        import dearpygui.dearpygui as dpg

        ctrl = held(dpg.mvKey_LControl, dpg.mvKey_RControl)
        shift = held(dpg.mvKey_LShift, dpg.mvKey_RShift)
        # typing: the modifiers down now, not just released (held() keeps a fast chord's, but
        # "#." is Shift+3 then ".", and a name typed right after Ctrl+O is no Ctrl chord)
        down = dpg.is_key_down
        typing_ctrl = down(dpg.mvKey_LControl) or down(dpg.mvKey_RControl)
        typing_shift = down(dpg.mvKey_LShift) or down(dpg.mvKey_RShift)
        if not typing_ctrl and self.services.typed.key(key, typing_shift):
            return
        if self.services.picker.is_open:  # it owns the keyboard: no chord reaches the graph
            if not typing_ctrl:
                self.services.picker.key(key, typing_shift)
            return
        if dpg.is_item_shown("confirm"):
            if key == dpg.mvKey_Escape:
                self._confirmed(None)
            return
        if ctrl:
            actions = {dpg.mvKey_Z: self.model.redo if shift else self.model.undo, dpg.mvKey_Y: self.model.redo,
                       dpg.mvKey_S: self.save_as if shift else self.save, dpg.mvKey_D: self.canvas.duplicate,
                       dpg.mvKey_G: self.canvas.group, dpg.mvKey_Q: self.request_close,
                       dpg.mvKey_P: self.viewer.toggle_proxy,
                       dpg.mvKey_N: lambda: self.confirm_discard(self._new),
                       dpg.mvKey_O: lambda: self.confirm_discard(self._open_dialog)}
            if key in actions:
                actions[key]()
            return
        if self.palette.is_open:
            if key in (dpg.mvKey_Return, dpg.mvKey_NumPadEnter):
                self.palette.pick()
            elif key in (dpg.mvKey_Up, dpg.mvKey_Down):
                self.palette.move(-1 if key == dpg.mvKey_Up else 1)
            elif key == dpg.mvKey_Escape:
                self.palette.close()
            return
        if self.typing():
            return
        over_viewer = dpg.is_item_hovered(Viewer.TAG)
        actions = {
            dpg.mvKey_Tab: lambda: self.palette.open(self._mouse()),
            dpg.mvKey_Delete: self._delete, dpg.mvKey_Back: self._delete,
            dpg.mvKey_Spacebar: self.timeline.toggle_play,
            dpg.mvKey_Left: lambda: self.timeline.step(-1), dpg.mvKey_Right: lambda: self.timeline.step(1),
            dpg.mvKey_Open_Brace: lambda: self.timeline.jump_keyframe(-1),
            dpg.mvKey_Close_Brace: lambda: self.timeline.jump_keyframe(1),
            dpg.mvKey_F: self.viewer.fit if over_viewer else self.canvas.fit,
            dpg.mvKey_B: self.viewer.toggle_box_mode, dpg.mvKey_W: self.viewer.toggle_wipe,
            dpg.mvKey_J: lambda: self.timeline.play(-1), dpg.mvKey_K: self.timeline.stop,
            dpg.mvKey_L: lambda: self.timeline.play(1),
            dpg.mvKey_I: lambda: self.timeline.set_in_out("in"), dpg.mvKey_O: lambda: self.timeline.set_in_out("out"),
            dpg.mvKey_Escape: lambda: self.model.select(set()),
        }
        if key in actions:
            actions[key]()

    def _delete(self) -> None:
        import dearpygui.dearpygui as dpg

        if dpg.is_item_hovered(Viewer.TAG) and self.viewer.delete_selected():
            return
        self.canvas.delete()

    def on_wheel(self, delta) -> None:
        import dearpygui.dearpygui as dpg

        steps = 1 if delta > 0 else -1
        if dpg.is_item_hovered(Viewer.TAG):
            self.viewer.wheel(steps, self._mouse())
        elif dpg.is_item_hovered(Canvas.TAG):
            self.canvas.wheel(steps, self._mouse())

    # -- files ----------------------------------------------------------------------------
    def _new(self) -> None:
        self.render_panel.cancel()
        self.model.open_file(None)

    def _open_dialog(self) -> None:
        self.services.file_dialog("open", self.open, ".json")

    def open(self, path: str) -> None:
        self.render_panel.cancel()  # a render of the graph being left stops
        try:
            self.model.open_file(path)
            self._remember(path)
        except RotographError as e:
            self.services.status(f"cannot open: {e}")

    def save(self) -> None:
        if not self.model.path:
            self.save_as()
            return
        self._save(None)

    def save_as(self) -> None:
        self.services.file_dialog("save", self._save, ".json", start=self.model.path)

    def _save(self, path: str | None) -> bool:
        try:
            saved = self.model.save(path)
        except (RotographError, OSError) as e:
            self.services.status(f"not saved: {e}")
            return False
        self._remember(saved)
        self.services.status(f"saved {saved}")
        return True

    def confirm_discard(self, then) -> None:
        """Run ``then`` now, or after the user saved or discarded unsaved changes."""
        import dearpygui.dearpygui as dpg

        if not self.model.dirty:
            then()
            return
        self._then = then
        name = os.path.basename(self.model.path) if self.model.path else "the untitled graph"
        dpg.set_value("confirm_text", f"Save the changes to {name}?")
        vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        dpg.configure_item("confirm", show=True, pos=(max(vw // 2 - 210, 0), max(vh // 2 - 55, 0)))

    def _confirmed(self, answer: str | None) -> None:
        import dearpygui.dearpygui as dpg

        dpg.configure_item("confirm", show=False)
        if answer is None:
            self.services.status("cancelled")
            return
        if answer == "save" and not self.model.path:
            self.services.file_dialog("save", lambda p: self._save(p) and self._then(), ".json")
            return
        if answer == "save" and not self._save(None):
            return
        self._then()

    def request_close(self) -> None:
        """The window's close button or Ctrl+Q: asks first when there are unsaved changes."""
        import dearpygui.dearpygui as dpg

        self.confirm_discard(dpg.stop_dearpygui)

    def _remember(self, path: str) -> None:
        recent = self.recent_files()
        recent = [os.path.abspath(path)] + [p for p in recent if p != os.path.abspath(path)]
        try:
            os.makedirs(os.path.dirname(RECENT_FILE), exist_ok=True)
            with open(RECENT_FILE, "w") as f:
                json.dump(recent[:10], f)
        except OSError:
            return
        self._fill_recent()

    @staticmethod
    def recent_files() -> list[str]:
        try:
            with open(RECENT_FILE) as f:
                return [p for p in json.load(f) if isinstance(p, str)]
        except (OSError, ValueError):
            return []

    def _fill_recent(self) -> None:
        import dearpygui.dearpygui as dpg

        dpg.delete_item("recent_menu", children_only=True)
        for p in self.recent_files():
            dpg.add_menu_item(label=p, parent="recent_menu", user_data=p,
                              callback=lambda s, a, u: self.confirm_discard(lambda: self.open(u)))

    # -- the per-frame tick ---------------------------------------------------------------
    def _tick(self) -> None:
        import dearpygui.dearpygui as dpg

        res = self.worker.result()
        if res is not None:
            self.viewer.take(res)
        if self.worker.errors_version != self._errors_version:
            self._errors_version = self.worker.errors_version
            self.canvas.restyle()
            self.inspector.show_error()
        modal = self.modal() or self.palette.is_open
        self.canvas.update(dpg.is_item_hovered(Canvas.TAG) and not modal)
        self.viewer.update(dpg.is_item_hovered(Viewer.TAG) and not modal)
        self.timeline.update()
        self.render_panel.update()
        self.palette.update()
        self.services.picker.update()
        dpg.set_value("status", self.services.message)
        if self.probe and time.monotonic() - self._probe_at > 0.03:
            from .probe import write_probe

            self._probe_at = time.monotonic()
            write_probe(self, self.probe)


def main(path: str | None = None, cache=None) -> int:
    """``rotograph edit [graph.json] [--cache URL]``: open the editor (a file that does not exist
    yet is created on the first save)."""
    screen = check_display()
    size = (1600, 900) if screen is None else (min(1600, screen[0]), min(900, screen[1] - 40))
    model = EditorModel.open(path) if path else EditorModel()
    EditorApp(model, cache=cache, size=size, probe=os.environ.get("ROTOGRAPH_EDITOR_PROBE")).run()
    return 0
