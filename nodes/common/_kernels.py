"""Single-pass float32 pixel kernels (numba, compiled once and cached on disk).

The per-pixel formulas of the keying and alpha nodes, each one loop over the image that reads
its inputs once and writes its output once: no temporary array per operator as in numpy, no
float64 promotion. Chosen by measurement at 4096×2160 (bench/pixel4k.py): a fused numba loop
beats numpy (one pass per operator) and numexpr (slow on the strided channels of an H×W×3
array) and needs no extra copy. Results equal the numpy formulas they replace within float32
rounding (tests/test_pixel_kernels.py).

Import this module lazily (inside ``compute``): importing numba costs ~0.5 s, which the CLI
and the editor should not pay at start-up. ``cache=True`` keeps the compiled code in
``__pycache__`` so that only the first run on a machine compiles (about 1 s per kernel).

All images are float32 H×W×C (C ≥ 3, channels last), mattes float32 H×W; scalars are float32.
"""

from __future__ import annotations

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True, fastmath=False)


@jit
def _other(r, g, b, c, average):
    """The two channels that are not the screen channel ``c``, combined (max or average)."""
    if c == 1:
        x, y = r, b
    elif c == 2:
        x, y = r, g
    else:
        x, y = g, b
    return (x + y) * np.float32(0.5) if average else max(x, y)


@jit
def _screen(r, g, b, c):
    return g if c == 1 else (b if c == 2 else r)


@jit
def colour_difference(rgb, c, average):
    """Screen channel ``c`` minus the other two (max, or average): float32 H×W."""
    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.float32)
    for i in range(h):
        for j in range(w):
            r, g, b = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            out[i, j] = _screen(r, g, b, c) - _other(r, g, b, c, average)
    return out


@jit
def key_alpha(d, screen, gain, lo, hi):
    """clip((1 − gain·d/screen − lo) / (hi − lo), 0, 1); ``screen`` float32 H×W."""
    h, w = d.shape
    out = np.empty((h, w), np.float32)
    span = hi - lo
    one = np.float32(1.0)
    for i in range(h):
        for j in range(w):
            a = (one - gain * d[i, j] / screen[i, j] - lo) / span
            out[i, j] = min(max(a, np.float32(0.0)), one)
    return out


@jit
def screen_estimate(num, den, s_global):
    """max(local·trust + s·(1 − trust), 1e-4) with local = num / max(den, 1e-6) and
    trust = clip(den / 0.05, 0, 1): the Keyer's local screen colour difference."""
    h, w = num.shape
    out = np.empty((h, w), np.float32)
    one = np.float32(1.0)
    for i in range(h):
        for j in range(w):
            trust = min(max(den[i, j] / np.float32(0.05), np.float32(0.0)), one)
            local = num[i, j] / max(den[i, j], np.float32(1e-6))
            out[i, j] = max(local * trust + s_global * (one - trust), np.float32(1e-4))
    return out


@jit
def screen_estimate_up(small, yi, yf, xi, xf, s_global):
    """:func:`screen_estimate` of the blurred [d·w, w] read from its 1/f-size ``small``
    (float32 h×w×2) through linear taps (``_imaging.upsample_taps``: OpenCV's INTER_LINEAR,
    horizontal then vertical), without the full-size blurred image."""
    h, w = yi.shape[0], xi.shape[0]
    sh, sw = small.shape[:2]
    out = np.empty((h, w), np.float32)
    one = np.float32(1.0)
    for i in range(h):
        y0 = yi[i]
        y1 = min(y0 + 1, sh - 1)
        fy = yf[i]
        for j in range(w):
            x0 = xi[j]
            x1 = min(x0 + 1, sw - 1)
            fx = xf[j]
            num = ((small[y0, x0, 0] * (one - fx) + small[y0, x1, 0] * fx) * (one - fy)
                   + (small[y1, x0, 0] * (one - fx) + small[y1, x1, 0] * fx) * fy)
            den = ((small[y0, x0, 1] * (one - fx) + small[y0, x1, 1] * fx) * (one - fy)
                   + (small[y1, x0, 1] * (one - fx) + small[y1, x1, 1] * fx) * fy)
            trust = min(max(den / np.float32(0.05), np.float32(0.0)), one)
            local = num / max(den, np.float32(1e-6))
            out[i, j] = max(local * trust + s_global * (one - trust), np.float32(1e-4))
    return out


@jit
def screen_weight(d, estimate, ratio, out):
    """``out`` = [d·w, w] with w = (d / estimate > ratio) as 0/1: the pixels keyed as pure
    screen and their signal, as the 2-channel float32 H×W×2 image the estimate blurs."""
    h, w = d.shape
    for i in range(h):
        for j in range(w):
            k = np.float32(1.0) if d[i, j] / estimate[i, j] > ratio else np.float32(0.0)
            out[i, j, 0] = d[i, j] * k
            out[i, j, 1] = k
    return out


