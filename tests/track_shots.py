"""A broader set of tracking shots with exact ground truth, for FlowTrack's benchmark and tests.

Each shot composites a matted object — the lemur's real alpha and foreground
(../shared/footage/lemur) or a generated textured shape — over a background of one of four
kinds (frames of bedroom.mp4 / 01_dog.mp4, a generated texture, a flat grey with noise), along a
known path (position, scale, rotation) under an optional camera pan, with optional motion blur
(sub-frame average) and foreground bars (occluders, thin or thick) crossing it. Everything is
composited in scene-linear light; frames are sRGB uint8 and the ground truth is the object's
*visible* alpha (its alpha times what no occluder covers, zero outside the frame), so IoU is
exact. ``visible`` per frame is that visible area over the object's whole area (unclipped,
unoccluded): the share a tracker can see.

Paths are in 960×540 pixels and everything scales with the built width.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from rotograph.io.colour import from_linear, to_linear

from lemur_shots import BASE_H, BASE_W, _lemur, _plate_frames, iou


@dataclass
class TrackShot:
    """``frames``: sRGB uint8 H×W×3; ``alpha``: float32 H×W visible alpha; ``visible``: share
    of the object visible per frame, [0, 1]; ``box``: keyframe box [x0, y0, x1, y1] on frame 0."""

    name: str
    frames: list[np.ndarray]
    alpha: list[np.ndarray]
    visible: list[float]
    box: list[float]

    def linear(self, i: int) -> np.ndarray:
        return to_linear(self.frames[i].astype(np.float32) / 255.0, "sRGB").astype(np.float32)


@functools.lru_cache(maxsize=None)
def _blob(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A generated object 400×400: a smooth star-like shape (float32 alpha, anti-aliased) with a
    two-colour blotchy texture (linear float32 RGB)."""
    rng = np.random.default_rng(seed)
    s = 400
    theta = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    r = 150 + sum(rng.uniform(8, 28) * np.cos(k * theta + rng.uniform(0, 6.3)) for k in (2, 3, 5))
    pts = np.stack([s / 2 + r * np.cos(theta), s / 2 + r * np.sin(theta)], axis=1)
    big = np.zeros((4 * s, 4 * s), np.uint8)
    cv2.fillPoly(big, [np.round(pts * 4).astype(np.int32)], 255)
    alpha = cv2.resize(big, (s, s), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    a, b = rng.uniform(0.05, 0.7, 3), rng.uniform(0.05, 0.7, 3)
    blot = cv2.GaussianBlur(rng.random((s, s)).astype(np.float32), (0, 0), 9)
    blot = np.clip((blot - blot.mean()) / (blot.std() + 1e-6) * 0.5 + 0.5, 0, 1)[..., None]
    fg = (a * blot + b * (1 - blot)).astype(np.float32)
    return fg, alpha


def _texture(seed: int, w: int, h: int) -> np.ndarray:
    """A generated background (linear float32 H×W×3): multi-scale coloured noise with stripes."""
    rng = np.random.default_rng(seed)
    out = np.zeros((h, w, 3), np.float32)
    for sigma, weight in ((40, 0.5), (10, 0.3), (2, 0.2)):
        n = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), sigma)
        out += weight * (n - n.mean()) / (n.std() + 1e-6)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out += 0.4 * np.sin((xx + 0.6 * yy) / 23.0)[..., None] * rng.uniform(-1, 1, 3)
    return np.clip(0.25 + 0.12 * out, 0.01, 1).astype(np.float32)


