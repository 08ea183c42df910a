"""One object tracked through a shot at the working resolution: keyframe seed, motion-warped
trimap, graph cut, loss detection and re-acquisition. FlowTrack runs one per object.

Per frame, for an object in view:

1. the previous mask is carried to this frame along the backward optical flow
   (:class:`~._motion.Motion`);
2. a trimap from how far that warp can be trusted: definite object only ``band`` pixels inside
   the carried edge, where the flow passes the forward–backward check; unknown around the
   edge (``band`` plus the object's speed) and wherever the flow failed — so background that
   the object uncovered is never definite object; definite background elsewhere. When the
   object moves against its background and one affine motion explains it (a rigid-ish object,
   not limbs: ``RIGID``), motion decides too (:func:`moving_with`): what moves with the
   background is not object, what moves with the object is, whatever the colours — white fur
   on a white wall;
3. a graph cut of the unknown pixels (GrabCut's energy: colour GMMs + contrast-sensitive
   smoothness; Rother et al. 2004, OpenCV ``cv2.grabCut`` in ``GC_EVAL_FREEZE_MODEL``) with
   colour models from the keyframe appearance (:class:`~._appearance.Appearance`) plus this
   frame's definite pixels; a partly seen object is re-cut with motion to regrow what comes
   into view;
4. checks: when the visible area falls below ``LOST_AREA`` of the object's reference area, or
   its colours stop matching the appearance model, the object is lost (hidden or out of frame)
   and reported empty with ``occluded`` = 1; a partly hidden object reports
   ``occluded`` = 1 − visible area / reference area;
5. while lost, the frame is searched for the appearance: windows of the object's size whose
   colours match the object's (an integral-histogram search; a mild preference for where its
   last motion leads, a penalty where something else of similar colours was already refused —
   distractors) are cut out with GrabCut, and a cut whose size and colours agree is the object
   again, with its id.

The keyframe seed is GrabCut from the prompts, re-cut with motion to the next frame of the run
when the object moves against its background.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ._appearance import Appearance
from ._imaging import dilate_mask, erode_mask, resize, to_display_u8
from ._motion import Motion

GC_ITER_SEED = 5
LOST_AREA = 0.12      # visible area under this share of the reference area (edge: half): lost
LOST_COLOUR = 0.55    # colour similarity under this share of the keyframe's: lost
FOUND_SCORE = 0.8     # a search window's colour similarity, as a share of the keyframe box's
FOUND_AREA = 0.2      # a re-found object's area, as a share of the reference area (edge: half)
FOUND_COLOUR = 0.93   # a re-found object's colour similarity, as a share of the keyframe's
RIGID = 0.85          # share of the object its one affine motion must explain for motion cues
REGROW = 0.3          # an object with this share hidden is re-cut with motion to regrow
SEARCH_WINDOWS = 3    # candidate windows cut out per searched frame
MAX_DISTRACTORS = 32  # refused windows remembered while an object is lost
DISTRACTOR_COLOUR = 0.7  # a window cut under this colour similarity (share of the keyframe's): distractor
SEARCH_WINDOW_PX = 16
AGREE_PX = 0.6        # flow within this of the object's motion (work px, plus 1 % of its size and 10 % of its
                      # speed) moves with it
CONFIDENT = 0.8       # a whole object seen this confidently may renew the appearance model
RIGID_AGREE = 0.6     # share of the visible object that must move with it for motion to tell an occluder  # the object's short side in the search's small copy of the frame


@dataclass
class WorkFrame:
    """A plate frame at the working resolution: ``rgb8`` uint8 H×W×3 (sRGB), ``grey`` uint8."""

    rgb8: np.ndarray
    grey: np.ndarray

    @classmethod
    def of(cls, image: np.ndarray, scale: float) -> "WorkFrame":
        rgb8 = to_display_u8(resize(image, scale))
        return cls(rgb8, cv2.cvtColor(rgb8, cv2.COLOR_RGB2GRAY))

    @property
    def shape(self) -> tuple[int, int]:
        return self.grey.shape


def _bbox(mask: np.ndarray, margin: int = 0) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of a bool mask grown by ``margin``, clipped to it; None when empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    if not len(ys):
        return None
    xs = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (max(0, ys[0] - margin), min(h, ys[-1] + 1 + margin), max(0, xs[0] - margin), min(w, xs[-1] + 1 + margin))


def _graph_cut(rgb8: np.ndarray, trimap: np.ndarray, model: Appearance, iterations: int = 1) -> np.ndarray:
    """Label the undecided pixels of ``trimap`` (GrabCut labels, modified in place) with the
    appearance model's GMMs plus the trimap's definite pixels; returns the object bool mask."""
    undecided = (trimap == cv2.GC_PR_FGD) | (trimap == cv2.GC_PR_BGD)
    box = _bbox(undecided, 2)
    if box is not None:
        y0, y1, x0, x1 = box
        roi = np.ascontiguousarray(trimap[y0:y1, x0:x1])
        img = np.ascontiguousarray(rgb8[y0:y1, x0:x1])
        bgd, fgd = model.gmms(img[roi == cv2.GC_FGD], img[roi == cv2.GC_BGD])
        cv2.grabCut(img, roi, None, bgd, fgd, iterations, cv2.GC_EVAL_FREEZE_MODEL)
        trimap[y0:y1, x0:x1] = roi
    return (trimap == cv2.GC_FGD) | (trimap == cv2.GC_PR_FGD)


def _grabcut(rgb8: np.ndarray, trimap: np.ndarray, iterations: int, margin: int | None = None) -> np.ndarray:
    """GrabCut with colour models learnt from ``trimap`` (GrabCut labels, modified in place),
    over the box of the undecided pixels grown by ``margin`` (None: the whole frame); returns
    the object bool mask."""
    box = (0, trimap.shape[0], 0, trimap.shape[1])
    if margin is not None:
        box = _bbox((trimap == cv2.GC_PR_FGD) | (trimap == cv2.GC_PR_BGD), margin) or box
    y0, y1, x0, x1 = box
    roi = np.ascontiguousarray(trimap[y0:y1, x0:x1])
    fg = (roi == cv2.GC_FGD) | (roi == cv2.GC_PR_FGD)
    if fg.sum() >= 16 and (~fg).sum() >= 16:
        cv2.setRNGSeed(0)  # GrabCut's GMM initialisation draws from OpenCV's RNG: keep it repeatable
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.grabCut(np.ascontiguousarray(rgb8[y0:y1, x0:x1]), roi, None, bgd, fgd, iterations,
                    cv2.GC_INIT_WITH_MASK)
        trimap[y0:y1, x0:x1] = roi
    return (trimap == cv2.GC_FGD) | (trimap == cv2.GC_PR_FGD)


def moving_with(motion: Motion, mask: np.ndarray, region: np.ndarray):
    """Pixels of ``region`` that move with the object ``mask`` and those that move with the
    background (bool H×W each), or (None, None) when the object hardly moves against it.

    Both motions are affine models fitted with RANSAC to the reliable flow: the background's
    outside ``region`` (a hand-held camera), the object's over ``mask`` (it may turn and
    scale). A pixel goes with a motion when its flow is within half the typical difference
    between the two; pixels near neither (another moving thing) go with none."""
    h, w = mask.shape
    bg_model = _affine_flow(motion, ~dilate_mask(region, 4))
    core = erode_mask(mask, 2)
    obj_model = _affine_flow(motion, core)
    if bg_model is None or obj_model is None:
        return None, None
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg, obj = _apply(bg_model, xx, yy), _apply(obj_model, xx, yy)
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


def _affine_flow(motion: Motion, where: np.ndarray) -> np.ndarray | None:
    """2×3 affine fitted with RANSAC to the reliable backward flow of ``where`` (a 4-px grid)."""
    h, w = where.shape
    sy, sx = np.mgrid[0:h:4, 0:w:4]
    pick = where[sy, sx] & motion.reliable[sy, sx]
    if pick.sum() < 20:
        return None
    src = np.stack([sx[pick], sy[pick]], axis=1).astype(np.float32)
    cv2.setRNGSeed(0)
    model, _ = cv2.estimateAffine2D(src, src + motion.back[sy[pick], sx[pick]], method=cv2.RANSAC,
                                    ransacReprojThreshold=1.0, maxIters=500, refineIters=5)
    return model


def _object_motion(motion: Motion, where: np.ndarray) -> np.ndarray | None:
    """2×3 similarity transform (rotation, scale, shift) mapping this frame's pixels to the
    previous frame's, fitted with RANSAC to the reliable backward flow of ``where`` (eroded, on a
    3-px grid); None when too little of it is reliable."""
    h, w = where.shape
    sy, sx = np.mgrid[0:h:3, 0:w:3]
    pick = erode_mask(where, 2)[sy, sx] & motion.reliable[sy, sx]
    if pick.sum() < 20:
        return None
    src = np.stack([sx[pick], sy[pick]], axis=1).astype(np.float32)
    cv2.setRNGSeed(0)
    model, _ = cv2.estimateAffinePartial2D(src, src + motion.back[sy[pick], sx[pick]], method=cv2.RANSAC,
                                           ransacReprojThreshold=1.0, maxIters=500, refineIters=5)
    return model


def _apply(model: np.ndarray, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """The displacement field (H×W×2) of an affine ``model`` at pixel grids ``xx``, ``yy``."""
    return np.stack([model[0, 0] * xx + model[0, 1] * yy + model[0, 2] - xx,
                     model[1, 0] * xx + model[1, 1] * yy + model[1, 2] - yy], axis=2)


def _on_edge(mask: np.ndarray) -> bool:
    """Whether a bool mask touches the frame's border (the object may be partly outside)."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _keep_supported(mask: np.ndarray, support: np.ndarray) -> np.ndarray:
    """The connected parts of ``mask`` that touch ``support`` (bool masks)."""
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask
    keep = np.unique(labels[support & mask])
    return np.isin(labels, keep[keep > 0])


