"""A textured disc moving (and accelerating) over a textured background, with its exact matte.

The matte is the disc's area coverage (4×4 supersampled); a flickering version adds Gaussian
noise of known standard deviation (clipped to [0, 1], as a matte is). Everything float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass
class Disc:
    centres: dict[int, tuple[float, float]]  # frame → (x, y) in pixels
    radius: float
    truth: dict[int, np.ndarray]  # frame → matte H×W
    plate: dict[int, np.ndarray]  # frame → linear RGB H×W×3
    noisy: dict[int, np.ndarray]  # frame → matte with flicker


def coverage(shape, cx: float, cy: float, radius: float, ss: int = 4) -> np.ndarray:
    """Area coverage (float32 H×W) of a disc centred on pixel coordinates (cx, cy)."""
    h, w = shape
    yy, xx = np.mgrid[0:h * ss, 0:w * ss].astype(np.float32)
    inside = ((xx + 0.5) / ss - 0.5 - cx) ** 2 + ((yy + 0.5) / ss - 0.5 - cy) ** 2 <= radius * radius
    return cv2.resize(inside.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def moving_disc(n=12, shape=(96, 128), first=1001, radius=20.0, sigma=0.15, seed=3) -> Disc:
    rng = np.random.default_rng(seed)
    h, w = shape
    bg = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 1.5) * 0.5
    fg = cv2.GaussianBlur(rng.random((2 * h, 2 * w, 3)).astype(np.float32), (0, 0), 1.5) * 0.6 + 0.4
    disc = Disc({}, radius, {}, {}, {})
    for i in range(n):
        f = first + i
        cx, cy = 35.0 + 3.3 * i + 0.15 * i * i, 45.0 + 1.7 * i  # accelerating: a plain average shifts the edge
        m = coverage(shape, cx, cy, radius)
        texture = cv2.warpAffine(fg, np.float32([[1, 0, cx - w / 2], [0, 1, cy - h / 2]]), (w, h),
                                 borderMode=cv2.BORDER_REFLECT)  # the disc's texture moves with it
        disc.centres[f] = (cx, cy)
        disc.truth[f] = m
        disc.plate[f] = (texture * m[..., None] + bg * (1 - m[..., None])).astype(np.float32)
        disc.noisy[f] = np.clip(m + rng.normal(0, sigma, m.shape), 0, 1).astype(np.float32)
    return disc


def edge_errors(matte: np.ndarray, centre, radius: float, rays: int = 180) -> np.ndarray:
    """Per ray from the true centre: |distance of the matte's outermost 0.5 crossing − radius| (px)."""
    cx, cy = centre
    theta = np.linspace(0, 2 * np.pi, rays, endpoint=False)[:, None]
    r = np.arange(radius - 8, radius + 8, 0.05, dtype=np.float32)
    xs, ys = (cx + np.cos(theta) * r).astype(np.float32), (cy + np.sin(theta) * r).astype(np.float32)
    along = cv2.remap(matte, xs, ys, cv2.INTER_LINEAR)
    out = []
    for row in along:
        above = np.nonzero(row >= 0.5)[0]
        out.append(abs(r[above[-1]] - radius) if above.size else radius)
    return np.array(out)


def temporal_variance(mattes: dict[int, np.ndarray], truth: dict[int, np.ndarray], frames) -> float:
    """Variance over time of each pixel's error against the truth, averaged over pixels."""
    return float(np.stack([mattes[f] - truth[f] for f in frames]).var(axis=0).mean())


def write_rgba_sequence(folder: Path, disc: Disc, name="disc") -> str:
    """The plate (sRGB 8-bit) with the flickering matte as alpha, ``name.####.png``."""
    from rotograph.io.colour import from_linear

    folder.mkdir(parents=True, exist_ok=True)
    for f, rgb in disc.plate.items():
        srgb = from_linear(np.clip(rgb, 0, 1), "sRGB")
        rgba = np.dstack([srgb, disc.noisy[f]])
        cv2.imwrite(str(folder / f"{name}.{f:04d}.png"),
                    cv2.cvtColor((rgba * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGBA2BGRA))
    return str(folder / f"{name}.####.png")
