"""The window's layout: menus, the panels' places (the graph left; the viewer over the inspector
right; the timeline, render panel and status line below), their sizes following the window's,
and the fonts (the UI size, and one per canvas zoom step)."""

from __future__ import annotations

import os

from .canvas import BASE_FONT, ZOOM_FONTS, Canvas
from .inspector import Inspector

FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/Library/Fonts/Arial Unicode.ttf",
              "C:/Windows/Fonts/arial.ttf")
BOTTOM = 112  # the timeline, render panel and status line


def load_fonts() -> dict[int, int]:
    """DejaVu Sans (it has the Greek, arrows and maths glyphs the docstrings use) at the UI
    size and at each canvas zoom step; {} when no font file is found (ImGui's own)."""
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


class Window:
    """Builds the window of ``app`` (an :class:`~rotograph.editor.app.EditorApp`) and sizes
    its panels."""

    def __init__(self, app, size):
        self.app = app
        self.size = size  # until the viewport reports its own
        self._laid_out = None

    def build(self, fonts) -> None:
        """Make the window: menus, the panels in their places, the dialogs, the key and wheel handlers."""
        import dearpygui.dearpygui as dpg

        app = self.app
        with dpg.window(tag="main"):
            self._menus()
            with dpg.group(horizontal=True):
                app.canvas.build(dpg.last_container(), fonts)
                with dpg.group(tag="right_column"):
                    with dpg.child_window(tag="viewer_panel", no_scrollbar=True):
                        app.viewer.build("viewer_panel")
                    app.inspector.build("right_column")
            with dpg.child_window(tag="bottom", height=BOTTOM, no_scrollbar=True):
                app.timeline.build("bottom")
                app.render_panel.build("bottom")
                dpg.add_text("", tag="status")
        app.palette.build()
        app.services.picker.build()
        app.files.build()
        with dpg.handler_registry():
            dpg.add_key_press_handler(callback=app.shortcuts.on_key)
            dpg.add_mouse_wheel_handler(callback=app.shortcuts.on_wheel)

    def _menus(self) -> None:
        import dearpygui.dearpygui as dpg

        app, files = self.app, self.app.files
        menus = {
            "File": [("New  (Ctrl+N)", files.new), ("Open...  (Ctrl+O)", files.open_dialog),
                     ("Save  (Ctrl+S)", files.save), ("Save as...  (Ctrl+Shift+S)", files.save_as), "Recent",
                     ("Quit  (Ctrl+Q)", files.request_close)],
            "Edit": [("Undo  (Ctrl+Z)", app.model.undo), ("Redo  (Ctrl+Shift+Z)", app.model.redo),
                     ("Add node...  (Tab)", app.palette.open_at_mouse), ("Add Read  (R)", app.actions.add_read),
                     ("Add WriteEXR  (W)", app.actions.add_write), ("Duplicate  (Ctrl+D)", app.actions.duplicate),
                     ("Delete  (Del)", app.canvas.delete), ("Group selection  (Ctrl+G)", app.actions.group)],
            "View": [("Frame nodes  (F over the graph)", app.canvas.fit),
                     ("Fit image  (F over the viewer)", app.viewer.fit), "Proxy"],
        }
        with dpg.menu_bar():
            for title, items in menus.items():
                with dpg.menu(label=title):
                    for item in items:
                        if item == "Recent":
                            dpg.add_menu(label="Recent", tag="recent_menu")
                        elif item == "Proxy":
                            dpg.add_menu_item(label="Proxy 0.5  (Ctrl+P)", check=True, tag="proxy_menu",
                                              callback=app.viewer.toggle_proxy)
                        else:
                            dpg.add_menu_item(label=item[0], callback=item[1])

    def layout(self) -> None:
        """Size the panels to the window (called when it is resized)."""
        import dearpygui.dearpygui as dpg

        app = self.app
        w, h = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        if w <= 0 or h <= 0:
            w, h = self.size
        main_h = max(h - BOTTOM - 56, 200)
        canvas_w = int(w * 0.46)
        right_w = w - canvas_w - 24
        viewer_h = int(main_h * 0.64)
        dpg.configure_item(Canvas.PANEL, width=canvas_w, height=main_h)
        dpg.configure_item("viewer_panel", width=right_w, height=viewer_h)
        dpg.configure_item(Inspector.TAG, width=right_w, height=main_h - viewer_h - 4)
        app.viewer.resize(right_w - 16, viewer_h - 66)
        app.timeline.resize(w - 32)
        if (w, h) != self._laid_out:
            self._laid_out = (w, h)
            app.canvas.refit()
