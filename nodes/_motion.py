"""Dense motion between two frames with a reliability map: DIS optical flow both ways and the
forward–backward consistency check.

Flow: Dense Inverse Search (Kroeger, Timofte, Dai & Van Gool, "Fast Optical Flow using Dense
Inverse Search", ECCV 2016; OpenCV ``DISOpticalFlow``). Consistency: a pixel's motion is
trusted when following the backward flow and then the forward flow returns it to where it
started (Sundaram, Brox & Keutzer, "Dense point trajectories by GPU-accelerated large
displacement optical flow", ECCV 2010): |b + f(x + b)|² < 0.01·(|b|² + |f(x + b)|²) + 0.5.
Pixels that fail it were occluded or uncovered between the frames, or their flow is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Motion:
    """Motion from the previous frame to the current one, both grey uint8 H×W at one size.

    ``back``: float32 H×W×2 (dx, dy) — for each current pixel x, its previous position is
    x + back(x). ``reliable``: bool H×W, the forward–backward check on ``back``.
    """

    back: np.ndarray
    reliable: np.ndarray

    @classmethod
    def between(cls, prev_grey: np.ndarray, cur_grey: np.ndarray) -> "Motion":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        back = dis.calc(cur_grey, prev_grey, None)
        fwd = dis.calc(prev_grey, cur_grey, None)
        gx, gy = _grid(cur_grey.shape)
        mx, my = gx + back[..., 0], gy + back[..., 1]
        f_at = cv2.remap(fwd, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        err = ((back + f_at) ** 2).sum(axis=2)
        bound = 0.01 * ((back ** 2).sum(axis=2) + (f_at ** 2).sum(axis=2)) + 0.5
        h, w = cur_grey.shape
        inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)  # came from inside the frame
        return cls(back, (err < bound) & inside)

    def warp(self, prev: np.ndarray) -> np.ndarray:
        """A float32 H×W map of the previous frame carried to the current one (bilinear; zero
        for pixels whose previous position is outside the frame)."""
        gx, gy = _grid(prev.shape)
        return cv2.remap(prev.astype(np.float32), gx + self.back[..., 0], gy + self.back[..., 1],
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def displacement(self, mask: np.ndarray) -> np.ndarray:
        """Median motion (dx, dy) in pixels from the previous frame to this one over the reliable
        pixels of ``mask`` (bool H×W, current frame); zero when none are reliable."""
        sel = mask & self.reliable
        if sel.sum() < 8:
            return np.zeros(2, np.float32)
        return -np.median(self.back[sel], axis=0).astype(np.float32)


_GRIDS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _grid(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    key = (shape[0], shape[1])
    if key not in _GRIDS:
        gy, gx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
        _GRIDS.clear()
        _GRIDS[key] = (gx, gy)
    return _GRIDS[key]
