"""Per-object outputs for ML and tracking pipelines: MasksToBoxes (every object's box per frame,
as CSV or JSON) and WriteCrops (a square crop per object per frame, one folder per object, with
a CSV of the boxes and crops).

Boxes are in plate pixels: ``x``, ``y`` the top-left pixel, ``width``, ``height`` in pixels (the
tight box of the object's pixels in the ``Masks`` label map); an object without pixels on a
frame has no row.
"""

from __future__ import annotations

import csv
import io
import json
import os

import cv2
import numpy as np

from rotograph import Delivery, FileOut, Image, Input, Masks, Param, RangeWriter
from rotograph.io.colour import convert
from rotograph.errors import RotographError
from rotograph.core.types import MaskObject, MaskSet
from rotograph.core.writer import bundle, object_name, publish_file

from ..common._colour import ColourKeyed, colorspace_param, working_space_param
from .write import output_file_kind
from .write_image import colour_tag, quantise, write_oiio, write_text

TableFile = output_file_kind("table_out", (".csv", ".json"), "box tables")
BOX_COLUMNS = ("frame", "object_id", "name", "score", "x", "y", "width", "height")


def object_boxes(masks: MaskSet) -> list[tuple[MaskObject, tuple[int, int, int, int]]]:
    """``(object, (x, y, width, height))`` for every object of ``masks`` that has pixels, in
    the object table's order."""
    out = []
    for obj in masks.objects:
        mask = masks.labels == obj.id
        rows = np.flatnonzero(mask.any(axis=1))
        if not len(rows):
            continue
        cols = np.flatnonzero(mask.any(axis=0))
        out.append((obj, (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))))
    return out


