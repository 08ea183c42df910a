"""Colourspace params and conversions shared by Read, ColorSpace and the writers."""

from __future__ import annotations

import numpy as np

from rotograph import Param
from rotograph.io.colour import check_colorspace, config_id, convert, uses_ocio


def _check_or_auto(name: str) -> str:
    return name if name == "auto" else check_colorspace(name)


def colorspace_param(default: str, doc: str, allow_auto: bool = False) -> Param:
    """A colourspace name: sRGB, Rec.709, linear or any OpenColorIO colourspace/alias."""
    return Param(str, default, check=_check_or_auto if allow_auto else check_colorspace, doc=doc,
                 ui={"widget": "colorspace"})


def working_space_param() -> Param:
    return Param(str, "linear", check=check_colorspace,
                 doc="Scene-linear working space of the graph (linear = Rec.709 primaries; or ACEScg, …)",
                 ui={"widget": "colorspace"})


def colour_key(*names: str):
    """Key material: the OCIO config's identity when an OCIO colourspace is involved."""
    return {"ocio": config_id()} if uses_ocio(*names) else None


def convert_rgba(image: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Convert the RGB of an RGB(A) float32 image; alpha passes through."""
    if src == dst:
        return image
    rgb = convert(image[..., :3], src, dst)
    return np.dstack([rgb, image[..., 3:]]).astype(np.float32) if image.shape[2] == 4 else rgb


class ColourKeyed:
    """Mixin for nodes with ``colorspace``/``working_space`` params: when either goes through
    OpenColorIO, the OCIO config's identity enters the cache key."""

    def key_material(self, frame: int):
        return colour_key(*[getattr(self, p) for p in ("colorspace", "working_space") if p in self.params])
