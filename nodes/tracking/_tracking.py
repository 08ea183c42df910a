"""One object tracked through a shot at the working resolution: keyframe seed, motion-warped
trimap, graph cut, partial occlusion, loss detection and re-acquisition. FlowTrack runs one per
object.

Per frame, for an object in view:

1. the previous visible mask is carried to this frame along the backward optical flow
   (:class:`~._motion.Motion`), and the *whole* object (``full``: seen and hidden, its amodal
   extent) along the similarity motion of its visible part (RANSAC on its reliable flow; its
   last velocity when the flow says too little);
2. a trimap from how far that warp can be trusted: definite object only ``band`` pixels inside
   the carried edge, where the flow passes the forward–backward check; unknown around the
   edge (``band`` plus the object's speed) and wherever the flow failed — so background that
   the object uncovered is never definite object; definite background elsewhere. When the
   object moves against its background and one affine motion explains it (a rigid-ish object,
   not limbs: ``RIGID``), motion decides too (:func:`~._motion.moving_with`): what moves with
   the background is not object, what moves with the object is, whatever the colours — white
   fur on a white wall;
3. partial occlusion: when one motion explains most of the visible object (``RIGID_AGREE``),
   pixels of its predicted extent whose flow disagrees with it are something passing in front
   (not object), and hidden pixels that move with it and not with the background are the
   hidden part coming back into view (object); a hidden pixel with the object's colours is
   undecided. So an occluder crossing the object leaves the visible part tracked and the part
   behind it predicted, and the object whole again when it has passed;
4. a graph cut of the unknown pixels (GrabCut's energy: colour GMMs + contrast-sensitive
   smoothness; Rother et al. 2004, OpenCV ``cv2.grabCut`` in ``GC_EVAL_FREEZE_MODEL``) with
   colour models from the keyframe appearance (:class:`~._appearance.Appearance`) plus this
   frame's definite pixels; a partly seen object is re-cut with motion to regrow what comes
   into view;
5. checks: the frame's confidence is the visible object's colour agreement with the
   appearance model times the share of it moving with it (half weight); only a frame this
   confident renews the appearance model. When the visible area falls below ``LOST_AREA`` of
   the object's reference area, or its colours stop matching the model, the evidence is gone
   and the object is lost (hidden or out of frame): reported empty with ``occluded`` = 1; a
   partly hidden object reports ``occluded`` = 1 − visible area / reference area;
6. while lost, it is searched for (:class:`~._reacquire.Reacquisition`) and resumes with its id.

The keyframe seed is GrabCut from the prompts, re-cut with motion to the next frame of the run
when the object moves against its background.
"""

from __future__ import annotations


import cv2
import numpy as np

from ._appearance import Appearance
from ._cuts import bbox, graph_cut, grabcut, keep_supported, on_edge
from ..common._imaging import dilate_mask, erode_mask
from ._motion import Motion, affine_flow, displacement_field, moving_with
from ._frame import WorkFrame
from ._reacquire import FOUND_COLOUR, Reacquisition

GC_ITER_SEED = 5
LOST_AREA = 0.12      # visible area under this share of the reference area (edge: half): lost
LOST_COLOUR = 0.55    # colour similarity under this share of the keyframe's: lost
REGROW = 0.3          # an object with this share hidden is re-cut with motion to regrow
AGREE_PX = 0.6        # flow within this of the object's motion (work px, plus 1 % of its size and 10 % of its
                      # speed) moves with it
CONFIDENT = 0.8       # a whole object seen this confidently may renew the appearance model
RIGID_AGREE = 0.6     # share of the visible object that must move with it for motion to tell an occluder


