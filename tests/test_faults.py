"""Fault injection: bad input, full disks, read-only caches, Ctrl+C. Each fault runs the real
``rotograph`` command and must give its documented exit code (README, "Exit codes"), a message
of at most a few lines naming the culprit, no traceback, and leave the files already written
intact (a re-run resumes to the same outputs).

Full disks and read-only folders are real where this process may mount (a small tmpfs, a
read-only bind mount: tests run as root here); elsewhere the OSError is injected at the write.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import rotograph
from rotograph.interop.cli import main
from rotograph.io.media import read_image

W, H, FRAMES = 64, 48, range(1001, 1005)


def _exr(path: Path, channels: dict) -> None:
    import OpenEXR

    path.parent.mkdir(parents=True, exist_ok=True)
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, channels).write(str(path))


def _plate(f: int, h: int = H) -> np.ndarray:
    return np.random.default_rng(f).random((h, W, 3)).astype(np.float32)


@pytest.fixture
def shot(tmp_path, registry):
    """plates/p.1001-1004.exr (64×48 random linear RGB) and two graphs: ``g.json`` Read →
    WriteEXR; ``smooth.json`` Read → Keyer → TemporalSmooth → WriteEXR (its mattes go to the
    disk cache)."""
    for f in FRAMES:
        _exr(tmp_path / "plates" / f"p.{f}.exr", {"RGB": _plate(f)})
    g = rotograph.Graph(registry)
    g.add("rotograph.Read", "read", file=str(tmp_path / "plates" / "p.####.exr"))
    g.add("rotograph.WriteEXR", "write_exr", file=str(tmp_path / "out" / "o.####.exr"), pixel_type="float")
    g.connect("read.image", "write_exr.image")
    rotograph.save(g, tmp_path / "g.json")
    g.add("rotograph.Keyer", "keyer")
    g.add("rotograph.TemporalSmooth", "smooth", radius=1, motion=False)
    g.connect("read.image", "keyer.image")
    g.connect("keyer.matte", "smooth.matte")
    g.connect("smooth.out", "write_exr.matte")
    rotograph.save(g, tmp_path / "smooth.json")
    return tmp_path


def cli(capfd, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capfd.readouterr()
    return rc, out, err


def assert_error(rc, out, err, code: int, *names: str, lines: int = 2) -> str:
    """Exit ``code``; stderr is at most ``lines`` lines, the first ``error: …`` naming every one
    of ``names``; no traceback and no library chatter anywhere."""
    assert rc == code, (rc, out, err)
    assert "Traceback" not in out + err and "EXR_ERR" not in out + err and "Warning" not in out + err, out + err
    got = err.strip().splitlines()
    assert 1 <= len(got) <= lines and got[0].startswith("error: "), err
    for name in names:
        assert name in got[0], (name, got[0])
    return got[0]


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def assert_rendered(out: Path, frames) -> None:
    """The output frames hold the plate's pixels (float EXR: exact)."""
    for f in frames:
        pixels, _, _ = read_image(str(out / f"o.{f}.exr"))
        assert np.array_equal(pixels[..., :3], _plate(f)), f


def test_writer_over_its_own_plates(shot, capfd):
    before = digests(shot / "plates")
    for pattern in ("plates/p.####.exr", "plates/p.%04d.exr", "plates/../plates/p.###.exr"):
        for command in ("validate", "render"):
            rc, out, err = cli(capfd, command, shot / "g.json", "--set", f"write_exr.file={shot / pattern}",
                               "--cache", shot / "cache", "-q") if command == "render" else \
                cli(capfd, command, shot / "g.json", "--set", f"write_exr.file={shot / pattern}")
            line = assert_error(rc, out, err, 3, "nodes.write_exr.params.file", "node 'read'", lines=1)
            assert "would overwrite" in line
    os.symlink(shot / "plates", shot / "link")  # another path to the same files
    assert_error(*cli(capfd, "validate", shot / "g.json", "--set", f"write_exr.file={shot}/link/p.####.exr"), 3,
                 "would overwrite", lines=1)
    assert digests(shot / "plates") == before


def test_huge_frame_range(shot, capfd):
    t0 = time.perf_counter()
    line = assert_error(*cli(capfd, "render", shot / "g.json", "--frames", "1001-99999999999999", "-q"), 2,
                        "--frames", "'1001-99999999999999'", "at most 1000000", lines=1)
    assert time.perf_counter() - t0 < 5, line  # refused before any list is built
    assert not (shot / "out").exists()


def test_duplicated_node_id(shot, capfd):
    text = (shot / "g.json").read_text()
    read = text.index('"read": {')
    end = text.index('"write_exr": {')
    (shot / "dup.json").write_text(text[:end] + text[read:end] + text[end:])  # "read" twice
    assert json.loads((shot / "dup.json").read_text())  # valid JSON: only the id repeats
    assert_error(*cli(capfd, "validate", shot / "dup.json"), 3, "dup.json", "nodes.read", 'node id "read" appears twice',
                 lines=1)


