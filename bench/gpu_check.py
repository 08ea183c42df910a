"""GPU check (``make gpu-check``, CUDA only): full-size SAM3 (video and image), Depth Anything 3
and MatAnyone 2 with random weights; SAM3Track with chunking over 300 frames of
../shared/footage/01_dog.mp4, printing fps and the peak GPU memory of every chunk (it should be
flat: that is what chunking is for).

Needs: torch with CUDA, sam3 (+ open_clip_torch for the BPE vocabulary), depth-anything-3 and
matanyone2-runtime installed as the Makefile does."""

from __future__ import annotations

import os
import sys
import time

FOOTAGE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "footage", "01_dog.mp4")


def main(frames: int = 300, chunk: int = 64) -> int:
    import torch

    if not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU visible; nothing to do")
        return 2
    import rotograph
    from rotograph.nodes import sam3 as sam3_nodes
    from rotograph.nodes.da3 import build_da3
    from rotograph.nodes.matanyone import build_matanyone

    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    for name, build in (("DA3 large", lambda: build_da3("da3-large", "random", "cuda")),
                        ("MatAnyone 2", lambda: build_matanyone("random", "cuda")),
                        ("SAM3 image", lambda: sam3_nodes.build_image_processor("random", "cuda"))):
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        build()
        print(f"{name}: built in {time.perf_counter() - t0:.1f}s, {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")

    peaks = []
    real = sam3_nodes.build_video_predictor

    def measured(weights, device):  # the real predictor, with a memory mark per session
        pred = real(weights, device)
        start = pred.handle_request

        def handle(request):
            if request["type"] == "start_session":
                torch.cuda.reset_peak_memory_stats()
            if request["type"] == "close_session":
                peaks.append(torch.cuda.max_memory_allocated())
            return start(request)

        pred.handle_request = handle
        return pred

    measured.needs_cuda = True
    sam3_nodes.build_video_predictor = measured
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=FOOTAGE)
    g.add("rotograph.SAM3Track", "track", text="dog", weights="random", chunk=chunk, overlap=4)
    g.connect("read.image", "track.image")
    ev = rotograph.Evaluator(g, rotograph.Cache(memory_bytes=256 << 20))
    wanted = list(range(1001, 1001 + frames))
    ev.wanted = {"track": set(wanted)}
    t0 = time.perf_counter()
    ev.get("track", "masks", wanted[-1])
    dt = time.perf_counter() - t0
    print(f"SAM3Track: {frames} frames in {dt:.1f}s = {frames / dt:.2f} fps, chunks of {chunk}")
    for i, p in enumerate(peaks):
        print(f"  chunk {i}: peak GPU memory {p / 2**30:.2f} GiB")
    growth = max(peaks) / min(peaks) if peaks else float("nan")
    print(f"  peak memory max/min over chunks: {growth:.2f}x (flat is ~1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*map(int, sys.argv[1:])))
