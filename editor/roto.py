"""The roto overlay on the viewer: a Roto node's shapes drawn over the image and edited with the
mouse, and the outlines of any Shapes value the viewer shows.

With one node selected that holds keyframed shapes (a param of kind ``shape_keys``, e.g. Roto's
``keys``), the viewer's left button edits the shape of the toolbar's *object* (its curve key 0)
at the current frame instead of adding prompts:

- a click away from the shape adds a vertex after the selected one (a corner: no tangents), on
  every keyframe of the node (so the keys keep one vertex count and interpolate);
- a drag on a vertex moves it (its tangents with it); a drag on the selected vertex's tangent
  handle turns it (the opposite handle mirrors it: a smooth point); Ctrl + drag on a vertex
  pulls both tangents out of it;
- Del removes the selected vertex from every keyframe;
- the toolbar's *key* button keys the shape as it is at the current frame (interpolated), and
  *unkey* removes the current frame's keyframe.

An edit at a frame that is not a keyframe makes it one (auto-key), from the shape interpolated
there. Every edit is one undoable change of the node's param. Coordinates are plate pixels in
the Shapes convention (:mod:`rotograph.core.shapes`: origin top-left, y down); a first shape takes the
size of the image the viewer shows as its format, and an image of another size (a proxy) is
drawn on and edited in the keys' own format, scaled. The pure editing steps (:func:`add_vertex`, …) work on
the param's value and are tested without a window.
"""

from __future__ import annotations

import math

import numpy as np

from rotograph.core.shapes import Curve, ShapeKeys, ShapeObject, ShapeSet, shapes_at

from .display import object_colour
from .items import held, rect

HANDLE = 7.0  # px on screen: how near a press must be to a vertex or a tangent handle


# -- editing keyframed shapes (pure) ------------------------------------------------------------
def shape_here(keys: list[dict], frame: int, size: tuple[int, int]) -> ShapeSet:
    """The shapes at ``frame`` (a keyframe's, interpolated, or held), or empty ones of ``size``."""
    return shapes_at(keys, frame) or ShapeSet(int(size[0]), int(size[1]))


def curve_of(shapes: ShapeSet, obj: int) -> Curve | None:
    """Object ``obj``'s curve key 0 (the one the overlay edits), or None."""
    o = shapes.object(obj)
    return next((c for c in o.curves if c.key == 0), None) if o is not None else None


def with_curve(shapes: ShapeSet, obj: int, points: np.ndarray, feather: np.ndarray) -> ShapeSet:
    """``shapes`` with object ``obj``'s curve key 0 replaced by ``points`` (created if absent)."""
    out = ShapeSet(shapes.width, shapes.height, shapes.pixel_aspect,
                   [ShapeObject(o.id, o.name, list(o.curves)) for o in shapes.objects])
    o = out.object(obj)
    if o is None:
        o = ShapeObject(obj, f"roto{obj}")
        out.objects.append(o)
        out.objects.sort(key=lambda x: x.id)
    o.curves = [c for c in o.curves if c.key != 0]
    if len(points):
        o.curves.insert(0, Curve(points, feather, True, False, 0))
    return out


def set_key(keys: list[dict], frame: int, shapes: ShapeSet) -> list[dict]:
    """``keys`` with ``shapes`` keyed at ``frame`` (replacing a key there), sorted by frame."""
    out = [k for k in keys if k["frame"] != frame] + [{"frame": int(frame), "shapes": shapes.to_json()}]
    return sorted(out, key=lambda k: k["frame"])


def _every_key(keys: list[dict], frame: int, size, obj: int, edit) -> list[dict]:
    """Apply ``edit(points, feather) -> (points, feather)`` to object ``obj``'s curve on every
    keyframe and on ``frame`` (which becomes a keyframe)."""
    here = shape_here(keys, frame, size)
    out = set_key(keys, frame, here)
    result = []
    for k in out:
        s = ShapeSet.from_json(k["shapes"])
        c = curve_of(s, obj)
        pts, fea = (c.points, c.feather) if c is not None else (np.zeros((0, 6)), np.zeros(0))
        pts, fea = edit(pts.copy(), fea.copy())
        result.append({"frame": k["frame"], "shapes": with_curve(s, obj, pts, fea).to_json()})
    return result


def add_vertex(keys: list[dict], frame: int, size, obj: int, xy, after: int | None) -> tuple[list[dict], int]:
    """A corner vertex at ``xy`` inserted after vertex ``after`` (the end when None) of object
    ``obj``'s curve on every keyframe; ``frame`` becomes a keyframe. Returns (keys, its index)."""
    index = []

    def edit(pts, fea):
        i = len(pts) if after is None else min(after + 1, len(pts))
        index.append(i)
        return np.insert(pts, i, [xy[0], xy[1], 0, 0, 0, 0], axis=0), np.insert(fea, i, 0.0)

    out = _every_key(keys, frame, size, obj, edit)
    return out, index[0]


