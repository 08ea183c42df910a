"""Alpha handling: Premult, Unpremult, ShuffleMatte and Merge."""

from __future__ import annotations

import numpy as np

from rotograph import Image, Input, Matte, Node, Output, Param
from rotograph.core.node import CachePolicy, Upgrade

from ..common._imaging import split_alpha


class Premult(Node):
    """Multiply RGB by alpha: straight → premultiplied RGBA.

    image: Image H×W×3/4 straight; matte (optional): float32 H×W in [0, 1], used as alpha
    when connected. Output ``image``: float32 H×W×4, premultiplied.
    """

    type_id = "rotograph.Premult"
    category = "Merge"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    matte = Input(Matte, optional=True, doc="Alpha to use instead of the image's own")
    out = Output(Image)

    def compute(self, ctx, image, matte):
        from ..common._kernels import premult

        rgb, a = split_alpha(image, matte, self.name)
        return premult(rgb, a)


class Unpremult(Node):
    """Divide RGB by alpha where alpha > 0: premultiplied → straight RGBA.

    image: Image H×W×4 premultiplied. Output ``image``: float32 H×W×4, straight.
    """

    type_id = "rotograph.Unpremult"
    category = "Merge"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    out = Output(Image)

    def compute(self, ctx, image):
        from ..common._kernels import unpremult

        split_alpha(image, None, self.name)  # raises without alpha
        return unpremult(image)


class ShuffleMatte(Node):
    """Move a matte into an image's alpha, or an image's alpha out as a matte.

    image: Image H×W×3/4; matte (optional): float32 H×W. Outputs: ``image`` — RGB with alpha =
    the matte when connected (else the image's alpha, or 1); ``matte`` — the image's alpha
    (or the connected matte).
    """

    type_id = "rotograph.ShuffleMatte"
    version = 2  # 2: outputs image_out, matte_out renamed image, matte (docs/naming.md)
    category = "Merge"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    matte = Input(Matte, optional=True)
    image_result = Output(Image, name="image")
    matte_result = Output(Matte, name="matte")

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Version 1 named the outputs ``image_out`` and ``matte_out``."""
        up = Upgrade(params)
        return up.rename(name, outputs={"image_out": "image", "matte_out": "matte"}) if from_version < 2 else up

    def compute(self, ctx, image, matte):
        if matte is None and image.shape[2] == 3:
            alpha = np.ones(image.shape[:2], np.float32)
        else:
            _, alpha = split_alpha(image, matte, self.name)
        return {"image": with_alpha(image, alpha), "matte": np.ascontiguousarray(alpha, dtype=np.float32)}


OPERATIONS = ("over", "under", "plus")


class Merge(Node):
    """Composite A over B (Porter & Duff, "Compositing Digital Images", SIGGRAPH 1984).

    a: Image H×W×4 premultiplied (or H×W×3 with ``matte`` as its straight alpha); b: Image
    H×W×3/4 premultiplied; matte (optional): alpha for A, of A's size. ``over``: A + B·(1 − αA);
    ``under``: B over A; ``plus``: A + B. ``mix`` blends the result with B.
    Output ``image``: float32 premultiplied H×W×4 **of B's size**. Inputs of different sizes
    follow Nuke's rule: the output has B's format and A keeps its pixel coordinates from the
    origin, which is the bottom-left corner (A's bottom-left pixel lies on B's); where A does
    not reach, and where A extends past B, there is only B (move A with Transform, resize it
    with Reformat). One fused pass (:func:`rotograph.nodes.common._kernels.merge`).
    """

    type_id = "rotograph.Merge"
    category = "Merge"
    cache_policy = CachePolicy.MEMORY_ONLY

    a = Input(Image, doc="Foreground (premultiplied)")
    b = Input(Image, doc="Background")
    matte = Input(Matte, optional=True, doc="Alpha of A when A has none (A is then treated as straight)")
    operation = Param(str, "over", choices=OPERATIONS)
    mix = Param(float, 1.0, range=(0.0, 1.0))
    out = Output(Image)

    def output_format(self, input_formats):
        """B's format (Nuke's rule), or A's when B has none."""
        return input_formats.get("b") or input_formats.get("a")

    def compute(self, ctx, a, b, matte):
        from ..common._kernels import merge

        _, alpha = split_alpha(a, matte, self.name)
        op, mix, straight = OPERATIONS.index(self.operation), np.float32(self.mix), matte is not None
        (ha, wa), (hb, wb) = a.shape[:2], b.shape[:2]
        if (ha, wa) == (hb, wb):
            return merge(a, alpha, straight, b, op, mix)
        out = with_alpha(b, None)
        h, w = min(ha, hb), min(wa, wb)  # the overlap, bottom-left aligned
        out[hb - h:, :w] = merge(a[ha - h:, :w], alpha[ha - h:, :w], straight, b[hb - h:, :w], op, mix)
        return out


def with_alpha(image: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """float32 H×W×4: ``image``'s RGB with ``alpha`` (float32 H×W), or with its own alpha
    (1 when it has none) when ``alpha`` is None. Always a new array."""
    out = np.empty(image.shape[:2] + (4,), np.float32)
    out[..., :3] = image[..., :3]
    out[..., 3] = alpha if alpha is not None else (image[..., 3] if image.shape[2] == 4 else 1.0)
    return out
