"""The window's keyboard and wheel: which panel a key or a wheel notch goes to.

A dialog that is open (the file picker, the unsaved-changes question) owns the keyboard and no
graph shortcut fires behind it; the palette owns it while open; a text field being typed in
takes the keys as text. Otherwise the key is a shortcut, looked up in a table of panel methods
(Nuke's keys where Nuke has one: Tab, R, W, F, J/K/L, I/O).
"""

from __future__ import annotations

from .canvas import Canvas
from .items import held
from .palette import FILTER
from .viewer import Viewer


class Shortcuts:
    """Routes keys and the wheel of the window ``app`` (an :class:`~rotograph.editor.app.EditorApp`)
    to its panels."""

    def __init__(self, app):
        self.app = app

    def typing(self) -> bool:
        """Whether a text field has the keyboard (then keys type, they are no shortcuts)."""
        import dearpygui.dearpygui as dpg

        app = self.app
        if app.palette.is_open:
            return True
        items = [FILTER, "frame_no", "in", "out", "prompt_object", *app.inspector.text_items()]
        return any(dpg.does_item_exist(i) and dpg.get_item_state(i).get("active", False) for i in items)

    def modal(self) -> bool:
        """Whether a dialog (the file picker, the unsaved-changes question) owns the keyboard —
        no graph shortcut fires — and the canvas and viewer ignore the mouse. (The picker is no
        ImGui modal: one closed by hiding it kept eating the next click; the inspector's widgets
        behind it stay clickable.)"""
        return self.app.services.picker.is_open or self.app.files.asking

    def _chords(self, shift: bool) -> dict:
        """Ctrl+key → (method, arguments)."""
        import dearpygui.dearpygui as dpg

        app = self.app
        return {dpg.mvKey_Z: (app.model.redo if shift else app.model.undo,), dpg.mvKey_Y: (app.model.redo,),
                dpg.mvKey_S: (app.files.save_as if shift else app.files.save,),
                dpg.mvKey_D: (app.actions.duplicate,), dpg.mvKey_G: (app.actions.group,),
                dpg.mvKey_Q: (app.files.request_close,), dpg.mvKey_N: (app.files.new,),
                dpg.mvKey_P: (app.viewer.toggle_proxy,),
                dpg.mvKey_O: (app.files.open_dialog,)}

    def _keys(self) -> dict:
        """Key → (method, arguments), when no text field has the keyboard."""
        import dearpygui.dearpygui as dpg

        app = self.app
        timeline = app.timeline
        return {
            dpg.mvKey_Tab: (app.palette.open_at_mouse,),
            dpg.mvKey_Delete: (self.delete,), dpg.mvKey_Back: (self.delete,),
            dpg.mvKey_Spacebar: (timeline.toggle_play,),
            dpg.mvKey_Left: (timeline.step, -1), dpg.mvKey_Right: (timeline.step, 1),
            dpg.mvKey_Open_Brace: (timeline.jump_keyframe, -1), dpg.mvKey_Close_Brace: (timeline.jump_keyframe, 1),
            dpg.mvKey_F: (app.viewer.fit if dpg.is_item_hovered(Viewer.TAG) else app.canvas.fit,),
            dpg.mvKey_B: (app.viewer.toggle_box_mode,),
            dpg.mvKey_J: (timeline.play, -1), dpg.mvKey_K: (timeline.stop,), dpg.mvKey_L: (timeline.play, 1),
            dpg.mvKey_I: (timeline.set_in_out, "in"), dpg.mvKey_O: (timeline.set_in_out, "out"),
            dpg.mvKey_Escape: (app.model.select, set()),
            dpg.mvKey_R: (app.actions.add_read,),  # Nuke's Read and Write; Shift+W: the viewer's wipe
            dpg.mvKey_W: (app.viewer.toggle_wipe,) if held(dpg.mvKey_LShift, dpg.mvKey_RShift) else (app.actions.add_write,),
        }

    def on_key(self, sender, key: int) -> None:
        """A key press (DearPyGui's key handler)."""
        import dearpygui.dearpygui as dpg

        app = self.app
        ctrl = held(dpg.mvKey_LControl, dpg.mvKey_RControl)
        shift = held(dpg.mvKey_LShift, dpg.mvKey_RShift)
        # typing: the modifiers down now, not just released (held() keeps a fast chord's, but
        # "#." is Shift+3 then ".", and a name typed right after Ctrl+O is no Ctrl chord)
        down = dpg.is_key_down
        typing_ctrl = down(dpg.mvKey_LControl) or down(dpg.mvKey_RControl)
        typing_shift = down(dpg.mvKey_LShift) or down(dpg.mvKey_RShift)
        if not typing_ctrl and app.services.typed.key(key, typing_shift):
            return
        if app.services.picker.is_open:  # it owns the keyboard: no chord reaches the graph
            if not typing_ctrl:
                app.services.picker.key(key, typing_shift)
            return
        if app.files.asking:
            if key == dpg.mvKey_Escape:
                app.files.confirmed(answer=None)
            return
        if ctrl:
            action = self._chords(shift).get(key)
        elif app.palette.is_open:
            action = {dpg.mvKey_Return: (app.palette.pick,), dpg.mvKey_NumPadEnter: (app.palette.pick,),
                      dpg.mvKey_Up: (app.palette.move, -1), dpg.mvKey_Down: (app.palette.move, 1),
                      dpg.mvKey_Escape: (app.palette.close,)}.get(key)
        elif self.typing():
            action = None
        else:
            action = self._keys().get(key)
        if action:
            action[0](*action[1:])

    def delete(self) -> None:
        """Del over the viewer: its selected prompt; else the canvas's selection."""
        import dearpygui.dearpygui as dpg

        if dpg.is_item_hovered(Viewer.TAG) and self.app.viewer.delete_selected():
            return
        self.app.canvas.delete()

    def on_wheel(self, sender, delta) -> None:
        """A wheel notch: zoom the viewer or the canvas under the mouse."""
        import dearpygui.dearpygui as dpg

        from .items import mouse

        steps = 1 if delta > 0 else -1
        if dpg.is_item_hovered(Viewer.TAG):
            self.app.viewer.wheel(steps, mouse())
        elif dpg.is_item_hovered(Canvas.TAG):
            self.app.canvas.wheel(steps, mouse())
