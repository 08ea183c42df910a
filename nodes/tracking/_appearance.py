"""The colour appearance of a tracked object and of its surroundings, kept from its keyframes.

The model is two sets of colour samples (sRGB uint8): the object's and the background's around
it. Half of each set is anchored to the keyframe(s) and never replaced; the other half is
renewed slowly from frames the tracker trusts (a conservative update, so the model cannot
drift onto the background in a few bad frames). From the samples it derives:

- Gaussian mixture colour models (5 components, full covariance) in the layout OpenCV's
  GrabCut uses (Rother, Kolmogorov & Blake, "GrabCut", SIGGRAPH 2004), fitted by GrabCut's own
  k-means initialisation, for the graph cut of each frame;
- smoothed 3-D colour histograms (16 bins a channel) giving P(object | colour) per pixel
  (histogram back-projection, Swain & Ballard, "Color indexing", IJCV 1991) and the
  Bhattacharyya similarity of a region's colours to the object's, used to notice a loss and to
  search the frame for the object when it comes back.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..common._imaging import dilate_mask, erode_mask

SAMPLES = 3000  # colour samples kept per side
BINS = 16
SHIFT = 4  # 256 / BINS = 2**SHIFT
COARSE_SHIFT = 6  # 4 bins a channel for the window search


def _pick(pixels: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` rows of ``pixels`` (N×3 uint8), evenly spaced (deterministic)."""
    if len(pixels) <= n:
        return pixels
    return pixels[np.linspace(0, len(pixels) - 1, n).astype(np.int64)]


def _histogram(pixels: np.ndarray) -> np.ndarray:
    """Normalised, lightly smoothed BINS³ colour histogram (float64, sums to 1)."""
    idx = _index(pixels)
    h = np.bincount(idx, minlength=BINS ** 3).astype(np.float64).reshape(BINS, BINS, BINS)
    for axis in range(3):  # [1 2 1] / 4 smoothing along each colour axis
        pad = np.pad(h, [(1, 1) if a == axis else (0, 0) for a in range(3)], mode="edge")
        lo = np.take(pad, range(0, BINS), axis=axis)
        hi = np.take(pad, range(2, BINS + 2), axis=axis)
        h = 0.25 * lo + 0.5 * h + 0.25 * hi
    return (h / max(h.sum(), 1e-12)).ravel()


def _index(pixels: np.ndarray, shift: int = SHIFT) -> np.ndarray:
    """Histogram bin of each pixel (any shape ×3 uint8 → flat int64), 2**(8 - shift) bins a channel."""
    bins = 1 << (8 - shift)
    p = pixels.reshape(-1, 3).astype(np.int64) >> shift
    return (p[:, 0] * bins + p[:, 1]) * bins + p[:, 2]


