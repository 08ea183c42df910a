"""Incremental correction: a 200-frame shot tracked with graphs/quickstart.json, then one keyframe
added near the end (the artist's correction) and the shot rendered again.

Measured: the re-render after the correction against the time to compute just the frames the
correction can reach (the same corrected graph rendered over those frames alone, on a fresh
cache). Target (issue 18): ≤ 1.2×. Before causal keys, the correction re-tracked all 200 frames.
Footage: ../shared/footage/bedroom.mp4 (960×540, 200 frames), FlowTrack at a 192 px work size.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import rotograph

HERE = os.path.dirname(os.path.abspath(__file__))
GRAPH = os.path.join(HERE, "..", "graphs", "quickstart.json")
FOOTAGE = os.environ.get("ROTOGRAPH_FOOTAGE", os.path.join(HERE, "..", "..", "shared", "footage"))
BOX = [300, 0, 520, 400]  # the girl on the bed
FRAMES, KEY = "1001-1200", 1190


def graph(out: str, correction: bool) -> rotograph.Graph:
    g = rotograph.load(GRAPH)
    g.set("read.file", os.path.join(FOOTAGE, "bedroom.mp4"))
    g.set("track.work_size", 192)
    prompts = [{"frame": 1001, "box": BOX}] + ([{"frame": KEY, "box": [310, 10, 530, 410]}] if correction else [])
    g.set("track.prompts", prompts)
    g.set("write_exr.file", os.path.join(out, "exr", "b.####.exr"))
    g.set("write_png.file", os.path.join(out, "png", "b.####.png"))
    return g


def timed(g, frames, cache):
    t0 = time.perf_counter()
    report = rotograph.render(g, frames, cache=cache)
    assert report.ok, report.error
    return time.perf_counter() - t0, report


def main() -> bool:
    root = tempfile.mkdtemp(prefix="rotograph-bench-incremental-")
    url = os.path.join(root, "cache")
    t_first, first = timed(graph(os.path.join(root, "shot"), False), FRAMES, rotograph.open_cache(url))
    t_fix, fix = timed(graph(os.path.join(root, "shot"), True), FRAMES, rotograph.open_cache(url))
    reach = f"{KEY}-{FRAMES.split('-')[1]}"
    t_reach, alone = timed(graph(os.path.join(root, "alone"), True), reach, rotograph.open_cache(os.path.join(root, "c2")))
    n = len(alone.frames)
    print(f"incremental: first track of {len(first.frames)} frames {t_first:.1f} s "
          f"({first.stats.computes['track']} FlowTrack computes)")
    print(f"incremental: keyframe added at {KEY}: re-render {t_fix:.2f} s, {fix.stats.computes['track']} FlowTrack "
          f"computes; the {n} reachable frames alone {t_reach:.2f} s")
    ratio = t_fix / t_reach
    exact = fix.stats.computes["track"] == n
    print(f"incremental: re-render / reachable frames = {ratio:.2f}x (target <= 1.2x); only the reachable frames "
          f"recomputed: {exact}")
    return exact and ratio <= 1.2


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
