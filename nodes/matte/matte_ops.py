"""Grow and Feather: shape a matte's edge."""

from __future__ import annotations

import numpy as np

from rotograph import Input, Matte, Node, Output, Param
from rotograph.core.node import CachePolicy

from ..common._imaging import blur, grow


class Grow(Node):
    """Dilate (positive ``size``) or erode (negative) a matte by a disk of ``size`` pixels;
    fractional sizes blend the two nearest radii. A size of 0 passes the input through
    (same cache entry).

    matte: float32 H×W in [0, 1]. Output ``matte`` of the same shape and range.
    """

    type_id = "rotograph.Grow"
    pixel_params = {"size": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Matte"
    cache_policy = CachePolicy.MEMORY_ONLY

    matte = Input(Matte)
    size = Param(float, 0.0, range=(-256.0, 256.0), ui={"label": "Size (px)"})
    out = Output(Matte)

    def passthrough(self):
        return "matte" if self.size == 0 else None

    def compute(self, ctx, matte):
        return grow(matte, self.size)


class Feather(Node):
    """Soften a matte's edge with a Gaussian blur of standard deviation ``size`` / 2 pixels
    (so the edge ramp spans about ``size`` pixels on each side). 0 passes through.

    matte: float32 H×W in [0, 1]. Output ``matte`` of the same shape and range.
    """

    type_id = "rotograph.Feather"
    pixel_params = {"size": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Matte"
    cache_policy = CachePolicy.MEMORY_ONLY

    matte = Input(Matte)
    size = Param(float, 0.0, range=(0.0, 500.0), ui={"label": "Size (px)"})
    out = Output(Matte)

    def passthrough(self):
        return "matte" if self.size == 0 else None

    def compute(self, ctx, matte):
        return np.clip(blur(matte, self.size / 2.0), 0.0, 1.0).astype(np.float32)
