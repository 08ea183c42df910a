"""Transfer functions between display encodings and scene-linear light.

sRGB: IEC 61966-2-1 piecewise EOTF. Rec.709: the inverse of the ITU-R BT.709 camera OETF
(as Nuke's "rec709" colourspace). Linear: identity. Primaries are left unchanged (sRGB and
Rec.709 share them); full OCIO colour management is a separate node.
"""

from __future__ import annotations

import numpy as np

COLORSPACES = ("sRGB", "Rec.709", "linear")


def to_linear(x: np.ndarray, colorspace: str) -> np.ndarray:
    """Encoded values (float32, nominally [0, 1]) → scene-linear float32."""
    x = np.asarray(x, dtype=np.float32)
    if colorspace == "linear":
        return x
    if colorspace == "sRGB":
        return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)
    if colorspace == "Rec.709":
        return np.where(x < 0.081, x / 4.5, ((x + 0.099) / 1.099) ** (1 / 0.45)).astype(np.float32)
    raise ValueError(f"unknown colourspace '{colorspace}' (known: {', '.join(COLORSPACES)})")


def from_linear(x: np.ndarray, colorspace: str) -> np.ndarray:
    """Scene-linear float32 → encoded float32 (negative values clamp to 0 for sRGB/Rec.709)."""
    x = np.asarray(x, dtype=np.float32)
    if colorspace == "linear":
        return x
    x = np.maximum(x, 0.0)
    if colorspace == "sRGB":
        return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)
    if colorspace == "Rec.709":
        return np.where(x < 0.018, x * 4.5, 1.099 * x ** 0.45 - 0.099).astype(np.float32)
    raise ValueError(f"unknown colourspace '{colorspace}' (known: {', '.join(COLORSPACES)})")


def lut_to_linear(bits: int, colorspace: str) -> np.ndarray:
    """A lookup table from integer code values (0 .. 2**bits-1) to scene-linear float32."""
    codes = np.arange(2 ** bits, dtype=np.float32) / (2 ** bits - 1)
    return to_linear(codes, colorspace)
