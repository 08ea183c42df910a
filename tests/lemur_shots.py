"""Tracking shots with exact ground truth: the lemur's real alpha and foreground
(../shared/footage/lemur) composited over real moving footage (bedroom.mp4, 01_dog.mp4).

Each shot moves, scales and rotates the lemur along a path given in 960×540 plate pixels; shots
are built at any width (everything scales with it). Some shots put a foreground object (a
soft-edged panel cut from another plate) in front of the lemur, or move it across the frame
edge. Ground truth is the lemur's *visible* alpha: ``alpha_lemur · (1 − alpha_occluder)``, and
zero outside the frame. Compositing is in scene-linear light; frames are delivered as sRGB
uint8 (as a PNG sequence stores them) and as the scene-linear float32 a Read gives.

Also here: the measures (IoU of the matte > 0.5 against alpha > 0.5, SAD) and the OpenCV box
tracker baseline (``cv2.TrackerMIL``, its box filled as the matte).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
import cv2
import numpy as np

from rotograph.io.colour import from_linear, to_linear

from conftest import footage

BASE_W, BASE_H = 960, 540


@dataclass
class Shot:
    """``frames``: sRGB uint8 H×W×3 per frame; ``alpha``: float32 H×W visible lemur alpha;
    ``box``: the keyframe box [x0, y0, x1, y1] (plate pixels) drawn loosely around the lemur
    on frame 0; ``hidden``: frame indices where less than 5 % of the lemur is visible."""

    name: str
    frames: list[np.ndarray]
    alpha: list[np.ndarray]
    box: list[float]

    @property
    def hidden(self) -> list[int]:
        full = max(float(a.sum()) for a in self.alpha)
        return [i for i, a in enumerate(self.alpha) if a.sum() < 0.05 * full]

    def linear(self, i: int) -> np.ndarray:
        """Frame ``i`` as a Read of its PNG gives it: scene-linear float32 H×W×3."""
        return to_linear(self.frames[i].astype(np.float32) / 255.0, "sRGB").astype(np.float32)


@functools.lru_cache(maxsize=None)
def _lemur() -> tuple[np.ndarray, np.ndarray]:
    """(foreground linear float32 H×W×3, alpha float32 H×W) of the lemur still."""
    alpha = cv2.imread(str(footage("lemur/lemur_alpha.png")), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    fg = cv2.cvtColor(cv2.imread(str(footage("lemur/lemur_foreground.png")), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return to_linear(fg.astype(np.float32) / 255, "sRGB").astype(np.float32), alpha


@functools.lru_cache(maxsize=None)
def _plate_frames(name: str, start: int, count: int) -> tuple[np.ndarray, ...]:
    """``count`` frames of a footage movie from ``start``, at 960×540, scene-linear float32."""
    cap = cv2.VideoCapture(str(footage(name)))
    out = []
    for i in range(start + count):
        ok, bgr = cap.read()
        if not ok:
            raise RuntimeError(f"{name} has fewer than {start + count} frames")
        if i >= start:
            rgb = cv2.cvtColor(cv2.resize(bgr, (BASE_W, BASE_H), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
            out.append(to_linear(rgb.astype(np.float32) / 255, "sRGB").astype(np.float32))
    cap.release()
    return tuple(out)


def _lemur_affine(x: float, y: float, scale: float, degrees: float, k: float) -> np.ndarray:
    """Affine map from the lemur still to the plate: the lemur's centre lands on (x, y)·k."""
    _, alpha = _lemur()
    ys, xs = np.nonzero(alpha > 0.5)
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    m = cv2.getRotationMatrix2D((float(cx), float(cy)), degrees, scale * k)
    m[:, 2] += np.array([x * k - cx, y * k - cy])
    return m


def _panel_alpha(k: float, w: int, h: int, rect: tuple[float, float, float, float]) -> np.ndarray:
    """Alpha (float32 H×W) of a soft-edged foreground panel at ``rect`` (x0, y0, x1, y1; base px)."""
    x0, y0, x1, y1 = (int(round(v * k)) for v in rect)
    a = np.zeros((h, w), np.float32)
    a[max(0, y0):y1, max(0, x0):x1] = 1
    return cv2.GaussianBlur(a, (0, 0), max(0.6, 1.5 * k))