def _background(kind: tuple, n: int, pan: tuple[float, float]) -> list[np.ndarray]:
    """``n`` linear 960×540 background frames; ``pan`` (px/frame) moves the camera over a
    larger still for the generated kinds (movies move on their own)."""
    if kind[0] == "movie":
        return list(_plate_frames(kind[1], kind[2], n))
    margin = int(abs(pan[0]) * n + abs(pan[1]) * n) + 8
    w, h = BASE_W + 2 * margin, BASE_H + 2 * margin
    if kind[0] == "texture":
        still = _texture(kind[1], w, h)
    else:  # flat grey, lightly noisy (so optical flow has something, as on a real plate)
        rng = np.random.default_rng(7)
        still = np.full((h, w, 3), kind[1], np.float32) + cv2.GaussianBlur(
            rng.normal(0, 0.02, (h, w, 3)).astype(np.float32), (0, 0), 1.0)
    out = []
    for t in range(n):
        x, y = margin + pan[0] * t, margin + pan[1] * t
        m = np.float32([[1, 0, -x], [0, 1, -y]])
        out.append(cv2.warpAffine(still, m, (BASE_W, BASE_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return out


def _object(kind: str):
    return _lemur() if kind == "lemur" else _blob(int(kind[4:]))


def _affine(alpha: np.ndarray, x: float, y: float, scale: float, degrees: float, k: float) -> np.ndarray:
    h, w = alpha.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale * k)
    m[:, 2] += np.array([x * k - w / 2, y * k - h / 2])
    return m


def _bar(w: int, h: int, k: float, centre: tuple[float, float], width: float, degrees: float) -> np.ndarray:
    """Alpha of a long bar (an occluder: pole, arm, branch) through ``centre`` (base px), of
    ``width`` (base px), tilted ``degrees`` from vertical; anti-aliased."""
    ss = 4
    big = np.zeros((h * ss, w * ss), np.uint8)
    c = np.array(centre) * k * ss
    d = np.array([math.sin(math.radians(degrees)), math.cos(math.radians(degrees))])
    p = np.array([d[1], -d[0]]) * width * k * ss / 2
    L = 4 * max(w, h) * ss
    pts = np.array([c - d * L - p, c - d * L + p, c + d * L + p, c + d * L - p])
    cv2.fillPoly(big, [np.round(pts).astype(np.int32)], 255)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def make_track_shot(name: str, width: int = 640, frames: int | None = None) -> TrackShot:
    """Build shot ``name`` of :data:`TRACK_SHOTS` at ``width`` (height 9/16 of it)."""
    spec = TRACK_SHOTS[name]
    n = frames or spec.get("frames", 40)
    k = width / BASE_W
    w, h = width, int(round(BASE_H * k))
    fg, alpha = _object(spec["object"])
    if spec.get("grey"):
        fg = np.repeat((fg @ np.float32([0.2126, 0.7152, 0.0722]))[..., None], 3, axis=2)
    fg = fg * spec.get("gain", 1.0)
    full = float(alpha.sum())
    bgs = _background(spec["bg"], n, spec.get("pan", (0.0, 0.0)))
    sub = spec.get("blur", 1)
    out_frames, out_alpha, visible = [], [], []
    for t in range(n):
        comp = np.zeros((h, w, 3), np.float32)
        a_acc = np.zeros((h, w), np.float32)
        plate = cv2.resize(bgs[t], (w, h), interpolation=cv2.INTER_AREA)
        if spec.get("grey"):
            plate = np.repeat((plate @ np.float32([0.2126, 0.7152, 0.0722]))[..., None], 3, axis=2)
            plate = spec.get("bg_mid", 0.18) + spec.get("bg_contrast", 1.0) * (plate - plate.mean())
        for s in range(sub):  # motion blur: the shutter open over one frame's motion
            tt = t + (s + 0.5) / sub - 0.5 if sub > 1 else t
            x, y, scale, deg = spec["path"](tt)
            m = _affine(alpha, x, y, scale, deg, k)
            a = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
            f = cv2.warpAffine(fg, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            comp += (f * a[..., None] + plate * (1 - a[..., None])) / sub
            a_acc += a / sub
        scale = spec["path"](t)[2]
        whole = full * (scale * k) ** 2
        for occ in spec.get("occluders", []):
            ao = _bar(w, h, k, occ["at"](t), occ["width"], occ.get("degrees", 0.0))
            colour = np.float32(occ.get("colour", (0.05, 0.04, 0.03)))
            comp = colour * ao[..., None] + comp * (1 - ao[..., None])
            a_acc = a_acc * (1 - ao)
        srgb = from_linear(np.clip(comp, 0, 1), "sRGB")
        out_frames.append((srgb * 255 + 0.5).astype(np.uint8))
        out_alpha.append(a_acc)
        visible.append(float(min(1.0, a_acc.sum() / whole)))
    ys, xs = np.nonzero(out_alpha[0] > 0.5)
    pad = 0.04 * max(np.ptp(xs), np.ptp(ys))
    box = [max(0.0, xs.min() - pad), max(0.0, ys.min() - pad), min(w - 1.0, xs.max() + pad),
           min(h - 1.0, ys.max() + pad)]
    return TrackShot(name, out_frames, out_alpha, visible, [float(round(v, 1)) for v in box])


# Paths in 960×540 px: t -> (centre x, centre y, scale of the object still, degrees).
TRACK_SHOTS: dict[str, dict] = {
    # the lemur over a generated texture, the camera panning against its walk
    "texture_pan": dict(object="lemur", bg=("texture", 11), pan=(4.0, 1.0),
                        path=lambda t: (300 + 8 * t, 280 + 25 * math.sin(t / 6), 0.5, 3 * math.sin(t / 9))),
    # grey plate, grey lemur, low contrast: the bedroom desaturated and flattened towards the fur
    "grey_low_contrast": dict(object="lemur", bg=("movie", "bedroom.mp4", 100), grey=True, bg_mid=0.2,
                              bg_contrast=0.5, path=lambda t: (620 - 6 * t, 270 + 15 * math.sin(t / 5), 0.5, 0.0)),
    # scale (0.35 → 0.65) and rotation (±35°) over the running dog
    "scale_rotate": dict(object="lemur", bg=("movie", "01_dog.mp4", 60),
                         path=lambda t: (480 + 120 * math.sin(t / 12), 270, 0.35 + 0.0075 * t,
                                         35 * math.sin(t / 8))),
    # fast (≈22 px/frame) with motion blur over the bedroom
    "motion_blur": dict(object="lemur", bg=("movie", "bedroom.mp4", 20), blur=8,
                        path=lambda t: (180 + 16 * t, 260 + 60 * math.sin(t / 5), 0.42, 8 * math.sin(t / 6))),
    # a thin light pole (≈ a fifth of the lemur's width, hiding up to ~30 % of it) sweeps across the
    # slowly moving lemur over the bedroom's white wall and striped bed
    "thin_occluder": dict(object="lemur", bg=("movie", "bedroom.mp4", 0),
                          path=lambda t: (400 + 4 * t, 270, 0.5, 0.0),
                          occluders=[dict(at=lambda t: (200 + 14 * t, 270), width=45, degrees=3,
                                          colour=(0.8, 0.8, 0.78))]),
    # a thick bar (hiding up to ~40 %) crosses the lemur walking the other way over the dog plate
    "thick_occluder": dict(object="lemur", bg=("movie", "01_dog.mp4", 100),
                           path=lambda t: (560 - 5 * t, 280, 0.5, 2 * math.sin(t / 6)),
                           occluders=[dict(at=lambda t: (150 + 16 * t, 270), width=70, degrees=0,
                                           colour=(0.35, 0.3, 0.25))]),
    # a generated shape leaves the frame on the left and comes back, over flat grey
    "exit_reentry": dict(object="blob8", bg=("flat", 0.18),
                         path=lambda t: (480 - 680 * math.sin(math.pi * t / 39), 260 + 20 * math.sin(t / 4),
                                         0.6, 10 * math.sin(t / 7))),
    # a grey shape on a grey plate, low contrast, turning (4°/frame) and growing
    "grey_flat_rotate": dict(object="blob4", bg=("flat", 0.22), grey=True, bg_mid=0.2, gain=0.6,
                             path=lambda t: (300 + 9 * t, 280, 0.5 + 0.005 * t, 4 * t)),
    # held out of tuning ------------------------------------------------------------------------
    # a thin diagonal branch crosses the lemur over a textured, panning background
    "held_thin_texture": dict(object="lemur", bg=("texture", 23), pan=(-3.0, 0.0), held=True,
                              path=lambda t: (300 + 6 * t, 300 - 2 * t, 0.48, -5 * math.sin(t / 8)),
                              occluders=[dict(at=lambda t: (700 - 12 * t, 270), width=18, degrees=-20,
                                              colour=(0.3, 0.2, 0.1))]),
    # a shape over the dog plate, a thick bar crossing it, then out over the right edge and back
    "held_dog_exit": dict(object="blob12", bg=("movie", "01_dog.mp4", 200), held=True,
                          path=lambda t: (300 + 800 * math.sin(math.pi * t / 39) ** 2, 300, 0.45, -3 * t),
                          occluders=[dict(at=lambda t: (420 + 10 * t, 270), width=60, degrees=5,
                                          colour=(0.6, 0.6, 0.62))]),
}


def lost_run(lost: list[bool], visible: list[float], at_least: float = 0.7) -> int:
    """The longest run of consecutive frames reported lost while ≥ ``at_least`` of the object is
    visible."""
    best = run = 0
    for gone, v in zip(lost, visible):
        run = run + 1 if gone and v >= at_least else 0
        best = max(best, run)
    return best


def shot_summary(mattes: list[np.ndarray], lost: list[bool], shot: TrackShot) -> dict[str, float]:
    """Mean IoU, mean IoU of the last 10 frames, longest lost run while ≥ 70 % visible."""
    ious = [iou(m, a) for m, a in zip(mattes, shot.alpha)]
    return {"mean_iou": float(np.mean(ious)), "last10_iou": float(np.mean(ious[-10:])),
            "lost_run": lost_run(lost, shot.visible)}