@jit
def despill(image, rgb, c, average, amount, restore):
    """Limit the screen channel ``c`` of ``rgb`` to the other two (average or max), removing
    ``amount`` of the excess, and add ``restore`` of the lost Rec.709 luminance back to all
    three; channels of ``image`` past the third (alpha) are copied. Returns float32 H×W×C."""
    h, w, n = image.shape
    out = np.empty((h, w, n), np.float32)
    kr, kg, kb = np.float32(0.2126), np.float32(0.7152), np.float32(0.0722)
    for i in range(h):
        for j in range(w):
            r, g, b = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            spill = max(_screen(r, g, b, c) - _other(r, g, b, c, average), np.float32(0.0)) * amount
            r2, g2, b2 = r, g, b
            if c == 0:
                r2 = r - spill
            elif c == 1:
                g2 = g - spill
            else:
                b2 = b - spill
            if restore > 0:
                lost = (r * kr + g * kg + b * kb) - (r2 * kr + g2 * kg + b2 * kb)
                lost *= restore
                r2, g2, b2 = r2 + lost, g2 + lost, b2 + lost
            out[i, j, 0], out[i, j, 1], out[i, j, 2] = r2, g2, b2
            for k in range(3, n):
                out[i, j, k] = image[i, j, k]
    return out


@jit
def unmix(rgb, alpha, background):
    """Straight foreground F = (I − (1 − α)·B) / max(α, 1e-3): float32 H×W×3."""
    h, w = alpha.shape
    out = np.empty((h, w, 3), np.float32)
    one = np.float32(1.0)
    for i in range(h):
        for j in range(w):
            a = alpha[i, j]
            inv = one - a
            den = max(a, np.float32(1e-3))
            for k in range(3):
                out[i, j, k] = (rgb[i, j, k] - inv * background[i, j, k]) / den
    return out


@jit
def premult(rgb, alpha):
    """[RGB·α, α]: float32 H×W×4 premultiplied."""
    h, w = alpha.shape
    out = np.empty((h, w, 4), np.float32)
    for i in range(h):
        for j in range(w):
            a = alpha[i, j]
            for k in range(3):
                out[i, j, k] = rgb[i, j, k] * a
            out[i, j, 3] = a
    return out


@jit
def unpremult(image):
    """[RGB/α where α > 1e-6 (else RGB), α] of an H×W×4 premultiplied image."""
    h, w = image.shape[:2]
    out = np.empty((h, w, 4), np.float32)
    for i in range(h):
        for j in range(w):
            a = image[i, j, 3]
            for k in range(3):
                out[i, j, k] = image[i, j, k] / a if a > np.float32(1e-6) else image[i, j, k]
            out[i, j, 3] = a
    return out


@jit
def merge(a_img, a_alpha, straight, b_img, op, mix):
    """Porter-Duff A ``op`` B (0 over, 1 under, 2 plus), blended with B by ``mix``.

    A's colour is a_img[..., :3], premultiplied by ``a_alpha`` here when ``straight``; B is
    H×W×3 (alpha 1) or H×W×4, premultiplied. Returns float32 H×W×4 premultiplied."""
    h, w = a_alpha.shape
    out = np.empty((h, w, 4), np.float32)
    one = np.float32(1.0)
    b_has_alpha = b_img.shape[2] == 4
    for i in range(h):
        for j in range(w):
            aa = a_alpha[i, j]
            ba = b_img[i, j, 3] if b_has_alpha else one
            for k in range(4):
                if k < 3:
                    av = a_img[i, j, k] * aa if straight else a_img[i, j, k]
                    bv = b_img[i, j, k]
                else:
                    av, bv = aa, ba
                if op == 0:
                    v = av + bv * (one - aa)
                elif op == 1:
                    v = bv + av * (one - ba)
                else:
                    v = av + bv
                if mix < one:
                    v = bv + (v - bv) * mix
                out[i, j, k] = v
    return out


@jit
def weighted(x, w):
    """x·w: float32 H×W×C times H×W."""
    h, wd, n = x.shape
    out = np.empty((h, wd, n), np.float32)
    for i in range(h):
        for j in range(wd):
            for k in range(n):
                out[i, j, k] = x[i, j, k] * w[i, j]
    return out


