"""The editor's window: it makes the panels — canvas (:mod:`.canvas`, its edits in
:mod:`.node_actions`, with the :mod:`.palette`), inspector (:mod:`.inspector`), viewer
(:mod:`.viewer`), timeline (:mod:`.timeline`) and render panel (:mod:`.render_panel`) — lays them
out (:mod:`.window`), routes keys and the wheel (:mod:`.shortcuts`), offers the file actions
(:mod:`.files`) and runs the per-frame loop.

The panels never call each other: each changes the :class:`~rotograph.editor.model.EditorModel`
and redraws on its events; the few things one panel reads of another (the timeline, what the
viewer shows) are methods handed over here. DearPyGui's callbacks run on the UI thread (manual
callback management), so that no callback races the frame loop.
"""

from __future__ import annotations

import os
import time

import rotograph

from .canvas import Canvas
from .files import Files
from .idle import Wakeup
from .inspector import Inspector
from .model import EditorModel
from .node_actions import NodeActions
from .palette import Palette
from .render_panel import RenderPanel
from .services import Services, check_display
from .shortcuts import Shortcuts
from .timeline import Timeline
from .viewer import Viewer
from .widgets import WidgetKinds
from .window import Window, load_fonts
from .worker import EvalWorker

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
        self.actions = NodeActions(model, self.services, self.canvas)
        self.inspector = Inspector(model, self.widgets, self.services, self.worker.errors)
        self.viewer = Viewer(model, self.worker, self.services)
        self.timeline = Timeline(model, self.services, self.viewer)
        self.render_panel = RenderPanel(model, self.worker.cache, self.timeline.in_out)
        self.palette = Palette(model.registry, self.actions.add, self.services.typed)
        self.files = Files(model, self.services, self.render_panel)
        self.shortcuts = Shortcuts(self)
        self.window = Window(self, size)
        self.services.graph_path = self.graph_path
        self.probe = probe
        self.check_graph()
        self._probe_at = 0.0
        self._errors_version = 0
        self._started = False
        model.subscribe(self._on_event, "graph", "file")

    def graph_path(self) -> str | None:
        """The graph file's path (the file picker starts in its folder)."""
        return self.model.path

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Create the window and show it (the loop is :meth:`run`'s, or a caller's :meth:`pump_once`)."""
        import dearpygui.dearpygui as dpg

        dpg.create_context()
        dpg.configure_app(manual_callback_management=True)
        self.window.build(load_fonts())
        self.wakeup.before_window()
        dpg.create_viewport(title=self.model.title, width=self.size[0], height=self.size[1], x_pos=0, y_pos=0,
                            disable_close=True, min_width=800, min_height=500)
        dpg.set_exit_callback(self.files.request_close)
        dpg.set_viewport_resize_callback(self.window.layout)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        self.wakeup.after_window()
        dpg.set_primary_window("main", True)
        self._started = True
        self._awake_until = time.monotonic() + 2.0  # the first frames: sizes, fit, the first layout
        self.window.layout()

    def run(self) -> None:
        """Open the window and run its loop until it closes; the loop sleeps while nothing changes."""
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
        """One frame: the queued callbacks, the panels' per-frame work, then drawing."""
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
        """Stop the evaluation worker and destroy the window."""
        import dearpygui.dearpygui as dpg

        self.worker.close()
        self.wakeup.close()
        dpg.destroy_context()

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
        modal = self.shortcuts.modal() or self.palette.is_open
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