def table_text(rows: list[dict], columns: tuple[str, ...], fmt: str) -> str:
    """Rows as CSV (a header line, then one line per row) or JSON (a list of objects)."""
    if fmt == "json":
        return json.dumps(rows, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _box_row(frame: int, obj: MaskObject, box) -> dict:
    return dict(zip(BOX_COLUMNS, (frame, obj.id, obj.name, round(obj.score, 6), *box)))


class MasksToBoxes(RangeWriter):
    """Write every object's box on every frame of a ``Masks`` as one table: CSV (columns
    frame, object_id, name, score, x, y, width, height) or JSON (a list of such records),
    chosen by the file's extension. masks: Masks. Output ``written``: the table."""

    type_id = "rotograph.MasksToBoxes"
    delivery_kind = "table"
    masks = Input(Masks)
    file = Param(TableFile, "", doc="render/shot_boxes.csv (or .json)", ui={"widget": "file_save"})

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        rows = [_box_row(f, obj, box) for f in frames for obj, box in object_boxes(pull(f)["masks"])]
        text = table_text(rows, BOX_COLUMNS, self.file.rsplit(".", 1)[-1].lower())
        written = self.publish(frames[0], lambda tmp: write_text(tmp, text))
        for f in frames:
            yield f, written


CROP_COLUMNS = BOX_COLUMNS + ("crop_x", "crop_y", "crop_size", "scale", "file")


def crop_region(box: tuple[int, int, int, int], padding: float) -> tuple[int, int, int]:
    """The square crop ``(x0, y0, side)`` around a box: centred on it, of side the box's
    longer side × (1 + 2 × padding), rounded to whole pixels."""
    x, y, w, h = box
    side = max(1, int(np.ceil(max(w, h) * (1.0 + 2.0 * padding))))
    return int(np.floor(x + w / 2 - side / 2 + 0.5)), int(np.floor(y + h / 2 - side / 2 + 0.5)), side


def cut(plane: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """The ``side``×``side`` region at (x0, y0) of ``plane``; outside the plane is 0."""
    out = np.zeros((side, side) + plane.shape[2:], plane.dtype)
    h, w = plane.shape[:2]
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = plane[sy0:sy1, sx0:sx1]
    return out


class WriteCrops(ColourKeyed, RangeWriter):
    """Write a square crop of the plate around every object on every frame, one folder per
    object (``crops/crop.####.png`` → ``crops/<object name>/crop.####.png``), and a table of
    the boxes and crops (``crops/boxes.csv``: the :class:`MasksToBoxes` columns plus crop_x,
    crop_y, crop_size (plate pixels), scale (output / crop pixels) and file, relative to the
    table).

    The crop is centred on the object's box, its side the box's longer side × (1 + 2 ×
    ``padding``); outside the plate is black. ``background``: ``black`` (pixels outside the
    object's mask are black) or ``plate``. ``size``: the crops are resized to size × size
    pixels (area filter when shrinking; 0 keeps the crop's size). ``alpha`` adds the object's
    mask as alpha. image: Image H×W×3/4 in ``working_space``, written 8-bit in ``colorspace``;
    masks: Masks of the same size.
    """

    type_id = "rotograph.WriteCrops"
    pixel_params = {"size": 1}  # in pixels: scaled by render --proxy (power of the scale)
    image = Input(Image)
    masks = Input(Masks)
    file = Param(FileOut, "", doc="crops/crop.####.png: each object in its own folder", ui={"widget": "file_save"})
    padding = Param(float, 0.1, range=(0.0, 10.0), doc="Margin around the box, as a fraction of its longer side")
    background = Param(str, "black", choices=("black", "plate"), doc="Outside the object's mask: black or the plate")
    size = Param(int, 224, range=(0, 8192), doc="Resize crops to size × size pixels (0: no resize)")
    alpha = Param(bool, False, doc="Write the object's mask as alpha")
    colorspace = colorspace_param("sRGB", "Encoding of the crops")
    working_space = working_space_param()

    def table_path(self) -> str:
        """The CSV of boxes and crop files: ``boxes.csv`` in the crops' folder."""
        return os.path.join(os.path.dirname(self.pattern()), "boxes.csv")

    def crop(self, image: np.ndarray, mask: np.ndarray, box) -> tuple[np.ndarray, tuple[int, int, int]]:
        """One object's crop (uint8 RGB(A), size × size) and its region (x0, y0, side)."""
        x0, y0, side = crop_region(box, self.padding)
        rgb = cut(convert(image[..., :3], self.working_space, self.colorspace), x0, y0, side)
        m = cut(mask.astype(np.float32), x0, y0, side)
        if self.background == "black":
            rgb = rgb * m[..., None]
        pixels = np.dstack([rgb, m]) if self.alpha else rgb
        if self.size and self.size != side:
            pixels = cv2.resize(pixels, (self.size, self.size),
                                interpolation=cv2.INTER_AREA if self.size < side else cv2.INTER_LINEAR)
        return quantise(pixels, 8), (x0, y0, side)

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        table = self.table_path()
        rows, per_frame = [], {}
        for f in frames:
            values = pull(f)
            image, masks = values["image"], values["masks"]
            if masks.labels.shape != image.shape[:2]:
                raise RotographError(f"masks are {masks.labels.shape[1]}×{masks.labels.shape[0]} but the image is "
                                     f"{image.shape[1]}×{image.shape[0]}")
            written = []
            for obj, box in object_boxes(masks):
                pixels, (x0, y0, side) = self.crop(image, masks.labels == obj.id, box)
                attrs = colour_tag(self.colorspace)
                written.append(self.publish(f, lambda tmp, p=pixels: write_oiio(tmp, p, 8, attrs),
                                            obj=object_name(masks, obj)))
                rows.append({**_box_row(f, obj, box), "crop_x": x0, "crop_y": y0, "crop_size": side,
                             "scale": round((self.size or side) / side, 6),
                             "file": os.path.relpath(written[-1].path, os.path.dirname(table))})
            per_frame[f] = written
        text = table_text(rows, CROP_COLUMNS, "csv")
        table_written = publish_file(table, lambda tmp: write_text(tmp, text))
        for f in frames:
            yield f, bundle([table_written, *per_frame[f]])

    def deliveries(self, connected):
        folder, base = os.path.split(self.pattern())
        return [Delivery(os.path.join(folder, "{object}", base), "image", base.rsplit(".", 1)[-1].lower(),
                         colorspace=self.colorspace, per_object=True),
                Delivery(self.table_path(), "table", "csv", per_frame=False)]
