"""A pixel node: a matte's contrast around 0.5, per frame (docs/writing-nodes.md, example 1)."""

import numpy as np

from rotograph import Input, Matte, Node, Output, Param


class MatteContrast(Node):
    """Push a matte's soft values towards 0 or 1 around ``pivot``.

    matte: float32 H×W in [0, 1]. ``contrast`` ≥ 1 sharpens, < 1 softens; 1 leaves the matte
    as it is (the node is then a pass-through and shares its input's cache entry). Output
    ``out``: float32 H×W in [0, 1], (matte − pivot) · contrast + pivot, clipped.
    """

    type_id = "studio.MatteContrast"  # namespaced and never renamed: saved graphs name it
    version = 1                        # bump when the pixels change: it enters every cache key
    category = "Matte"

    matte = Input(Matte)
    contrast = Param(float, 2.0, range=(0.0, 16.0), doc="Slope around the pivot (1 = unchanged)")
    pivot = Param(float, 0.5, range=(0.0, 1.0), doc="Alpha value left in place")
    out = Output(Matte)

    def passthrough(self):
        return "matte" if self.contrast == 1.0 else None

    def compute(self, ctx, matte):
        # matte is read-only (it may be cached and shared): build a new array
        return np.clip((matte - self.pivot) * self.contrast + self.pivot, 0.0, 1.0).astype(np.float32)


def register(registry):
    """Entry point of the plugin: ``$ROTOGRAPH_PLUGIN_PATH`` modules and entry points call it."""
    registry.add(MatteContrast)
