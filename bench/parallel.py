"""Parallel throughput on a per-frame graph at 1080p: 1 worker, 2 local workers, a 2-worker
Dask LocalCluster; printed as ratios to one worker (target ≥ 1.7× with 2 workers on 2 cores).
Also the scheduling overhead per task of the Dask cluster.

Each run renders the same 48 frames into a fresh cache (so every frame computes):
Read (EXR) → Keyer → Despill → Grow → Feather → Premult → WriteEXR.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import rotograph

from common import make_exr_sequence
from engine_overhead import build

FRAMES = int(os.environ.get("BENCH_FRAMES", 48))


def run(pattern: str, out: str, **kw) -> tuple[float, float]:
    """(fps over the whole render, steady-state fps from the first finished task to the last)."""
    g = build(pattern)
    g.add("rotograph.WriteEXR", "write", file=os.path.join(out, "o.####.exr"))
    g.connect("premult.out", "write.image")
    g.connect("feather.out", "write.matte")
    cache = rotograph.open_cache(os.path.join(out, "cache"))
    marks = []
    t0 = time.perf_counter()
    report = rotograph.render(g, f"1001-{1000 + FRAMES}", cache=cache,
                              progress=lambda r: marks.append((time.perf_counter(), len(r.done))), **kw)
    assert report.ok, report.error
    total = FRAMES / (time.perf_counter() - t0)
    (ta, da), (tb, db) = marks[0], marks[-1]
    return total, (db - da) / (tb - ta)


def dask_overhead(n: int = 400) -> float:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40) as c, Client(c) as cl:
        cl.gather(cl.map(abs, range(-50, 0), pure=False))  # warm up
        t0 = time.perf_counter()
        cl.gather(cl.map(abs, range(-n, 0), pure=False))
        return (time.perf_counter() - t0) / n


def main() -> float:
    tmp = tempfile.mkdtemp(prefix="rotograph-bench-par-")
    pattern = make_exr_sequence(os.path.join(tmp, "plate"), FRAMES)
    one, one_s = run(pattern, os.path.join(tmp, "w1"))
    two, two_s = run(pattern, os.path.join(tmp, "w2"), workers=2, chunk=3)
    dask, dask_s = run(pattern, os.path.join(tmp, "d2"), scheduler="local:2", chunk=3)
    per_task = dask_overhead()
    print(f"parallel at 1920x1080, {FRAMES} frames (target >= 1.7x with 2 workers):")
    print(f"  1 worker        {one:.2f} fps")
    print(f"  2 workers       {two:.2f} fps = {two / one:.2f}x with process start-up, "
          f"{two_s / one_s:.2f}x steady state")
    print(f"  Dask local:2    {dask:.2f} fps = {dask / one:.2f}x with cluster start-up, "
          f"{dask_s / one_s:.2f}x steady state")
    print(f"  Dask scheduling overhead {per_task * 1000:.2f} ms per task")
    return two_s / one_s


if __name__ == "__main__":
    sys.exit(0 if main() >= 1.7 else 1)
