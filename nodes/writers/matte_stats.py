"""MatteStats: per-frame numbers of a matte written as a CSV or JSON sidecar, for QC of long shots."""

from __future__ import annotations

import csv
import json

import numpy as np

from rotograph import Input, Matte, Param, RangeWriter

from .write import output_file_kind

COLUMNS = ("frame", "area", "bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1", "centroid_x", "centroid_y", "flicker",
           "edge_width")
SidecarFile = output_file_kind("sidecar_out", (".csv", ".json"), "QC sidecars")


def matte_stats(matte: np.ndarray, previous: np.ndarray | None = None, threshold: float = 0.01) -> dict:
    """QC numbers of one matte (float32 H×W in [0, 1]); pixel coordinates are (column, row) of
    pixel centres, (0, 0) top left.

    ``area``: Σα in px² (coverage, so a soft edge counts in part). ``bbox``: [x0, y0, x1, y1],
    inclusive, of the pixels with α > ``threshold``, or None for an empty matte. ``centroid``:
    α-weighted [x, y], or None. ``flicker``: mean |α − α_previous| over the pixels where either
    frame has α > 0 (None without a previous frame; 0 when both are empty) — boiling, and motion.
    ``edge_width``: mean width in px of the soft edge — the count of pixels with 0.05 < α < 0.95
    divided by the edge length Σ|∇α| (by the coarea formula, the mean length of the matte's
    level lines; Federer 1959), 0 for a hard or empty matte.
    """
    m = matte.astype(np.float64)
    area = float(m.sum())
    ys, xs = np.nonzero(matte > threshold)
    bbox = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())] if xs.size else None
    centroid = None
    if area > 0:
        centroid = [float((m.sum(axis=0) * np.arange(m.shape[1])).sum() / area),
                    float((m.sum(axis=1) * np.arange(m.shape[0])).sum() / area)]
    flicker = None
    if previous is not None:
        support = (matte > 0) | (previous > 0)
        flicker = float(np.abs(m - previous)[support].mean()) if support.any() else 0.0
    gy, gx = np.gradient(m)
    length = float(np.hypot(gx, gy).sum())
    soft = int(np.count_nonzero((matte > 0.05) & (matte < 0.95)))
    return {"area": area, "bbox": bbox, "centroid": centroid, "flicker": flicker,
            "edge_width": soft / length if length > 0 else 0.0}


def _row(frame: int, s: dict) -> list:
    bbox, centroid = s["bbox"] or [None] * 4, s["centroid"] or [None] * 2
    return [frame, s["area"], *bbox, *centroid, s["flicker"], s["edge_width"]]


class MatteStats(RangeWriter):
    """Write per-frame QC numbers of a matte — area, bounding box, centroid, flicker (mean |Δα|
    from the previous frame) and edge width, see :func:`matte_stats` — as one sidecar for the
    rendered frames: ``.csv`` (a header row, then one row per frame; empty cells for none) or
    ``.json`` (``{"frames": [{"frame": 1001, "area": …, "bbox": [x0, y0, x1, y1], "centroid":
    [x, y], "flicker": …, "edge_width": …}, …]}``). The file is published atomically once all
    frames are measured; the frame before the first rendered one is read for its flicker.

    matte: float32 H×W in [0, 1]. Output ``written``: the sidecar.
    """

    type_id = "rotograph.MatteStats"
    delivery_kind = "table"
    matte = Input(Matte)
    file = Param(SidecarFile, "", doc="render/shot_matte_stats.csv (or .json)", ui={"widget": "file_save"})
    threshold = Param(float, 0.01, range=(0.0, 0.999), doc="Alpha above which a pixel counts in the bounding box")

    def compute_range(self, ctx, segment, pull, resume=None):
        frames = ctx.frames or segment.frames
        stats, previous, last = {}, None, None
        for f in frames:
            if last != f - 1:
                previous = pull(f - 1)["matte"] if f - 1 in segment.frames else None
            matte = pull(f)["matte"]
            stats[f] = matte_stats(matte, previous, self.threshold)
            previous, last = matte, f

        def write(tmp):
            with open(tmp, "w", newline="") as out:
                if self.file.lower().endswith(".json"):
                    json.dump({"frames": [{"frame": f, **s} for f, s in stats.items()]}, out, indent=1)
                else:
                    rows = csv.writer(out)
                    rows.writerow(COLUMNS)
                    rows.writerows(["" if v is None else v for v in _row(f, s)] for f, s in stats.items())

        written = self.publish(frames[0], write)
        for f in frames:
            yield f, written
