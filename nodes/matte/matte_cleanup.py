"""Matte clean-up: FillHoles, RemoveDots and BorderFix.

All three take and give a straight matte (float32 H×W in [0, 1]) and change only the pixels
they are about: a filled hole or a removed dot takes its soft rim with it, every other pixel —
soft edges included — is returned bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from rotograph import Input, Matte, Node, Output, Param
from rotograph.errors import RotographError
from rotograph.core.node import CachePolicy

SOLID = 1.0 - 1e-3  # at or above: opaque (not part of a hole's rim)
CLEAR = 1e-3  # at or below: transparent (not part of a dot's rim)


NONE = np.zeros((0, 0), bool)  # select_labels: no extra mask


def _components(mask: np.ndarray, connectivity: int) -> tuple[np.ndarray, np.ndarray]:
    """Label map (int32 H×W, 0 outside ``mask``) and the area in pixels of every label."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=connectivity)
    return labels, stats[:, cv2.CC_STAT_AREA]


def _touching_border(labels: np.ndarray) -> np.ndarray:
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return np.unique(edge[edge > 0])


def _with_rim(seed: np.ndarray, soft, reach: int) -> np.ndarray:
    """``seed`` grown by up to ``reach`` px through the pixels of ``soft(box)`` (the bool mask
    of the pixels it may grow into, asked for the box it can reach: a tuple of slices) (geodesic
    dilation, 8-connected): a region and the soft ramp around it. Only the box around the seed
    (plus ``reach`` + 1 px) is dilated: the region cannot leave it, and small holes or dots
    in a 4K matte cost their box, not the frame."""
    rows, cols = np.flatnonzero(seed.any(axis=1)), np.flatnonzero(seed.any(axis=0))
    out = np.zeros(seed.shape, bool)
    if not len(rows):
        return out
    box = (slice(max(rows[0] - reach - 1, 0), rows[-1] + reach + 2),
           slice(max(cols[0] - reach - 1, 0), cols[-1] + reach + 2))
    region = seed[box].astype(np.uint8)
    soft = soft(box).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(reach):
        grown = cv2.dilate(region, kernel) & soft | region
        if np.array_equal(grown, region):
            break
        region = grown
    out[box] = region.astype(bool)
    return out


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"{value} is negative")
    return value


def area_power(node) -> int:
    """How ``max_area`` scales under ``render --proxy``: as px² (power 2) when ``units`` is
    ``px``, not at all for a percentage of the frame."""
    return 2 if node.units == "px" else 0

class _SmallRegions(Node):
    """What FillHoles and RemoveDots share: the area limit, the threshold that defines a region
    and how far its soft rim goes with it. ``max_area`` 0 passes the matte through."""

    category = "Matte"
    cache_policy = CachePolicy.MEMORY_ONLY

    matte = Input(Matte)
    max_area = Param(float, 100.0, check=_non_negative, doc="Largest region changed (px², or %)")  # no slider
    units = Param(str, "px", choices=("px", "percent"), doc="Unit of max_area: px², or % of the area it refers to")
    threshold = Param(float, 0.5, range=(0.001, 0.999), doc="Alpha that separates a region from its surroundings")
    edge = Param(int, 4, range=(0, 64), doc="How far (px) the change reaches into the region's soft rim")
    out = Output(Matte)

    def passthrough(self):
        return "matte" if self.max_area == 0 else None

    def _limit(self, whole: np.ndarray) -> np.ndarray:
        """The largest area (px²) changed, per region, from ``max_area`` in px² or in % of
        ``whole`` (the area, px², that the percentage refers to)."""
        if self.units == "px":
            return np.full(whole.shape, self.max_area, np.float64)
        return whole * (self.max_area / 100.0)


