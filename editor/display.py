"""Turning node outputs into viewer pixels (pure numpy: no window needed).

``to_display(value, mode, plate)`` returns float32 H×W×4 RGBA in [0, 1] for a DearPyGui
texture: images sRGB-encoded, mattes grey or overlaid on the plate, depth in false colour
(near = warm), normals as 0.5 + 0.5·N, masks with one colour per object. ``viewer_rgba`` is what
the viewer shows, at the resolution it is drawn at.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from rotograph.io.colour import from_linear
from rotograph.core.shapes import ShapeSet
from rotograph.core.types import DepthMap, MaskSet

MODES = ("rgb", "alpha", "red", "green", "blue", "overlay")

# one colour per object id (prompts drawn in the viewer and masks use the same), RGB in [0, 1]
OBJECT_COLOURS = np.float32([[1.0, 0.35, 0.25], [0.3, 0.8, 1.0], [0.45, 1.0, 0.35], [1.0, 0.85, 0.2],
                             [0.85, 0.4, 1.0], [1.0, 0.55, 0.8], [0.2, 1.0, 0.85], [1.0, 0.6, 0.1]])


def object_colour(obj: int) -> np.ndarray:
    """The display colour of object id ``obj`` (≥ 1), float32 RGB in [0, 1]."""
    return OBJECT_COLOURS[(int(obj) - 1) % len(OBJECT_COLOURS)]


def _rgba(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 (or H×W grey) → opaque float32 RGBA in [0, 1], written once into one buffer."""
    out = np.empty((*rgb.shape[:2], 4), np.float32)
    np.clip(rgb if rgb.ndim == 3 else rgb[..., None], 0, 1, out=out[..., :3])
    out[..., 3] = 1
    return out


def false_colour(x: np.ndarray) -> np.ndarray:
    """[0, 1] → a perceptual blue-to-yellow ramp (OpenCV's TURBO map)."""
    import cv2

    u8 = (np.clip(x, 0, 1) * 255).astype(np.uint8)
    return cv2.applyColorMap(u8, cv2.COLORMAP_TURBO)[..., ::-1].astype(np.float32) / 255


def shapes_matte(value):
    """A Shapes value as the matte it rasterises to (the viewer shows its outlines over it); any
    other value unchanged."""
    if not isinstance(value, ShapeSet):
        return value
    from rotograph.nodes.roto._shape_raster import rasterise

    return rasterise(value)


def to_display(value, mode: str = "rgb", plate: np.ndarray | None = None) -> np.ndarray:
    """A value as viewer pixels: float32 H×W×4 RGBA in [0, 1], display-referred (sRGB).

    ``value``: an image (H×W×3/4 scene-linear float32; H×W×3 with values below −0.01 is shown as
    normals, 0.5 + 0.5·n), a matte (H×W), a :class:`MaskSet` (one colour per object), a
    :class:`DepthMap` (false colour, near = warm, 1st–99th percentile) or a Shapes value (its
    matte). ``mode``: one of :data:`MODES` (``overlay`` tints a matte or masks over ``plate``,
    the plate's H×W×3 linear pixels). Raises ``TypeError`` for a value it cannot show."""
    value = shapes_matte(value)
    if isinstance(value, DepthMap):
        z = value.z[np.isfinite(value.z)]
        lo, hi = (np.percentile(z, 1), np.percentile(z, 99)) if z.size else (0, 1)
        return _rgba(false_colour(1 - (value.z - lo) / max(hi - lo, 1e-9)))
    if isinstance(value, MaskSet):
        n = max(int(value.labels.max()), 1)
        colours = np.vstack([[0, 0, 0], [object_colour(i) for i in range(1, n + 1)]]).astype(np.float32)
        tint = colours[value.labels]
        if mode == "overlay" and plate is not None and plate.shape[:2] == value.labels.shape:
            inside = (value.labels > 0)[..., None] * np.float32(0.5)
            return _rgba(from_linear(np.clip(plate[..., :3], 0, 1), "sRGB") * 0.6 * (1 - inside) + tint * inside)
        return _rgba(tint)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"cannot show a {type(value).__name__}")
    if value.ndim == 2:  # a matte
        if mode == "overlay" and plate is not None and plate.shape[:2] == value.shape:
            base = from_linear(np.clip(plate[..., :3], 0, 1), "sRGB") * 0.6
            tint = np.float32([1.0, 0.25, 0.2])
            return _rgba(base * (1 - value[..., None] * 0.5) + tint * value[..., None] * 0.5)
        return _rgba(value)
    if value.shape[2] == 3 and mode == "rgb" and value.min() < -0.01:  # normals in [-1, 1]
        return _rgba(0.5 + 0.5 * value)
    if mode == "alpha":
        a = value[..., 3] if value.shape[2] == 4 else np.ones(value.shape[:2], np.float32)
        return _rgba(a)
    if mode in ("red", "green", "blue"):
        c = value[..., "rgb".index(mode[0])]
        return _rgba(from_linear(c, "sRGB"))
    return _rgba(from_linear(value[..., :3], "sRGB"))


