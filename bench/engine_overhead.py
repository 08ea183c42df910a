"""Engine overhead: a graph of cheap per-frame nodes vs the same calls in a plain loop, 1080p.

Target (DESIGN.md): ≤ 1.10×. Both sides read the same EXR frames and run the same node code;
the graph side adds key hashing, cache look-ups and memory-tier inserts.
"""

from __future__ import annotations

import sys
import tempfile

import rotograph
from rotograph import Context

from common import best_of, make_exr_sequence

FRAMES = 12


def build(pattern: str) -> rotograph.Graph:
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=pattern)
    g.add("rotograph.Keyer", "keyer", adaptive=False, prefilter=0.0)
    g.add("rotograph.Despill", "despill")
    g.add("rotograph.Grow", "grow", size=2.0)
    g.add("rotograph.Feather", "feather", size=4.0)
    g.add("rotograph.Premult", "premult")
    for a, b in [("read.image", "keyer.image"), ("read.image", "despill.image"), ("keyer.matte", "grow.matte"),
                 ("grow.out", "feather.matte"), ("despill.out", "premult.image"), ("feather.out", "premult.matte")]:
        g.connect(a, b)
    return g


def main() -> float:
    folder = tempfile.mkdtemp(prefix="rotograph-bench-")
    pattern = make_exr_sequence(folder, FRAMES)
    g = build(pattern)
    n = g.nodes
    frames = range(1001, 1001 + FRAMES)

    def plain():
        for f in frames:
            c = Context(f, "x")
            img = n["read"].compute(c)
            m = n["keyer"].compute(c, img)
            d = n["despill"].compute(c, img)
            m = n["feather"].compute(c, n["grow"].compute(c, m))
            n["premult"].compute(c, d, m)

    def engine():
        ev = rotograph.Evaluator(g, rotograph.Cache())  # a fresh memory cache: every frame computes
        for f in frames:
            ev.get("premult", None, f)

    plain()  # warm-up: imports, OpenCV kernels
    t_plain, t_engine = best_of(plain), best_of(engine)
    ratio = t_engine / t_plain
    print(f"engine overhead: plain loop {t_plain / FRAMES * 1000:.1f} ms/frame, graph "
          f"{t_engine / FRAMES * 1000:.1f} ms/frame at 1920x1080 -> {ratio:.3f}x (target <= 1.10x)")
    return ratio


if __name__ == "__main__":
    sys.exit(0 if main() <= 1.10 else 1)
