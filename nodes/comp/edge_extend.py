"""EdgeExtend: push foreground colours out under a soft edge (the keyers' "pixel spread")."""

from __future__ import annotations

import numpy as np

from rotograph import Image, Input, Matte, Node, Output, Param
from rotograph.core.node import CachePolicy

from ..common._imaging import grow, pull_push, split_alpha


class EdgeExtend(Node):
    """Replace the colours under a matte's soft edge with foreground colours pushed outward
    from its opaque core, so that premultiplying over a new background leaves no halo of the
    old one.

    Under a semi-transparent edge the plate's colour is a mix α·F + (1 − α)·B of foreground and
    old background; a compositor wants F there. The pixels with α ≥ ``threshold`` hold pure
    foreground (trusted fully at α = 1, fading to not at all at ``threshold``, after shrinking
    that core by ``erode`` px); every other pixel takes the colour of the nearest trusted
    pixels, however far. This is the edge extend of Nuke's EdgeExtend node and of Frank
    Rueter's EdgeExtend gizmo (unpremultiplied blurs of growing size, stacked — also
    ``eu.cimg.EdgeExtend`` in Natron), computed as a pull-push pyramid (Gortler et al., "The
    Lumigraph", SIGGRAPH 1996; :func:`rotograph.nodes.common._imaging.pull_push`), which costs
    O(pixels) whatever the distance filled.

    image: Image H×W×3/4 scene-linear, straight; matte (optional): float32 H×W in [0, 1], else
    the image's alpha. Output ``image`` of the input's shape: straight RGB, alpha passed through.
    """

    type_id = "rotograph.EdgeExtend"
    pixel_params = {"erode": 1}  # in pixels: scaled by render --proxy (power of the scale)
    category = "Keying"
    cache_policy = CachePolicy.MEMORY_ONLY

    image = Input(Image)
    matte = Input(Matte, optional=True, doc="Alpha to use instead of the image's own")
    threshold = Param(float, 0.9, range=(0.0, 0.999), doc="Alpha below which a colour is replaced entirely")
    erode = Param(float, 0.0, range=(0.0, 100.0), doc="Shrink the trusted core by this many px first")
    out = Output(Image)

    def compute(self, ctx, image, matte):
        rgb, alpha = split_alpha(image, matte, self.name)
        trust = np.clip((alpha - self.threshold) / (1.0 - self.threshold), 0.0, 1.0).astype(np.float32)
        if self.erode > 0:
            trust = grow(trust, -self.erode)
        out = pull_push(np.ascontiguousarray(rgb), trust)
        if image.shape[2] == 4:
            out = np.dstack([out, image[..., 3]])
        return np.ascontiguousarray(out, dtype=np.float32)