def pixel_text(value, x: int, y: int) -> str:
    """The value under the cursor, e.g. ``x 12 y 40: 0.214 0.214 0.214 1.000``."""
    arr = value.z if isinstance(value, DepthMap) else value.labels if isinstance(value, MaskSet) else value
    if not isinstance(arr, np.ndarray) or not (0 <= y < arr.shape[0] and 0 <= x < arr.shape[1]):
        return ""
    px = np.atleast_1d(arr[y, x])
    return f"x {x} y {y}: " + " ".join(f"{float(v):.4f}" for v in px)


def viewer_rgba(value, plate=None, mode: str = "rgb", downscale: int = 1) -> np.ndarray:
    """What the viewer draws: ``value`` in ``mode`` — a matte or masks over ``plate`` when there
    is one and the mode is ``rgb`` — shrunk by the whole factor ``downscale`` (an area average,
    OpenCV ``INTER_AREA``) when the viewer draws it smaller than 1:1, so that no more texels are
    uploaded than the screen shows. Raises TypeError for a value it cannot show."""
    import cv2

    value = shapes_matte(value)
    if mode == "rgb" and plate is not None and not (isinstance(value, np.ndarray) and value.ndim == 3):
        mode = "overlay"

    def shrink(a):
        h, w = a.shape[:2]
        return cv2.resize(a, (max(1, w // downscale), max(1, h // downscale)), interpolation=cv2.INTER_AREA)

    if downscale > 1 and isinstance(value, np.ndarray):  # images and mattes: shrink, then convert
        return to_display(shrink(value), mode, shrink(plate) if plate is not None else None)
    rgba = to_display(value, mode, plate)
    return shrink(rgba) if downscale > 1 else rgba


def size_of(value) -> tuple[int, int] | None:
    """(width, height) of a value in pixels, or None."""
    if isinstance(value, ShapeSet):
        return value.width, value.height
    arr = value.z if isinstance(value, DepthMap) else value.labels if isinstance(value, MaskSet) else value
    return (arr.shape[1], arr.shape[0]) if isinstance(arr, np.ndarray) and arr.ndim >= 2 else None


class PixelCache:
    """The viewer's latest images in display pixels, by what they show (the cache keys of the
    value and of the plate under it, the mode, the downscale): stepping back over frames already
    seen skips the display transform. Bounded by bytes; the least recently shown go first."""

    def __init__(self, max_bytes: int = 96 << 20):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        """The pixels stored under ``key`` (now the most recent), or None."""
        rgba = self._items.get(key)
        if rgba is not None:
            self._items.move_to_end(key)
        return rgba

    def put(self, key, rgba: np.ndarray) -> None:
        """Keep ``rgba`` under ``key``, dropping the oldest beyond ``max_bytes``."""
        if key in self._items or rgba.nbytes > self.max_bytes:
            return
        self._items[key] = rgba
        self.bytes += rgba.nbytes
        while self.bytes > self.max_bytes:
            self.bytes -= self._items.popitem(last=False)[1].nbytes
