"""Drives the real editor window (run under Xvfb by test_editor_window.py); writes what it saw.

Usage: editor_session.py GRAPH OUT_DIR — opens GRAPH, selects nodes, steps frames, adds a prompt
point, renders a frame, saves, and writes OUT_DIR/session.json and OUT_DIR/editor.png.
"""

import json
import sys
import time

import cv2
import numpy as np

import rotograph
from rotograph.editor.app import EditorApp
from rotograph.editor.model import EditorModel

graph, out = sys.argv[1], sys.argv[2]
registry = rotograph.Registry.default()
model = EditorModel.open(graph, registry)
app = EditorApp(model, cache=rotograph.Cache(), size=(1400, 900))
app.start()
app.pump(5)
seen = {"frames": []}

app.select(["read"])
app.wait_for_view()
seen["first"] = [app.last_result.node, app.last_result.frame]
for _ in range(2):
    app.step(1)
    app.wait_for_view()
    seen["frames"].append(app.last_result.frame)
app.select(["track"])
seen["point_added"] = app.add_point(640, 360, 1)
seen["keyframes"] = model.keyframes("track")
app.undo_label = model.undo_stack[-1].label
app.select(["read"])
app.wait_for_view()
app.select(["grow", "feather"])
app.group("soften")
app.pump(3)
seen["groups"] = sorted(model.graph.groups)
seen["group_drawn"] = app.dpg.does_item_exist("node:soften") and not app.dpg.does_item_exist("node:grow")
app.select(["read"])
app.wait_for_view()
model.move_nodes({n: (x + 5000, y + 3000) for n, (x, y) in
                  ((n, model.graph.ui.get(n, {}).get("pos", [0, 0])) for n in [*model.graph.nodes, *model.graph.groups])})
app.frame_all()
app.pump(3)
seen["read_view_pos"] = list(app.dpg.get_item_pos("node:read"))
model.undo()
app.frame_all()
app.pump(3)
rects = {}
for tag in ("node:read", "node:track", "viewer", "canvas"):
    rects[tag] = [*app.dpg.get_item_rect_min(tag), *app.dpg.get_item_rect_size(tag)]
seen["rects"] = rects
app.render(f"{model.frame}-{model.frame}")
t0 = time.time()
while app.render_state["thread"].is_alive() and time.time() - t0 < 300:
    app.pump()
app.pump(3)
seen["render"] = app.render_state["message"]
seen["render_frame"] = model.frame
app.save(out + "/saved.json")
seen["saved"] = out + "/saved.json"
shot = app.screenshot()
cv2.imwrite(out + "/editor.png", (np.clip(shot[..., [2, 1, 0]], 0, 1) * 255).astype(np.uint8))
seen["shot_shape"] = list(shot.shape)
app.close()
json.dump(seen, open(out + "/session.json", "w"), indent=1)
