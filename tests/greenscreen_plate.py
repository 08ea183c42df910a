"""A green-screen plate with a known alpha, built from the lemur stills in ../shared/footage.

comp = fg·α + screen·(1 − α), with an uneven screen (a brightness gradient and a vignette),
green spill on the fur edge and film-like grain. All in scene-linear float32.
"""

from __future__ import annotations

import cv2
import numpy as np

from rotograph.io.colour import to_linear

from conftest import footage


def load_png(name: str, gray=False) -> np.ndarray:
    img = cv2.imread(str(footage(f"lemur/{name}")), cv2.IMREAD_UNCHANGED)
    if gray:
        return (img if img.ndim == 2 else img[..., 0]).astype(np.float32) / 255.0
    return cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def make_plate(seed: int = 0):
    """Returns (comp H×W×3 linear, alpha H×W, foreground H×W×3 linear, screen colour)."""
    rng = np.random.default_rng(seed)
    alpha = load_png("lemur_alpha.png", gray=True)
    fg = to_linear(load_png("lemur_foreground.png"), "sRGB")
    h, w = alpha.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    screen_rgb = np.array([0.06, 0.42, 0.09], np.float32)
    gradient = 0.7 + 0.5 * (xx / w)  # brighter to the right
    vignette = 1.0 - 0.35 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 2
    screen = screen_rgb[None, None, :] * (gradient * vignette)[..., None]
    screen += np.float32([0.02, -0.03, 0.02]) * (yy / h)[..., None]  # hue drift across the screen
    edge = alpha * (1 - alpha) * 4  # spill peaks on the semi-transparent fur
    spill = np.float32([0.0, 0.12, 0.0])[None, None, :] * edge[..., None]
    comp = (fg + spill) * alpha[..., None] + screen * (1 - alpha[..., None])
    comp += rng.normal(0, 0.012, comp.shape).astype(np.float32) * np.sqrt(np.maximum(comp, 0.01))
    return np.maximum(comp, 0).astype(np.float32), alpha, fg, screen_rgb


def colour_difference_key(comp: np.ndarray, screen_rgb: np.ndarray) -> np.ndarray:
    """The plain baseline: 1 − (G − max(R, B)) / screen, clamped to [0, 1]."""
    d = comp[..., 1] - np.maximum(comp[..., 0], comp[..., 2])
    s = screen_rgb[1] - max(screen_rgb[0], screen_rgb[2])
    return np.clip(1 - d / s, 0, 1)


def sad(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of absolute differences, in thousands (the matting benchmarks' unit)."""
    return float(np.abs(a.astype(np.float64) - b).sum() / 1000)
