"""Parallel and Dask-distributed renders, faults, and many shots per graph."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

import rotograph
from rotograph.engine.cache import DiskCache

from conftest import GRAPHS, PLUGINS, bedroom_graph, footage, same_outputs

FRAMES = list(range(1001, 1017))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A single-process render of 16 frames of bedroom.mp4, to compare against."""
    out = tmp_path_factory.mktemp("reference")
    report = rotograph.render(bedroom_graph(out), FRAMES, cache=rotograph.open_cache(str(out / "cache")))
    assert report.ok, report.error
    return out


@pytest.fixture
def plugins(monkeypatch):
    monkeypatch.setenv("ROTOGRAPH_PLUGIN_PATH", str(PLUGINS))  # inherited by spawned workers
    return rotograph.Registry.default()


def test_local_cluster_matches_single_process(reference, tmp_path):
    cache = rotograph.open_cache(str(tmp_path / "cache"))
    report = rotograph.render(bedroom_graph(tmp_path), FRAMES, cache=cache, scheduler="local:2")
    assert report.ok, report.error
    assert report.stats.range_runs["track"] == 1  # the tracker ran once, as one segment task
    assert report.stats.computes["track"] == 16  # …and the frame tasks read it from the shared cache
    assert report.stats.hits["track"] >= 16
    same_outputs(reference, tmp_path, FRAMES)


def test_process_pool_matches_single_process(reference, tmp_path):
    report = rotograph.render(bedroom_graph(tmp_path), FRAMES, cache=rotograph.open_cache(str(tmp_path / "c")),
                              workers=2)
    assert report.ok, report.error
    assert report.stats.range_runs["track"] == 1
    same_outputs(reference, tmp_path, FRAMES)


