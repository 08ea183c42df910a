"""graphs/quickstart.json built by hand in the real editor window — X key presses, clicks and
drags only — saved with Ctrl+S, then rendered with the CLI: the same pixels as the shipped file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np

import rotograph
from rotograph.io.media import expand_frame

from conftest import GRAPHS, ROOT, read_exr
from editor_session import Builder, Session

FRAMES = "1041-1042"  # the keyframe and the next: FlowTrack runs, briefly


def render(graph_file, cwd):
    return subprocess.Popen([sys.executable, "-m", "rotograph.cli", "render", str(graph_file), "--frames", FRAMES,
                             "--cache", str(cwd / "cache"), "-q"], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_quickstart_built_by_hand_renders_the_same(tmp_path):
    shipped = json.loads((GRAPHS / "quickstart.json").read_text())
    built_dir, shipped_dir = tmp_path / "built", tmp_path / "shipped"  # each: graphs/ and the render/ beside it
    (built_dir / "graphs").mkdir(parents=True)
    (shipped_dir / "graphs").mkdir(parents=True)
    shutil.copy(GRAPHS / "quickstart.json", shipped_dir / "graphs" / "quickstart.json")
    shots = {k: tmp_path / f"editor-{k}.png" for k in ("palette", "box", "graph")}
    with Session(tmp_path / "session", built_dir / "graphs" / "quickstart.json", size=(1280, 800)) as s:
        builder = Builder(s, shipped, rotograph.Registry.default())
        builder.build(shots)
        assert ("feather", "size") in builder.by_inspector  # Feather's size went through the inspector
        s.key("ctrl+s")
        s.wait(lambda p: not p["dirty"] and p["title"] == "rotograph — quickstart.json", "saved")
        s.screenshot(shots["graph"])
        gestures, x_events = s.gestures, s.x_events
        assert "Traceback" not in s.stderr, s.stderr[-3000:]
    saved = json.loads((built_dir / "graphs" / "quickstart.json").read_text())
    assert len(saved["nodes"]) == len(shipped["nodes"])
    print(f"built {len(shipped['nodes'])} nodes with {gestures} gestures ({x_events} X key/button events)")

    runs = [render(built_dir / "graphs" / "quickstart.json", built_dir),  # not from the graph's folder
            render(shipped_dir / "graphs" / "quickstart.json", shipped_dir)]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-2000:]
    written = [expand_frame(spec["params"]["file"], f) for spec in shipped["nodes"].values()
               if rotograph.Registry.default().get(spec["type"]).is_writer for f in (1041, 1042)]
    assert any(w.endswith(".exr") for w in written)
    for rel in written:  # every file each writer wrote: the same pixels
        if rel.endswith(".exr"):
            a, b = read_exr(built_dir / "graphs" / rel), read_exr(shipped_dir / "graphs" / rel)
            assert a.keys() == b.keys() and all(np.array_equal(a[c], b[c]) for c in a), rel
            assert a["A"].max() > 0.5 and a["A"].min() == 0  # a matte, not an empty frame
        else:
            assert (built_dir / "graphs" / rel).read_bytes() == (shipped_dir / "graphs" / rel).read_bytes(), rel
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    for path in shots.values():
        shutil.copy(path, artifacts / path.name)
