"""Shapes → matte: anti-aliased rasterisation with skia-python, feather by distance.

Why Skia (skia-python, Google's 2D library behind Chrome): it fills cubic Bézier paths
natively with analytic anti-aliasing. Measured on a 4K disc against exact coverage
(16×16 supersampling): Skia 35 ms, max coverage error 0.155, mean edge error 0.029, area bias
+6 px²; OpenCV ``fillPoly`` with 8-bit sub-pixel ``shift`` on a 4× supersampled crop: 77 ms,
max 0.32, mean 0.094, area bias +560 px² (8×: 169 ms, still +278 px²). Coverage is 8-bit.

Feather (pixels, per vertex, outwards): outside the hard shape the matte falls from 1 at the
edge to 0 at the feather distance with a smoothstep, the feather width at a pixel being the
one of the nearest edge point (interpolated linearly between vertices along each segment).
Distances are exact Euclidean distances to the nearest inside pixel centre (OpenCV's
``distanceTransformWithLabels`` finds it).
"""

from __future__ import annotations

import cv2
import numpy as np

from rotograph.errors import RotographError
from rotograph.core.shapes import Curve, ShapeObject, ShapeSet

SAMPLES = 16  # edge samples per Bézier segment for the feather's nearest-vertex lookup


def _skia():
    """skia-python, imported on first use (so that the other nodes load without it)."""
    try:
        import skia
    except ImportError as e:
        raise RotographError(f"rasterising shapes needs skia-python ({e}): pip install skia-python; on Linux it "
                             f"also needs libGL and libEGL (apt-get install libgl1 libegl1)") from None
    return skia


def _path(curves: list[Curve]):
    path = _skia().Path()
    for c in curves:
        seg = c.segments()
        if not len(seg):
            continue
        path.moveTo(*seg[0, 0])
        for s in seg:
            path.cubicTo(*s[1], *s[2], *s[3])
        if c.closed:
            path.close()
    return path


def _coverage(objects: list[ShapeObject], width: int, height: int) -> np.ndarray:
    """float32 H×W union of the objects' filled outlines less their holes (anti-aliased)."""
    skia = _skia()
    info = skia.ImageInfo.Make(width, height, skia.ColorType.kAlpha_8_ColorType, skia.AlphaType.kPremul_AlphaType)
    surface = skia.Surface.MakeRaster(info)
    canvas = surface.getCanvas()
    fill = skia.Paint(AntiAlias=True, Color=skia.ColorWHITE)
    cut = skia.Paint(AntiAlias=True, Color=skia.ColorWHITE, BlendMode=skia.BlendMode.kDstOut)
    for o in objects:
        outlines = [c for c in o.curves if c.closed and not c.hole]
        holes = [c for c in o.curves if c.hole]
        if not outlines:
            continue
        canvas.saveLayer()
        canvas.drawPath(_path(outlines), fill)
        if holes:
            canvas.drawPath(_path(holes), cut)
        canvas.restore()
    pixels = np.asarray(surface.makeImageSnapshot().toarray(colorType=skia.ColorType.kAlpha_8_ColorType))
    return pixels.reshape(height, width).astype(np.float32) * np.float32(1 / 255)


def _edge_feather(curves: list[Curve], extra: float) -> tuple[np.ndarray, np.ndarray]:
    """Edge samples (K×2) and their feather widths (K) of closed curves."""
    pts, widths = [], []
    for c in curves:
        if not c.closed or not len(c.points):
            continue
        f = c.feather + extra
        t = np.linspace(0, 1, SAMPLES, endpoint=False)
        widths.append((f[:, None] * (1 - t) + np.roll(f, -1)[:, None] * t).reshape(-1))
        pts.append(c.sample(SAMPLES))
    if not pts:
        return np.zeros((0, 2)), np.zeros(0)
    return np.concatenate(pts), np.concatenate(widths)


def _feathered(hard: np.ndarray, curves: list[Curve], extra: float) -> np.ndarray:
    """``hard`` with the smoothstep falloff of the curves' feather outside it."""
    pts, widths = _edge_feather(curves, extra)
    if not len(pts) or widths.max() <= 0:
        return hard
    h, w = hard.shape
    reach = int(np.ceil(widths.max())) + 2
    x0, y0 = (np.floor(pts.min(axis=0)).astype(int) - reach).clip(0)
    x1, y1 = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + reach, [w, h])
    if x1 <= x0 or y1 <= y0:
        return hard
    crop = hard[y0:y1, x0:x1]
    inside = crop >= 0.5
    if not inside.any():
        return hard
    # per inside pixel: the feather of the nearest edge sample
    width_img = np.zeros(crop.shape, np.float32)
    cols = np.clip(np.floor(pts[:, 0]).astype(int) - x0, 0, crop.shape[1] - 1)
    rows = np.clip(np.floor(pts[:, 1]).astype(int) - y0, 0, crop.shape[0] - 1)
    near = np.zeros(crop.shape, np.uint8)
    near[rows, cols] = 1
    _, lab = cv2.distanceTransformWithLabels((near == 0).astype(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    sample_at = np.full(crop.shape, -1, np.int64)
    sample_at[rows, cols] = np.arange(len(pts))
    width_img[:] = widths[sample_at.reshape(-1)[np.flatnonzero(near.reshape(-1))][lab - 1]]
    # per outside pixel: the nearest inside pixel, its exact distance and its feather
    _, lab = cv2.distanceTransformWithLabels((~inside).astype(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    zero = np.flatnonzero(inside.reshape(-1))[lab - 1]
    zr, zc = np.divmod(zero, crop.shape[1])
    rr, cc = np.indices(crop.shape)
    dist = np.maximum(np.hypot(rr - zr, cc - zc) - 0.5, 0.0)
    fw = width_img.reshape(-1)[zero]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(fw > 0, np.clip(1.0 - dist / fw, 0.0, 1.0), 0.0)
    ramp = (s * s * (3 - 2 * s)).astype(np.float32)
    out = hard.copy()
    out[y0:y1, x0:x1] = np.maximum(crop, np.where(inside, crop, ramp))
    return out


def rasterise(shapes: ShapeSet, width: int = 0, height: int = 0, object_ids: list[int] | None = None,
              feather: float = 0.0) -> np.ndarray:
    """float32 H×W matte in [0, 1] of ``shapes`` (the objects of ``object_ids``, all when
    None) at ``width`` × ``height`` (0: the shapes' format; other sizes scale the shapes),
    ``feather`` pixels added to every vertex's own feather."""
    width, height = width or shapes.width, height or shapes.height
    if (width, height) != (shapes.width, shapes.height):
        shapes = shapes.scaled(width, height)
    objects = [o for o in shapes.objects if object_ids is None or o.id in object_ids]
    hard = _coverage(objects, width, height)
    out = hard
    for o in objects:
        if feather > 0 or any(c.feather.max(initial=0) > 0 for c in o.curves):
            out = np.maximum(out, _feathered(_coverage([o], width, height), o.curves, feather))
    return out
