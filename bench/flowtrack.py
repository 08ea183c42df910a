"""FlowTrack on shots with exact ground truth, beside OpenCV's MIL box tracker (the only box
tracker in the headless main OpenCV build the project uses: no CSRT/KCF without contrib).

Part 1 (issue 25), ten shots of tests/track_shots.py at 640×360: the lemur or a generated shape
over movie, texture and flat grey plates — grey/low contrast, scale/rotation, motion blur,
partial occlusion by a thin and a thick bar, exit and re-entry; two held out of tuning
(``held_*``, reported separately). Per shot: mean IoU, IoU over the last 10 frames, and the
longest run of frames reported lost (``occluded`` = 1 or an empty mask; the box tracker: a
failed update) while ≥ 70 % of the object is visible. Targets: FlowTrack mean IoU ≥ 0.85 on
every shot where the box tracker reaches ≥ 0.6, ≥ 1.2× the box tracker's mean IoU on average,
longest lost run ≤ 5 frames.

Part 2 (issue 12), tests/lemur_shots.py (the lemur's real alpha over bedroom.mp4 / 01_dog.mp4)
at 960×540, before and after issue 12.

Per shot: mean IoU, min IoU, mean IoU of the last 10 frames, mean SAD per frame (thousands),
for the box-tracker baseline, FlowTrack v1 (the tracker before issue 12, read from git at
commit V1_COMMIT) and the current FlowTrack; then the current FlowTrack's speed in s/frame on one
core (cv2.setNumThreads(1)). Targets (issue 12): mean IoU ≥ 0.85 on the slow shot, ≥ 0.75 on
the shots where the lemur leaves the frame, ≥ 0.6 with fast motion and occlusion, last-10 IoU
≥ 0.5 after the occlusion, always above the box tracker; ≤ 0.15 s/frame.

Timings on a shared machine are noisy: the speed is CPU seconds per frame of the one-thread
process over every frame of every shot (the target is checked on it; wall seconds beside it, and
each shot's figure).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from lemur_shots import SHOTS, Shot, box_tracker_mattes, make_shot, summary  # noqa: E402
from track_shots import TRACK_SHOTS, make_track_shot, shot_summary  # noqa: E402

from rotograph import MaskSet  # noqa: E402
from rotograph.core.node import Context  # noqa: E402
from rotograph.nodes.tracking.flowtrack import FlowTrack  # noqa: E402

V1_COMMIT = "711957a"  # main before issue 12: FlowTrack version 1
FIRST = 1001
TARGETS = {"slow": (0.85, None), "edge": (0.75, None), "exit": (0.75, 0.5), "fast_occluded": (0.6, 0.5)}
SPEED_TARGET = 0.15
BROAD_WIDTH = 640


def flowtrack_v1():
    """FlowTrack as it was before issue 12 (nodes/flowtrack.py at V1_COMMIT), or None."""
    try:
        src = subprocess.run(["git", "show", f"{V1_COMMIT}:nodes/flowtrack.py"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader("rotograph.nodes._flowtrack_v1", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "rotograph.nodes"
    exec(compile(src, "flowtrack_v1.py", "exec"), module.__dict__)
    return module.FlowTrack


def run_tracker(node, shot: Shot, lost: list | None = None) -> tuple[list[np.ndarray], float]:
    """Drive a FlowTrack's ``compute_range`` over the shot (keyframe box on the first frame);
    returns the mattes, the wall seconds and the CPU seconds (one thread) per frame; appends to ``lost`` whether each frame
    reported object 1 lost (occluded 1 or no pixels)."""
    images = [shot.linear(i) for i in range(len(shot.frames))]
    last = FIRST + len(images) - 1
    out = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for seg in node.segments(FIRST, last):
        ctx = Context(frame=seg.frames[0], node=node.name, log=lambda s: None, frames=seg.frames)
        for f, value in node.compute_range(ctx, seg, lambda f: {"image": images[f - FIRST]}):
            out[f] = value
    seconds = (time.perf_counter() - t0) / len(images)
    cpu = (time.process_time() - c0) / len(images)
    mattes = []
    for f in range(FIRST, last + 1):
        v = out[f]
        mattes.append(v.matte() if isinstance(v, MaskSet) else v)
        if lost is not None:
            lost.append(bool(v.objects[0].occluded >= 1.0 or not (mattes[-1] > 0.5).any()))
    return mattes, seconds, cpu


def broad() -> list[str]:
    """Part 1: print the broad table; returns the targets missed."""
    rows, missed, ratios, held, means = [], [], [], [], []
    for name, spec in TRACK_SHOTS.items():
        shot = make_track_shot(name, BROAD_WIDTH)
        boxes = box_tracker_mattes(shot)
        base = shot_summary(boxes, [not m.any() for m in boxes], shot)
        lost: list[bool] = []
        mattes, seconds, _ = run_tracker(FlowTrack("track", prompts=[{"frame": FIRST, "object": 1, "box": shot.box}]),
                                         shot, lost)
        ours = shot_summary(mattes, lost, shot)
        line = (f"{name:20s} {ours['mean_iou']:6.3f} {ours['last10_iou']:7.3f} {ours['lost_run']:5d}   "
                f"{base['mean_iou']:6.3f} {base['last10_iou']:7.3f} {base['lost_run']:5d} {seconds:8.3f}")
        (held if spec.get("held") else rows).append(line)
        ratios.append(ours["mean_iou"] / max(base["mean_iou"], 1e-3))
        means.append((ours["mean_iou"], base["mean_iou"]))
        if base["mean_iou"] >= 0.6 and ours["mean_iou"] < 0.85:
            missed.append(f"{name}: mean IoU {ours['mean_iou']:.3f} < 0.85 (box {base['mean_iou']:.3f})")
        if ours["lost_run"] > 5:
            missed.append(f"{name}: lost {ours['lost_run']} frames while >= 70% visible")
    print(f"FlowTrack on generated ground-truth shots (tests/track_shots.py), {BROAD_WIDTH}x{BROAD_WIDTH * 9 // 16}, "
          f"work_size 480; box tracker = cv2.TrackerMIL")
    print(f"{'':20s} {'FlowTrack':^20s}   {'box tracker (MIL)':^20s}")
    print(f"{'shot':20s} {'mean':>6s} {'last10':>7s} {'lost':>5s}   {'mean':>6s} {'last10':>7s} {'lost':>5s} {'s/frame':>8s}")
    print("\n".join(rows))
    print("held out of tuning:")
    print("\n".join(held))
    ratio = float(np.mean(ratios))
    ours_all, base_all = (float(np.mean(v)) for v in zip(*means))
    print(f"FlowTrack / box tracker mean IoU, averaged over shots: {ratio:.2f} (target >= 1.2); mean IoU over all "
          f"shots {ours_all:.3f} vs {base_all:.3f}, ratio {ours_all / base_all:.2f}")
    if ratio < 1.2:
        missed.append(f"IoU ratio to the box tracker {ratio:.2f}")
    return missed


def main() -> int:
    cv2.setNumThreads(1)
    missed = broad() if "--lemur" not in sys.argv else []
    if "--broad" in sys.argv:
        print("targets met" if not missed else "targets missed: " + "; ".join(missed))
        return 1 if missed else 0
    v1 = flowtrack_v1()
    prompts = lambda shot: [{"frame": FIRST, "object": 1, "box": shot.box}]  # noqa: E731
    rows, speeds, walls = [], [], []
    for name in SHOTS:
        shot = make_shot(name)
        results = {"box tracker": summary(box_tracker_mattes(shot), shot)}
        if v1 is not None:
            results["FlowTrack v1"] = summary(run_tracker(v1("v1", prompts=prompts(shot)), shot)[0], shot)
        mattes, seconds, cpu = run_tracker(FlowTrack("track", prompts=prompts(shot)), shot)
        results["FlowTrack"] = summary(mattes, shot)
        speeds.append((cpu, len(shot.frames)))
        walls.append((seconds, len(shot.frames)))
        for who, r in results.items():
            rows.append(f"{name:14s} {who:13s} {r['mean_iou']:9.3f} {r['min_iou']:8.3f} {r['last10_iou']:9.3f} "
                        f"{r['sad']:9.1f}")
        new, base = results["FlowTrack"], results["box tracker"]
        mean_target, last_target = TARGETS.get(name, (0.0, None))
        if new["mean_iou"] < mean_target or new["mean_iou"] <= base["mean_iou"]:
            missed.append(f"{name}: mean IoU {new['mean_iou']:.3f} (target {mean_target}, box {base['mean_iou']:.3f})")
        if last_target is not None and new["last10_iou"] < last_target:
            missed.append(f"{name}: last-10 IoU {new['last10_iou']:.3f} (target {last_target})")
    print("FlowTrack on lemur ground-truth shots, 960x540 (IoU of matte>0.5 vs alpha>0.5; SAD in thousands/frame)")
    print(f"{'shot':14s} {'tracker':13s} {'mean IoU':>9s} {'min IoU':>8s} {'last10':>9s} {'SAD':>9s}")
    print("\n".join(rows))
    speed = sum(s * n for s, n in speeds) / sum(n for _, n in speeds)
    wall = sum(s * n for s, n in walls) / sum(n for _, n in walls)
    print(f"speed: {speed:.3f} CPU s/frame ({wall:.3f} s wall) at 960x540 on one thread over all {sum(n for _, n in speeds)} frames "
          f"(per shot {', '.join(f'{s:.3f}' for s, _ in speeds)}; frames where an object is lost cost more: "
          f"the search); target <= {SPEED_TARGET}, ratio {speed / SPEED_TARGET:.2f}, worst shot "
          f"{max(s for s, _ in speeds) / SPEED_TARGET:.2f} (shared machine: the wall time counts waits for other "
          f"processes, the CPU time does not; the target is checked on the CPU time)")
    if speed > SPEED_TARGET:
        missed.append(f"speed {speed:.3f} s/frame")
    print("targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
