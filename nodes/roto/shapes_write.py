"""WriteShapes: roto shapes out as a Nuke script, an After Effects script, a Fusion/Resolve
setting, Silhouette shapes, plain JSON (one file for the frame range) or SVG (one file per
frame). Formats and their coordinate conventions: :mod:`rotograph.interop.shape_formats`."""

from __future__ import annotations

import os

from rotograph import Delivery, FrameRate, Input, Param, RangeWriter
from rotograph.errors import ParamError
from rotograph.io.media import frame_pattern
from rotograph.interop.shape_formats import WRITERS, write_svg
from rotograph.io.timing import chosen_rate
from rotograph.core.types import Shapes

from ..writers.write import output_file_kind
from ..writers.write_image import write_text

EXTENSIONS = tuple(WRITERS) + (".svg",)
ShapesFile = output_file_kind("shapes_out", EXTENSIONS, "shape files")
KINDS = {".nk": "script", ".jsx": "script", ".setting": "script"}


class WriteShapes(RangeWriter):
    """Write animated roto shapes for another package, chosen by the file's extension:

    - ``.nk``: a Nuke script — Root (frame range, format, fps) and a Roto node with one Bézier
      shape per curve, keyed on every frame (Nuke's origin: bottom-left);
    - ``.jsx``: an After Effects script that creates a comp and a solid whose masks hold the
      shapes, keyed on every frame (top-left origin; holes as Subtract masks);
    - ``.setting``: Fusion / DaVinci Resolve PolygonMasks with keyed polylines;
    - ``.fxs``: Silhouette shapes; ``.json``: every frame's shapes as plain JSON;
    - ``.svg`` with a frame pattern (``review/shapes.####.svg``): one SVG per frame, a path per
      object in its own colour — for review, and for Flame's Action Import (SVG → 3D Shape +
      GMask; one frame per file).

    shapes: Shapes (e.g. from MatteToShapes). ``fps``: the rate written into the scripts
    (auto: the plate's, 24 when unknown). Output ``written``: the file(s).
    """

    type_id = "rotograph.WriteShapes"
    shapes = Input(Shapes)
    file = Param(ShapesFile, "", doc="render/shot_roto.nk (.jsx, .setting, .fxs, .json, or shapes.####.svg)",
                 ui={"widget": "file_save"})
    fps = Param(FrameRate, "auto", doc="auto (the plate's rate) or e.g. 24000/1001, 25")

    def extension(self) -> str:
        """The file format chosen by the path's extension (``.nk``, ``.jsx``, ``.svg``, …), lower case."""
        return os.path.splitext(self.file)[1].lower()

    def check(self) -> None:
        super().check()
        if self.extension() == ".svg" and frame_pattern(self.file) is None:
            raise ParamError(f"node '{self.name}': param 'file': SVG is written one file per frame: "
                             f"give a frame pattern (shapes.####.svg)")

    def deliveries(self, connected):
        ext = self.extension()
        return [Delivery(self.pattern(), KINDS.get(ext, "file"), ext[1:], per_frame=ext == ".svg")]

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        anim = {f: pull(f)["shapes"] for f in frames}
        ext = self.extension()
        if ext == ".svg":
            for f in frames:
                yield f, self.publish(f, lambda tmp, f=f: write_text(tmp, write_svg(anim[f], f)))
            return
        fps = float(chosen_rate(self.fps, ctx.timing))
        text = WRITERS[ext](anim, min(frames), max(frames), fps)
        written = self.publish(frames[0], lambda tmp: write_text(tmp, text))
        for f in frames:
            yield f, written
