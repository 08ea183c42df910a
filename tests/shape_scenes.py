"""Mattes with known outlines for the shape tests and bench/shapes.py: discs, smooth stars, a ring
(a shape with a hole) and a star that moves, turns and grows over a shot.

Every matte is the exact area coverage of its outline, 4×4 supersampled, float32 H×W (the
outline is given in the Shapes convention: pixel (c, r) covers [c, c+1] × [r, r+1]).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np


def polar_coverage(shape, cx, cy, radius_of, ss: int = 4, angle: float = 0.0) -> np.ndarray:
    """Coverage of the star-shaped region {r < radius_of(θ − angle)} around (cx, cy)."""
    h, w = shape
    yy, xx = np.mgrid[0:h * ss, 0:w * ss].astype(np.float64)
    x, y = (xx + 0.5) / ss - cx, (yy + 0.5) / ss - cy
    inside = np.hypot(x, y) < radius_of(np.arctan2(y, x) - angle)
    return cv2.resize(inside.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def disc(shape, cx, cy, r, ss=4):
    return polar_coverage(shape, cx, cy, lambda t: np.full_like(t, r), ss)


def star(shape, cx, cy, r, arms=5, depth=0.25, angle=0.0, ss=4):
    """A smooth star: r(θ) = r (1 + depth cos(arms θ))."""
    return polar_coverage(shape, cx, cy, lambda t: r * (1 + depth * np.cos(arms * t)), ss, angle)


def ring(shape, cx, cy, outer, inner, ss=4):
    return np.clip(disc(shape, cx, cy, outer, ss) - disc(shape, cx, cy, inner, ss), 0, 1)


def star_motion(i: int, slow: bool = False) -> tuple[float, float, float, float]:
    """(cx, cy, radius, angle) of the moving star at shot frame index ``i``; ``slow``: a drift
    of 0.3 px/frame with no turn or growth."""
    if slow:
        return 100.0 + 0.3 * i, 80.0 + 0.15 * i, 45.0, 0.0
    return 90.0 + 2.5 * i, 85.0 + 0.8 * i, 40.0 * (1 + 0.01 * i), 0.02 * i


@functools.lru_cache(maxsize=8)
def moving_star(n=30, shape=(180, 240), slow=False) -> list[np.ndarray]:
    return [star(shape, *star_motion(i, slow)[:3], angle=star_motion(i, slow)[3]) for i in range(n)]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two mattes cut at 0.5."""
    a, b = a >= 0.5, b >= 0.5
    return float((a & b).sum() / max((a | b).sum(), 1))
