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