def test_resolution_change_mid_shot(shot, capfd):
    _exr(shot / "plates" / "p.1003.exr", {"RGB": _plate(1003, h=32)})
    line = assert_error(*cli(capfd, "render", shot / "g.json", "--cache", shot / "cache", "-q"), 4,
                        "p.1003.exr", "frame 1003", "64x32", "64x48")
    assert "node 'read'" in line
    assert_rendered(shot / "out", [1001, 1002])  # written before the bad frame, intact


def test_exr_without_rgb_read_as_an_image(shot, capfd):
    matte = np.random.default_rng(0).random((H, W)).astype(np.float32)
    for f in FRAMES:
        _exr(shot / "data" / f"d.{f}.exr", {"A": matte, "depth.Z": matte})
    line = assert_error(*cli(capfd, "render", shot / "g.json", "--set", f"read.file={shot}/data/d.####.exr",
                             "--cache", shot / "cache", "-q"), 4, "d.1001.exr", "no RGB channels", lines=1)
    assert "'depth'" in line  # says which layer could be read instead
    rc, out, err = cli(capfd, "render", shot / "g.json", "--set", f"read.file={shot}/data/d.####.exr", "--set",
                       "read.layer=depth", "--set", "read.colorspace=linear", "--cache", shot / "cache", "-q")
    assert rc == 0, err


def test_truncated_exr(shot, capfd):
    path = shot / "plates" / "p.1004.exr"
    path.write_bytes(path.read_bytes()[:3000])
    assert_error(*cli(capfd, "render", shot / "g.json", "--cache", shot / "cache", "-q"), 4,
                 str(path), "frame 1004", "truncated or corrupt EXR")
    assert_rendered(shot / "out", [1001, 1002, 1003])
    assert_error(*cli(capfd, "info", path), 4, "p.1004.exr", "truncated or corrupt EXR", lines=1)
    (shot / "plates" / "p.1001.exr").write_bytes(b"not an EXR" * 50)
    assert_error(*cli(capfd, "validate", shot / "g.json"), 4, "p.1001.exr", "not a readable EXR", lines=1)


def test_long_value_is_shortened(shot, capfd):
    doc = json.loads((shot / "g.json").read_text())
    for param in ("colorspace", "file"):
        bad = json.loads(json.dumps(doc))
        bad["nodes"]["read"]["params"][param] = "a" * 10_000_000
        (shot / "long.json").write_text(json.dumps(bad))
        line = assert_error(*cli(capfd, "validate", shot / "long.json"), 3 if param == "colorspace" else 4,
                            "read", f"'{param}'" if param == "file" else "colorspace", "…(10 MB)", lines=1)
        assert len(line) < 300, len(line)


def _can_mount() -> bool:
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"rotograph-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], check=True)
        return ok
    except OSError:
        return False
    finally:
        probe.rmdir()


MOUNT = _can_mount()