def test_worker_killed_mid_render(reference, tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        killed = []

        def progress(report):
            if len(report.done) >= 2 and not killed:
                os.kill(pids[0], signal.SIGKILL)  # the nanny restarts it; its tasks run again
                killed.append(pids[0])

        report = rotograph.render(bedroom_graph(tmp_path), FRAMES, cache=rotograph.open_cache(str(tmp_path / "c")),
                                  scheduler=cluster.scheduler_address, chunk=1, progress=progress)
    assert killed and report.ok, report.error
    same_outputs(reference, tmp_path, FRAMES)


def test_gpu_nodes_run_only_on_gpu_workers(plugins, tmp_path):
    from distributed import Client, Nanny, Scheduler, SpecCluster

    workers = {"gpu": {"cls": Nanny, "options": {"nthreads": 1, "resources": {"GPU": 1}}},
               "cpu": {"cls": Nanny, "options": {"nthreads": 1}}}
    marks = tmp_path / "marks"
    marks.mkdir()
    g = bedroom_graph(tmp_path, plugins)
    g.add("test.GPUMark", "gpu", marker_dir=str(marks))
    g.connect("feather.out", "gpu.matte")
    g.connect("gpu.out", "write_exr.matte")
    with SpecCluster(scheduler={"cls": Scheduler, "options": {"dashboard_address": None}}, workers=workers,
                     silence_logs=40) as cluster, Client(cluster) as client:
        info = client.scheduler_info()["workers"]
        pids = client.run(os.getpid)
        gpu_pid = next(pids[a] for a, w in info.items() if w.get("resources", {}).get("GPU"))
        report = rotograph.render(g, FRAMES[:6], cache=rotograph.open_cache(str(tmp_path / "c")),
                                  scheduler=cluster.scheduler_address, chunk=1)
    assert report.ok, report.error
    ran = {int(m.split(".")[2]) for m in os.listdir(marks)}
    assert len(os.listdir(marks)) == 6 and ran == {gpu_pid}


def _cli_render(out, cache, *extra, **popen):
    g = bedroom_graph(out)
    path = out / "graph.json"
    out.mkdir(parents=True, exist_ok=True)
    rotograph.save(g, path)
    cmd = [sys.executable, "-m", "rotograph.cli", "render", str(path), "--frames", "1001-1016", "--cache",
           str(cache), "-q", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_client_killed_and_rerun(reference, tmp_path):
    proc = _cli_render(tmp_path, tmp_path / "cache", "--scheduler", "local:2", start_new_session=True)
    exr = tmp_path / "exr"
    deadline = time.time() + 120
    def finished():  # frames published under their final name (temporaries are hidden: ".b.*")
        return [f for f in os.listdir(exr) if not f.startswith(".")] if exr.exists() else []

    while time.time() < deadline and len(finished()) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the render job and its local cluster die at once
    proc.wait()
    visible = sorted(f for f in os.listdir(exr) if not f.startswith("."))
    assert len(visible) >= 3
    from conftest import read_exr

    for f in visible:  # every frame that is there is whole
        assert "matte.A" in read_exr(exr / f)
    again = _cli_render(tmp_path, tmp_path / "cache", "--scheduler", "local:2")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    same_outputs(reference, tmp_path, FRAMES)
    assert sorted(os.listdir(exr)) == [f"b.{f}.exr" for f in FRAMES]  # no temporaries left


def _keyer_graph_file(folder, n: int) -> str:
    """A per-frame graph file on an ``n``-frame PNG sequence: Read → Keyer → WriteEXR."""
    from conftest import moving_square, write_png_sequence

    frames, _ = moving_square(n=n, size=(180, 320), step=1)
    g = rotograph.Graph()
    g.add("rotograph.Read", "read", file=write_png_sequence(folder / "plate", frames))
    g.add("rotograph.Keyer", "key", screen="blue")
    g.add("rotograph.WriteEXR", "write", file=str(folder / "exr" / "k.####.exr"))
    g.connect("read.image", "key.image")
    g.connect("key.matte", "write.matte")
    rotograph.save(g, folder / "graph.json")
    return str(folder / "graph.json")


def test_killed_render_leaves_no_worker_behind(tmp_path):
    """``kill -9`` of a ``--workers 2`` render: its worker processes exit too (they watch
    their parent), instead of living on as orphans holding memory."""
    import psutil

    proc = subprocess.Popen([sys.executable, "-m", "rotograph.cli", "render", _keyer_graph_file(tmp_path, 200),
                             "--workers", "2", "--cache", str(tmp_path / "cache"), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    render = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    workers: list = []
    while time.monotonic() < deadline:
        workers = [p for p in render.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]
        if len(workers) == 2 and (tmp_path / "exr").exists() and os.listdir(tmp_path / "exr"):
            break  # mid-render: both workers up, frames being written
        assert proc.poll() is None, "the render ended before it could be killed"
        time.sleep(0.05)
    left = render.children(recursive=True)  # the workers and multiprocessing's resource tracker
    assert len(workers) == 2 and proc.poll() is None
    proc.kill()
    proc.wait()
    t0 = time.monotonic()
    gone, alive = psutil.wait_procs(left, timeout=10)
    assert not alive, [(p.pid, p.cmdline()) for p in alive]
    assert len(os.listdir(tmp_path / "exr")) < 200  # it was killed mid-render
    print(f"{len(gone)} child processes gone {time.monotonic() - t0:.1f}s after kill -9")


def test_quiet_local_cluster_render_prints_no_dask_logs(tmp_path):
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "render", _keyer_graph_file(tmp_path, 4),
                          "--scheduler", "local:2", "--cache", str(tmp_path / "cache"), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "INFO" not in run.stderr and "Traceback" not in run.stderr and "Port 8787" not in run.stderr
    assert "rendered 4 frames" in run.stderr
    assert len(os.listdir(tmp_path / "exr")) == 4


def test_injected_failure_retry_skip_hold_stop(plugins, reference, tmp_path):
    cache = rotograph.open_cache(str(tmp_path / "cache"))
    # a flaky frame succeeds on its retry
    g = bedroom_graph(tmp_path / "flaky", plugins, fail={"frames": "1005", "mode": "once",
                                                          "marker_dir": str(tmp_path)})
    r = rotograph.render(g, FRAMES, cache=cache, scheduler="local:2", retries=1)
    assert r.ok and r.retried == 1
    same_outputs(reference, tmp_path / "flaky", FRAMES)
    # a frame that always fails: skip leaves it out, the others are complete
    g = bedroom_graph(tmp_path / "skip", plugins, fail={"frames": "1005,1011"})
    r = rotograph.render(g, FRAMES, cache=cache, workers=2, on_error="skip", retries=2)
    assert set(r.failed) == {1005, 1011} and r.retried == 4 and len(r.done) == 14
    assert "injected failure at frame 1005" in r.failed[1005] and "node 'fail'" in r.failed[1005]
    assert not (tmp_path / "skip" / "exr" / "b.1005.exr").exists()
    same_outputs(reference, tmp_path / "skip", [f for f in FRAMES if f not in (1005, 1011)])
    # hold fills it with the nearest good frame
    g = bedroom_graph(tmp_path / "hold", plugins, fail={"frames": "1005"})
    r = rotograph.render(g, FRAMES, cache=cache, on_error="hold", retries=0)
    assert r.held == [1005]
    hold = tmp_path / "hold" / "exr"
    from conftest import read_exr

    held, source = read_exr(hold / "b.1005.exr"), read_exr(hold / "b.1004.exr")  # same pixels, its own header
    assert held.keys() == source.keys() and all(np.array_equal(held[c], source[c]) for c in held)
    # stop ends the render with the error; what was written stays
    g = bedroom_graph(tmp_path / "stop", plugins, fail={"frames": "1005"})
    r = rotograph.render(g, FRAMES, cache=cache, on_error="stop", retries=0)
    assert not r.ok and "injected failure at frame 1005" in r.error
    assert sorted(os.listdir(tmp_path / "stop" / "exr")) == [f"b.{f}.exr" for f in range(1001, 1005)]


def test_two_renders_at_once_on_one_cache(reference, tmp_path):
    procs = [_cli_render(tmp_path, tmp_path / "cache", "--workers", "2") for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    same_outputs(reference, tmp_path, FRAMES)
    disk = DiskCache(str(tmp_path / "cache"))
    entries = [p for p in disk.fs.find(disk._join("entries"), maxdepth=2, withdirs=True) if p.count("/") - disk.root.count("/") == 3]
    assert entries
    import logging

    class Catch(logging.Handler):
        corrupt = 0

        def emit(self, record):
            Catch.corrupt += "corrupt" in record.getMessage()

    logging.getLogger("rotograph.cache").addHandler(Catch())
    ev = rotograph.Evaluator(bedroom_graph(tmp_path), rotograph.open_cache(str(tmp_path / "cache")))
    for f in FRAMES:
        assert ev.get("track", None, f) is not None
    assert Catch.corrupt == 0 and ev.stats.computes["track"] == 0
    assert os.listdir(os.path.join(tmp_path, "cache", "tmp")) == []


def _lemur_pan(folder, n=8):
    """A moving shot from the lemur still: a 480×300 window panning right (known motion)."""
    img = cv2.imread(str(footage("lemur/lemur.png")))[..., :3]
    folder.mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"lemur.{1001 + i}.png"), img[60:360, 40 + 12 * i:520 + 12 * i])
    return str(folder / "lemur.####.png")


def test_many_shots_from_a_table(tmp_path):
    pan = _lemur_pan(tmp_path / "pan")
    keys = tmp_path / "lemur_keys.json"
    keys.write_text(json.dumps([{"frame": 1001, "box": [150, 20, 420, 300]}]))
    rows = [
        ["shot", "frames", "read.file", "track.prompts", "write_exr.file", "write_png.file", "track.work_size"],
        ["bedroom", "1001-1006", str(footage("bedroom.mp4")), json.dumps([{"frame": 1001, "box": [300, 0, 520, 400]}]),
         str(tmp_path / "out/bedroom/b.####.exr"), str(tmp_path / "out/bedroom/png/b.####.png"), "192"],
        ["dog", "1001-1005", str(footage("01_dog.mp4")), json.dumps([{"frame": 1001, "box": [450, 150, 800, 550]}]),
         str(tmp_path / "out/dog/d.####.exr"), str(tmp_path / "out/dog/png/d.####.png"), "192"],
        ["lemur_pan", "", pan, "@lemur_keys.json", str(tmp_path / "out/lemur/l.####.exr"),
         str(tmp_path / "out/lemur/png/l.####.png"), ""],
    ]
    table = tmp_path / "shots.csv"
    import csv

    with open(table, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "render", str(GRAPHS / "quickstart.json"),
                          "--shots", str(table), "--cache", str(tmp_path / "cache"), "-q"],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "160"})
    assert run.returncode == 0, run.stdout + run.stderr
    lines = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
             for line in run.stdout.splitlines() if line.count("│") >= 8}
    assert lines["bedroom"][1:2] == ["6"] and lines["dog"][1:2] == ["5"] and lines["lemur_pan"][1:2] == ["8"]
    assert all(lines[s][6] == "0" and lines[s][7] == "ok" for s in ("bedroom", "dog", "lemur_pan"))
    assert len(os.listdir(tmp_path / "out" / "lemur")) == 8 + 1  # 8 EXRs and the png folder
    # the lemur pan matte follows the lemur (box given on 1001, the window pans 12 px a frame)
    from conftest import read_exr

    m = read_exr(tmp_path / "out" / "lemur" / "l.1008.exr")["matte.A"].astype(np.float32)
    assert 0.2 < m.mean() < 0.7
    # a bad column is named with its shot
    rows[1][2] = str(tmp_path / "missing.mov")
    rows[0].append("feathr.size")
    for r in rows[1:]:
        r.append("1")
    with open(table, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    run = subprocess.run([sys.executable, "-m", "rotograph.cli", "render", str(GRAPHS / "quickstart.json"),
                          "--shots", str(table), "--cache", str(tmp_path / "cache"), "-q"],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 1
    assert "feathr.size" in run.stdout and "did you mean 'feather'" in run.stdout
