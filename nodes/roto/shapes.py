"""Mattes ↔ roto shapes: MatteToShapes (a matte or Masks become Bézier curves that keep their
vertex count and do not crawl) and ShapesToMatte (shapes rasterised, anti-aliased and feathered,
at any resolution)."""

from __future__ import annotations

import numpy as np

from rotograph import Input, Masks, Matte, Output, Param, RangeNode, Reach
from rotograph.errors import RotographError
from rotograph.core.node import CachePolicy, Node
from rotograph.core.shapes import ShapeObject, ShapeSet
from rotograph.core.types import Shapes

from ._shape_fit import fit_object, soft_edge
from ._shape_raster import rasterise
from ..matte.masks import _objects_param, parse_objects


def selected(objects: list, wanted_text: str) -> list:
    """The entries of ``objects`` (each with ``id`` and ``name``) that ``wanted_text`` (comma
    separated ids and/or names; empty: all) picks."""
    wanted = parse_objects(wanted_text)
    return [o for o in objects if not wanted or o.id in wanted or o.name in wanted]


class MatteToShapes(RangeNode):
    """Turn a matte, or the objects of a Masks, into roto shapes: per object, closed cubic
    Bézier outlines and holes (separate curves flagged ``hole``) whose vertex count stays the
    same through the shot and whose vertices follow the edge from frame to frame instead of
    crawling along it.

    Method (``nodes/roto/_shape_fit.py``): OpenCV contours of ``matte > threshold``, moved to the
    sub-pixel edge; vertices at equal arc length; on a curve's first frame the vertex count is
    the smallest that keeps the fit within ``tolerance`` px (at most ``max_vertices`` per
    object, shared by its curves in proportion to their length, at least 4 each: an object
    keeps its ``max_vertices`` // 4 largest curves — raise ``min_area`` to drop specks); on
    later frames a curve (paired with the previous frame's by centroid; its ``key`` stays) keeps
    its count, and its start point is the one whose vertices best match the previous frame's
    once the object's translation and turn are taken out; handles by least squares
    (Schneider 1990).

    Temporal design: causal. Frame f depends on the matte at f and on this node's own output at
    f − 1 (its vertex counts and positions), never on a later frame; the run starts at the first
    frame of the range, and an interrupted run resumes from the last cached frame's shapes
    (identical result). An object absent on a frame has no curves there; when it comes back its
    vertex count is chosen again.

    matte: Matte float32 H×W in [0, 1] (object id 1, named "matte"), or masks: Masks (the
    objects picked by ``objects``; connect one of the two). Output ``shapes``: Shapes in plate
    pixels (top-left origin, y down) with ``pixel_aspect``. Feather per vertex: ``feather`` px;
    with ``soft_edge`` the matte's soft edge becomes the shape's feather, vertex by vertex: the
    vertex moves in along its normal to where the matte reaches 95% and its feather spans the
    edge out to where the matte falls to 5% (``_shape_fit.soft_edge``; a hard edge changes
    nothing), so that the rasterised shape falls off as the matte did. The exports carry the
    feather where the format can (Nuke's feather curve, After Effects' feather points,
    Fusion/Silhouette as the shape's mean softness).
    """

    type_id = "rotograph.MatteToShapes"
    category = "Shapes"
    resumable = True

    matte = Input(Matte, optional=True)
    masks = Input(Masks, optional=True)
    objects = Param(str, "", check=_objects_param, doc="Masks objects (ids or names, comma separated); empty: all")
    threshold = Param(float, 0.5, range=(0.01, 0.99), doc="Matte level of the edge")
    tolerance = Param(float, 0.5, range=(0.05, 20.0), doc="Largest distance (px) from the edge to the fitted curve")
    max_vertices = Param(int, 64, range=(4, 1024), doc="Most vertices per object")
    min_area = Param(float, 16.0, range=(0.0, 1e7), doc="Drop outlines and holes smaller than this (px²)")
    pixel_aspect = Param(float, 1.0, range=(0.1, 10.0), doc="Pixel aspect of the plate (width/height of a pixel)")
    feather = Param(float, 0.0, range=(0.0, 1000.0), doc="Feather given to every vertex (px, outwards)")
    soft_edge = Param(bool, False, doc="Turn the matte's soft edge into per-vertex feather (the outline moves to its inside)")
    shapes = Output(Shapes)

    def reach(self) -> Reach:
        """Causal: frame f's key chains from f − 1's with the inputs at f."""
        return Reach(causal=True)

    def _objects(self, values: dict) -> tuple[list, tuple[int, int]]:
        """``(id, name, matte, mask)`` for every object of this frame, and the frame's size."""
        matte, masks = values.get("matte"), values.get("masks")
        if (matte is None) == (masks is None):
            raise RotographError(f"node '{self.name}': connect either 'matte' or 'masks' (not both)")
        if matte is not None:
            return [(1, "matte", matte, matte > self.threshold)], matte.shape
        out = []
        for o in selected(masks.objects, self.objects):
            mask = masks.labels == o.id
            out.append((o.id, o.name or f"object{o.id}", mask.astype("float32"), mask))
        return out, masks.labels.shape

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = segment.frames
        previous: ShapeSet | None = resume[1]["shapes"] if resume is not None else None
        start = frames.index(resume[0]) + 1 if resume is not None else 0
        for f in frames[start:]:
            objects, (h, w) = self._objects(pull(f))
            out = []
            for oid, name, matte, mask in objects:
                before = previous.object(oid) if previous is not None else None
                curves = fit_object(matte, mask, before.curves if before else [], threshold=self.threshold,
                                    tolerance=self.tolerance, max_vertices=self.max_vertices, min_area=self.min_area)
                for c in curves:
                    c.feather += self.feather
                    if self.soft_edge:  # the outline moves in to the edge's inside, the feather spans it
                        inner, outer = soft_edge(matte, c)
                        c.points[:, :2] = inner
                        c.feather += np.linalg.norm(outer - inner, axis=1)
                out.append(ShapeObject(oid, name, curves))
            previous = ShapeSet(w, h, self.pixel_aspect, out)
            yield f, previous


class ShapesToMatte(Node):
    """Rasterise roto shapes into a matte: anti-aliased (Skia, analytic coverage of the cubic
    Béziers; see ``nodes/roto/_shape_raster.py`` for why Skia), holes cut out, each vertex's feather
    (plus ``feather`` px) as a smoothstep falloff outside the edge.

    shapes: Shapes. ``objects``: ids or names (empty: all). ``width`` × ``height``: the matte's
    size in pixels (0: the shapes' format; another size scales the shapes, so a proxy or a
    Reformat keeps the same outline). Output ``matte``: float32 H×W in [0, 1], the union of the
    chosen objects.
    """

    type_id = "rotograph.ShapesToMatte"
    category = "Shapes"
    cache_policy = CachePolicy.MEMORY_ONLY

    shapes = Input(Shapes)
    objects = Param(str, "", check=_objects_param, doc="Objects (ids or names, comma separated); empty: all")
    width = Param(int, 0, range=(0, 32768), doc="Matte width (px); 0: the shapes' format")
    height = Param(int, 0, range=(0, 32768), doc="Matte height (px); 0: the shapes' format")
    feather = Param(float, 0.0, range=(0.0, 1000.0), doc="Feather added to every vertex (px, outwards)")
    matte = Output(Matte)

    def compute(self, ctx, shapes):
        if bool(self.width) != bool(self.height):
            raise RotographError(f"node '{self.name}': set both width and height, or neither")
        ids = [o.id for o in selected(shapes.objects, self.objects)]
        return rasterise(shapes, self.width, self.height, ids, self.feather)
