"""Pixel nodes at 4K: per-node ms/frame and the green-screen chain vs the I/O floor.

At 4096×2160 float32: every image node timed alone on cached inputs (median of ``REPEAT``
calls), then, in the same run, ``graphs/greenscreen.json``'s chain (Read → Keyer → FillHoles →
Grow → Feather → Despill physical → Premult → WriteEXR) rendered over ``FRAMES`` frames vs the
I/O floor (Read → WriteEXR of the same frames, same settings), each render in its own process
with its peak RSS, each set up as ``rotograph render`` sets a render process up (frame buffers
reused: :mod:`rotograph.engine.memory`; ``--system-malloc`` for malloc's defaults). Target: chain ≤ 2×
the floor (on the 2 cores it is run on).

``python bench/pixel4k.py [--nodes-only | --chain-only] [--repeat N] [--frames N] [--system-malloc]``
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import rotograph
from rotograph import Context

from common import make_plate_4k

W, H = 4096, 2160
FRAMES = 3
REPEAT = 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (type, params, inputs) — inputs name the arrays built below
NODES = [
    ("Keyer", {"clip_black": 0.05, "clip_white": 0.95}, ("rgb",)),
    ("Keyer", {"adaptive": False}, ("rgb",)),
    ("Despill", {"mode": "average"}, ("rgb",)),
    ("Despill", {"mode": "limit"}, ("rgb",)),
    ("Despill", {"mode": "physical"}, ("rgb", "matte")),
    ("Grow", {"size": 3.5}, ("matte",)),
    ("Grow", {"size": -2.0}, ("matte",)),
    ("Feather", {"size": 4.0}, ("matte",)),
    ("FillHoles", {"max_area": 50.0, "edge": 4}, ("matte",)),
    ("RemoveDots", {"max_area": 50.0, "edge": 4}, ("matte",)),
    ("BorderFix", {"size": 8}, ("matte",)),
    ("Premult", {}, ("rgb", "matte")),
    ("Unpremult", {}, ("rgba",)),
    ("ShuffleMatte", {}, ("rgb", "matte")),
    ("Merge", {}, ("rgba", "rgb")),
    ("EdgeExtend", {}, ("rgb", "matte")),
    ("ColorSpace", {"input_space": "linear", "colorspace": "sRGB"}, ("rgb",)),
    ("ColorSpace", {"input_space": "linear", "colorspace": "ACEScg"}, ("rgb",)),
    ("Reformat", {"format": "HD_1080"}, ("rgb",)),
    ("Transform", {"translate_x": 13.5, "rotate": 3.0, "scale": 1.1}, ("rgb",)),
    ("Crop", {"x": 100, "y": 100, "right": 3996, "top": 2060}, ("rgb",)),
]


def node_times(repeat: int) -> dict[str, tuple[float, float]]:
    """(wall ms, CPU ms) per call — medians of ``repeat`` — of each node in ``NODES`` on a 4K
    plate. CPU time (all threads) says more than wall time on a shared, loaded machine."""
    registry = rotograph.Registry.builtin()
    rgb, alpha = make_plate_4k(0)
    arrays = {"rgb": rgb, "matte": alpha, "rgba": np.dstack([rgb * alpha[..., None], alpha])}
    g = rotograph.Graph(registry)
    ctx = Context(1001, "bench")
    out = {}
    for i, (kind, params, inputs) in enumerate(NODES):
        if f"rotograph.{kind}" not in registry:
            continue
        node = g.add(f"rotograph.{kind}", f"n{i}", **params)
        wanted = list(inspect.signature(node.compute).parameters)[1:]
        args = [arrays[k] for k in inputs] + [None] * (len(wanted) - len(inputs))
        node.compute(ctx, *args)  # warm-up (imports, kernels, JIT caches)
        wall, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            node.compute(ctx, *args)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        label = kind + (f"({','.join(f'{k}={v}' for k, v in params.items())})" if params else "")
        out[label] = (statistics.median(wall) * 1000, statistics.median(cpu) * 1000)
    return out


CHILD = r"""
import json, resource, sys, time, rotograph
from rotograph.engine.memory import reuse_frame_buffers
if sys.argv[3] == "reuse":  # what `rotograph render` does (rotograph/memory.py)
    reuse_frame_buffers()
