"""MatteRefine: trimap from a matte, then classic alpha matting of the unknown band."""

from __future__ import annotations

import cv2
import numpy as np

from rotograph import Image, Input, Matte, Node, Output, Param
from rotograph.core.node import Upgrade
from rotograph.errors import RotographError

from ..common._imaging import erode_mask, resize, to_display_float, work_scale


def make_trimap(matte: np.ndarray, band: float, threshold: float = 0.5) -> np.ndarray:
    """Trimap (float32 H×W: 0 background, 0.5 unknown, 1 foreground) from a matte: the matte
    is cut at ``threshold``; what stays inside after eroding by ``band`` pixels is foreground,
    what stays outside after the same erosion of the outside is background, and the band of
    2 × ``band`` pixels around the cut is unknown."""
    r = int(round(band))
    inside = matte > threshold
    fg = erode_mask(inside, r)
    bg = erode_mask(~inside, r)
    tri = np.full(matte.shape, 0.5, np.float32)
    tri[fg] = 1.0
    tri[bg] = 0.0
    return tri


class MatteRefine(Node):
    """Refine a rough matte into soft alpha (hair, fur, motion blur) on the CPU.

    A trimap is built from the matte (cut at ``threshold``, an unknown band of ``band`` px on
    each side of the cut; a keyer's matte under-estimates fine hair, so cut it low) and the band
    is solved by classic alpha matting through ``pymatting``:
    ``closed_form`` (Levin, Lischinski & Weiss, "A Closed-Form Solution to Natural Image
    Matting", PAMI 2008) or ``knn`` (Chen, Li & Tang, "KNN Matting", PAMI 2013). Matting runs at
    most ``work_size`` px on the long side; alpha is upsampled back and known regions restored.

    image: Image H×W×3/4 scene-linear (matted in sRGB-encoded [0, 1], as the papers assume);
    matte: float32 H×W in [0, 1]. Outputs ``matte`` (float32 H×W in [0, 1]) and ``trimap``
    (0 / 0.5 / 1).
    """

    type_id = "rotograph.MatteRefine"
    pixel_params = {"band": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Matte"
    version = 2  # 2: param max_size renamed work_size, output refined renamed matte (docs/naming.md)

    image = Input(Image)
    matte = Input(Matte)
    method = Param(str, "closed_form", choices=("closed_form", "knn"))
    threshold = Param(float, 0.5, range=(0.0, 1.0), doc="Where the matte is cut into inside/outside")
    band = Param(float, 10.0, range=(1.0, 200.0), doc="Half-width of the unknown band (plate px)")
    work_size = Param(int, 1024, range=(64, 8192), doc="Long side of the matting resolution (px)")
    matte_result = Output(Matte, name="matte")
    trimap = Output(Matte)

    @classmethod
    def upgrade_node(cls, from_version: int, name: str, params: dict) -> Upgrade:
        """Version 1 named ``work_size`` ``max_size`` and the ``matte`` output ``refined``."""
        up = Upgrade(params)
        return up.rename(name, params={"max_size": "work_size"}, outputs={"refined": "matte"}) if from_version < 2 else up

    def compute(self, ctx, image, matte):
        if image.shape[:2] != matte.shape:
            raise RotographError(f"matte is {matte.shape[1]}×{matte.shape[0]} but the image is "
                                 f"{image.shape[1]}×{image.shape[0]}")
        from pymatting import estimate_alpha_cf, estimate_alpha_knn

        tri = make_trimap(matte, self.band, self.threshold)
        unknown = tri == 0.5
        if not unknown.any():
            return {"matte": tri.copy(), "trimap": tri}
        s = work_scale(image.shape, self.work_size)
        img = resize(to_display_float(image), s)
        tri_small = resize(tri, size=(img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST).astype(np.float64)
        solve = estimate_alpha_cf if self.method == "closed_form" else estimate_alpha_knn
        alpha = solve(img, tri_small).astype(np.float32)
        alpha = resize(alpha, size=(matte.shape[1], matte.shape[0]), interpolation=cv2.INTER_LINEAR)
        alpha = np.where(unknown, np.clip(alpha, 0.0, 1.0), tri)
        return {"matte": alpha.astype(np.float32), "trimap": tri}