class ObjectTrack(Reacquisition):
    """The state of one object between frames (working resolution).

    ``mask``: bool H×W, the visible object on the last frame (all False while lost);
    ``prior``: float32 H×W, how strongly motion predicted each pixel (ties between objects);
    ``occluded`` and ``score`` in [0, 1] for the object table.
    """

    def __init__(self, band: float, check=None):
        self.band = band
        self.check = check  # a cancellation point between GrabCut's iterations (Context.check)
        self.model: Appearance | None = None
        self.mask: np.ndarray | None = None
        self.full: np.ndarray | None = None  # the whole object, seen and hidden (its predicted extent)
        self._model = np.float32([[1, 0, 0], [0, 1, 0]])
        self._agree: np.ndarray | None = None  # pixels moving with the object on this frame
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
        mask = grabcut(frame.rgb8, tri, GC_ITER_SEED, check=self.check)
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
        return grabcut(frame.rgb8, tri, iterations, margin, check=self.check)

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
            y0, y1, x0, x1 = bbox(mask)
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
        y0, y1, x0, x1 = bbox(near)
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
        ev = self._motion_evidence(motion, inside, near, full)
        self._agree = None if ev is None else ev["agree"]
        if ev is not None:  # a rigid-ish object: what does not move with it is something else
            core &= ~dilate_mask(ev["disagree"], 2)
            tri[hidden & ev["agree"]] = cv2.GC_PR_FGD
            tri[(inside | hidden) & ev["disagree"]] = cv2.GC_PR_BGD  # an occluder coming over it, or still there
            definite = hidden & ev["disagree"] | inside & (ev["other"] | ev["with_bg"])
            tri[erode_mask(definite, 1)] = cv2.GC_BGD
            back = erode_mask(hidden & ev["distinct"], 1) & (post > 0.2)  # coming back into view, moving with it
            tri[back] = cv2.GC_FGD
            support = core | back
        tri[core] = cv2.GC_FGD
        cut = graph_cut(frame.rgb8, tri, self.model)
        cut = keep_supported(cut, support if support.any() else inside)
        if cut.any() and cut.sum() < (1 - REGROW) * self.ref_area:
            cut = self._regrow(frame, cut, motion)
        self._judge(frame, cut, warped, motion, full)

    def _carry_full(self, motion: Motion, inside: np.ndarray) -> np.ndarray:
        """The whole object (seen and hidden: ``self.full``) carried to this frame by the motion
        of its visible part ``inside`` (a similarity transform fitted to its reliable flow), or
        by its last velocity when that flow says too little."""
        h, w = inside.shape
        model = affine_flow(motion, erode_mask(inside, 2), step=3, similarity=True)
        if model is None:
            model = np.float32([[1, 0, -self.velocity[0]], [0, 1, -self.velocity[1]]])
        self._model = model
        carried = cv2.warpAffine(self.full.astype(np.uint8), model, (w, h),
                                 flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0) > 0
        return carried | inside

    def _motion_evidence(self, motion: Motion, inside: np.ndarray, near: np.ndarray, full: np.ndarray):
        """Per pixel of ``near`` (bool H×W each): ``agree``, its reliable flow moves with the
        object; ``disagree``, it does not; ``other``, another mover in front (its flow is far from
        the object's and off the background's, in a part that reaches out of the object's
        extent ``full``: an occluder, not a limb); ``with_bg``, it disagrees and moves with the
        background (background in the object's place); ``distinct``, it agrees with the object
        and not with the background. All None when one motion does not explain most of the
        visible object (limbs, a non-rigid object: then colour alone decides)."""
        h, w = inside.shape
        y0, y1, x0, x1 = bbox(near)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        back = motion.back[y0:y1, x0:x1]
        err = np.hypot(*(back - displacement_field(self._model.astype(np.float64), xx, yy)).transpose(2, 0, 1))
        tol = AGREE_PX + 0.01 * np.sqrt(self.ref_area) + 0.1 * float(np.hypot(*self.velocity))
        maps = {k: np.zeros((h, w), bool) for k in ("agree", "disagree", "other", "with_bg", "distinct")}
        rel = motion.reliable[y0:y1, x0:x1] & near[y0:y1, x0:x1]
        maps["agree"][y0:y1, x0:x1] = rel & (err < tol)
        maps["disagree"][y0:y1, x0:x1] = rel & (err >= 1.5 * tol)
        seen = inside & motion.reliable
        if seen.sum() < 20 or (maps["agree"] & seen).sum() < RIGID_AGREE * seen.sum():
            return None
        bg_model = affine_flow(motion, ~dilate_mask(near, 4))
        if bg_model is not None:
            bg_err = np.hypot(*(back - displacement_field(bg_model, xx, yy)).transpose(2, 0, 1))
            maps["distinct"][y0:y1, x0:x1] = maps["agree"][y0:y1, x0:x1] & (bg_err >= tol)
            maps["with_bg"][y0:y1, x0:x1] = maps["disagree"][y0:y1, x0:x1] & (bg_err < tol)
            mover = np.zeros((h, w), bool)
            mover[y0:y1, x0:x1] = rel & (err >= 3 * tol) & (bg_err >= 1.5 * tol)
            maps["other"] = keep_supported(mover, mover & ~dilate_mask(full, 3)) if mover.any() else mover
        return maps

    def _regrow(self, frame: WorkFrame, cut: np.ndarray, motion: Motion) -> np.ndarray:
        """A partly seen object (coming out from behind something, or into the frame) re-cut
        with motion over a reach of its full size, so the newly visible part joins it."""
        reach = max(self.ref_size) // 3
        grown = self._refine_by_motion(frame, cut, dilate_mask(cut, reach), motion, margin=reach)
        grown = keep_supported(grown, cut)
        if cut.sum() < grown.sum() <= 1.1 * self.ref_area and \
                self.model.similarity(frame.rgb8[grown]) >= FOUND_COLOUR * self.ref_colour:
            return grown
        return cut

    def _judge(self, frame: WorkFrame, cut: np.ndarray, warped: np.ndarray, motion: Motion,
               full: np.ndarray) -> None:
        area = float(cut.sum())
        colour = self.model.similarity(frame.rgb8[cut]) if area else 0.0
        if area < LOST_AREA * (0.5 if on_edge(cut) else 1.0) * self.ref_area or colour < LOST_COLOUR * self.ref_colour:
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
        if 0.8 <= ratio <= 1.25 and colour >= 0.85 * self.ref_colour and not on_edge(cut):
            self.ref_area = 0.9 * self.ref_area + 0.1 * area  # follows slow changes of scale
            y0, y1, x0, x1 = bbox(cut)
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
