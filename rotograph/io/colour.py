"""Colour: conversions between file encodings and the scene-linear working space.

Three names are built in and exact, with Rec.709/sRGB primaries: ``sRGB`` (IEC 61966-2-1
piecewise curve), ``Rec.709`` (inverse ITU-R BT.709 camera OETF, Nuke's "rec709") and
``linear``. Every other name — ``ACEScg``, ``ACES2065-1``, ``ACEScct``, ``ARRI LogC4``,
``S-Log3 S-Gamut3``, ``ADX10``, … and their aliases — goes through OpenColorIO, with the config
in ``$OCIO`` or else OCIO's built-in ACES studio config. A conversion between a built-in name
and an OCIO one maps the built-in names to the OCIO colourspaces of the same meaning.
"""

from __future__ import annotations

import functools
import os

import cv2
import numpy as np

COLORSPACES = ("sRGB", "Rec.709", "linear")
OCIO_EQUIVALENT = {"sRGB": "sRGB Encoded Rec.709 (sRGB)", "Rec.709": "Camera Rec.709",
                   "linear": "Linear Rec.709 (sRGB)"}
BUILTIN_OCIO_CONFIG = "studio-config-latest"


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
    """Encoded values (float32, nominally [0, 1]) → linear, for the built-in names."""
    x = np.asarray(x, dtype=np.float32)
    if colorspace == "linear":
        return x
    if colorspace == "sRGB":
        return _piecewise(x, 0.04045, 12.92, 1.055, 0.055, 2.4, encode=False)
    if colorspace == "Rec.709":
        return _piecewise(x, 0.081, 4.5, 1.099, 0.099, 1 / 0.45, encode=False)
    raise ValueError(f"unknown colourspace '{colorspace}' (known: {', '.join(COLORSPACES)})")


def from_linear(x: np.ndarray, colorspace: str) -> np.ndarray:
    """Linear float32 → encoded float32 for the built-in names (negatives clamp to 0)."""
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
    """A lookup table from integer code values (0 .. 2**bits-1) to linear float32."""
    codes = np.arange(2 ** bits, dtype=np.float32) / (2 ** bits - 1)
    return to_linear(codes, colorspace)


# -- OpenColorIO ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _config(ocio_env: str):
    try:
        import PyOpenColorIO as ocio
    except ImportError:
        raise ValueError("colourspaces other than sRGB, Rec.709 and linear need OpenColorIO: "
                         "pip install opencolorio") from None
    try:
        if ocio_env:
            return ocio.Config.CreateFromFile(ocio_env)
        return ocio.Config.CreateFromBuiltinConfig(BUILTIN_OCIO_CONFIG)
    except Exception as e:
        raise ValueError(f"cannot load the OCIO config {ocio_env or BUILTIN_OCIO_CONFIG}: {e}") from None


def ocio_config():
    """The OpenColorIO config in use: ``$OCIO`` or the built-in ACES studio config."""
    return _config(os.environ.get("OCIO", ""))


def config_id() -> str:
    """Identity of the OCIO config (for cache keys)."""
    return ocio_config().getCacheID()


def check_colorspace(name: str) -> str:
    """Canonical colourspace name (built-in, or OCIO name/alias); ``ValueError`` otherwise."""
    if name in COLORSPACES:
        return name
    cs = ocio_config().getColorSpace(name)
    if cs is None:
        from ..errors import did_you_mean

        known = list(COLORSPACES) + list(ocio_config().getColorSpaceNames())
        raise ValueError(f"unknown colourspace {name!r}" + did_you_mean(name, known))
    return cs.getName()


def uses_ocio(*names: str) -> bool:
    """Whether any of the colourspace ``names`` goes through OpenColorIO (is not one of the
    built-in :data:`COLORSPACES`), so that the OCIO config must enter cache keys."""
    return any(n not in COLORSPACES for n in names)


@functools.lru_cache(maxsize=64)
def _processor(ocio_env: str, src: str, dst: str):
    cfg = _config(ocio_env)
    return cfg.getProcessor(OCIO_EQUIVALENT.get(src, src), OCIO_EQUIVALENT.get(dst, dst)).getDefaultCPUProcessor()


def convert(rgb: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Convert float32 H×W×3 RGB from colourspace ``src`` to ``dst`` (new array)."""
    if src == dst:
        return rgb
    if src in COLORSPACES and dst in COLORSPACES:
        return from_linear(to_linear(rgb, src), dst)
    out = np.array(rgb[..., :3], dtype=np.float32, order="C", copy=True)
    _processor(os.environ.get("OCIO", ""), src, dst).applyRGB(out)
    return out
