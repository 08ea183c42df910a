"""ColorSpace: convert an image between colourspaces with OpenColorIO."""

from __future__ import annotations

from rotograph import Image, Input, Node, Output
from rotograph.core.node import CachePolicy, Upgrade

from ..common._colour import colorspace_param, colour_key, convert_rgba


class ColorSpace(Node):
    """Convert RGB from colourspace ``input_space`` to ``colorspace`` (alpha untouched).

    Names: ``sRGB``, ``Rec.709``, ``linear`` (built in, Rec.709 primaries) or any colourspace
    or alias of the OpenColorIO config — ``$OCIO``, else OCIO's built-in ACES studio config:
    ``ACEScg``, ``ACES2065-1``, ``ACEScct``, ``ARRI LogC4``, ``S-Log3 S-Gamut3``, ``Linear P3-D65``, …
    image: Image float32 H×W×3/4. Output ``image``: the same shape. Equal names pass through.
    """

    type_id = "rotograph.ColorSpace"
    version = 2  # 2: params src, dst renamed input_space, colorspace (docs/naming.md)
    category = "Color"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    input_space = colorspace_param("linear", "Colourspace of the input")
    colorspace = colorspace_param("ACEScg", "Colourspace of the output")
    out = Output(Image)

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Version 1 named the params ``src`` and ``dst``."""
        up = Upgrade(params)
        return up.rename(name, params={"src": "input_space", "dst": "colorspace"}) if from_version < 2 else up

    def passthrough(self):
        return "image" if self.input_space == self.colorspace else None

    def key_material(self, frame: int):
        return colour_key(self.input_space, self.colorspace)

    def compute(self, ctx, image):
        return convert_rgba(image, self.input_space, self.colorspace)
