"""Roto: hand-drawn (or baked) keyframed shapes, rasterised and combined with a matte — the fix
an artist paints over what a model got wrong."""

from __future__ import annotations

import numpy as np

from rotograph import Input, Matte, Node, Output, Param
from rotograph.errors import RotographError
from rotograph.core.node import CachePolicy
from rotograph.core.shapes import ShapeKeys, ShapeSet, shapes_at
from rotograph.core.types import Shapes

from ._shape_raster import rasterise

OPERATIONS = ("replace", "add", "subtract", "intersect")


class Roto(Node):
    """Keyframed roto shapes (``keys``: per keyframe a Shapes value in plate pixels, top-left
    origin), interpolated linearly between keyframes (vertex by vertex: keep a curve's vertex
    count from key to key), rasterised like ShapesToMatte and combined with the input matte:

    - ``replace``: the roto matte alone (the input only gives the size);
    - ``add``: union, max(matte, roto) — paint back what the model missed;
    - ``subtract``: matte · (1 − roto) — cut out what it took by mistake;
    - ``intersect``: matte · roto — keep the model's matte inside a garbage shape.

    matte (optional): Matte float32 H×W; without it the matte has the shapes' format.
    ``feather``: px added to every vertex's feather. Outputs ``shapes`` (the shapes at this
    frame: Shapes) and ``matte`` (float32 H×W in [0, 1]). No keyframes: empty shapes and the
    input matte unchanged (a 1×1 zero matte without one).
    """

    type_id = "rotograph.Roto"
    category = "Shapes"
    cache_policy = CachePolicy.MEMORY_ONLY
    frame_dependent = True

    matte = Input(Matte, optional=True)
    keys = Param(ShapeKeys, [], doc="Keyframed shapes: [{frame, shapes}] in plate pixels", ui={"widget": "shape_keys"})
    operation = Param(str, "add", choices=OPERATIONS, doc="How the roto combines with the input matte")
    feather = Param(float, 0.0, range=(0.0, 1000.0), doc="Feather added to every vertex (px, outwards)")
    shapes = Output(Shapes)
    matte_combined = Output(Matte, doc="The matte input combined with the shapes by operation (the shapes alone without one)")

    def compute(self, ctx, matte):
        shapes = shapes_at(self.keys, ctx.frame)
        if shapes is None:
            h, w = matte.shape if matte is not None else (1, 1)
            empty = ShapeSet(w, h)
            return {"shapes": empty, "matte_combined": matte if matte is not None else np.zeros((1, 1), np.float32)}
        h, w = matte.shape if matte is not None else (shapes.height, shapes.width)
        sx, sy = w / shapes.width, h / shapes.height
        if abs(sx - sy) > 0.01 * max(sx, sy):  # a proxy or a Reformat keeps the aspect (within rounding)
            raise RotographError(f"node '{self.name}': the shapes' format {shapes.width}×{shapes.height} and the "
                                 f"matte's {w}×{h} differ in aspect")
        roto = rasterise(shapes, w, h, None, self.feather)
        if matte is None or self.operation == "replace":
            out = roto
        elif self.operation == "add":
            out = np.maximum(matte, roto)
        elif self.operation == "subtract":
            out = matte * (1 - roto)
        else:
            out = matte * roto
        return {"shapes": shapes, "matte_combined": out.astype(np.float32)}
