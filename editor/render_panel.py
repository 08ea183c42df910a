"""The render panel: render the graph's writers over the timeline's in→out on a thread, through
the editor's cache, with progress (node, frame, frames written, elapsed time) and cancel.

Cancel is cooperative: the render's evaluator checks a flag each time a value is asked for —
between frames, and inside a range node's run at every input frame it reads and every frame it
emits — and long computes check it between their steps (``Context.check``: FlowTrack per object,
MatAnyone per model step, SAM 3 per frame), so a render stops well within a second of the click.
Frames already written stay written.
"""

from __future__ import annotations

import threading
import time

import rotograph
from rotograph.errors import RotographError
from rotograph.engine.render import parse_frames

from .progress import Tracked


class Cancelled(BaseException):
    """The user cancelled the render (a BaseException, so that no node's error handling turns
    it into a node failure on its way out)."""


class _Cancellable(Tracked):
    """An evaluator that raises :class:`Cancelled` at its next cancellation point once ``stop``
    is set, and publishes where it is (``state["progress"]``)."""

    def __init__(self, graph, cache, stop: threading.Event, state: dict):
        super().__init__(graph, cache, "", 0)
        self.stop_event, self.state = stop, state

    def stop(self):
        return Cancelled() if self.stop_event.is_set() else None

    def _moved(self, at: str, at_frame: int) -> None:
        super()._moved(at, at_frame)
        self.state["progress"] = self.progress


class RenderPanel:
    """The render panel (see the module's docstring)."""
    def __init__(self, model, cache, in_out):
        self.model = model
        self.cache = cache
        self.in_out = in_out  # () -> (first, last)
        self.stop = threading.Event()
        self.state = {"thread": None, "done": 0, "total": 0, "message": "", "progress": None, "started": 0.0,
                      "cancel_seconds": None}

    def build(self, parent) -> None:
        """The Render and Cancel buttons, the progress bar and its line, under ``parent``."""
        import dearpygui.dearpygui as dpg

        with dpg.group(horizontal=True, parent=parent):
            dpg.add_button(label="Render writers in->out", tag="render_btn", callback=lambda: self.render())
            dpg.add_button(label="Cancel", tag="render_cancel", callback=lambda: self.cancel())
            dpg.add_progress_bar(tag="render_progress", width=300, default_value=0.0)
            dpg.add_text("", tag="render_status")

    @property
    def running(self) -> bool:
        """A render is running and not cancelled (a cancelled one may take up to one node's
        compute to stop; the panel is free at once)."""
        return self._alive() and not self.stop.is_set()

    def _alive(self) -> bool:
        t = self.state["thread"]
        return t is not None and t.is_alive()

    def cancel(self) -> None:
        """Stop a running render (Cancel, or another graph opened); returns at once."""
        if self.running:
            self.state["cancel_at"] = time.monotonic()
            self.state["message"] = f"cancelling after {self.state['done']} frames written..."
            self.stop.set()

    def render(self, frames: str | None = None) -> None:
        """Render the writers over ``frames`` (default: in->out) on a thread."""
        st = self.state
        if self._alive():
            if not self.running:
                st["message"] = "the cancelled render is still stopping: try again in a moment"
            return
        if frames is None:
            lo, hi = self.in_out()
            frames = f"{lo}-{hi}"
        try:
            total = len(parse_frames(frames))
        except RotographError as e:
            st["message"] = f"error: {e}"
            return
        graph = rotograph.loads(rotograph.dumps(self.model.graph), self.model.registry, folder=self.model.graph.folder)
        self.stop = stop = threading.Event()
        st.update(done=0, total=total, progress=None, started=time.monotonic(), cancel_seconds=None,
                  message=f"rendering {frames}...")
        evaluator = _Cancellable(graph, self.cache, stop, st)

        def progress(report):
            st.update(done=len(report.done), total=len(report.frames))
            if stop.is_set():
                raise Cancelled()

        def run():
            try:
                r = rotograph.render(graph, frames, cache=self.cache, progress=progress, evaluator=evaluator)
                st["message"] = (f"rendered {len(r.done)} frames in {r.seconds:.1f}s" if r.ok else
                                 f"error: {r.error or next(iter(r.failed.values()))}")
            except Cancelled:
                st["cancel_seconds"] = time.monotonic() - st.get("cancel_at", time.monotonic())
                st["message"] = f"cancelled after {st['done']} frames written (stopped in {st['cancel_seconds']:.2f}s)"
            except RotographError as e:
                st["message"] = f"error: {e}"
            finally:
                if stop.is_set() and st["cancel_seconds"] is None:  # finished just as it was cancelled
                    st["cancel_seconds"] = time.monotonic() - st.get("cancel_at", time.monotonic())

        st["thread"] = threading.Thread(target=run, daemon=True, name="rotograph-render")
        st["thread"].start()

    @property
    def animating(self) -> bool:
        """The window must keep drawing (a render runs or is stopping)."""
        return self._alive()

    def status(self) -> str:
        """The line under the progress bar: while rendering, the node and frame it is at (and a
        range node's run: its frame of the frames it emits), the frames written of the total and
        the elapsed time (live: the panel draws while a render runs)."""
        st = self.state
        if not self.running:
            return st["message"]
        at = f" {st['progress'].text()}," if st["progress"] else ""
        total = f"/{st['total']}" if st["total"] else ""
        return f"rendering:{at} {st['done']}{total} frames written, {time.monotonic() - st['started']:.0f}s"

    def update(self) -> None:
        """Per frame: the progress bar and its line."""
        import dearpygui.dearpygui as dpg

        st = self.state
        dpg.set_value("render_progress", st["done"] / st["total"] if st["total"] else 0.0)
        dpg.set_value("render_status", self.status())