class ObjectTrack:
    """The state of one object between frames (working resolution).

    ``mask``: bool H×W, the visible object on the last frame (all False while lost);
    ``prior``: float32 H×W, how strongly motion predicted each pixel (ties between objects);
    ``occluded`` and ``score`` in [0, 1] for the object table.
    """

    def __init__(self, band: float):
        self.band = band
        self.model: Appearance | None = None
        self.mask: np.ndarray | None = None
        self.full: np.ndarray | None = None  # the whole object, seen and hidden (its predicted extent)
        self._model = np.float32([[1, 0, 0], [0, 1, 0]])
        self._agree: np.ndarray | None = None  # pixels moving with the object on this frame  # the object's last motion (current → previous)
        self.prior: np.ndarray | None = None
        self.lost = False
        self.lost_for = 0
        self.distractors: list[tuple[float, float]] = []  # refused search windows (work px)
        self.occluded = 0.0
        self.score = 0.0
        self.velocity = np.zeros(2, np.float32)
        self.centre = np.zeros(2, np.float32)
        self.ref_area = 1.0
        self.ref_size = (1, 1)
        self.ref_colour = 1.0
        self.ref_score = 1.0
        self._healthy = 0

    # -- keyframes ---------------------------------------------------------------------------
    def seed(self, frame: WorkFrame, boxes: list[list[float]], points: list[list[float]], scale: float,
             motion: Motion | None = None) -> None:
        """Segment the object from keyframe prompts (plate pixels; ``scale`` plate → work) with
        GrabCut (boxes: probable object inside; points: definite object / background dots) and
        (re)build its appearance model. ``motion``: from the next frame of the run to this one;
        where the object moves against its background, pixels of the box that move with it are
        object and those that move with the background are not, whatever their colour
        (:func:`moving_with`), which GrabCut alone cannot tell for white fur on a white wall."""
        sh, sw = frame.shape
        tri = np.full((sh, sw), cv2.GC_BGD, np.uint8)
        if boxes:
            for x0, y0, x1, y1 in boxes:
                ys = slice(max(0, int(y0 * scale)), int(np.ceil(y1 * scale)))
                tri[ys, max(0, int(x0 * scale)):int(np.ceil(x1 * scale))] = cv2.GC_PR_FGD
        else:  # points only: a probable region around each positive point
            tri[:] = cv2.GC_PR_BGD
            r = int(0.15 * min(sh, sw))
            for x, y, label in points:
                if label:
                    cv2.circle(tri, (int(x * scale), int(y * scale)), r, cv2.GC_PR_FGD, -1)
        region = tri == cv2.GC_PR_FGD
        dots = np.zeros((sh, sw), np.uint8)
        dot = max(2, int(0.01 * max(sh, sw)))
        for x, y, label in points:
            cv2.circle(dots, (int(x * scale), int(y * scale)), dot, cv2.GC_FGD if label else cv2.GC_BGD, -1)
        tri[dots > 0] = dots[dots > 0]
        prompt = (tri == cv2.GC_FGD) | (tri == cv2.GC_PR_FGD)
        mask = _grabcut(frame.rgb8, tri, GC_ITER_SEED)
        if boxes and motion is not None and mask.sum() >= 16:
            mask = self._refine_by_motion(frame, mask, region, motion, dots, GC_ITER_SEED)
        if mask.sum() < 16:  # GrabCut found nothing: take the prompt itself
            mask = prompt
        model = Appearance.from_mask(frame.rgb8, mask, self._ring(mask))
        if model is None:
            self._lose(frame.shape)
            return
        self.model = model if self.model is None else self.model.merged(model)
        self._found(frame, mask, reference=True)

    def _refine_by_motion(self, frame: WorkFrame, mask: np.ndarray, region: np.ndarray, motion: Motion,
                          dots: np.ndarray | None = None, iterations: int = 2,
                          margin: int | None = None) -> np.ndarray:
        """Re-cut ``mask`` inside ``region`` with what motion says (:func:`moving_with`): pixels
        moving with the object are object, those moving with the background are not, other
        movers start as background; GrabCut decides the rest (``iterations``, over the undecided
        pixels' box grown by ``margin``, None: the whole frame). ``dots``: GrabCut labels of the
        prompt points (0: none), which win."""
        moving, still = moving_with(motion, mask, region)
        if moving is None:
            return mask
        r = max(2, int(self.band // 2))
        other = region & motion.reliable & ~moving & ~still
        tri = np.where(region, np.where((mask & ~other) | moving, cv2.GC_PR_FGD, cv2.GC_PR_BGD),
                       cv2.GC_BGD).astype(np.uint8)
        tri[erode_mask(moving, r) & erode_mask(mask | moving, r)] = cv2.GC_FGD
        tri[erode_mask(still, r) & region] = cv2.GC_BGD
        if dots is not None:
            tri[dots > 0] = dots[dots > 0]
        return _grabcut(frame.rgb8, tri, iterations, margin)

    def _ring(self, mask: np.ndarray) -> int:
        return int(max(2 * self.band, 0.3 * np.sqrt(max(mask.sum(), 1))))

    def _found(self, frame: WorkFrame, mask: np.ndarray, reference: bool) -> None:
        """Take ``mask`` as the object on this frame; with ``reference``, as its full size."""
        self.mask, self.prior, self.full = mask, mask.astype(np.float32), mask.copy()
        self.lost, self.lost_for, self.distractors = False, 0, []
        ys, xs = np.nonzero(mask)
        self.centre = np.array([xs.mean(), ys.mean()], np.float32)
        colour = self.model.similarity(frame.rgb8[mask])
        if reference:
            y0, y1, x0, x1 = _bbox(mask)
            self.ref_area, self.ref_size = float(mask.sum()), (x1 - x0, y1 - y0)
            self.ref_colour = max(colour, 1e-3)
            self.ref_score = max(self.model.similarity(frame.rgb8[y0:y1, x0:x1], coarse=True), 1e-3)
            self.velocity[:] = 0
        self.occluded = float(np.clip(1 - mask.sum() / self.ref_area, 0, 1))
        self.score = float(min(1.0, colour / self.ref_colour))

    def _coast(self, shape: tuple[int, int]) -> None:
        """Where an unseen object probably is: its last motion, slowing, kept inside the frame."""
        self.centre = np.clip(self.centre + self.velocity, 0, [shape[1] - 1, shape[0] - 1]).astype(np.float32)
        self.velocity = (0.95 * self.velocity).astype(np.float32)
        if self.full is not None and self.full.any():
            move = np.float32([[1, 0, self.velocity[0]], [0, 1, self.velocity[1]]])
            self.full = cv2.warpAffine(self.full.astype(np.uint8), move, shape[::-1], flags=cv2.INTER_NEAREST) > 0

    def _lose(self, shape: tuple[int, int]) -> None:
        self.mask = np.zeros(shape, bool)
        self.prior = np.zeros(shape, np.float32)
        if not self.lost:
            self.lost, self.lost_for = True, 0
        self.occluded, self.score = 1.0, 0.0

    # -- frame to frame ---------------------------------------------------------------------
    def step(self, frame: WorkFrame, motion: Motion) -> None:
        """Follow the object onto ``frame`` (``motion``: from the previous frame to it)."""
        if self.model is None:
            self._lose(frame.shape)
            return
        if self.lost:
            self.lost_for += 1
            self._coast(frame.shape)
            if not self._at_prediction(frame, motion):
                self._search(frame, motion)
            return
        warped = motion.warp(self.mask)
        inside = warped > 0.5
        if inside.sum() < 16:  # nothing left to follow
            self._coast(frame.shape)
            self._lose(frame.shape)
            return
        full = self._carry_full(motion, inside)
        hidden = full & ~inside  # predicted object that was not seen on the previous frame
        near = dilate_mask(inside | full, int(round(self.band + float(np.hypot(*self.velocity)))))
        y0, y1, x0, x1 = _bbox(near)
        post = np.zeros(frame.shape, np.float32)
        post[y0:y1, x0:x1] = self.model.posterior(frame.rgb8[y0:y1, x0:x1])
        tri = np.full(frame.shape, cv2.GC_BGD, np.uint8)
        tri[near] = cv2.GC_PR_BGD
        tri[inside] = cv2.GC_PR_FGD
        core = (erode_mask(inside, max(2, int(self.band))) & erode_mask(motion.reliable, 1) & (warped > 0.9)
                & (post > 0.05))
        with_obj, with_bg = moving_with(motion, inside, near)
        if with_obj is not None:  # the object moves against its background: motion tells them apart
            core = (core & with_obj) | (erode_mask(with_obj, 2) & inside)
            tri[with_obj & ~inside] = cv2.GC_PR_FGD
            tri[with_bg & inside] = cv2.GC_PR_BGD
            tri[erode_mask(with_bg, 2)] = cv2.GC_BGD
        support = core
        tri[hidden & (post > 0.5)] = cv2.GC_PR_FGD  # the hidden part may be in view again
        agree, disagree, distinct = self._motion_evidence(motion, inside, near)
        self._agree = agree
        if agree is not None:  # a rigid-ish object: what does not move with it is something else
            core &= ~dilate_mask(disagree, 2)
            tri[hidden & agree] = cv2.GC_PR_FGD
            tri[(inside | hidden) & disagree] = cv2.GC_PR_BGD  # an occluder coming over it, or still there
            tri[erode_mask(disagree, 1) & (inside | hidden)] = cv2.GC_BGD
            back = erode_mask(hidden & distinct, 1) & (post > 0.2)  # coming back into view, moving with it
            tri[back] = cv2.GC_FGD
            support = core | back
        tri[core] = cv2.GC_FGD
        cut = _graph_cut(frame.rgb8, tri, self.model)
        cut = _keep_supported(cut, support if support.any() else inside)
        if cut.any() and cut.sum() < (1 - REGROW) * self.ref_area:
            cut = self._regrow(frame, cut, motion)
        self._judge(frame, cut, warped, motion, full)

    def _carry_full(self, motion: Motion, inside: np.ndarray) -> np.ndarray:
        """The whole object (seen and hidden: ``self.full``) carried to this frame by the motion
        of its visible part ``inside`` (a similarity transform fitted to its reliable flow), or
        by its last velocity when that flow says too little."""
        h, w = inside.shape
        model = _object_motion(motion, inside)
        if model is None:
            model = np.float32([[1, 0, -self.velocity[0]], [0, 1, -self.velocity[1]]])
        self._model = model
        carried = cv2.warpAffine(self.full.astype(np.uint8), model, (w, h),
                                 flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0) > 0
        return carried | inside

    def _motion_evidence(self, motion: Motion, inside: np.ndarray, near: np.ndarray):
        """Pixels of ``near`` whose reliable flow agrees with the object's motion, those whose
        flow disagrees, and those that agree with it but not with the background's (bool H×W
        each), or Nones when one motion does not explain most of the visible object (limbs, a
        non-rigid object: then colour alone decides)."""
        h, w = inside.shape
        y0, y1, x0, x1 = _bbox(near)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        expected = _apply(self._model.astype(np.float64), xx, yy)
        err = np.hypot(*(motion.back[y0:y1, x0:x1] - expected).transpose(2, 0, 1))
        tol = AGREE_PX + 0.01 * np.sqrt(self.ref_area) + 0.1 * float(np.hypot(*self.velocity))
        agree, disagree = np.zeros((h, w), bool), np.zeros((h, w), bool)
        rel = motion.reliable[y0:y1, x0:x1] & near[y0:y1, x0:x1]
        agree[y0:y1, x0:x1] = rel & (err < tol)
        disagree[y0:y1, x0:x1] = rel & (err >= 1.5 * tol)
        seen = inside & motion.reliable
        if seen.sum() < 20 or (agree & seen).sum() < RIGID_AGREE * seen.sum():
            return None, None, None
        distinct = np.zeros((h, w), bool)  # agreeing with the object is evidence only off the background's motion
        bg_model = _affine_flow(motion, ~dilate_mask(near, 4))
        if bg_model is not None:
            bg_err = np.hypot(*(motion.back[y0:y1, x0:x1] - _apply(bg_model, xx, yy)).transpose(2, 0, 1))
            distinct[y0:y1, x0:x1] = agree[y0:y1, x0:x1] & (bg_err >= tol)
        return agree, disagree, distinct

    def _regrow(self, frame: WorkFrame, cut: np.ndarray, motion: Motion) -> np.ndarray:
        """A partly seen object (coming out from behind something, or into the frame) re-cut
        with motion over a reach of its full size, so the newly visible part joins it."""
        reach = max(self.ref_size) // 3
        grown = self._refine_by_motion(frame, cut, dilate_mask(cut, reach), motion, margin=reach)
        grown = _keep_supported(grown, cut)
        if cut.sum() < grown.sum() <= 1.1 * self.ref_area and \
                self.model.similarity(frame.rgb8[grown]) >= FOUND_COLOUR * self.ref_colour:
            return grown
        return cut

    def _judge(self, frame: WorkFrame, cut: np.ndarray, warped: np.ndarray, motion: Motion,
               full: np.ndarray) -> None:
        area = float(cut.sum())
        colour = self.model.similarity(frame.rgb8[cut]) if area else 0.0
        if area < LOST_AREA * (0.5 if _on_edge(cut) else 1.0) * self.ref_area or colour < LOST_COLOUR * self.ref_colour:
            self.full = full
            self._coast(frame.shape)
            self._lose(frame.shape)
            return
        self.full = cut if (area >= 0.9 * self.ref_area or full.sum() > 1.4 * self.ref_area) else full | cut
        ys, xs = np.nonzero(cut)
        centre = np.array([xs.mean(), ys.mean()], np.float32)
        shift = motion.displacement(cut)
        self.velocity = 0.5 * self.velocity + 0.5 * shift
        self.mask, self.prior, self.centre = cut, warped, centre
        ratio = area / self.ref_area
        self.occluded = float(np.clip(1 - ratio, 0, 1))
        self.score = self._confidence(colour, cut, motion)
        if 0.8 <= ratio <= 1.25 and colour >= 0.85 * self.ref_colour and not _on_edge(cut):
            self.ref_area = 0.9 * self.ref_area + 0.1 * area  # follows slow changes of scale
            y0, y1, x0, x1 = _bbox(cut)
            self.ref_size = (int(round(0.9 * self.ref_size[0] + 0.1 * (x1 - x0))),
                             int(round(0.9 * self.ref_size[1] + 0.1 * (y1 - y0))))
            self._healthy += 1
            if self._healthy % 5 == 0 and self.score >= CONFIDENT:  # conservative: a trusted frame now and then
                self.model.update(frame.rgb8, cut, self._ring(cut))

    def _confidence(self, colour: float, cut: np.ndarray, motion: Motion) -> float:
        """This frame's evidence for the visible object ``cut``, in [0, 1]: its colours' agreement
        with the appearance model (Bhattacharyya similarity over the keyframe's) times the share
        of its reliably moving pixels that move with it (half weight; all of them for an
        object one motion does not explain)."""
        appearance = min(1.0, colour / self.ref_colour)
        moving = cut & motion.reliable
        if self._agree is None or moving.sum() < 20:
            return float(appearance)
        return float(appearance * (0.5 + 0.5 * (self._agree & moving).sum() / moving.sum()))

    # -- re-acquisition -----------------------------------------------------------------------
    def _at_prediction(self, frame: WorkFrame, motion: Motion) -> bool:
        """While lost, first look where the object should be: its whole extent carried along
        its last motion (``self.full``), cut out with the appearance model's graph cut; found
        when the cut's size and colours agree with the object's."""
        if self.full is None or self.full.sum() < 16:
            return False
        reach = max(2, int(self.band + np.hypot(*self.velocity)))
        tri = np.full(frame.shape, cv2.GC_BGD, np.uint8)
        tri[dilate_mask(self.full, reach)] = cv2.GC_PR_BGD
        tri[self.full] = cv2.GC_PR_FGD
        cut = _graph_cut(frame.rgb8, tri, self.model, iterations=2)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cut.astype(np.uint8), connectivity=8)
        if n < 2:
            return False
        cut = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = float(cut.sum())
        if not FOUND_AREA * (0.5 if _on_edge(cut) else 1.0) * self.ref_area <= area <= 1.5 * self.ref_area:
            return False
        if self.model.similarity(frame.rgb8[cut]) < FOUND_COLOUR * self.ref_colour:
            return False
        self._found(frame, cut, reference=False)
        return True

    def _search(self, frame: WorkFrame, motion: Motion) -> None:
        """Look for the object over the whole frame by its appearance: the few windows of its
        size whose colours match its best (a mild preference for where its last motion leads)
        are each cut out by a graph cut, and the best cut whose size and colours agree wins."""
        h, w = frame.shape
        bw, bh = (int(max(3, min(v, lim))) for v, lim in zip(self.ref_size, (w, h)))
        k = min(1.0, max(0.1, SEARCH_WINDOW_PX / min(bw, bh)))  # the search runs on a small copy
        small = resize(frame.rgb8, k)
        sbw, sbh = max(3, round(bw * k)), max(3, round(bh * k))
        sim, inside = self.model.window_similarity(small, (sbw, sbh))
        sim[inside < 0.4] = 0
        sh, sw = sim.shape
        gy, gx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        sigma = max(sbw, sbh) * (1.0 + 0.5 * self.lost_for)
        near = np.exp(-((gx - self.centre[0] * k) ** 2 + (gy - self.centre[1] * k) ** 2) / (2 * sigma ** 2))
        score = np.where(sim >= FOUND_SCORE * self.ref_score, sim * (0.7 + 0.3 * near), 0)
        for dx, dy in self.distractors:  # something else of similar colours, seen while lost
            score[max(0, int(dy * k) - sbh // 2):int(dy * k) + sbh // 2 + 1,
                  max(0, int(dx * k) - sbw // 2):int(dx * k) + sbw // 2 + 1] *= 0.5
        post = self.model.posterior(frame.rgb8, against=frame.rgb8[::3, ::3])
        best, best_colour = None, FOUND_COLOUR * self.ref_colour
        for _ in range(SEARCH_WINDOWS):
            y, x = np.unravel_index(int(np.argmax(score)), score.shape)
            if score[y, x] <= 0:
                break
            x0, y0 = int((x - sbw / 2) / k), int((y - sbh / 2) / k)
            score[max(0, y - sbh // 2):y + sbh // 2 + 1, max(0, x - sbw // 2):x + sbw // 2 + 1] = 0
            window = np.zeros((h, w), bool)
            window[max(0, y0):max(0, y0 + bh), max(0, x0):max(0, x0 + bw)] = True
            if (window & (post > 0.5)).sum() < 0.5 * FOUND_AREA * self.ref_area:
                continue  # too little of the object's colours to cut out
            cut, colour = self._cut_window(frame, post, window)
            if cut is not None and colour > best_colour:
                best, best_colour = cut, colour
            elif colour < DISTRACTOR_COLOUR * self.ref_colour and len(self.distractors) < MAX_DISTRACTORS:
                self.distractors.append((x / k, y / k))  # not the object, nor a part of it
        if best is None:
            self._lose(frame.shape)
            return
        reach = max(bw, bh) // 4
        refined = self._refine_by_motion(frame, best, dilate_mask(best, reach), motion, margin=reach)
        if refined.sum() >= FOUND_AREA * self.ref_area and refined.sum() <= 2.5 * self.ref_area:
            best = _keep_supported(refined, best)
        self._found(frame, best, reference=False)

    def _cut_window(self, frame: WorkFrame, post: np.ndarray, window: np.ndarray):
        """The largest part cut out of a search window and its colour similarity to the object
        (0 when nothing is cut); the part is None when its size does not agree with the
        object's."""
        h, w = frame.shape
        bw, bh = self.ref_size
        tri = np.full((h, w), cv2.GC_BGD, np.uint8)
        tri[dilate_mask(window, max(2, int(0.1 * max(bw, bh))))] = cv2.GC_PR_BGD
        tri[window & (post > 0.5)] = cv2.GC_PR_FGD
        cut = _grabcut(frame.rgb8, tri, 2, margin=max(bw, bh) // 4)  # this frame's colours around it
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cut.astype(np.uint8), connectivity=8)
        if n < 2:
            return None, 0.0
        cut = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area, colour = float(cut.sum()), self.model.similarity(frame.rgb8[cut])
        if not FOUND_AREA * (0.5 if _on_edge(cut) else 1.0) * self.ref_area <= area <= 2.5 * self.ref_area:
            return None, colour
        return cut, colour
