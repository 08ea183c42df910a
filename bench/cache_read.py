"""Cache-hit read speed: a cached 1080p float RGB frame vs a raw zarr read of the same array.

Target (DESIGN.md): ≥ 0.8× raw zarr speed. The cache read includes opening the entry, checking
its manifest (key, type, shapes) and each array's digest, and decoding the value.
"""

from __future__ import annotations

import sys
import tempfile

import numpy as np
import zarr

import rotograph
from rotograph.engine.cache import DiskCache

from common import best_of

N = 10


def main() -> float:
    root = tempfile.mkdtemp(prefix="rotograph-bench-cache-")
    rng = np.random.default_rng(0)
    frame = (rng.random((1080, 1920, 3), dtype=np.float32) * 0.2 + 0.4).astype(np.float32)
    frame = np.round(frame * 1024) / 1024  # plate-like precision, so zstd has something to do
    disk = DiskCache(root)
    keys = [f"{i:064x}" for i in range(N)]
    for k in keys:
        disk.put(k, rotograph.Image, frame)
    paths = [disk._entry(k) + "/data" for k in keys]

    def raw():
        for p in paths:
            zarr.open_array(store=p, mode="r")[...]

    def cached():
        d = DiskCache(root)
        for k in keys:
            d.get(k, rotograph.Image)

    raw()
    t_raw, t_cache = best_of(raw, 5), best_of(cached, 5)
    ratio = t_raw / t_cache
    print(f"cache hit: raw zarr {t_raw / N * 1000:.1f} ms/frame, rotograph cache {t_cache / N * 1000:.1f} "
          f"ms/frame (1920x1080x3 float32) -> {ratio:.3f}x raw speed (target >= 0.8x)")
    return ratio


if __name__ == "__main__":
    sys.exit(0 if main() >= 0.8 else 1)
