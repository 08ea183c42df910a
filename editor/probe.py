"""What the window shows, as JSON, for tests and tools that drive the editor with real input.

``rotograph edit`` with ``ROTOGRAPH_EDITOR_PROBE=/path/probe.json`` rewrites that file several
times a second: where nodes, pins, param widgets and the viewer are on the screen (viewport
pixels), what the viewer shows, the palette's list, the selection, frame, title and status, and
the graph itself. It only reads the window; a driver acts through the mouse and keyboard.
"""

from __future__ import annotations

import json
import os
import time

import rotograph

from .items import rect


def describe(app) -> dict:
    """The editor's state as plain JSON-able data (panels, nodes, params, viewer, timeline,
    dialogs, widget positions in screen pixels): what the window tests read to drive it."""
    import dearpygui.dearpygui as dpg

    params = {}
    for key, (widget, kind) in app.inspector.fields.items():
        entry = {"kind": kind, "rect": rect(widget.item), "browse": rect(f"{key}.browse"),
                 "expose": rect(f"{key}.expose")}
        if widget.item is not None and dpg.does_item_exist(widget.item):
            entry["widget"] = dpg.get_item_type(widget.item).rsplit("::", 1)[-1]
            entry["value"] = dpg.get_value(widget.item)
            if entry["widget"] in ("mvCombo", "mvRadioButton"):
                entry["items"] = list(dpg.get_item_configuration(widget.item)["items"])
            if entry["widget"] == "mvRadioButton":
                from .widgets import radio_centres

                entry["option_x"] = radio_centres(widget.item)
        params[key] = entry
    named = ("frame_no", "frame", "in", "out", "play", "view_mode", "prompt_mode", "prompt_object", "render_btn",
             "timebar", "render_cancel", "confirm_save", "confirm_discard", "confirm_cancel", "palette_filter", "palette_list")
    m = app.model
    return {
        "frame_count": dpg.get_frame_count(), "time": time.time(),
        "viewport": [*dpg.get_viewport_pos(), dpg.get_viewport_client_width(), dpg.get_viewport_client_height()],
        "title": m.title, "path": m.path, "dirty": m.dirty, "frame": m.frame, "selection": sorted(m.selection),
        "status": app.services.message, "undo": [s.label for s in m.undo_stack],
        "graph": json.loads(rotograph.dumps(m.graph)),
        "canvas": app.canvas.describe(), "viewer": app.viewer.describe(), "timeline": app.timeline.describe(),
        "palette": app.palette.describe(), "params": params,
        "items": {name: rect(name) for name in named},
        "confirm": bool(dpg.is_item_shown("confirm")),
        "render": app.render_panel.state["message"], "render_status": app.render_panel.status(),
        "rendering": app.render_panel.running,
        "render_cancel_seconds": app.render_panel.state["cancel_seconds"], "picker": app.services.picker.describe(),
        "view_status": dpg.get_value("view_status"),
        "font_size": dpg.get_text_size("Ag")[1] if dpg.get_text_size("Ag") else None,
    }


def write_probe(app, path: str) -> None:
    """Write :func:`describe` to ``path`` as JSON, atomically (a temporary file, then a rename),
    so a test polling the file never reads half of it."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(describe(app), f)
    os.replace(tmp, path)
