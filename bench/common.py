"""Helpers shared by the benchmarks: synthetic 1080p plates and timing."""

from __future__ import annotations

import os
import time

import numpy as np


def make_exr_sequence(folder: str, frames: int, width: int = 1920, height: int = 1080, first: int = 1001) -> str:
    """A moving green-screen-like plate as a float EXR sequence; returns the pattern."""
    import OpenEXR

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    base = np.empty((height, width, 3), np.float32)
    base[...] = [0.06, 0.42, 0.09]
    base += rng.normal(0, 0.01, base.shape).astype(np.float32)
    for i in range(frames):
        path = os.path.join(folder, f"plate.{first + i:04d}.exr")
        if os.path.exists(path):
            continue
        img = base.copy()
        x = 200 + (i * 7) % (width - 800)
        img[300:800, x:x + 500] = [0.5, 0.35, 0.3]
        with OpenEXR.File({"compression": OpenEXR.NO_COMPRESSION}, {"RGB": img}) as f:
            f.write(path)
    return os.path.join(folder, "plate.####.exr")


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_plate_4k(frame: int = 0, width: int = 4096, height: int = 2160) -> tuple[np.ndarray, np.ndarray]:
    """A plausible green-screen plate and its alpha: an uneven screen (gradient and vignette),
    soft-edged foreground shapes with small holes, green spill on the edges and grain.
    Returns (rgb float32 H×W×3 scene-linear, alpha float32 H×W); ``frame`` moves the shapes."""
    import cv2

    rng = np.random.default_rng(frame)
    mask = np.zeros((height, width), np.uint8)
    x0 = width // 4 + 40 * frame
    cv2.ellipse(mask, (x0, height // 2), (width // 8, height // 3), 10, 0, 360, 255, -1)
    cv2.rectangle(mask, (x0 + width // 6, height // 3), (x0 + width // 3, height - height // 6), 255, -1)
    cv2.circle(mask, (3 * width // 4, height // 4), height // 8, 255, -1)
    for _ in range(40):  # small holes (fill-holes work) and dots (remove-dots work)
        c = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(mask, c, int(rng.integers(2, 6)), int(rng.choice([0, 255])), -1)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 3.0)
    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    xx = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    shade = (0.7 + 0.5 * xx) * (1.0 - 0.35 * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2)
    screen = np.float32([0.06, 0.42, 0.09]) * shade[..., None]
    fg = np.empty((height, width, 3), np.float32)
    fg[...] = [0.5, 0.35, 0.3]
    fg[:, width // 2:] = [0.2, 0.25, 0.6]
    edge = alpha * (1 - alpha) * 4
    a = alpha[..., None]
    rgb = fg * a + screen * (1 - a)
    rgb[..., 1] += 0.12 * edge * alpha
    rgb += rng.normal(0, 0.01, rgb.shape).astype(np.float32)
    return np.maximum(rgb, 0).astype(np.float32), alpha.astype(np.float32)
