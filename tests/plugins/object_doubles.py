"""Test double for per-object writers: two rectangles with known boxes over a textured plate.

Frames 1001-1006, 128×96. Object 1 "cat" is a 30×20 rectangle at (10 + 4i, 20); object 2 "dog"
a 25×30 rectangle at (110, 50 + 2i), cut by the right edge (18 px visible), absent on 1004
(still in the object table, without pixels)."""

import numpy as np

from rotograph import Image, MaskObject, MaskSet, Masks, Matte, Node, Output

W, H = 128, 96


def boxes(frame: int) -> dict[int, tuple[int, int, int, int]]:
    """Object id → (x, y, width, height) of its visible pixels on ``frame``."""
    i = frame - 1001
    out = {1: (10 + 4 * i, 20, 30, 20)}
    if frame != 1004:
        out[2] = (110, 50 + 2 * i, W - 110, 30)
    return out


class Squares(Node):
    """Plate (float32 H×W×3), Masks and their union matte, per frame 1001-1006."""

    type_id = "test.Squares"
    frame_dependent = True
    image = Output(Image)
    masks = Output(Masks)
    matte = Output(Matte)

    def frame_range(self, input_ranges):
        return (1001, 1006)

    def compute(self, ctx):
        ys, xs = np.mgrid[0:H, 0:W]
        image = np.dstack([xs / W, ys / H, 0.25 + 0.5 * ((xs // 4 + ys // 4) % 2)]).astype(np.float32)
        labels = np.zeros((H, W), np.uint16)
        for oid, (x, y, w, h) in boxes(ctx.frame).items():
            labels[y:y + h, x:x + w] = oid
        masks = MaskSet(labels, [MaskObject(1, "cat", 0.9), MaskObject(2, "dog", 0.75)])
        return {"image": image, "masks": masks, "matte": (labels > 0).astype(np.float32)}


def register(registry):
    registry.add(Squares)
