"""FlowTrack: track objects from keyframe prompts through a shot on the CPU, with no model weights."""

from __future__ import annotations

import cv2
import numpy as np

from rotograph import Image, Input, MaskObject, MaskSet, Masks, Output, Param, Prompts, RangeNode, Reach, Segment
from rotograph.errors import ParamError
from rotograph.core.node import Upgrade

from ..common._imaging import resize, work_scale
from ._motion import Motion
from ._frame import WorkFrame
from ._tracking import ObjectTrack
from ..matte.masks import matte_became_masks


class FlowTrack(RangeNode):
    """Track objects from keyframe prompts (a box and/or ± points per object) and output their
    masks on every frame — segmentation that needs no model weights, on the CPU.

    Method (per object, at ``work_size``): the keyframe is segmented with GrabCut (Rother,
    Kolmogorov & Blake, SIGGRAPH 2004) from its box and points, which also gives the object's
    colour appearance (object and surrounding colour samples, half anchored to the keyframes,
    the rest renewed slowly from trusted frames). Each next frame carries the previous mask
    along DIS optical flow (Kroeger et al., ECCV 2016) checked forwards and backwards (Sundaram
    et al., ECCV 2010), builds a trimap from how far that warp can be trusted (uncovered
    background is unknown, never definite object), and cuts the unknown pixels with GrabCut's
    graph cut on colour GMMs of the appearance model. The whole object is carried along its
    visible part's motion, so a partial occlusion stays partial: what passes in front (its flow
    disagrees) is cut away, the hidden part returns as it shows. An object whose visible area or
    colours collapse is lost (hidden, or out of frame): it is reported empty with ``occluded`` = 1,
    looked for where its motion leads and then over the frame by its appearance, and when it
    shows again it is segmented and keeps its id. See ``nodes/tracking/_tracking.py``.

    Keyframes: ``prompts`` entries carry ``object`` (id ≥ 1). A keyframe that prompts every
    object starts an independent run of frames (a correction of everything from there); one that
    prompts some objects re-seeds those within the run. An object is tracked from its first
    keyframe on; frames before the node's first keyframe are tracked backwards from it.

    image: Image H×W×3/4 scene-linear. Output ``masks``: Masks, uint16 H×W labels (object id,
    0 = none) at the plate size, and per object ``name`` "object<id>", ``score`` (the frame's
    confidence, [0, 1]: colour agreement with the appearance model times the share of the object
    moving with it; 0 while lost) and ``occluded`` (share of the object hidden or outside
    the frame, [0, 1]; 1 while lost). Pick a matte with MasksToMatte.
    The tracker's state between frames is more than the previous mask, so a resumed run
    replays its segment from the keyframe (without emitting) to rebuild it: the result is
    identical to an uninterrupted run.
    """

    type_id = "rotograph.FlowTrack"
    pixel_params = {"band": 1}  # in pixels: scaled by render --proxy (power of the scale)
    version = 3  # 3: partial occlusion kept as partial, re-acquisition, score = per-frame confidence
    category = "Segment"
    resumable = True

    image = Input(Image)
    prompts = Param(Prompts, [], doc="Keyframe prompts per object: boxes and ± points in plate pixels",
                    ui={"widget": "prompts"})
    work_size = Param(int, 480, range=(64, 4096), doc="Long side of the working resolution (px)")
    band = Param(float, 6.0, range=(1.0, 200.0),
                 doc="Half-width of the undecided band around the carried edge (working px; the object's "
                     "speed is added)")
    masks = Output(Masks)

    @classmethod
    def upgrade_node(cls, from_version, name, params):
        if from_version >= 2:  # v2 → v3: same ports and params, new tracking method
            return Upgrade(params)
        # v1: one matte of every prompted object, softened by 'softness', 'iterations' GrabCut passes
        params = {k: v for k, v in params.items() if k not in ("softness", "iterations")}
        return matte_became_masks(name, params, "")

    def check(self) -> None:
        if not self.prompts:
            raise ParamError(f"node '{self.name}': param 'prompts': FlowTrack needs a keyframe with "
                             f"a box or points")

    def _keyframes(self) -> dict[int, dict[int, list[dict]]]:
        """frame → object id → that object's prompts on the frame."""
        out: dict[int, dict[int, list[dict]]] = {}
        for kf in self.prompts:
            out.setdefault(kf["frame"], {}).setdefault(kf["object"], []).append(kf)
        return out

    def reach(self) -> Reach:
        # each frame: the run's keyframe, the frames since, the prompts met on the way, and at a
        # keyframe the next frame's plate (the motion that seeds it)
        return Reach(causal=True, lookahead=1, keyframes=("prompts",))

    def segments(self, first: int, last: int) -> list[Segment]:
        kfs = self._keyframes()
        keys = [k for k in sorted(kfs) if first <= k <= last]
        if not keys:
            raise ParamError(f"no keyframe prompt inside the frame range {first}-{last} "
                             f"(prompts at {sorted(kfs) or 'none'})")
        everyone = {kf["object"] for kf in self.prompts}
        starts = [keys[0]] + [k for k in keys[1:] if set(kfs[k]) == everyone]
        segs = []
        if keys[0] > first:  # backwards from the first keyframe, seeded on it
            segs.append(Segment(tuple(range(keys[0] - 1, first - 1, -1)), lead=(keys[0],)))
        for k, nxt in zip(starts, starts[1:] + [last + 1]):
            segs.append(Segment(tuple(range(k, nxt))))
        return segs

    def compute_range(self, ctx, segment, pull, resume=None):
        kfs = self._keyframes()
        run, step = segment.run, segment.direction
        emit_after = run.index(resume[0]) if resume is not None else len(segment.lead) - 1
        first, last = ctx.frame_range or segment.bounds
        tracks: dict[int, ObjectTrack] = {}
        scale = work_scale(pull(run[0])["image"].shape, self.work_size)
        frame = prev = None
        for i, f in enumerate(run):
            image = pull(f)["image"]
            prev, frame = frame, WorkFrame.of(image, scale)
            here = kfs.get(f, {})
            ctx.check()  # a cancelled evaluation stops here, between the flows, and between objects
            motion = Motion.between(prev.grey, frame.grey, ctx.check) if prev is not None and set(tracks) - set(here) \
                else None
            for oid in sorted(set(tracks) | set(here)):
                ctx.check()
                track = tracks.setdefault(oid, ObjectTrack(self.band, ctx.check))
                if oid in here:
                    nxt = f + step
                    track.seed(frame, [kf["box"] for kf in here[oid] if kf["box"] is not None],
                               [p for kf in here[oid] for p in kf["points"]], scale,
                               self._seed_motion(frame, nxt if first <= nxt <= last else None, pull, scale, ctx.check))
                else:
                    track.step(frame, motion)
            if i > emit_after:
                yield f, self._masks(tracks, image.shape[:2])

    @staticmethod
    def _seed_motion(frame: WorkFrame, nxt: int | None, pull, scale: float, check=None) -> Motion | None:
        """Motion from frame ``nxt`` (the next along the run, whatever segment holds it; None
        past the frame range) to a keyframe's ``frame``."""
        if nxt is None:
            return None
        return Motion.between(WorkFrame.of(pull(nxt)["image"], scale).grey, frame.grey, check)

    @staticmethod
    def _masks(tracks: dict[int, ObjectTrack], size: tuple[int, int]) -> MaskSet:
        """Each object's working-resolution mask upsampled to the plate; a pixel claimed by two
        objects goes to the one motion predicted there more strongly."""
        h, w = size
        labels = np.zeros((h, w), np.uint16)
        ids = sorted(tracks)
        visible = [oid for oid in ids if tracks[oid].mask is not None and tracks[oid].mask.any()]
        if visible:
            stack = np.stack([resize(tracks[oid].mask.astype(np.float32) * (1 + tracks[oid].prior), size=(w, h),
                                     interpolation=cv2.INTER_LINEAR) for oid in visible])
            cover = np.stack([resize(tracks[oid].mask.astype(np.float32), size=(w, h),
                                     interpolation=cv2.INTER_LINEAR) for oid in visible]) > 0.5
            stack[~cover] = 0
            best = stack.argmax(axis=0)
            labels = np.where(cover.any(axis=0), np.asarray(visible, np.uint16)[best], 0).astype(np.uint16)
        objects = [MaskObject(oid, f"object{oid}", round(tracks[oid].score, 4), round(tracks[oid].occluded, 4))
                   for oid in ids]
        return MaskSet(labels, objects)