def remove_vertex(keys: list[dict], frame: int, size, obj: int, index: int) -> list[dict]:
    """Vertex ``index`` removed from object ``obj``'s curve on every keyframe."""
    return _every_key(keys, frame, size, obj, lambda p, f: (np.delete(p, index, axis=0), np.delete(f, index)))


def move_point(keys: list[dict], frame: int, size, obj: int, index: int, handle: str, xy) -> list[dict]:
    """At ``frame`` (keyed from the shape there): vertex ``index`` moved to ``xy`` (``handle``
    "vertex"), or its tangent handle ``"in"``/``"out"`` put at ``xy`` with the other mirrored."""
    shapes = shape_here(keys, frame, size)
    c = curve_of(shapes, obj)
    if c is None or not 0 <= index < len(c.points):
        return keys
    pts = c.points.copy()
    if handle == "vertex":
        pts[index, :2] = xy
    else:
        d = np.asarray(xy, np.float64) - pts[index, :2]
        pts[index, 2:4], pts[index, 4:6] = (d, -d) if handle == "in" else (-d, d)
    return set_key(keys, frame, with_curve(shapes, obj, pts, c.feather))


# -- the overlay ----------------------------------------------------------------------------------
class RotoOverlay:
    """Draws and edits shapes on :class:`~rotograph.editor.viewer.Viewer` (see the module)."""

    def __init__(self, viewer):
        self.viewer = viewer
        self.model = viewer.model
        self.selected: int | None = None  # the selected vertex of the edited curve
        self._drag = None                  # (handle, index, press position)
        self._target = None                # the (node, param) edited when last drawn

    # -- what is edited -------------------------------------------------------------------
    def active(self) -> tuple[str, str] | None:
        """(node, param) of the selected node's keyframed shapes, or None."""
        g = self.model.graph
        sel = [n for n in self.model.selection if n in g.nodes]
        if len(sel) != 1:
            return None
        node = g.nodes[sel[0]]
        param = next((p for p, spec in node.params.items() if spec.type is ShapeKeys), None)
        return (sel[0], param) if param else None

    def _keys(self) -> list[dict]:
        name, param = self.active()
        return getattr(self.model.graph.nodes[name], param)

    def _size(self):
        return self.viewer.image_size or (1, 1)

    def _set(self, keys: list[dict]) -> None:
        name, param = self.active()
        self.model.set_param(name, param, keys)

    def curve(self) -> Curve | None:
        """The edited curve at the current frame."""
        return curve_of(shape_here(self._keys(), self.model.frame, self._size()), self.viewer.obj)

    def _scale(self, shapes: ShapeSet | None = None) -> np.ndarray:
        """Image pixels per shape pixel (x, y): 1 unless the image is another size of the plate
        than the shapes' format (a proxy)."""
        if shapes is None:
            keys = self._keys()
            shapes = ShapeSet.from_json(keys[0]["shapes"]) if keys else None
        if shapes is None or self.viewer.image_size is None:
            return np.ones(2)
        return np.array(self.viewer.image_size, np.float64) / [shapes.width, shapes.height]

    def _screen(self, pt) -> tuple[float, float]:
        return self.viewer.to_screen(np.asarray(pt) * self._scale())

    def _shape_xy(self, mouse) -> np.ndarray:
        """The mouse in the shapes' pixels."""
        return np.asarray(self.viewer.to_image(mouse)) / self._scale()

    # -- the mouse ------------------------------------------------------------------------
    def _hit(self, mouse) -> tuple[str, int] | None:
        """("in" | "out" | "vertex", index) under the mouse: the selected vertex's handles first."""
        c = self.curve()
        if c is None:
            return None
        to_screen = self._screen
        if self.selected is not None and self.selected < len(c.points):
            p = c.points[self.selected]
            for handle, off in (("out", p[4:6]), ("in", p[2:4])):
                if np.any(off) and math.dist(to_screen(p[:2] + off), mouse) <= HANDLE:
                    return handle, self.selected
        d = [math.dist(to_screen(v), mouse) for v in c.vertices]
        i = int(np.argmin(d)) if d else -1
        return ("vertex", i) if i >= 0 and d[i] <= HANDLE else None

    def press(self, mouse) -> bool:
        """A left press over the viewer: True if the overlay takes it (a shapes node is selected)."""
        import dearpygui.dearpygui as dpg

        if self.active() is None or self.viewer.image_size is None:
            return False
        hit = self._hit(mouse)
        if hit is None:
            self._drag = ("add", None, mouse)
            return True
        handle, i = hit
        if handle == "vertex" and held(dpg.mvKey_LControl, dpg.mvKey_RControl):
            handle = "out"  # pull tangents out of the vertex
        self.selected = i
        self._drag = (handle, i, mouse)
        return True

    def track(self, mouse, released) -> None:
        """Per frame: finish a drag when the left button comes up."""
        if self._drag is None or not released[0]:
            return
        (handle, i, start), self._drag = self._drag, None
        if self.active() is None:
            return
        xy = self._shape_xy(mouse)
        keys, frame, size, obj = self._keys(), self.model.frame, self._size(), self.viewer.obj
        if handle == "add":
            if math.dist(start, mouse) < 4:
                keys, self.selected = add_vertex(keys, frame, size, obj, xy, self.selected)
                self._set(keys)
        elif math.dist(start, mouse) >= 2:
            self._set(move_point(keys, frame, size, obj, i, handle, xy))

    def delete(self) -> bool:
        """Del over the viewer: remove the selected vertex; False when there is none."""
        if self.active() is None or self.selected is None:
            return False
        c = self.curve()
        if c is None or self.selected >= len(c.points):
            return False
        keys = remove_vertex(self._keys(), self.model.frame, self._size(), self.viewer.obj, self.selected)
        self.selected = None
        self._set(keys)
        return True

    def key(self) -> None:
        """Key the shapes as they are at the current frame."""
        if self.active() is not None and self._keys():
            self._set(set_key(self._keys(), self.model.frame, shape_here(self._keys(), self.model.frame, self._size())))

    def unkey(self) -> None:
        """Remove the current frame's keyframe."""
        if self.active() is not None:
            keys = self._keys()
            if any(k["frame"] == self.model.frame for k in keys):
                self._set([k for k in keys if k["frame"] != self.model.frame])

    # -- drawing --------------------------------------------------------------------------
    def build(self) -> None:
        """The toolbar's key / unkey buttons (in the viewer's toolbar row)."""
        import dearpygui.dearpygui as dpg

        dpg.add_button(label="key", tag="roto_key", callback=lambda: self.key())
        dpg.add_button(label="unkey", tag="roto_unkey", callback=lambda: self.unkey())

    def scene(self, mouse) -> tuple:
        """What the drawing depends on beyond the viewer's own state (the viewer redraws when it changes)."""
        target = self.active()
        if target != self._target:  # another node: nothing selected on it yet
            self._target, self.selected, self._drag = target, None, None
        return (target, self.selected, tuple(mouse) if self._drag and self._drag[0] != "add" else None)

    def _live(self) -> Curve | None:
        """The edited curve with a drag in progress applied."""
        c = self.curve()
        if c is None or self._drag is None or self._drag[0] == "add":
            return c
        import dearpygui.dearpygui as dpg

        handle, i, _ = self._drag
        keys = move_point(self._keys(), self.model.frame, self._size(), self.viewer.obj, i, handle,
                          self._shape_xy(dpg.get_mouse_pos(local=False)))
        return curve_of(shape_here(keys, self.model.frame, self._size()), self.viewer.obj)

    def draw(self, parent) -> None:
        """Outlines of a Shapes value on show, and the edited shape with its vertices and handles."""
        import dearpygui.dearpygui as dpg

        v = self.viewer

        def local(pt, k=(1.0, 1.0)):
            return v.origin[0] + pt[0] * k[0] * v.zoom, v.origin[1] + pt[1] * k[1] * v.zoom

        shown = v.shown.value if v.shown is not None and v.shown.error is None else None
        if isinstance(shown, ShapeSet):
            k = self._scale(shown)
            for o in shown.objects:
                colour = [int(c * 255) for c in object_colour(o.id)] + [200]
                for c in o.curves:
                    pts = [local(p, k) for p in c.sample(12)]
                    if len(pts) > 1:
                        dpg.draw_polyline(pts + pts[:1] if c.closed else pts, color=colour, thickness=1, parent=parent)
        if self.active() is None:
            return
        c = self._live()
        if c is None:
            return
        colour = [int(x * 255) for x in object_colour(v.obj)] + [255]
        k = self._scale()
        pts = [local(p, k) for p in c.sample(16)] if len(c.points) > 1 else []
        if len(pts) > 1:
            dpg.draw_polyline(pts + pts[:1], color=colour, thickness=2, parent=parent)
        for i, p in enumerate(c.points):
            a = local(p[:2], k)
            if i == self.selected:
                for off in (p[2:4], p[4:6]):
                    if np.any(off):
                        b = local(p[:2] + off, k)
                        dpg.draw_line(a, b, color=(230, 230, 230, 255), parent=parent)
                        dpg.draw_circle(b, 4, color=(230, 230, 230, 255), fill=(30, 30, 30, 255), parent=parent)
            r = 5 if i == self.selected else 3.5
            dpg.draw_rectangle((a[0] - r, a[1] - r), (a[0] + r, a[1] + r), color=(0, 0, 0, 255),
                               fill=colour if i == self.selected else (255, 255, 255, 255), parent=parent)

    def describe(self) -> dict:
        """For the probe: the node edited, its keyframes, the edited curve at this frame (image
        pixels), the selected vertex and where the key buttons are."""
        import dearpygui.dearpygui as dpg

        target = self.active()
        c = self.curve() if target else None
        return {"node": target[0] if target else None,
                "keyframes": [k["frame"] for k in self._keys()] if target else [],
                "points": c.points.tolist() if c is not None else [],
                "selected": self.selected,
                "key_button": rect("roto_key") if dpg.does_item_exist("roto_key") else None,
                "unkey_button": rect("roto_unkey") if dpg.does_item_exist("roto_unkey") else None}
