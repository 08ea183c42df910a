"""Evaluation: keys from the graph alone, what recomputes, range nodes, resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import rotograph
from rotograph import Evaluator

from conftest import build_track_graph, read_exr


def test_flowtrack_follows_the_square(registry, square_shot, tmp_path, cache):
    pattern, truth = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    for f in (1001, 1006, 1012):
        m = g.evaluate("track_matte", f, cache=cache)
        inter = ((m > 0.5) & (truth[f] > 0.5)).sum()
        union = ((m > 0.5) | (truth[f] > 0.5)).sum()
        assert inter / union > 0.8, f"frame {f}: IoU {inter / union:.2f}"


def test_second_render_computes_nothing(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    first = rotograph.render(g, cache=cache)
    assert first.ok, first.error
    assert first.stats.computes["write"] == 12
    assert first.stats.range_runs["track"] == 1  # one segment, run once
    assert first.stats.computes["track"] == 12
    # a fresh evaluator (as a new process would have) on the same cache
    second = rotograph.render(g, cache=rotograph.open_cache(cache.disk.url))
    assert second.ok
    assert sum(second.stats.computes.values()) == 0
    assert second.stats.hits["write"] == 12


def test_changing_feather_recomputes_only_downstream(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    ev = Evaluator(g, cache)
    assert rotograph.render(g, evaluator=ev).ok
    before = read_exr(tmp_path / "out" / "out.1005.exr")["matte.A"]
    g.set("feather.size", 5.0)
    report = rotograph.render(g, evaluator=ev)
    assert report.ok
    assert set(report.stats.computes) == {"feather", "premult", "write"}
    assert report.stats.computes["feather"] == 12
    after = read_exr(tmp_path / "out" / "out.1005.exr")["matte.A"]
    assert not np.array_equal(before, after)


def test_cache_hit_decodes_no_pixels(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    g.evaluate("track", 1004, cache=cache)  # fills the disk cache
    ev2 = Evaluator(g, rotograph.open_cache(cache.disk.url))
    ev2.get("track", None, 1004)
    assert ev2.stats.computes["read"] == 0 and ev2.stats.computes["track"] == 0
    assert ev2.stats.hits["track"] == 1


def test_passthrough_shares_the_input_key(registry, square_shot, tmp_path):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    ev = Evaluator(g, rotograph.Cache())
    g.set("grow.size", 0.0)
    assert ev.key("grow", None, 1003) == ev.key("track_matte", None, 1003)
    g.set("grow.size", 1.5)
    assert ev.key("grow", None, 1003) != ev.key("track_matte", None, 1003)


def test_keys_follow_version_params_and_file_identity(registry, square_shot, tmp_path):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    ev = Evaluator(g, rotograph.Cache())
    k = ev.key("feather", None, 1003)
    g.set("track.band", 5.0)  # upstream param → new key downstream
    k2 = ev.key("feather", None, 1003)
    assert k2 != k
    # touching a plate frame changes the Read's key for that frame only
    r1, r2 = ev.key("read", None, 1003), ev.key("read", None, 1004)
    f = pattern.replace("####", "1003")
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    ev._revision = -1  # a new render session re-reads file identity
    assert ev.key("read", None, 1003) != r1 and ev.key("read", None, 1004) == r2


def test_range_node_keyframes_make_segments(registry, square_shot, tmp_path, cache):
    pattern, truth = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out", box=(26, 28, 60, 62), keyframe=1007)
    g.nodes["track"].set("prompts", [{"frame": 1007, "box": [26, 28, 60, 62]},
                                     {"frame": 1010, "box": [35, 28, 69, 62]}])
    ev = Evaluator(g, cache)
    ev.wanted = {"track": set(range(1001, 1013))}
    m = ev.get("track", None, 1001).matte()  # before the first keyframe: tracked backwards
    assert ev.stats.range_runs["track"] == 1
    iou = ((m > .5) & (truth[1001] > .5)).sum() / ((m > .5) | (truth[1001] > .5)).sum()
    assert iou > 0.7
    for f in range(1001, 1007):
        ev.get("track", None, f)
    assert ev.stats.range_runs["track"] == 1 and ev.stats.computes["track"] == 6  # one backward run
    ev.get("track", None, 1011)
    assert ev.stats.range_runs["track"] == 2 and ev.stats.computes["track"] == 6 + 3  # 1010..1012 only


def test_evaluation_errors_name_node_and_frame(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    assert rotograph.render(g, "1001-1004", cache=cache).ok
    kept = {f: (tmp_path / "out" / f).read_bytes() for f in os.listdir(tmp_path / "out")}
    os.remove(pattern.replace("####", "1005"))
    report = rotograph.render(build_track_graph(registry, pattern, tmp_path / "out"), cache=cache)
    assert not report.ok
    assert "node 'read'" in report.error and "frame 1005" in report.error and "plate.1005.png" in report.error
    # frames rendered before the failure stay as they were
    assert {f: (tmp_path / "out" / f).read_bytes() for f in os.listdir(tmp_path / "out")} == kept
    assert len(kept) == 4


RENDER_SCRIPT = """
import sys, rotograph
sys.path.insert(0, {tests!r})
from conftest import build_track_graph
g = build_track_graph(rotograph.Registry.builtin(), {pattern!r}, __import__("pathlib").Path({out!r}))
g.nodes["write"].set("compression", "none")
cache = rotograph.open_cache({cache!r})
def slow(report):
    print(len(report.done), flush=True)
    if {slow}:
        __import__("time").sleep(0.4)