class FillHoles(_SmallRegions):
    """Fill holes smaller than an area: regions below ``threshold`` enclosed by the matte
    (4-connected, not touching the frame border) with an area up to ``max_area`` — px², or %
    of the area of the object around the hole (the 8-connected region above ``threshold``,
    holes included) — become opaque, together with their soft rim (the pixels below opaque
    reached from the hole within ``edge`` px). Larger holes, edges and every other pixel are
    unchanged. Hole areas are counted at ``threshold``.

    matte: float32 H×W in [0, 1] (straight). Output ``matte`` of the same shape.
    """

    type_id = "rotograph.FillHoles"
    pixel_params = {"max_area": area_power, "edge": 1}  # in pixels: scaled by render --proxy (power of the scale)

    def compute(self, ctx, matte):
        from ..common._kernels import label_of_label, select_labels

        inside = matte >= self.threshold
        holes, hole_area = _components(~inside, 4)
        enclosed = np.ones(len(hole_area), bool)
        enclosed[0] = False
        enclosed[_touching_border(holes)] = False
        objects, object_area = _components(select_labels(holes, enclosed, inside), 8)
        around = label_of_label(holes, objects, len(hole_area))  # a hole lies in one filled object
        fill = enclosed & (hole_area <= self._limit(object_area[around]))
        if not fill.any():
            return matte
        region = _with_rim(select_labels(holes, fill, NONE), lambda box: matte[box] < SOLID, self.edge)
        return np.where(region, np.float32(1.0), matte).astype(np.float32, copy=False)


class RemoveDots(_SmallRegions):
    """Remove islands smaller than an area: 8-connected regions at or above ``threshold`` with
    an area up to ``max_area`` — px², or % of the matte's whole area above ``threshold`` —
    become transparent, together with their soft rim (the pixels above transparent reached
    from the island within ``edge`` px). Islands touching the frame border count too. Larger
    islands, edges and every other pixel are unchanged.

    matte: float32 H×W in [0, 1] (straight). Output ``matte`` of the same shape.
    """

    type_id = "rotograph.RemoveDots"
    pixel_params = {"max_area": area_power, "edge": 1}  # in pixels: scaled by render --proxy (power of the scale)

    def compute(self, ctx, matte):
        from ..common._kernels import select_labels

        islands, area = _components(matte >= self.threshold, 8)
        remove = area <= self._limit(np.full(len(area), area[1:].sum(), np.float64))
        remove[0] = False
        if not remove.any():
            return matte
        region = _with_rim(select_labels(islands, remove, NONE), lambda box: matte[box] > CLEAR, self.edge)
        return np.where(region, np.float32(0.0), matte).astype(np.float32, copy=False)


class BorderFix(Node):
    """Fix a matte's frame border, ``size`` px wide on every side: ``clear`` sets it to 0
    (garbage along the frame edge), ``extend`` replaces it with the nearest pixel just inside
    (an object leaving frame stays solid to the edge; models often soften the last pixels).
    Pixels inside the border are unchanged.

    matte: float32 H×W in [0, 1] (straight). Output ``matte`` of the same shape.
    Raises when 2·``size`` leaves no pixel inside the frame.
    """

    type_id = "rotograph.BorderFix"
    pixel_params = {"size": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Matte"
    cache_policy = CachePolicy.MEMORY_ONLY

    matte = Input(Matte)
    size = Param(int, 0, range=(0, 4096), doc="Border width (px)")
    mode = Param(str, "extend", choices=("extend", "clear"))
    out = Output(Matte)

    def passthrough(self):
        return "matte" if self.size == 0 else None

    def compute(self, ctx, matte):
        n = self.size
        h, w = matte.shape
        if 2 * n >= min(h, w):
            raise RotographError(f"param 'size': a {n} px border leaves nothing of a {w}×{h} matte")
        inner = matte[n:h - n, n:w - n]
        if self.mode == "clear":
            return cv2.copyMakeBorder(inner, n, n, n, n, cv2.BORDER_CONSTANT, value=0.0)
        return cv2.copyMakeBorder(inner, n, n, n, n, cv2.BORDER_REPLICATE)
