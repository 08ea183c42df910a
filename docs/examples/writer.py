"""Writers: a text file per frame, and one CSV table for the frames rendered (example 3)."""

import csv

import numpy as np

from rotograph import FileOut, FrameWriter, Input, Matte, Param, RangeWriter, output_file_kind

CsvFile = output_file_kind("csv_out", (".csv",), "CSV tables")  # a path kind: the editor's save dialog


class WriteCoverageText(FrameWriter):
    """Write ``<frame> <coverage>`` to one text file per frame; coverage is the matte's mean
    (float32 H×W in [0, 1] → the share of the frame covered, in [0, 1])."""

    type_id = "studio.WriteCoverageText"
    matte = Input(Matte)
    file = Param(FileOut, "", doc="render/coverage.####.txt")

    def compute(self, ctx, matte):  # one frame: ctx.frame
        text = f"{ctx.frame} {float(np.mean(matte)):.6f}\n"
        return self.publish(ctx.frame, lambda tmp: open(tmp, "w").write(text))


class WriteCoverageTable(RangeWriter):
    """Write one CSV table, ``frame,coverage`` per rendered frame, for the whole render."""

    type_id = "studio.WriteCoverageTable"
    delivery_kind = "table"
    matte = Input(Matte)
    file = Param(CsvFile, "", doc="render/coverage.csv")

    def compute_range(self, ctx, segment, pull, resume=None):
        rows = [(f, float(np.mean(pull(f)["matte"]))) for f in ctx.frames]  # ctx.frames: this render's

        def write(tmp):
            with open(tmp, "w", newline="") as out:
                table = csv.writer(out)
                table.writerow(["frame", "coverage"])
                table.writerows((f, f"{c:.6f}") for f, c in rows)

        written = self.publish(ctx.frames[0], write)
        for f in ctx.frames:
            yield f, written


def register(registry):
    """Register both writers."""
    registry.add(WriteCoverageText)
    registry.add(WriteCoverageTable)
