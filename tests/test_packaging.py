"""The wheel carries the engine, the node library, the editor package, the schema and the CLI."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_contents(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("rotograph-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("rotograph/__init__.py", "rotograph/cache/disk.py", "rotograph/nodes/__init__.py",
              "rotograph/nodes/flowtrack.py", "rotograph/editor/__init__.py", "rotograph/schema/graph.v1.schema.json"):
        assert f in names, f
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "rotograph = rotograph.cli:main" in declared
    assert "[rotograph.plugins]\nrotograph = rotograph.nodes:register" in declared  # built-ins load as a plugin


def test_console_script_and_import_names():
    import rotograph.nodes

    assert rotograph.nodes.__file__.replace("\\", "/").endswith("nodes/__init__.py")
    exe = ROOT / ".venv" / "bin" / "rotograph"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rotograph.cli"]
    out = subprocess.run([*cmd, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("rotograph ")
