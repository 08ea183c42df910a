"""The render panel: render the graph's writers over the timeline's in→out on a thread, through
the editor's cache, with progress and cancel."""

from __future__ import annotations

import threading

import rotograph
from rotograph.errors import RotographError


class Cancelled(Exception):
    pass


class RenderPanel:
    def __init__(self, model, cache, in_out):
        self.model = model
        self.cache = cache
        self.in_out = in_out  # () -> (first, last)
        self.state = {"thread": None, "cancel": False, "done": 0, "total": 0, "message": ""}

    def build(self, parent) -> None:
        import dearpygui.dearpygui as dpg

        with dpg.group(horizontal=True, parent=parent):
            dpg.add_button(label="Render writers in->out", tag="render_btn", callback=lambda: self.render())
            dpg.add_button(label="Cancel", tag="render_cancel", callback=lambda: self.cancel())
            dpg.add_progress_bar(tag="render_progress", width=300, default_value=0.0)
            dpg.add_text("", tag="render_status")

    @property
    def running(self) -> bool:
        t = self.state["thread"]
        return t is not None and t.is_alive()

    def cancel(self) -> None:
        self.state["cancel"] = True

    def render(self, frames: str | None = None) -> None:
        """Render the writers over ``frames`` (default: in->out) on a thread."""
        st = self.state
        if self.running:
            return
        if frames is None:
            lo, hi = self.in_out()
            frames = f"{lo}-{hi}"
        graph = rotograph.loads(rotograph.dumps(self.model.graph), self.model.registry)
        st.update(cancel=False, done=0, total=0, message=f"rendering {frames}...")

        def progress(report):
            st.update(done=len(report.done), total=len(report.frames))
            if st["cancel"]:
                raise Cancelled()

        def run():
            try:
                r = rotograph.render(graph, frames, cache=self.cache, progress=progress)
                st["message"] = (f"rendered {len(r.done)} frames in {r.seconds:.1f}s" if r.ok else
                                 f"error: {r.error or next(iter(r.failed.values()))}")
            except Cancelled:
                st["message"] = f"cancelled after {st['done']} frames"
            except RotographError as e:
                st["message"] = f"error: {e}"

        st["thread"] = threading.Thread(target=run, daemon=True, name="rotograph-render")
        st["thread"].start()

    def update(self) -> None:
        import dearpygui.dearpygui as dpg

        st = self.state
        if st["total"]:
            dpg.set_value("render_progress", st["done"] / st["total"])
        dpg.set_value("render_status", st["message"])
