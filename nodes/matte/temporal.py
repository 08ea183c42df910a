"""Mattes through time: TemporalSmooth and EdgeMotionBlur, motion-compensated by optical flow.

Both read their inputs over a window of frames (``Input(window=...)``, see
:class:`rotograph.core.node.Input`): ``compute`` gets a dict frame → value. Motion is measured on
the plate when one is connected (else on the matte itself) with DIS optical flow at a working
resolution (``work_size``, long side) and applied at full resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from rotograph import Image, Input, Matte, Node, Output, Param
from rotograph.errors import RotographError
from rotograph.core.node import CachePolicy

from ..common._imaging import (blur, dilate_mask, erode_mask, optical_flow, pull_push, resize, to_display_u8, warp,
                       work_scale)


def _guides(source: dict[int, np.ndarray], shape: tuple[int, int], scale: float) -> dict[int, np.ndarray]:
    """Grey uint8 images at the working scale to measure motion on: the plate (sRGB-encoded)
    or, with no plate, the matte (blurred by 1.5 px so that its noise does not pass for motion)."""
    out = {}
    for f, v in source.items():
        if v.shape[:2] != shape:
            raise RotographError(f"frame {f}: the image is {v.shape[1]}×{v.shape[0]} but the matte is "
                                 f"{shape[1]}×{shape[0]}")
        small = resize(v, scale)
        if small.ndim == 3:
            out[f] = cv2.cvtColor(to_display_u8(small), cv2.COLOR_RGB2GRAY)
        else:
            out[f] = (np.clip(blur(small, 1.5), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # grain is no motion
    return out


def _full_size(flow: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A flow measured at a working scale, brought to ``shape`` (H, W) in full-size pixels."""
    h, w = shape
    if flow.shape[:2] == (h, w):
        return flow
    up = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
    return up * np.float32([w / flow.shape[1], h / flow.shape[0]])


def edge_band(matte: np.ndarray, width: float) -> np.ndarray:
    """bool H×W: the pixels within ``width`` px of the matte's 0.5 contour."""
    inside = matte > 0.5
    r = max(1, int(round(width)))
    return dilate_mask(inside, r) & ~erode_mask(inside, r)