g = rotograph.loads(open(sys.argv[1]).read())
t0 = time.perf_counter()
r = rotograph.render(g, sys.argv[2], cache=rotograph.Cache())
assert r.ok, (r.error, r.failed)
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"s": time.perf_counter() - t0, "cpu": u.ru_utime + u.ru_stime, "rss": u.ru_maxrss * 1024}))
"""


def render_seconds(graph: dict, folder: str, name: str, frames: str, memory: str = "reuse") -> dict:
    path = os.path.join(folder, f"{name}.json")
    with open(path, "w") as f:
        json.dump(graph, f)
    res = subprocess.run([sys.executable, "-c", CHILD, path, frames, memory], capture_output=True, text=True,
                         cwd=folder)
    if res.returncode:
        raise SystemExit(f"{name} render failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def chain_vs_floor(folder: str, frames: int, repeat: int, memory: str = "reuse") -> tuple[dict, dict, dict]:
    import OpenEXR

    os.makedirs(os.path.join(folder, "plates"), exist_ok=True)
    for i in range(frames):
        rgb, _ = make_plate_4k(i)
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": rgb}) as f:
            f.write(os.path.join(folder, "plates", f"greenscreen.{1001 + i:04d}.exr"))
    with open(os.path.join(ROOT, "graphs", "greenscreen.json")) as f:
        chain = json.load(f)
    # its paths are relative to graphs/ (format v2): here the plates and renders are in ``folder``
    chain["nodes"]["read"]["params"]["file"] = "plates/greenscreen.####.exr"
    chain["nodes"]["write"]["params"]["file"] = "render/chain/chain.####.exr"
    write = chain["nodes"]["write"]
    floor = {"format": chain["format"], "schema_version": chain["schema_version"],
             "nodes": {"read": chain["nodes"]["read"],
                       "write": {**write, "inputs": {"image": "read.image"},
                                 "params": {**write["params"], "file": "render/floor/floor.####.exr"}}}}
    span = f"1001-{1000 + frames}"
    runs = {"floor": [], "chain": []}
    for _ in range(repeat):  # interleaved, so that load on the machine hits both alike
        runs["floor"].append(render_seconds(floor, folder, "floor", span, memory))
        runs["chain"].append(render_seconds(chain, folder, "chain", span, memory))
    return ({k: statistics.median(r["s"] for r in v) / frames for k, v in runs.items()},
            {k: statistics.median(r["cpu"] for r in v) / frames for k, v in runs.items()},
            {k: max(r["rss"] for r in v) for k, v in runs.items()})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes-only", action="store_true")
    ap.add_argument("--chain-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=REPEAT)
    ap.add_argument("--frames", type=int, default=FRAMES)
    ap.add_argument("--system-malloc", action="store_true",
                    help="render without rotograph.engine.memory.reuse_frame_buffers (what `rotograph render` sets)")
    args = ap.parse_args()
    print(f"per node at {W}x{H} float32 (median of {args.repeat}; wall ms, CPU ms of all threads):")
    for label, (wall, cpu) in (node_times(args.repeat) if not args.chain_only else {}).items():
        print(f"  {label:<56} {wall:8.1f} {cpu:8.1f}")
    if args.nodes_only:
        return 0
    folder = tempfile.mkdtemp(prefix="rotograph-4k-")
    per_frame, cpu, rss = chain_vs_floor(folder, args.frames, args.repeat,
                                         "system" if args.system_malloc else "reuse")
    ratio = per_frame["chain"] / per_frame["floor"]
    for k, what in (("floor", "I/O floor (Read + WriteEXR)"), ("chain", "green-screen chain")):
        print(f"{what:<28} {per_frame[k]:.2f} s/frame wall, {cpu[k]:.2f} s/frame CPU (process, incl. start-up), "
              f"peak RSS {rss[k] / 2**20:.0f} MB")
    print(f"chain / floor at {W}x{H} on {os.cpu_count()} cores: {ratio:.2f}x wall, "
          f"{cpu['chain'] / cpu['floor']:.2f}x CPU (target <= 2.00x wall)")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