r = rotograph.render(g, cache=cache, progress=slow)
print("OK" if r.ok else r.error, flush=True)
"""


def _run(script_args, **kw):
    return subprocess.Popen([sys.executable, "-c", RENDER_SCRIPT.format(**script_args)],
                            stdout=subprocess.PIPE, text=True, **kw)


def test_killed_render_resumes_to_identical_output(square_shot, tmp_path):
    pattern, _ = square_shot
    tests = os.path.dirname(__file__)
    ref = _run(dict(tests=tests, pattern=pattern, out=str(tmp_path / "ref"), cache=str(tmp_path / "c1"), slow=False))
    assert ref.communicate(timeout=120)[0].strip().endswith("OK")
    args = dict(tests=tests, pattern=pattern, out=str(tmp_path / "run"), cache=str(tmp_path / "c2"), slow=True)
    proc = _run(args)
    for line in proc.stdout:  # kill it (SIGKILL: no clean-up) after a few frames
        if line.strip() == "4":
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    written = sorted(os.listdir(tmp_path / "run"))
    assert 4 <= len(written) < 12
    assert not [f for f in written if ".tmp" in f]  # no half-written frame is visible
    args["slow"] = False
    again = _run(args)
    assert again.communicate(timeout=120)[0].strip().endswith("OK")
    for f in range(1001, 1013):
        a = read_exr(tmp_path / "ref" / f"out.{f}.exr")
        b = read_exr(tmp_path / "run" / f"out.{f}.exr")
        for ch in a:
            assert np.array_equal(a[ch], b[ch]), (f, ch)


def test_resume_restarts_a_range_node_from_its_last_cached_frame(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    ev = Evaluator(g, cache)
    ev.wanted = {"track": set(range(1001, 1007))}
    ev.get("track", None, 1006)  # runs 1001..1006
    ev2 = Evaluator(g, rotograph.open_cache(cache.disk.url))
    ev2.wanted = {"track": set(range(1001, 1013))}
    resumed = ev2.get("track", None, 1012)
    assert ev2.stats.computes["track"] == 6  # 1007..1012 only
    fresh = Evaluator(g, rotograph.Cache()).get("track", None, 1012)
    assert np.array_equal(resumed.labels, fresh.labels) and resumed.objects == fresh.objects


def test_parallel_workers_match_single_process(registry, square_shot, tmp_path):
    pattern, _ = square_shot
    g1 = build_track_graph(registry, pattern, tmp_path / "one")
    assert rotograph.render(g1, cache=rotograph.open_cache(str(tmp_path / "c1"))).ok
    g2 = build_track_graph(registry, pattern, tmp_path / "two")
    report = rotograph.render(g2, cache=rotograph.open_cache(str(tmp_path / "c2")), workers=2)
    assert report.ok, report.error
    assert report.stats.range_runs["track"] == 1
    for f in range(1001, 1013):
        a, b = read_exr(tmp_path / "one" / f"out.{f}.exr"), read_exr(tmp_path / "two" / f"out.{f}.exr")
        assert all(np.array_equal(a[c], b[c]) for c in a)


# -- a range segment is computed once per render, whatever the cache size ------------------------

def _lost_object_shot(tmp_path):
    """The square is tracked for three frames, then the plate goes black: FlowTrack loses the
    object and its matte is all zero from 1007 on (an object that left the frame)."""
    from conftest import moving_square, write_png_sequence

    frames, _ = moving_square(n=12)
    for f in range(1004, 1013):
        frames[f] = np.zeros_like(frames[f])
    return write_png_sequence(tmp_path / "plate", frames)


def test_a_lost_object_renders_once_and_rerenders_from_the_cache(registry, tmp_path):
    g = build_track_graph(registry, _lost_object_shot(tmp_path), tmp_path / "out")
    url = str(tmp_path / "cache")
    first = rotograph.render(g, cache=rotograph.open_cache(url))
    assert first.ok, first.error
    assert not g.evaluate("track", 1010, cache=rotograph.open_cache(url)).labels.any(), "the object should be lost"
    assert first.stats.range_runs["track"] == 1 and first.stats.computes["track"] == 12
    second = rotograph.render(g, cache=rotograph.open_cache(url))
    assert second.ok and sum(second.stats.computes.values()) == 0
    assert second.stats.hits["write"] == 12


def test_a_tiny_cache_computes_each_segment_once(registry, tmp_path):
    """--cache-size 1M --memory 16M: the segments' frames are pinned until the render ends, so
    FlowTrack runs each segment once instead of restarting it for every frame."""
    g = build_track_graph(registry, _lost_object_shot(tmp_path), tmp_path / "out", keyframe=1003)
    cache = rotograph.open_cache(str(tmp_path / "cache"), max_bytes="1M", memory_bytes="16M")
    report = rotograph.render(g, cache=cache)
    assert report.ok, report.error
    assert report.stats.range_runs["track"] == 2  # backwards from 1003, forwards from it
    assert report.stats.computes["track"] == 12
    assert os.listdir(os.path.join(cache.disk.url, "pins")) == []  # released
    cache.disk.prune()
    assert cache.disk.stats().bytes <= 1 << 20


def test_a_frame_lost_during_a_render_is_rebuilt_from_the_frame_before(registry, square_shot, tmp_path, cache):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    ev = Evaluator(g, cache)
    ev.begin_render(["write"], range(1001, 1013))
    ev.get("track", None, 1012)
    kept = ev.get("track", None, 1005)
    cache.forget(ev.key("track", None, 1005))  # gone before it was used
    before = ev.stats.computes["track"]
    again = ev.get("track", None, 1005)
    assert ev.stats.computes["track"] - before == 1  # resumed after 1004: only the lost frame
    assert np.array_equal(again.labels, kept.labels) and again.objects == kept.objects
    ev.end_render()
