"""ColorSpace: convert an image between colourspaces with OpenColorIO."""

from __future__ import annotations

from rotograph import Image, Input, Node, Output
from rotograph.core.node import CachePolicy

from ..common._colour import colorspace_param, colour_key, convert_rgba


class ColorSpace(Node):
    """Convert RGB from colourspace ``src`` to ``dst`` (alpha untouched).

    Names: ``sRGB``, ``Rec.709``, ``linear`` (built in, Rec.709 primaries) or any colourspace
    or alias of the OpenColorIO config — ``$OCIO``, else OCIO's built-in ACES studio config:
    ``ACEScg``, ``ACES2065-1``, ``ACEScct``, ``ARRI LogC4``, ``S-Log3 S-Gamut3``, ``Linear P3-D65``, …
    image: Image float32 H×W×3/4. Output ``image``: the same shape. Equal names pass through.
    """

    type_id = "rotograph.ColorSpace"
    category = "Color"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    src = colorspace_param("linear", "Colourspace of the input")
    dst = colorspace_param("ACEScg", "Colourspace of the output")
    out = Output(Image)

    def passthrough(self):
        return "image" if self.src == self.dst else None

    def key_material(self, frame: int):
        return colour_key(self.src, self.dst)

    def compute(self, ctx, image):
        return convert_rgba(image, self.src, self.dst)