@jit
def pull_normalise(xw, w_sum):
    """One pull step of pull-push on 2×-area-averaged x·w and w (float32 H×W×C, H×W): the
    weighted mean xw·4 / max(4·w, 1e-12) and the clamped weight min(4·w, 1)."""
    h, wd, n = xw.shape
    x = np.empty((h, wd, n), np.float32)
    w = np.empty((h, wd), np.float32)
    four = np.float32(4.0)
    for i in range(h):
        for j in range(wd):
            s = w_sum[i, j] * four
            den = max(s, np.float32(1e-12))
            for k in range(n):
                x[i, j, k] = xw[i, j, k] * four / den
            w[i, j] = min(s, np.float32(1.0))
    return x, w


@jit
def select_labels(labels, chosen, also):
    """uint8 H×W mask: 1 where ``chosen[labels]`` (bool per label) or ``also`` (bool H×W,
    or a 0×0 array for none) — a connected-component selection without numpy's fancy-index
    temporaries."""
    h, w = labels.shape
    out = np.empty((h, w), np.uint8)
    use_also = also.shape[0] > 0
    for i in range(h):
        for j in range(w):
            out[i, j] = 1 if chosen[labels[i, j]] or (use_also and also[i, j]) else 0
    return out


@jit
def label_of_label(a, b, n):
    """For each of the ``n`` labels of ``a``, the label of ``b`` at (the last of) its pixels:
    int64 of length n (label 0 included)."""
    out = np.zeros(n, np.int64)
    h, w = a.shape
    for i in range(h):
        for j in range(w):
            out[a[i, j]] = b[i, j]
    return out


@jit
def pull_even(x, w):
    """A pull step of pull-push for even sizes: the 2×2 weighted means of x (float32 H×W×C)
    under w (H×W), sum(x·w) / max(sum(w), 1e-12), and the clamped weights min(sum(w), 1) —
    what ``pull_normalise`` gives after OpenCV's 2× area resize, in one pass."""
    h, wd, n = x.shape
    h2, w2 = h // 2, wd // 2
    xo = np.empty((h2, w2, n), np.float32)
    wo = np.empty((h2, w2), np.float32)
    for i in range(h2):
        for j in range(w2):
            a, b = w[2 * i, 2 * j], w[2 * i, 2 * j + 1]
            c, d = w[2 * i + 1, 2 * j], w[2 * i + 1, 2 * j + 1]
            s = (a + b) + (c + d)
            den = max(s, np.float32(1e-12))
            for k in range(n):
                xo[i, j, k] = ((x[2 * i, 2 * j, k] * a + x[2 * i, 2 * j + 1, k] * b)
                               + (x[2 * i + 1, 2 * j, k] * c + x[2 * i + 1, 2 * j + 1, k] * d)) / den
            wo[i, j] = min(s, np.float32(1.0))
    return xo, wo


@jit
def _taps(n_out, n_in):
    """OpenCV's INTER_LINEAR taps from n_in to n_out samples (pixel centres aligned, edges
    clamped): first index and weight of the second tap, per output sample."""
    idx = np.empty(n_out, np.int64)
    frac = np.empty(n_out, np.float32)
    scale = n_in / n_out
    for i in range(n_out):
        f = (i + 0.5) * scale - 0.5
        s = int(np.floor(f))
        f -= s
        if s < 0:
            s, f = 0, 0.0
        if s >= n_in - 1:
            s, f = n_in - 1, 0.0
        idx[i], frac[i] = s, f
    return idx, frac


@jit
def push_up(x, w, coarse):
    """A push step of pull-push: x·w + up(coarse)·(1 − w), with ``coarse`` (float32 h×w×C)
    resized to x's size by bilinear interpolation (OpenCV's INTER_LINEAR) in the same pass.
    Where w is 1 (a trusted pixel: most of a matte's plate) the pixel is x, and where it is 0
    up(coarse), without the other term (the same value for finite x and coarse)."""
    h, wd, n = x.shape
    ch, cw = coarse.shape[:2]
    yi, yf = _taps(h, ch)
    xi, xf = _taps(wd, cw)
    out = np.empty((h, wd, n), np.float32)
    one, zero = np.float32(1.0), np.float32(0.0)
    for i in range(h):
        y0 = yi[i]
        y1 = min(y0 + 1, ch - 1)
        fy = yf[i]
        for j in range(wd):
            a = w[i, j]
            if a == one:
                for k in range(n):
                    out[i, j, k] = x[i, j, k]
                continue
            x0 = xi[j]
            x1 = min(x0 + 1, cw - 1)
            fx = xf[j]
            for k in range(n):
                top = coarse[y0, x0, k] * (one - fx) + coarse[y0, x1, k] * fx
                bottom = coarse[y1, x0, k] * (one - fx) + coarse[y1, x1, k] * fx
                up = top * (one - fy) + bottom * fy
                out[i, j, k] = up if a == zero else x[i, j, k] * a + up * (one - a)
    return out