class TemporalSmooth(Node):
    """Stabilise a matte over time (remove flicker and boiling) from its neighbouring frames,
    motion-compensated so that moving edges do not ghost.

    Every frame g of the window [f − ``radius``, f + ``radius``] (clamped to the frame range)
    is aligned with frame f by a backward warp along DIS optical flow (Kroeger et al., ECCV
    2016) measured from f to g on the plate (or on the matte when no plate is connected), and
    weighted by how well the warp lines the plate up: w = exp(−e / 2τ²), e the locally averaged
    squared difference of f and the warped g (sRGB-encoded, 0–1), τ = ``tolerance`` — so
    occlusions and flow failures fall back to frame f. The smoothed matte is the weighted mean
    of f and its aligned neighbours (the motion-compensated temporal filtering of video
    denoisers, e.g. Buades, Lisani & Miladinović, "Patch-based video denoising with optical
    flow estimation", IEEE TIP 2016, reduced to one pixel per frame). Output = f + ``strength``
    · (smoothed − f); with ``edge_only`` only within ``edge_band`` px of the 0.5 contour, every
    other pixel is returned unchanged. ``motion`` off averages the frames unaligned.

    matte: float32 H×W in [0, 1] (windowed); image (optional): Image H×W×3/4 scene-linear of
    the same size (windowed). Output ``matte``: float32 H×W in [0, 1].
    """

    type_id = "rotograph.TemporalSmooth"
    pixel_params = {"edge_band": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Matte"
    cache_policy = CachePolicy.ALWAYS  # optical flows: dearer than a disk read

    matte = Input(Matte, window="radius")
    image = Input(Image, optional=True, window="radius", doc="Plate to measure motion on (else the matte)")
    radius = Param(int, 2, range=(0, 12), doc="Frames each side of the current one")
    strength = Param(float, 1.0, range=(0.0, 1.0), doc="Mix of the smoothed matte over the input")
    edge_only = Param(bool, False, doc="Smooth only near the edge; the core and the clear area stay as they are")
    edge_band = Param(float, 6.0, range=(1.0, 256.0), doc="Half-width (px) of the edge band for edge_only")
    motion = Param(bool, True, doc="Align neighbours along optical flow (off: plain temporal average)")
    tolerance = Param(float, 0.1, range=(0.001, 1.0), doc="Plate difference (0–1) at which a neighbour counts less")
    work_size = Param(int, 960, range=(64, 8192), doc="Long side (px) at which motion is measured")
    out = Output(Matte)

    def passthrough(self):
        return "matte" if self.radius == 0 or self.strength == 0 else None

    def compute(self, ctx, matte, image):
        f = ctx.frame
        centre = matte[f]
        neighbours = [g for g in matte if g != f]
        if not neighbours:
            return centre
        total, weight = centre.copy(), np.ones_like(centre)
        if self.motion:
            scale = work_scale(centre.shape, self.work_size)
            guides = _guides(image if image is not None else matte, centre.shape, scale)
            here = guides[f].astype(np.float32) / 255.0
        for g in neighbours:
            if self.motion:
                flow = optical_flow(guides[f], guides[g])
                error = blur((here - warp(guides[g].astype(np.float32) / 255.0, flow)) ** 2, 1.0)
                trust = np.exp(-error / np.float32(2.0 * self.tolerance ** 2))
                trust = resize(trust, size=(centre.shape[1], centre.shape[0]), interpolation=cv2.INTER_LINEAR)
                aligned = warp(matte[g], _full_size(flow, centre.shape))
            else:
                trust, aligned = 1.0, matte[g]
            total += trust * aligned
            weight += trust
        mix = np.float32(self.strength)
        change = total / weight - centre
        if self.edge_only:
            change = np.where(edge_band(centre + change, self.edge_band), change, np.float32(0.0))
        return np.clip(centre + mix * change, 0.0, 1.0).astype(np.float32)


class EdgeMotionBlur(Node):
    """Experimental: motion-blur a matte's edge along optical flow, as a camera with a shutter
    open for ``shutter`` frames (0.5: a 180° shutter) centred on the frame would have.

    The object's motion is the DIS optical flow (Kroeger et al., ECCV 2016) from frame f to f + 1
    and to f − 1, measured on the plate (or on the matte) and taken where the matte is ≥ 0.5,
    then extended outward by pull-push (:func:`rotograph.nodes.common._imaging.pull_push`) so that the
    blur spreads beyond the object's edge, not only into it. The output is the mean of the
    matte displaced along that motion at ``samples`` times spread evenly over the shutter
    interval (a gather along the foreground's velocity, after McGuire et al., "A
    Reconstruction Filter for Plausible Motion Blur", I3D 2012). At the first or last frame of
    the range the motion one side is taken as the opposite of the other (constant velocity);
    a one-frame range passes the matte through.

    matte: float32 H×W in [0, 1] (windowed ±1); image (optional): Image H×W×3/4 scene-linear of
    the same size (windowed ±1). Output ``matte``: float32 H×W in [0, 1].
    """

    type_id = "rotograph.EdgeMotionBlur"
    category = "Matte"
    cache_policy = CachePolicy.ALWAYS

    matte = Input(Matte, window=1)
    image = Input(Image, optional=True, window=1, doc="Plate to measure motion on (else the matte)")
    shutter = Param(float, 0.5, range=(0.0, 4.0), doc="Shutter open time in frames (0.5 = 180°)")
    samples = Param(int, 16, range=(2, 256), doc="Positions averaged over the shutter interval")
    work_size = Param(int, 960, range=(64, 8192), doc="Long side (px) at which motion is measured")
    out = Output(Matte)

    def passthrough(self):
        return "matte" if self.shutter == 0 else None

    def compute(self, ctx, matte, image):
        f = ctx.frame
        centre = matte[f]
        if len(matte) == 1:
            return centre
        scale = work_scale(centre.shape, self.work_size)
        guides = _guides(image if image is not None else matte, centre.shape, scale)
        inside = (resize(centre, size=guides[f].shape[::-1]) >= 0.5).astype(np.float32)
        motion = {}
        for side in (1, -1):
            if f + side in guides:
                motion[side] = pull_push(optical_flow(guides[f], guides[f + side]), inside)
        forward = motion[1] if 1 in motion else -motion[-1]
        backward = motion[-1] if -1 in motion else -motion[1]
        forward, backward = _full_size(forward, centre.shape), _full_size(backward, centre.shape)
        total = np.zeros_like(centre)
        for i in range(self.samples):
            t = (i + 0.5) / self.samples * self.shutter - self.shutter / 2  # frames from f
            moved = forward * np.float32(t) if t >= 0 else backward * np.float32(-t)
            total += warp(centre, -moved)  # at time t the matte is the frame's, moved along its motion
        return np.clip(total / self.samples, 0.0, 1.0).astype(np.float32)
