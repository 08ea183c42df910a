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

import numpy as np

from ._imaging import optical_flow, pixel_grid, warp


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
        back = optical_flow(cur_grey, prev_grey)
        fwd = optical_flow(prev_grey, cur_grey)
        gx, gy = pixel_grid(cur_grey.shape)
        mx, my = gx + back[..., 0], gy + back[..., 1]
        f_at = warp(fwd, back)
        err = ((back + f_at) ** 2).sum(axis=2)
        bound = 0.01 * ((back ** 2).sum(axis=2) + (f_at ** 2).sum(axis=2)) + 0.5
        h, w = cur_grey.shape
        inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)  # came from inside the frame
        return cls(back, (err < bound) & inside)

    def warp(self, prev: np.ndarray) -> np.ndarray:
        """A float32 H×W map of the previous frame carried to the current one (bilinear; zero
        for pixels whose previous position is outside the frame)."""
        return warp(prev.astype(np.float32), self.back, outside=0.0)

    def displacement(self, mask: np.ndarray) -> np.ndarray:
        """Median motion (dx, dy) in pixels from the previous frame to this one over the reliable
        pixels of ``mask`` (bool H×W, current frame); zero when none are reliable."""
        sel = mask & self.reliable
        if sel.sum() < 8:
            return np.zeros(2, np.float32)
        return -np.median(self.back[sel], axis=0).astype(np.float32)

