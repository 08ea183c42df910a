"""Transfer functions between display encodings and scene-linear light.

sRGB: IEC 61966-2-1 piecewise EOTF. Rec.709: the inverse of the ITU-R BT.709 camera OETF
(as Nuke's "rec709" colourspace). Linear: identity. Primaries are left unchanged (sRGB and
Rec.709 share them); full OCIO colour management is a separate node.
"""

from __future__ import annotations

import cv2
import numpy as np

COLORSPACES = ("sRGB", "Rec.709", "linear")


def _pow(x: np.ndarray, p: float) -> np.ndarray:
    """max(x, 0) ** p in float32 (OpenCV's SIMD pow: ~4× numpy's on 2K frames)."""
    flat = np.ascontiguousarray(np.maximum(x, 0.0), dtype=np.float32).reshape(-1, 1)
    return cv2.pow(flat, p).reshape(x.shape)


def _piecewise(x, threshold, linear_slope, scale, offset, power, encode):
    """Shared shape of the sRGB and BT.709 curves: a linear toe and a power segment."""
    if encode:
        y = _pow(x, power) * np.float32(scale) - np.float32(offset)
        np.copyto(y, x * np.float32(linear_slope), where=x <= threshold)
    else:
        y = _pow((x + np.float32(offset)) / np.float32(scale), power)
        np.copyto(y, x / np.float32(linear_slope), where=x <= threshold)
    return y.astype(np.float32, copy=False)


def to_linear(x: np.ndarray, colorspace: str) -> np.ndarray:
    """Encoded values (float32, nominally [0, 1]) → scene-linear float32."""
    x = np.asarray(x, dtype=np.float32)
    if colorspace == "linear":
        return x
    if colorspace == "sRGB":
        return _piecewise(x, 0.04045, 12.92, 1.055, 0.055, 2.4, encode=False)
    if colorspace == "Rec.709":
        return _piecewise(x, 0.081, 4.5, 1.099, 0.099, 1 / 0.45, encode=False)
    raise ValueError(f"unknown colourspace '{colorspace}' (known: {', '.join(COLORSPACES)})")


def from_linear(x: np.ndarray, colorspace: str) -> np.ndarray:
    """Scene-linear float32 → encoded float32 (negative values clamp to 0 for sRGB/Rec.709)."""
    x = np.asarray(x, dtype=np.float32)
    if colorspace == "linear":
        return x
    x = np.maximum(x, 0.0)
    if colorspace == "sRGB":
        return _piecewise(x, 0.0031308, 12.92, 1.055, 0.055, 1 / 2.4, encode=True)
    if colorspace == "Rec.709":
        return _piecewise(x, 0.018, 4.5, 1.099, 0.099, 0.45, encode=True)
    raise ValueError(f"unknown colourspace '{colorspace}' (known: {', '.join(COLORSPACES)})")


def lut_to_linear(bits: int, colorspace: str) -> np.ndarray:
    """A lookup table from integer code values (0 .. 2**bits-1) to scene-linear float32."""
    codes = np.arange(2 ** bits, dtype=np.float32) / (2 ** bits - 1)
    return to_linear(codes, colorspace)
