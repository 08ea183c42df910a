"""Range nodes under correction work: a keyframe added at k recomputes only the frames it can
reach, a frame lost from the cache is rebuilt, and a tampered cache entry is never used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rotograph
from rotograph import Evaluator

from conftest import GRAPHS, build_track_graph, moving_square, write_png_sequence

ROOT = Path(__file__).resolve().parents[1]
QUICK_BOX = [190.0, 30.0, 720.0, 610.0]  # graphs/quickstart.json's keyframe box, on frame 1041


def quickstart(out: Path, work_size: int = 192) -> rotograph.Graph:
    """graphs/quickstart.json as shipped (the bundled sample shot), writing under ``out``."""
    g = rotograph.load(GRAPHS / "quickstart.json")
    g.set("track.work_size", work_size)  # the shipped 480 px costs 3× the time for the same test
    g.set("write_exr.file", str(out / "exr" / "q.####.exr"))
    g.set("write_png.file", str(out / "png" / "q.####.png"))
    return g


def exr_bytes(out: Path, frames) -> dict[int, bytes]:
    return {f: (out / "exr" / f"q.{f}.exr").read_bytes() for f in frames}


def test_a_correction_keyframe_recomputes_only_the_frames_after_it(tmp_path):
    """The issue's case: quickstart 1041-1080 tracked from 1041; a keyframe at 1070 re-tracks
    1070-1080 (11 frames) and leaves 1041-1069 cached and bit-identical."""
    out, cache = tmp_path / "out", rotograph.open_cache(str(tmp_path / "cache"))
    g = quickstart(out)
    first = rotograph.render(g, "1041-1080", cache=cache)
    assert first.ok, first.error
    assert first.stats.computes["track"] == 40
    before = exr_bytes(out, range(1041, 1081))
    mtimes = {f: os.stat(out / "exr" / f"q.{f}.exr").st_mtime_ns for f in range(1041, 1070)}
    g.set("track.prompts", [*g.nodes["track"].prompts, {"frame": 1070, "object": 1, "box": [200.0, 40.0, 700.0, 600.0]}])
    second = rotograph.render(g, "1041-1080", cache=rotograph.open_cache(cache.disk.url))  # as a new process would
    assert second.ok, second.error
    assert second.stats.computes["track"] == 11 and second.stats.range_runs["track"] == 1
    assert second.stats.computes["write_exr"] == 11 and second.stats.hits["write_exr"] == 29
    after = exr_bytes(out, range(1041, 1081))
    assert all(after[f] == before[f] for f in range(1041, 1070))
    assert all(os.stat(out / "exr" / f"q.{f}.exr").st_mtime_ns == mtimes[f] for f in range(1041, 1070))
    assert any(after[f] != before[f] for f in range(1070, 1081))  # the correction took effect


def test_keys_change_only_where_a_keyframe_reaches(registry, tmp_path):
    """Causal keys, node by node: a partial keyframe (one object of two) inside a run, a new
    first keyframe (the backward run), and a change of a non-keyframe param."""
    frames, _ = moving_square(n=16)
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=write_png_sequence(tmp_path / "plate", frames), colorspace="sRGB")
    g.add("rotograph.FlowTrack", "track", work_size=96,
          prompts=[{"frame": 1004, "object": 1, "box": [19, 28, 53, 62]},
                   {"frame": 1004, "object": 2, "box": [60, 0, 90, 20]}])
    g.connect("read.image", "track.image")
    ev = Evaluator(g, rotograph.Cache())
    keys = lambda: {f: ev.key("track", None, f) for f in range(1001, 1017)}  # noqa: E731
    k0 = keys()
    g.set("track.prompts", [*g.nodes["track"].prompts, {"frame": 1010, "object": 2, "box": [60, 5, 90, 25]}])
    k1 = keys()
    assert [f for f in k0 if k0[f] != k1[f]] == list(range(1010, 1017))
    # the backward run (1001-1003) is seeded on 1004: a keyframe there changes it, not 1011 on
    g.set("track.prompts", [*g.nodes["track"].prompts, {"frame": 1004, "object": 1, "points": [[30, 45, 1]]}])
    k2 = keys()
    assert [f for f in k1 if k1[f] != k2[f]] == list(range(1001, 1017))
    g.set("track.prompts", [*g.nodes["track"].prompts, {"frame": 1002, "object": 1, "box": [12, 28, 46, 62]}])
    k3 = keys()  # a new first keyframe: 1001 is now tracked back from 1002, 1003 forward from it
    assert [f for f in k2 if k2[f] != k3[f]] == [1001, 1002, 1003]
    g.set("track.band", 5.0)  # not a keyframe param: every frame
    assert all(v != k3[f] for f, v in keys().items())


def test_a_partial_correction_resumes_after_the_frames_before_it(registry, square_shot, tmp_path, cache):
    """A keyframe naming one object of two keeps the run: the frames before it stay cached and
    the run resumes from the frame before the keyframe (replaying the tracker's state)."""
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    g.set("track.prompts", [{"frame": 1001, "object": 1, "box": [8, 28, 42, 62]},
                            {"frame": 1001, "object": 2, "box": [80, 0, 120, 20]}])
    assert rotograph.render(g, cache=cache).ok
    kept = {f: g.evaluate("track", f, cache=cache) for f in range(1001, 1008)}
    g.set("track.prompts", [*g.nodes["track"].prompts, {"frame": 1008, "object": 2, "box": [85, 2, 125, 22]}])
    report = rotograph.render(g, cache=cache)
    assert report.ok, report.error
    assert report.stats.computes["track"] == 5  # 1008-1012
    assert report.stats.computes["write"] == 5 and report.stats.hits["write"] == 7  # 1001-1007 untouched
    ev = Evaluator(g, cache)
    for f, m in kept.items():
        now = ev.get("track", None, f)
        assert np.array_equal(now.labels, m.labels) and now.objects == m.objects
    fresh = Evaluator(g, rotograph.Cache()).get("track", None, 1012)  # resumed == uninterrupted
    assert np.array_equal(ev.get("track", None, 1012).labels, fresh.labels)


def _entry_dir(cache, key: str) -> Path:
    return Path(cache.disk.url) / "entries" / key[:2] / key


@pytest.mark.parametrize("fault", ["delete", "corrupt"])
def test_a_lost_mid_segment_frame_is_rebuilt_by_the_next_render(registry, square_shot, tmp_path, fault):
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    url = str(tmp_path / "cache")
    assert rotograph.render(g, cache=rotograph.open_cache(url)).ok
    files = {f: (tmp_path / "out" / f"out.{f}.exr").read_bytes() for f in range(1001, 1013)}
    cache = rotograph.open_cache(url)
    entry = _entry_dir(cache, Evaluator(g, cache).key("track", None, 1006))
    if fault == "delete":
        import shutil

        shutil.rmtree(entry)
    else:  # a chunk overwritten with garbage
        chunk = next(p for p in (entry / "labels").rglob("*") if p.is_file() and p.name != "zarr.json")
        chunk.write_bytes(b"\0garbage" * 8)
    for f in (1005, 1006, 1007):  # the writer must ask the tracker again for these
        os.remove(tmp_path / "out" / f"out.{f}.exr")
    report = rotograph.render(g, cache=rotograph.open_cache(url))
    assert report.ok, report.error
    assert report.stats.computes["track"] == 1  # 1006 alone, resumed after 1005
    assert {f: (tmp_path / "out" / f"out.{f}.exr").read_bytes() for f in range(1001, 1013)} == files


def test_cli_render_after_prune_heals_and_says_nothing_is_wrong(tmp_path):
    """The issue's CLI case: render 1041-1048 with a cache, `cache prune --max-size 15K`, render
    again: exit 0 and 8/8 frames (it failed with exit 1 and 0/8 before)."""
    out = tmp_path / "out"
    g = quickstart(out)
    graph = tmp_path / "q.json"
    rotograph.save(g, graph)
    cli = [sys.executable, "-m", "rotograph.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cache = str(tmp_path / "cache")
    run = lambda *a: subprocess.run([*cli, *a], capture_output=True, text=True, env=env, timeout=300)  # noqa: E731
    first = run("render", str(graph), "--frames", "1041-1048", "--cache", cache)
    assert first.returncode == 0, first.stderr
    prune = run("cache", "prune", "--max-size", "15K", "--cache", cache)
    assert prune.returncode == 0, prune.stderr
    for f in range(1041, 1049):
        os.remove(out / "exr" / f"q.{f}.exr")
    again = run("render", str(graph), "--frames", "1041-1048", "--cache", cache)
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(os.listdir(out / "exr")) == [f"q.{f}.exr" for f in range(1041, 1049)]


def test_a_tampered_attribute_is_detected_and_recomputed(registry, square_shot, tmp_path):
    """Whole-value digests: editing the object table of a cached Masks value (a name, a score)
    makes the entry a miss; the engine recomputes the true value."""
    pattern, _ = square_shot
    g = build_track_graph(registry, pattern, tmp_path / "out")
    url = str(tmp_path / "cache")
    truth = g.evaluate("track", 1003, cache=rotograph.open_cache(url))
    cache = rotograph.open_cache(url)
    key = Evaluator(g, cache).key("track", None, 1003)
    meta = _entry_dir(cache, key) / "zarr.json"
    doc = json.loads(meta.read_text())
    attrs = doc["attributes"]["rotograph"]["attrs"]
    text = json.dumps(attrs)
    assert "object1" in text
    doc["attributes"]["rotograph"]["attrs"] = json.loads(text.replace("object1", "object9"))
    meta.write_text(json.dumps(doc))
    assert cache.disk.get(key, rotograph.Masks) is None  # detected, removed
    assert not cache.disk.contains(key)
    ev = Evaluator(g, rotograph.open_cache(url))
    again = ev.get("track", None, 1003)
    assert ev.stats.computes["track"] >= 1
    assert again.objects == truth.objects and np.array_equal(again.labels, truth.labels)
