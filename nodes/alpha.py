"""Alpha handling: Premult, Unpremult, ShuffleMatte and Merge."""

from __future__ import annotations

import numpy as np

from rotograph import Image, Input, Matte, Node, Output, Param
from rotograph.errors import RotographError
from rotograph.node import CachePolicy

from ._imaging import split_alpha


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
        rgb, a = split_alpha(image, matte, self.name)
        return np.dstack([rgb * a[..., None], a]).astype(np.float32)


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
        rgb, a = split_alpha(image, None, self.name)
        safe = np.where(a > 1e-6, a, 1.0)[..., None]
        return np.dstack([np.where(a[..., None] > 1e-6, rgb / safe, rgb), a]).astype(np.float32)


class ShuffleMatte(Node):
    """Move a matte into an image's alpha, or an image's alpha out as a matte.

    image: Image H×W×3/4; matte (optional): float32 H×W. Outputs: ``image`` — RGB with alpha =
    the matte when connected (else the image's alpha, or 1); ``matte`` — the image's alpha
    (or the connected matte).
    """

    type_id = "rotograph.ShuffleMatte"
    category = "Merge"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    matte = Input(Matte, optional=True)
    image_out = Output(Image)
    matte_out = Output(Matte)

    def compute(self, ctx, image, matte):
        if matte is None and image.shape[2] == 3:
            alpha = np.ones(image.shape[:2], np.float32)
        else:
            _, alpha = split_alpha(image, matte, self.name)
        rgba = np.dstack([image[..., :3], alpha]).astype(np.float32)
        return {"image_out": rgba, "matte_out": np.ascontiguousarray(alpha, dtype=np.float32)}


class Merge(Node):
    """Composite A over B (Porter & Duff, "Compositing Digital Images", SIGGRAPH 1984).

    a: Image H×W×4 premultiplied (or H×W×3 with ``matte`` as its straight alpha); b: Image
    H×W×3/4 premultiplied; matte (optional): alpha for A. ``over``: A + B·(1 − αA);
    ``under``: B over A; ``plus``: A + B. ``mix`` blends the result with B.
    Output ``image``: float32 H×W×4 premultiplied.
    """

    type_id = "rotograph.Merge"
    category = "Merge"
    cache_policy = CachePolicy.MEMORY_ONLY

    a = Input(Image, doc="Foreground (premultiplied)")
    b = Input(Image, doc="Background")
    matte = Input(Matte, optional=True, doc="Alpha of A when A has none (A is then treated as straight)")
    operation = Param(str, "over", choices=("over", "under", "plus"))
    mix = Param(float, 1.0, range=(0.0, 1.0))
    out = Output(Image)

    def compute(self, ctx, a, b, matte):
        if a.shape[:2] != b.shape[:2]:
            raise RotographError(f"A is {a.shape[1]}×{a.shape[0]} but B is {b.shape[1]}×{b.shape[0]}")
        if matte is not None:
            rgb, alpha = split_alpha(a, matte, self.name)
            A = np.dstack([rgb * matte[..., None], alpha])
        else:
            rgb, alpha = split_alpha(a, None, self.name)
            A = a
        B = b if b.shape[2] == 4 else np.dstack([b, np.ones(b.shape[:2], np.float32)])
        if self.operation == "over":
            out = A + B * (1.0 - A[..., 3:4])
        elif self.operation == "under":
            out = B + A * (1.0 - B[..., 3:4])
        else:
            out = A + B
        if self.mix < 1.0:
            out = B + (out - B) * np.float32(self.mix)
        return out.astype(np.float32)