def fit_gmms(fg: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GrabCut's (background, foreground) GMMs (each float64 1×65) fitted to colour samples
    (N×3 uint8 each, N ≥ 5), with GrabCut's own fitting (``cv2.grabCut`` with no iterations)."""
    img = np.concatenate([fg, bg]).reshape(1, -1, 3)
    mask = np.concatenate([np.full(len(fg), cv2.GC_FGD, np.uint8), np.full(len(bg), cv2.GC_BGD, np.uint8)])
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # k-means draws from OpenCV's RNG: keep it repeatable
    cv2.grabCut(np.ascontiguousarray(img), mask.reshape(1, -1), None, bgd, fgd, 0, cv2.GC_INIT_WITH_MASK)
    return bgd, fgd


class Appearance:
    """Object and background colour samples, anchored to the keyframes.

    ``fg``, ``bg``: N×3 uint8 sRGB samples; the first ``anchored`` rows of each are keyframe
    samples that updates never replace.
    """

    def __init__(self, fg: np.ndarray, bg: np.ndarray):
        self.fg, self.bg = _pick(fg, SAMPLES).copy(), _pick(bg, SAMPLES).copy()
        self.anchored = (len(self.fg) // 2, len(self.bg) // 2)
        self._cursor = [0, 0]
        self._refresh()

    @classmethod
    def from_mask(cls, rgb8: np.ndarray, mask: np.ndarray, ring: int) -> "Appearance | None":
        """The model of the object ``mask`` (bool H×W) in ``rgb8`` (uint8 H×W×3): its pixels
        away from the edge, and the background in a ring of ``ring`` pixels around it. ``None``
        when the mask is too small or fills the frame."""
        fg, bg = _regions(mask, ring)
        if fg.sum() < 10 or bg.sum() < 10:
            return None
        return cls(rgb8[fg], rgb8[bg])

    def merged(self, newer: "Appearance") -> "Appearance":
        """A model anchored to both keyframes: half of each one's samples (a later keyframe)."""
        return Appearance(np.concatenate([newer.fg[::2], self.fg[: self.anchored[0]:2]]),
                          np.concatenate([newer.bg[::2], self.bg[: self.anchored[1]:2]]))

    def update(self, rgb8: np.ndarray, mask: np.ndarray, ring: int, fg_rate: float = 0.05,
               bg_rate: float = 0.2) -> None:
        """Renew ``fg_rate`` of the object samples and ``bg_rate`` of the background samples
        (never the anchored ones) from a trusted frame's ``mask``."""
        fg, bg = _regions(mask, ring)
        for side, (pixels, rate) in enumerate(((rgb8[fg], fg_rate), (rgb8[bg], bg_rate))):
            store = self.fg if side == 0 else self.bg
            free = len(store) - self.anchored[side]
            n = min(int(rate * len(store)), free, len(pixels))
            if n <= 0:
                continue
            slots = self.anchored[side] + (self._cursor[side] + np.arange(n)) % free
            store[slots] = _pick(pixels, n)
            self._cursor[side] = (self._cursor[side] + n) % free
        self._refresh()

    def _refresh(self) -> None:
        self.fg_hist, self.bg_hist = _histogram(self.fg), _histogram(self.bg)
        self._lut = ((self.fg_hist + 1e-6) / (self.fg_hist + self.bg_hist + 2e-6)).astype(np.float32)

    def gmms(self, extra_fg: np.ndarray | None = None, extra_bg: np.ndarray | None = None):
        """GrabCut (bgdModel, fgdModel) of the samples plus optional pixels of the current
        frame (N×3 uint8; the surroundings change as the object moves)."""
        fg = self.fg if extra_fg is None or not len(extra_fg) else np.concatenate([self.fg, _pick(extra_fg, SAMPLES)])
        bg = self.bg if extra_bg is None or not len(extra_bg) else np.concatenate([self.bg, _pick(extra_bg, SAMPLES)])
        return fit_gmms(fg, bg)

    def posterior(self, rgb8: np.ndarray, against: np.ndarray | None = None) -> np.ndarray:
        """P(object | colour) per pixel, float32 H×W in [0, 1] (equal priors), against the
        background samples or, with ``against`` (N×3 uint8), against those colours instead —
        e.g. a whole frame the object is missing from, so that colours common there (the
        distractors) score low (Possegger et al., "In defense of color-based model-free
        tracking", CVPR 2015)."""
        lut = self._lut
        if against is not None:
            other = _histogram(against)
            lut = ((self.fg_hist + 1e-6) / (self.fg_hist + other + 2e-6)).astype(np.float32)
        return lut[_index(rgb8)].reshape(rgb8.shape[:2])

    def window_similarity(self, rgb8: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """For a window of ``size`` (w, h) centred on each pixel of ``rgb8`` (uint8 H×W×3):
        the Bhattacharyya coefficient between the colours inside it and the object's (on a
        coarse 4³ histogram, by box filtering one plane per bin: an integral-histogram search),
        and the share of the window inside the frame. Both float32 H×W."""
        n = 1 << (3 * (8 - COARSE_SHIFT))
        idx = _index(rgb8, COARSE_SHIFT).reshape(rgb8.shape[:2])
        planes = np.eye(n, dtype=np.float32)[idx]
        counts = cv2.boxFilter(planes, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
        inside = counts.sum(axis=2)
        ref = np.sqrt(np.bincount(_index(self.fg, COARSE_SHIFT), minlength=n) / len(self.fg)).astype(np.float32)
        sim = (np.sqrt(counts / np.maximum(inside, 1)[..., None]) * ref).sum(axis=2)
        return sim.astype(np.float32), (inside / (size[0] * size[1])).astype(np.float32)

    def similarity(self, pixels: np.ndarray, coarse: bool = False) -> float:
        """Bhattacharyya coefficient in [0, 1] between the colours of ``pixels`` (any shape ×3
        uint8) and the object's; ``coarse``: on the window search's 4³ histogram."""
        if pixels.size == 0:
            return 0.0
        if coarse:
            n = 1 << (3 * (8 - COARSE_SHIFT))
            a = np.bincount(_index(pixels, COARSE_SHIFT), minlength=n) / (pixels.size // 3)
            b = np.bincount(_index(self.fg, COARSE_SHIFT), minlength=n) / len(self.fg)
            return float(np.sqrt(a * b).sum())
        return float(np.sqrt(_histogram(pixels) * self.fg_hist).sum())


def _regions(mask: np.ndarray, ring: int) -> tuple[np.ndarray, np.ndarray]:
    """(object pixels 2 px inside the edge, background pixels in a ring 3…ring px outside)."""
    inner = erode_mask(mask, 2)
    if inner.sum() < 10:
        inner = mask
    outer = dilate_mask(mask, max(4, ring)) & ~dilate_mask(mask, 3)
    return inner, outer
