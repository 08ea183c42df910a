"""FlowTrack: propagate a keyframe prompt through a shot on the CPU, with no model weights."""

from __future__ import annotations

import cv2
import numpy as np

from rotograph import Image, Input, Matte, Output, Param, Prompts, RangeNode, Segment
from rotograph.errors import ParamError

from ._imaging import blur, dilate_mask, erode_mask, optical_flow, resize, to_display_u8, warp, work_scale

GC_ITER_SEED = 5


class FlowTrack(RangeNode):
    """Track one object from keyframe prompts (a box and/or points) and output its matte on
    every frame — segmentation that needs no model weights.

    Method: the keyframe is segmented with GrabCut (Rother, Kolmogorov & Blake, "GrabCut",
    SIGGRAPH 2004; OpenCV ``cv2.grabCut``) from the box/points. Each next frame warps the
    previous matte with dense optical flow (DIS, Kroeger et al., ECCV 2016; OpenCV
    ``DISOpticalFlow``) and re-segments a band of ``band`` pixels around the warped edge with
    GrabCut seeded from the warped matte. Later keyframes re-seed (corrections); frames before
    the first keyframe are tracked backwards from it. All work runs at ``work_size`` (long
    side, pixels); the matte is upsampled to the plate size.

    image: Image H×W×3/4 scene-linear. prompts: keyframes (see :class:`rotograph.Prompts`;
    all objects of a keyframe are merged). Output ``matte``: float32 H×W in [0, 1].
    The state carried from frame to frame is the previous matte only, so a run resumes
    exactly from a cached frame.
    """

    type_id = "rotograph.FlowTrack"
    category = "Segment"
    resumable = True

    image = Input(Image)
    prompts = Param(Prompts, [], doc="Keyframe prompts: boxes and points in plate pixels",
                    ui={"widget": "prompts"})
    work_size = Param(int, 480, range=(64, 4096), doc="Long side of the working resolution (px)")
    band = Param(float, 10.0, range=(1.0, 200.0), doc="Half-width of the re-segmented edge band (working px)")
    iterations = Param(int, 2, range=(0, 10), doc="GrabCut iterations per frame (0: flow warp only)")
    softness = Param(float, 1.0, range=(0.0, 50.0), doc="Edge softening of the output matte (plate px)")
    matte = Output(Matte)

    def check(self) -> None:
        if not self.prompts:
            raise ParamError(f"node '{self.name}': param 'prompts': FlowTrack needs a keyframe with "
                             f"a box or points")

    def _keyframes(self) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {}
        for kf in self.prompts:
            out.setdefault(kf["frame"], []).append(kf)
        return out

    def segments(self, first: int, last: int) -> list[Segment]:
        keys = [k for k in sorted(self._keyframes()) if first <= k <= last]
        if not keys:
            raise ParamError(f"no keyframe prompt inside the frame range {first}-{last} "
                             f"(prompts at {sorted(self._keyframes()) or 'none'})")
        segs = []
        if keys[0] > first:  # backwards from the first keyframe
            segs.append(Segment(tuple(range(keys[0] - 1, first - 1, -1))))
        for k, nxt in zip(keys, keys[1:] + [last + 1]):
            segs.append(Segment(tuple(range(k, nxt))))
        return segs

    # -- the tracker ------------------------------------------------------------------------
    def _seed(self, image: np.ndarray, prompts: list[dict]) -> np.ndarray:
        h, w = image.shape[:2]
        s = work_scale(image.shape, self.work_size)
        img8 = to_display_u8(resize(image, s))
        sh, sw = img8.shape[:2]
        mask = np.full((sh, sw), cv2.GC_BGD, np.uint8)
        boxes = [kf["box"] for kf in prompts if kf["box"] is not None]
        points = [p for kf in prompts for p in kf["points"]]
        if boxes:
            for x0, y0, x1, y1 in boxes:
                mask[max(0, int(y0 * s)):int(np.ceil(y1 * s)), max(0, int(x0 * s)):int(np.ceil(x1 * s))] = cv2.GC_PR_FGD
        else:  # points only: a probable region around each positive point
            mask[:] = cv2.GC_PR_BGD
            r = int(0.15 * min(sh, sw))
            for x, y, label in points:
                if label:
                    cv2.circle(mask, (int(x * s), int(y * s)), r, cv2.GC_PR_FGD, -1)
        dot = max(2, int(0.01 * max(sh, sw)))
        for x, y, label in points:
            cv2.circle(mask, (int(x * s), int(y * s)), dot, cv2.GC_FGD if label else cv2.GC_BGD, -1)
        binary = self._grabcut(img8, mask, GC_ITER_SEED, margin=max(sh, sw))
        return self._finish(binary, (w, h))

    def _grabcut(self, img8: np.ndarray, mask: np.ndarray, iterations: int, margin: int) -> np.ndarray:
        """GrabCut on the bounding box of the undecided pixels grown by ``margin``: the
        colour models see the object and its surroundings, and the cost follows the object's
        size rather than the frame's."""
        undecided = (mask == cv2.GC_PR_FGD) | (mask == cv2.GC_PR_BGD)
        if iterations > 0 and undecided.any():
            ys, xs = np.nonzero(undecided)
            y0, y1 = max(0, ys.min() - margin), min(mask.shape[0], ys.max() + margin + 1)
            x0, x1 = max(0, xs.min() - margin), min(mask.shape[1], xs.max() + margin + 1)
            roi = np.ascontiguousarray(mask[y0:y1, x0:x1])
            fg = (roi == cv2.GC_FGD) | (roi == cv2.GC_PR_FGD)
            if fg.sum() >= 16 and (~fg).sum() >= 16:
                cv2.setRNGSeed(0)  # GrabCut's GMM initialisation draws from OpenCV's RNG: keep it repeatable
                bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
                cv2.grabCut(np.ascontiguousarray(img8[y0:y1, x0:x1]), roi, None, bgd, fgd, iterations,
                            cv2.GC_INIT_WITH_MASK)
                mask[y0:y1, x0:x1] = roi
        return ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)

    def _finish(self, binary_small: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        full = resize(binary_small, size=size, interpolation=cv2.INTER_LINEAR)
        return np.clip(blur(full, self.softness), 0.0, 1.0).astype(np.float32)

    def _propagate(self, prev_img: np.ndarray, prev_matte: np.ndarray, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        s = work_scale(image.shape, self.work_size)
        prev8, cur8 = to_display_u8(resize(prev_img, s)), to_display_u8(resize(image, s))
        prev_small = resize(prev_matte, size=(cur8.shape[1], cur8.shape[0]))
        flow = optical_flow(cv2.cvtColor(cur8, cv2.COLOR_RGB2GRAY), cv2.cvtColor(prev8, cv2.COLOR_RGB2GRAY))
        warped = warp(prev_small, flow)
        inside = warped > 0.5
        if self.iterations == 0 or not inside.any():
            return self._finish(inside.astype(np.float32), (w, h))
        band = max(1, int(round(self.band)))
        mask = np.full(inside.shape, cv2.GC_BGD, np.uint8)
        mask[dilate_mask(inside, band)] = cv2.GC_PR_BGD
        mask[inside] = cv2.GC_PR_FGD
        mask[erode_mask(inside, band)] = cv2.GC_FGD
        binary = self._grabcut(cur8, mask, self.iterations, margin=2 * band)
        return self._finish(binary, (w, h))

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = segment.frames
        backwards = frames[0] not in self._keyframes()  # forward segments start on a keyframe
        if resume is not None:
            prev_frame, outs = resume
            prev_matte, prev_img = outs["matte"], pull(prev_frame)["image"]
            todo = frames[frames.index(prev_frame) + 1:]
        elif backwards:
            key = frames[0] + 1
            prev_img = pull(key)["image"]
            prev_matte = self._seed(prev_img, self._keyframes()[key])
            todo = frames
        else:
            prev_img = pull(frames[0])["image"]
            prev_matte = self._seed(prev_img, self._keyframes()[frames[0]])
            yield frames[0], prev_matte
            todo = frames[1:]
        for f in todo:
            image = pull(f)["image"]
            prev_matte = self._propagate(prev_img, prev_matte, image)
            prev_img = image
            yield f, prev_matte
