"""SAM 3 on the CPU, random weights, the full 1008-px backbone: what an artist without a GPU waits.

Prints, through the nodes (device=cpu): the image model's build; SAM3Segment's first click on a
frame (its backbone pass plus the prompt decoder); a second click on the same frame (the cached
embedding: the decoder only) against the decoder alone (target: second click ≤ decoder + 0.5 s);
SAM3Track's build and seconds per frame (the first frame, prompted; the later ones, tracked);
peak RSS. Options: --frames N (default 3), --size WxH (default 640x360), --cheap-trunk (the
tests' cheap image trunk instead of the ViT: the rest of the cost). Skips (exit 0) without sam3.
Figures are wall-clock on a shared machine: noisy under load.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def plates(n: int, w: int, h: int) -> dict[int, np.ndarray]:
    out = {}
    for i in range(n):
        img = np.full((h, w, 3), 90, np.uint8)
        s = h // 4
        img[h // 5:h // 5 + s, w // 16 + 4 * i:w // 16 + 4 * i + s] = [220, 30, 30]
        img[h // 2:h // 2 + s, w // 2 - 4 * i:w // 2 - 4 * i + s] = [30, 40, 220]
        out[1001 + i] = img
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--cheap-trunk", action="store_true")
    args = ap.parse_args()
    try:
        import sam3  # noqa: F401
    except ImportError:
        print("sam3 cpu: the sam3 package is not installed (make sam3-cpu-check installs it): skipped")
        return 0
    import contextlib

    import cv2
    import torch

    import rotograph
    from rotograph.interop.models import MANAGER, SPECS, resolve_weights
    from rotograph.nodes.ai.sam3 import build_image_model, build_video_model

    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    from sam3_real import cheap_trunk

    trunk = cheap_trunk() if args.cheap_trunk else contextlib.nullcontext()
    w, h = (int(v) for v in args.size.split("x"))
    frames = plates(args.frames, w, h)
    tmp = tempfile.mkdtemp(prefix="rotograph-bench-sam3-")
    for f, rgb in frames.items():
        cv2.imwrite(os.path.join(tmp, f"plate.{f:04d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    weights = resolve_weights(SPECS["sam3"], "random")
    print(f"sam3 cpu: torch {torch.__version__}, {torch.get_num_threads()} threads, {w}x{h} plates, "
          f"{'cheap trunk' if args.cheap_trunk else 'full 1008-px backbone'}, random weights")

    torch.manual_seed(0)
    t0 = time.perf_counter()
    with trunk:
        proc = MANAGER.get("sam3:image", weights, "cpu", build_image_model)
    build_image = time.perf_counter() - t0
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=os.path.join(tmp, "plate.####.png"), colorspace="sRGB")
    click = [w // 16 + s // 2 for s in [h // 4]][0], h // 5 + h // 8
    g.add("rotograph.SAM3Segment", "seg", mode="objects", weights="random", device="cpu",
          prompts=[{"frame": 1001, "object": 1, "points": [[click[0], click[1], 1]], "box": None}])
    g.connect("read.image", "seg.image")
    t0 = time.perf_counter()
    g.evaluate("seg", 1001, "masks")
    first_click = time.perf_counter() - t0
    g.set("seg.prompts", [{"frame": 1001, "object": 1, "points": [[click[0], click[1], 1]], "box": None},
                          {"frame": 1001, "object": 2, "points": [[w // 2 + h // 8, h // 2 + h // 8, 1]], "box": None}])
    t0 = time.perf_counter()
    g.evaluate("seg", 1001, "masks")
    second_click = time.perf_counter() - t0
    from rotograph.nodes.ai._sam3_compat import on_device
    from rotograph.nodes.ai._sam3_embeddings import embeddings_of

    cache = embeddings_of(proc)
    state = cache.state(np.ascontiguousarray(frames[1001]), lambda: None)
    t0 = time.perf_counter()
    with on_device("cpu"):
        for xy in ([click[0], click[1]], [w // 2 + h // 8, h // 2 + h // 8]):
            proc.model.predict_inst(state, point_coords=np.array([xy], np.float32), point_labels=np.array([1], np.int32),
                                    multimask_output=True)
    decoder = time.perf_counter() - t0
    print(f"  SAM3Segment: image model build {build_image:.1f} s; first click {first_click:.1f} s (backbone + decoder); "
          f"second click on the frame {second_click:.2f} s with the cached embedding (backbone runs: {cache.misses}); "
          f"the decoder alone for its two objects {decoder:.2f} s -> overhead {second_click - decoder:+.2f} s "
          f"(target <= +0.5 s)")
    MANAGER.clear()

    torch.manual_seed(0)
    t0 = time.perf_counter()
    with trunk:
        sam = MANAGER.get("sam3:video", weights, "cpu", build_video_model)
    build_video = time.perf_counter() - t0
    stamps = []
    propagate = sam.tracker.propagate_in_video

    def timed(*a, **k):  # a stamp as each frame leaves the tracker
        for item in propagate(*a, **k):
            stamps.append(time.perf_counter())
            yield item

    sam.tracker.propagate_in_video = timed
    g.add("rotograph.SAM3Track", "track", weights="random", device="cpu", chunk=max(4, args.frames),
          prompts=[{"frame": 1001, "object": 1, "points": [[click[0], click[1], 1]], "box": None}])
    g.connect("read.image", "track.image")
    ev = rotograph.Evaluator(g, rotograph.Cache())
    ev.wanted = {"track": set(frames)}
    t0 = time.perf_counter()
    ev.get("track", "masks", max(frames))
    total = time.perf_counter() - t0
    later = np.diff(stamps)
    print(f"  SAM3Track: video model build {build_video:.1f} s; first frame {stamps[0] - t0:.1f} s (prompted); "
          f"later frames {later.mean() if len(later) else float('nan'):.1f} s/frame (tracked, {len(later)} frames); "
          f"{total:.1f} s for the {len(frames)}-frame track")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"  peak RSS {rss:.2f} GiB")
    return 0 if second_click - decoder <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