@contextmanager
def small_disk(folder: Path, size: str):
    """``folder`` on a tmpfs of ``size`` bytes (unmounted at the end)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_while_writing_outputs(shot, capfd, monkeypatch):
    out = shot / "out"
    frame_bytes = 2 * W * H * 3 * 4  # a float EXR frame, with room for its header
    if MOUNT:
        disk = small_disk(out, str(2 * 4096 + 2 * ((frame_bytes + 4095) // 4096 * 4096)))
    else:  # inject ENOSPC at the third frame's write
        import rotograph.core.writer as writer

        real = writer.publish_file

        def full(path, write):
            if path.endswith(".1003.exr"):
                raise writer.output_error(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
            return real(path, write)

        monkeypatch.setattr(writer, "publish_file", full)
        disk = contextmanager(lambda: (yield out))()
    with disk:
        line = assert_error(*cli(capfd, "render", shot / "g.json", "--cache", shot / "cache", "-q"), 5,
                            "the disk is full", ".exr")
        assert "node 'write_exr'" in line and "frames already written are kept" in line
        written = sorted(p.name for p in out.iterdir())
        assert written and all(not n.startswith(".") for n in written)  # no temporary left
        assert len(written) < len(FRAMES)
        assert_rendered(out, [int(n.split(".")[1]) for n in written])
        before = digests(out)
        if MOUNT:
            subprocess.run(["mount", "-o", "remount,size=1m", str(out)], check=True)  # free space
        else:
            monkeypatch.undo()
        rc, _, err = cli(capfd, "render", shot / "g.json", "--cache", shot / "cache", "-q")
        assert rc == 0, err
        after = digests(out)
        assert {k: after[k] for k in before} == before  # the frames already written were kept as they were
        assert_rendered(out, FRAMES)


def test_disk_full_while_writing_the_cache(shot, capfd, monkeypatch):
    cache = shot / "cache"
    if MOUNT:
        disk = small_disk(cache, "256k")
    else:
        import zarr

        def full(*a, **k):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(zarr, "create_group", full)
        disk = contextmanager(lambda: (yield cache))()
    with disk:
        if MOUNT:  # fill the disk but for a few blocks, as another job would
            (cache / "filler").write_bytes(b"\0" * (256 * 1024 - 3 * 4096))
        line = assert_error(*cli(capfd, "render", shot / "smooth.json", "--cache", cache, "-q"), 5,
                            f"cache {cache}", "the disk is full")
        assert "writable folder" in line
    assert_rendered(shot / "out", [int(p.name.split(".")[1]) for p in (shot / "out").iterdir()] if
                    (shot / "out").exists() else [])


def test_read_only_cache(shot, capfd, monkeypatch):
    cache = shot / "cache"
    assert cli(capfd, "cache", "stats", "--cache", cache)[0] == 0
    rotograph.open_cache(str(cache))  # an empty cache a farm mounts read-only
    if MOUNT:
        ro = shot / "ro"
        ro.mkdir()
        subprocess.run(["mount", "--bind", str(cache), str(ro)], check=True)
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
        cache = ro
    else:
        import zarr

        def read_only(*a, **k):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

        monkeypatch.setattr(zarr, "create_group", read_only)
    try:
        line = assert_error(*cli(capfd, "render", shot / "smooth.json", "--cache", cache, "-q"), 5,
                            f"cache {cache}", "read-only filesystem")
        assert "writable folder" in line
        assert cli(capfd, "cache", "stats", "--cache", cache)[0] == 0  # reading it still works
    finally:
        if MOUNT:
            subprocess.run(["umount", str(cache)], check=False)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _session(sid: int) -> list[int]:
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                alive.append(int(entry))
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("parallel", [("--scheduler", "local:2"), ("--workers", "2")], ids=["local:2", "workers2"])
def test_ctrl_c_while_the_workers_start(shot, parallel):
    """SIGINT to the whole process group (what Ctrl+C in a terminal does) as soon as the first
    worker process of ``--scheduler local:2`` (or ``--workers 2``) exists: one line, exit 130,
    no worker left."""
    p = subprocess.Popen([sys.executable, "-m", "rotograph.cli", "render", str(shot / "smooth.json"), *parallel,
                          "--cache", str(shot / "cache"), "-q"], cwd=shot, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None and not _children(p.pid):
            time.sleep(0.02)
        assert p.poll() is None, p.communicate()[0]
        time.sleep(0.3)  # the workers are importing: the moment that printed their tracebacks
        os.killpg(p.pid, signal.SIGINT)
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 130, out
    assert "Traceback" not in out and out.strip() == \
        "interrupted: frames already rendered are kept; run again to resume", out
    for _ in range(50):
        if not _session(p.pid):
            break
        time.sleep(0.1)
    assert not _session(p.pid)  # every worker has gone


def test_cache_size_is_what_the_disk_holds(shot, capfd):
    cache = shot / "cache"
    assert cli(capfd, "render", shot / "smooth.json", "--cache", cache, "-q")[0] == 0
    rc, out, _ = cli(capfd, "cache", "info", "--cache", cache)
    reported = float(out.split("size: ")[1].split()[0])
    entries = cache / "entries"
    blocks = sum(os.stat(os.path.join(d, f)).st_blocks * 512 for d, _, fs in os.walk(entries) for f in fs) + \
        sum(os.stat(d).st_blocks * 512 for d, _, _ in os.walk(entries) if d != str(entries) and
            os.path.dirname(d) != str(entries))
    apparent = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(entries) for f in fs)
    assert blocks > 2 * apparent  # small chunks: the disk holds far more than the bytes
    assert abs(reported - blocks / 2**20) < 0.06, (reported, blocks / 2**20)
    disk = rotograph.engine.cache.DiskCache(str(cache))
    assert disk.stats().bytes == blocks
    left = disk.prune(blocks // 2)  # the bound is in disk bytes too
    assert left <= blocks // 2 * 0.9 + 1 and disk.stats().bytes == left


def test_a_folder_of_frames_as_read_input(shot, capfd):
    """A Read given the plates' folder reads its one sequence; a folder of two sequences is
    refused listing them (hidden temporaries do not count)."""
    (shot / "plates" / ".p.1005.tmp-host-1-abc.exr").write_bytes(b"partial")
    rc, _, err = cli(capfd, "render", shot / "g.json", "--set", f"read.file={shot / 'plates'}", "--cache",
                     shot / "cache", "-q")
    assert rc == 0, err
    assert_rendered(shot / "out", FRAMES)
    _exr(shot / "plates" / "q.0001.exr", {"RGB": _plate(1)})
    line = assert_error(*cli(capfd, "validate", shot / "g.json", "--set", f"read.file={shot / 'plates'}"), 4,
                        "node 'read'", "param 'file'", "2 image sequences", "p.####.exr", "q.####.exr", lines=1)
    assert "name one" in line
