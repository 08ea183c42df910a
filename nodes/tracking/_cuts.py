"""Graph-cut helpers shared by the object tracker and its re-acquisition search: GrabCut
(Rother, Kolmogorov & Blake, SIGGRAPH 2004; OpenCV ``cv2.grabCut``) over a trimap's undecided
pixels, with frozen appearance GMMs or colour models learnt on the frame, and mask utilities."""

from __future__ import annotations

import cv2
import numpy as np

from ._appearance import Appearance


def bbox(mask: np.ndarray, margin: int = 0) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of a bool mask grown by ``margin``, clipped to it; None when empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    if not len(ys):
        return None
    xs = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (max(0, ys[0] - margin), min(h, ys[-1] + 1 + margin), max(0, xs[0] - margin), min(w, xs[-1] + 1 + margin))


def graph_cut(rgb8: np.ndarray, trimap: np.ndarray, model: Appearance, iterations: int = 1) -> np.ndarray:
    """Label the undecided pixels of ``trimap`` (GrabCut labels, modified in place) with the
    appearance model's GMMs plus the trimap's definite pixels; returns the object bool mask."""
    undecided = (trimap == cv2.GC_PR_FGD) | (trimap == cv2.GC_PR_BGD)
    box = bbox(undecided, 2)
    if box is not None:
        y0, y1, x0, x1 = box
        roi = np.ascontiguousarray(trimap[y0:y1, x0:x1])
        img = np.ascontiguousarray(rgb8[y0:y1, x0:x1])
        bgd, fgd = model.gmms(img[roi == cv2.GC_FGD], img[roi == cv2.GC_BGD])
        cv2.grabCut(img, roi, None, bgd, fgd, iterations, cv2.GC_EVAL_FREEZE_MODEL)
        trimap[y0:y1, x0:x1] = roi
    return (trimap == cv2.GC_FGD) | (trimap == cv2.GC_PR_FGD)


def grabcut(rgb8: np.ndarray, trimap: np.ndarray, iterations: int, margin: int | None = None,
            check=None) -> np.ndarray:
    """GrabCut with colour models learnt from ``trimap`` (GrabCut labels, modified in place),
    over the box of the undecided pixels grown by ``margin`` (None: the whole frame); returns
    the object bool mask. ``check()`` (a cancellation point, ``Context.check``) is called
    between iterations, run one call each (OpenCV keeps the colour models in ``bgd``/``fgd``
    between calls: the same result as one call)."""
    box = (0, trimap.shape[0], 0, trimap.shape[1])
    if margin is not None:
        box = bbox((trimap == cv2.GC_PR_FGD) | (trimap == cv2.GC_PR_BGD), margin) or box
    y0, y1, x0, x1 = box
    roi = np.ascontiguousarray(trimap[y0:y1, x0:x1])
    fg = (roi == cv2.GC_FGD) | (roi == cv2.GC_PR_FGD)
    if fg.sum() >= 16 and (~fg).sum() >= 16:
        cv2.setRNGSeed(0)  # GrabCut's GMM initialisation draws from OpenCV's RNG: keep it repeatable
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        img = np.ascontiguousarray(rgb8[y0:y1, x0:x1])
        steps = [iterations] if check is None or iterations <= 1 else [1] * iterations
        for i, n in enumerate(steps):
            if i:
                check()
            cv2.grabCut(img, roi, None, bgd, fgd, n, cv2.GC_EVAL if i else cv2.GC_INIT_WITH_MASK)
        trimap[y0:y1, x0:x1] = roi
    return (trimap == cv2.GC_FGD) | (trimap == cv2.GC_PR_FGD)


def on_edge(mask: np.ndarray) -> bool:
    """Whether a bool mask touches the frame's border (the object may be partly outside)."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def keep_supported(mask: np.ndarray, support: np.ndarray) -> np.ndarray:
    """The connected parts of ``mask`` that touch ``support`` (bool masks)."""
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask
    keep = np.unique(labels[support & mask])
    return np.isin(labels, keep[keep > 0])
