"""The timeline: the current frame (slider, or type a number), stepping (←/→), keyframes
(marked on the bar; [ and ] jump), play, in/out points, and which frames of the viewed node
are cached.

Play never outruns evaluation: the next frame is asked for only once the viewer shows the
current one, at most at ``fps``; the status line says when evaluation holds it back.
"""

from __future__ import annotations

import time

from .items import rect

BAR_HEIGHT = 16


class Timeline:
    """The timeline panel (see the module's docstring)."""

    def __init__(self, model, services, viewer):
        self.model = model
        self.services = services
        self.viewer = viewer  # .current (play waits for it), .cached_frames(), .viewed_node()
        self.playing = False
        self.direction = 1  # play forwards (L) or backwards (J)
        self.fps = 24.0
        self.range = (1001, 1100)
        self._in_out_set = False
        self._last_step = 0.0
        self._played: list[float] = []
        self._scene = None
        self.width = 400
        model.subscribe(self._on_event, "graph", "frame", "selection", "file")

    def build(self, parent) -> None:
        """The buttons, frame fields, slider, in/out fields and the bar, under ``parent``."""
        import dearpygui.dearpygui as dpg

        with dpg.group(horizontal=True, parent=parent):
            dpg.add_button(label="|<", callback=lambda: self.jump_keyframe(-1))
            dpg.add_button(label="<", callback=lambda: self.step(-1))
            dpg.add_button(label="play", tag="play", width=50, callback=lambda: self.toggle_play())
            dpg.add_button(label=">", callback=lambda: self.step(1))
            dpg.add_button(label=">|", callback=lambda: self.jump_keyframe(1))
            dpg.add_input_int(tag="frame_no", width=90, step=0, default_value=self.model.frame, on_enter=True,
                              callback=lambda s, a: self.model.set_frame(a))
            dpg.add_slider_int(tag="frame", width=-330, min_value=1001, max_value=1100,
                               default_value=self.model.frame, callback=lambda s, a: self.model.set_frame(a))
            dpg.add_input_int(tag="in", label="in", width=100, step=0, default_value=1001)
            dpg.add_input_int(tag="out", label="out", width=100, step=0, default_value=1100)
        dpg.add_drawlist(self.width, BAR_HEIGHT, tag="timebar", parent=parent)
        self._on_event("graph", "")

    def resize(self, width: int) -> None:
        """Follow the window's width."""
        import dearpygui.dearpygui as dpg

        self.width = max(int(width), 100)
        dpg.configure_item("timebar", width=self.width)
        self._scene = None

    # -- events ---------------------------------------------------------------------------
    def _on_event(self, event: str, detail: str) -> None:
        import dearpygui.dearpygui as dpg

        if event in ("graph", "file"):
            rng = self.model.frame_range()
            if event == "file":
                self._in_out_set = False
            if rng:
                self.range = rng
                dpg.configure_item("frame", min_value=rng[0], max_value=rng[1])
                if not self._in_out_set:
                    dpg.set_value("in", rng[0])
                    dpg.set_value("out", rng[1])
                    self._in_out_set = True
        dpg.set_value("frame", self.model.frame)
        dpg.set_value("frame_no", self.model.frame)
        self._scene = None

    def in_out(self) -> tuple[int, int]:
        """The in and out points (play and render stay between them)."""
        import dearpygui.dearpygui as dpg

        return int(dpg.get_value("in")), int(dpg.get_value("out"))

    # -- actions --------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        """←/→: ``delta`` frames on."""
        self.model.set_frame(self.model.frame + delta)

    def keyframes(self) -> list[int]:
        """The viewed node's keyframes, or every node's when it has none."""
        name = self.viewer.viewed_node()
        names = [name] if self.model.keyframes(name) else list(self.model.graph.nodes)
        return sorted({k for n in names for k in self.model.keyframes(n)})

    def jump_keyframe(self, direction: int) -> None:
        """[ / ]: the previous or next keyframe."""
        f = self.model.frame
        target = [k for k in self.keyframes() if (k > f if direction > 0 else k < f)]
        if target:
            self.model.set_frame(target[0] if direction > 0 else target[-1])

    def play(self, direction: int) -> None:
        """L plays forwards, J backwards (Nuke's habit); pressed while playing that way, stops."""
        if self.playing and self.direction == direction:
            self.toggle_play()
            return
        self.direction = direction
        if not self.playing:
            self.toggle_play()

    def stop(self) -> None:
        """K."""
        if self.playing:
            self.toggle_play()

    def set_in_out(self, which: str) -> None:
        """I / O: the in or out point at the current frame."""
        import dearpygui.dearpygui as dpg

        lo, hi = self.in_out()
        f = self.model.frame
        lo, hi = (f, max(hi, f)) if which == "in" else (min(lo, f), f)
        dpg.set_value("in", lo)
        dpg.set_value("out", hi)
        self._in_out_set = True
        self._scene = None
        self.services.status(f"in {lo}, out {hi}")

    def toggle_play(self) -> None:
        """Space: play or stop."""
        import dearpygui.dearpygui as dpg

        self.playing = not self.playing
        self._played.clear()
        dpg.configure_item("play", label="stop" if self.playing else "play")
        if not self.playing:
            self.services.status("stopped")

    # -- per frame ------------------------------------------------------------------------
    def update(self) -> None:
        """Per frame: play on, scrub on the bar, redraw the bar if it changed."""
        import dearpygui.dearpygui as dpg

        if self.playing:
            now = time.perf_counter()
            if self.viewer.current and now - self._last_step >= 1 / self.fps:
                lo, hi = self.in_out()
                nxt = self.model.frame + self.direction
                self._last_step = now
                self._played = [t for t in self._played if now - t < 2] + [now]
                self.model.set_frame(nxt if lo <= nxt <= hi else lo if self.direction > 0 else hi)
                rate = (len(self._played) - 1) / max(self._played[-1] - self._played[0], 1e-6)
                held = rate < self.fps * 0.9 and len(self._played) > 3
                self.services.status(f"playing {rate:.1f} fps" + (" (waiting for evaluation)" if held else ""))
        bar = rect("timebar")
        if bar and dpg.is_item_hovered("timebar") and dpg.is_mouse_button_down(0):  # scrub on the bar
            x = dpg.get_mouse_pos(local=False)[0] - bar[0]
            lo, hi = self.range
            self.model.set_frame(round(lo + x / max(self.width - 1, 1) * (hi - lo)))
        self._draw()

    def _draw(self) -> None:
        import dearpygui.dearpygui as dpg

        cached = tuple(self.viewer.cached_frames())
        keys = tuple(self.keyframes())
        scene = (cached, keys, self.model.frame, self.range, self.width)
        if scene == self._scene:
            return
        self._scene = scene
        lo, hi = self.range
        span = max(hi - lo, 1)
        w = self.width
        px = lambda f: (f - lo) / span * (w - 2) + 1  # noqa: E731
        step = max(1.0, w / (span + 1))
        dpg.delete_item("timebar", children_only=True)
        dpg.draw_rectangle((0, 0), (w, BAR_HEIGHT), fill=(40, 40, 44, 255), color=(40, 40, 44, 255), parent="timebar")
        for f in cached:
            dpg.draw_rectangle((px(f), BAR_HEIGHT - 5), (px(f) + step, BAR_HEIGHT), fill=(80, 200, 90, 255),
                               color=(80, 200, 90, 255), parent="timebar")
        for k in keys:
            x = px(k)
            dpg.draw_triangle((x, 1), (x - 4, 9), (x + 4, 9), fill=(250, 200, 60, 255), color=(250, 200, 60, 255),
                              parent="timebar")
        x = px(self.model.frame)
        dpg.draw_line((x, 0), (x, BAR_HEIGHT), color=(240, 240, 240, 255), thickness=2, parent="timebar")

    def describe(self) -> dict:
        """What the timeline shows, for the probe."""
        return {"bar": rect("timebar"), "range": list(self.range), "keyframes": list(self.keyframes()),
                "in_out": list(self.in_out()), "direction": self.direction,
                "playing": self.playing, "cached": list(self.viewer.cached_frames())}
