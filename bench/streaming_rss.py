"""Streaming: peak RSS of a 1000-frame render vs a 100-frame render of the same graph.

Target (DESIGN.md): ≤ 1.10×. Each render runs in its own process (Read → Keyer → Grow → Feather
→ Premult → WriteEXR on a 640×360 movie, disk cache on) and reports its peak RSS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np

CHILD = r"""
import resource, sys, rotograph
g = rotograph.loads(open(sys.argv[1]).read())
r = rotograph.render(g, f"1001-{1000 + int(sys.argv[2])}", cache=rotograph.open_cache(sys.argv[3]))
assert r.ok, r.error
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def make_movie(path: str, frames: int) -> None:
    import av

    with av.open(path, "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 640, 360, "yuv420p"
        rng = np.random.default_rng(0)
        base = np.zeros((360, 640, 3), np.uint8)
        base[...] = [20, 160, 40]
        for i in range(frames):
            img = base.copy()
            x = 50 + (i * 3) % 400
            img[100:260, x:x + 160] = [180, 120, 100]
            img = np.clip(img + rng.integers(-6, 6, img.shape), 0, 255).astype(np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def main() -> float:
    import rotograph

    tmp = tempfile.mkdtemp(prefix="rotograph-bench-rss-")
    movie = os.path.join(tmp, "shot.mp4")
    make_movie(movie, 1000)
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=movie)
    g.add("rotograph.Keyer", "keyer")
    g.add("rotograph.Grow", "grow", size=2.0)
    g.add("rotograph.Feather", "feather", size=3.0)
    g.add("rotograph.Premult", "premult")
    g.add("rotograph.WriteEXR", "write", file=os.path.join(tmp, "out", "o.####.exr"))
    for a, b in [("read.image", "keyer.image"), ("keyer.matte", "grow.matte"), ("grow.out", "feather.matte"),
                 ("read.image", "premult.image"), ("feather.out", "premult.matte"), ("premult.out", "write.image")]:
        g.connect(a, b)
    graph = os.path.join(tmp, "g.json")
    rotograph.save(g, graph)
    rss = {}
    for n in (100, 1000):
        out = subprocess.run([sys.executable, "-c", CHILD, graph, str(n), os.path.join(tmp, f"cache{n}")],
                             capture_output=True, text=True, check=True)
        rss[n] = int(out.stdout.strip().splitlines()[-1])
    ratio = rss[1000] / rss[100]
    print(f"streaming: peak RSS {rss[100] / 2**20:.0f} MiB for 100 frames, {rss[1000] / 2**20:.0f} MiB for "
          f"1000 frames -> {ratio:.3f}x (target <= 1.10x)")
    return ratio


if __name__ == "__main__":
    sys.exit(0 if main() <= 1.10 else 1)
