"""Dense motion between two frames with a reliability map: DIS optical flow both ways and the
forward–backward consistency check.

Flow: Dense Inverse Search (Kroeger, Timofte, Dai & Van Gool, "Fast Optical Flow using Dense
Inverse Search", ECCV 2016; OpenCV ``DISOpticalFlow``). Consistency: a pixel's motion is
trusted when following the backward flow and then the forward flow returns it to where it
started (Sundaram, Brox & Keutzer, "Dense point trajectories by GPU-accelerated large
displacement optical flow", ECCV 2010): |b + f(x + b)|² < 0.01·(|b|² + |f(x + b)|²) + 0.5.
Pixels that fail it were occluded or uncovered between the frames, or their flow is wrong.

Also here: affine and similarity motion models fitted with RANSAC to the reliable flow of a
region (an object, its background), and :func:`moving_with`, which splits a region by them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..common._imaging import dilate_mask, erode_mask, optical_flow, pixel_grid, warp

RIGID = 0.85  # share of the object its one affine motion must explain for motion cues (moving_with)


@dataclass
class Motion:
    """Motion from the previous frame to the current one, both grey uint8 H×W at one size.

    ``back``: float32 H×W×2 (dx, dy) — for each current pixel x, its previous position is
    x + back(x). ``reliable``: bool H×W, the forward–backward check on ``back``.
    """

    back: np.ndarray
    reliable: np.ndarray

    @classmethod
    def between(cls, prev_grey: np.ndarray, cur_grey: np.ndarray, check=None) -> "Motion":
        """The motion from ``prev_grey`` to ``cur_grey``; ``check()`` (a cancellation point,
        ``Context.check``) is called between the two flows."""
        back = optical_flow(cur_grey, prev_grey)
        if check is not None:
            check()
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


def moving_with(motion: Motion, mask: np.ndarray, region: np.ndarray):
    """Pixels of ``region`` that move with the object ``mask`` and those that move with the
    background (bool H×W each), or (None, None) when the object hardly moves against it.

    Both motions are affine models fitted with RANSAC to the reliable flow: the background's
    outside ``region`` (a hand-held camera), the object's over ``mask`` (it may turn and
    scale). A pixel goes with a motion when its flow is within half the typical difference
    between the two; pixels near neither (another moving thing) go with none."""
    h, w = mask.shape
    bg_model = affine_flow(motion, ~dilate_mask(region, 4))
    core = erode_mask(mask, 2)
    obj_model = affine_flow(motion, core)
    if bg_model is None or obj_model is None:
        return None, None
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg, obj = displacement_field(bg_model, xx, yy), displacement_field(obj_model, xx, yy)
    gap = float(np.median(np.hypot(*(obj - bg)[core & motion.reliable].T))) if (core & motion.reliable).any() else 0.0
    if gap < 0.75:
        return None, None
    tol = 0.5 * gap
    near_obj = np.hypot(*(motion.back - obj).transpose(2, 0, 1)) < tol
    near_bg = np.hypot(*(motion.back - bg).transpose(2, 0, 1)) < tol
    trusted = core & motion.reliable
    fit = float((near_obj & trusted).sum() / max(trusted.sum(), 1))
    if fit < RIGID:  # parts of the object move their own ways (limbs): motion cannot tell
        return None, None
    sel = region & motion.reliable
    return near_obj & sel, near_bg & sel & ~near_obj


def affine_flow(motion: Motion, where: np.ndarray, step: int = 4, similarity: bool = False) -> np.ndarray | None:
    """2×3 affine mapping this frame's pixels to the previous frame's, fitted with RANSAC to the
    reliable backward flow of ``where`` (bool H×W; on a ``step``-px grid); with ``similarity``
    only rotation, uniform scale and shift (steadier on a thin strip of an object). None when
    fewer than 20 grid points are reliable."""
    h, w = where.shape
    sy, sx = np.mgrid[0:h:step, 0:w:step]
    pick = where[sy, sx] & motion.reliable[sy, sx]
    if pick.sum() < 20:
        return None
    src = np.stack([sx[pick], sy[pick]], axis=1).astype(np.float32)
    cv2.setRNGSeed(0)
    fit = cv2.estimateAffinePartial2D if similarity else cv2.estimateAffine2D
    model, _ = fit(src, src + motion.back[sy[pick], sx[pick]], method=cv2.RANSAC, ransacReprojThreshold=1.0,
                   maxIters=500, refineIters=5)
    return model


def displacement_field(model: np.ndarray, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """The displacement field (H×W×2) of an affine ``model`` at pixel grids ``xx``, ``yy``."""
    return np.stack([model[0, 0] * xx + model[0, 1] * yy + model[0, 2] - xx,
                     model[1, 0] * xx + model[1, 1] * yy + model[1, 2] - yy], axis=2)