def make_shot(name: str, width: int = BASE_W, frames: int | None = None) -> Shot:
    """Build shot ``name`` (see :data:`SHOTS`) at ``width`` (height 9/16 of it)."""
    spec = SHOTS[name]
    n = frames or spec["frames"]
    k = width / BASE_W
    w, h = width, int(round(BASE_H * k))
    plates = _plate_frames(spec["plate"], spec["start"], n)
    fg, alpha = _lemur()
    occ = spec.get("occluder")
    if occ is not None:
        occ_plate = _plate_frames(occ["plate"], occ["frame"], 1)[0]
    out_frames, out_alpha = [], []
    for t in range(n):
        m = _lemur_affine(*spec["path"](t), k)
        a = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        f = cv2.warpAffine(fg, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        plate = cv2.resize(plates[t], (w, h), interpolation=cv2.INTER_AREA) if k != 1 else plates[t]
        comp = f * a[..., None] + plate * (1 - a[..., None])
        if occ is not None:
            colour = cv2.resize(occ_plate, (w, h), interpolation=cv2.INTER_AREA)
            colour = np.roll(colour, int(round(occ["shift"] * k)), axis=1)
            ao = _panel_alpha(k, w, h, occ["rect"](t))
            comp = colour * ao[..., None] + comp * (1 - ao[..., None])
            a = a * (1 - ao)
        srgb = from_linear(np.clip(comp, 0, 1), "sRGB")
        out_frames.append((srgb * 255 + 0.5).astype(np.uint8))
        out_alpha.append(a.astype(np.float32))
    ys, xs = np.nonzero(out_alpha[0] > 0.5)
    pad = 0.04 * max(np.ptp(xs), np.ptp(ys))
    box = [max(0.0, xs.min() - pad), max(0.0, ys.min() - pad), min(w - 1.0, xs.max() + pad),
           min(h - 1.0, ys.max() + pad)]
    return Shot(name, out_frames, out_alpha, [float(round(v, 1)) for v in box])


# Paths in 960×540 pixels: t -> (centre x, centre y, scale of the 680×440 still, degrees).
SHOTS: dict[str, dict] = {
    # slow drift with a slight zoom and tilt over the white wall and the black-and-white striped
    # bed of the bedroom (colours close to the fur), under a handheld camera
    "slow": dict(plate="bedroom.mp4", start=0, frames=40,
                 path=lambda t: (330 + 3.0 * t, 250 + 10 * math.sin(t / 8), 0.55 + 0.003 * t, 4 * math.sin(t / 10))),
    # the lemur walks out over the right edge (up to ~45 % outside), then back in
    "edge": dict(plate="01_dog.mp4", start=30, frames=40,
                 path=lambda t: (560 + 330 * math.sin(math.pi * t / 39), 290 + 20 * math.sin(t / 5), 0.5,
                                 6 * math.sin(t / 7))),
    # the lemur leaves the frame entirely for ~8 frames and comes back in
    "exit": dict(plate="01_dog.mp4", start=120, frames=40,
                 path=lambda t: (700 + 450 * math.sin(math.pi * t / 39), 300, 0.45, 0.0)),
    # fast motion (≈21 px/frame), rotation and zoom across the bedroom, behind a panel that
    # hides it completely for ~10 frames
    "fast_occluded": dict(plate="bedroom.mp4", start=60, frames=36,
                          path=lambda t: (110 + 21.0 * t, 280 + 40 * math.sin(t / 4), 0.42 + 0.06 * math.sin(t / 7),
                                          18 * math.sin(t / 5)),
                          occluder=dict(plate="01_dog.mp4", frame=200, shift=-300,
                                        rect=lambda t: (330 - 2 * t, 60, 700 - 2 * t, 520))),
}


def iou(matte: np.ndarray, alpha: np.ndarray) -> float:
    """IoU of ``matte > 0.5`` and ``alpha > 0.5``; 1 when both are empty (a hidden object
    correctly reported absent)."""
    a, b = matte > 0.5, alpha > 0.5
    union = (a | b).sum()
    return 1.0 if union == 0 else float((a & b).sum() / union)


def sad(matte: np.ndarray, alpha: np.ndarray) -> float:
    """Sum of absolute differences, in thousands (the matting benchmarks' unit)."""
    return float(np.abs(matte.astype(np.float64) - alpha).sum() / 1000)


def box_tracker_mattes(shot: Shot) -> list[np.ndarray]:
    """The baseline: OpenCV's MIL box tracker (Babenko et al., CVPR 2009) from the keyframe box,
    the box filled as the matte (empty once the tracker reports a loss)."""
    x0, y0, x1, y1 = shot.box
    cv2.setRNGSeed(0)  # MIL samples its training patches from OpenCV's RNG: keep the baseline repeatable
    tracker = cv2.TrackerMIL_create()
    bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in shot.frames]
    tracker.init(bgr[0], (int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    out = []
    for i, frame in enumerate(bgr):
        ok, (x, y, bw, bh) = (True, (int(x0), int(y0), int(x1 - x0), int(y1 - y0))) if i == 0 else tracker.update(frame)
        m = np.zeros(frame.shape[:2], np.float32)
        if ok:
            m[max(0, y):y + bh, max(0, x):x + bw] = 1
        out.append(m)
    return out


def summary(mattes: list[np.ndarray], shot: Shot) -> dict[str, float]:
    """Mean IoU, min IoU, mean IoU of the last 10 frames and mean SAD per frame."""
    ious = [iou(m, a) for m, a in zip(mattes, shot.alpha)]
    return {"mean_iou": float(np.mean(ious)), "min_iou": float(np.min(ious)),
            "last10_iou": float(np.mean(ious[-10:])),
            "sad": float(np.mean([sad(m, a) for m, a in zip(mattes, shot.alpha)]))}
