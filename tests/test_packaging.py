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
    names = set(zipfile.ZipFile(wheel).namelist())
    # every module of the source tree, at its import path (nodes/ is rotograph/nodes/, editor/ rotograph/editor/)
    for folder, prefix in (("rotograph", "rotograph"), ("nodes", "rotograph/nodes"), ("editor", "rotograph/editor")):
        for f in (ROOT / folder).rglob("*.py"):
            path = f"{prefix}/{f.relative_to(ROOT / folder).as_posix()}"
            assert path in names, path
    assert "rotograph/core/schema/graph.v1.schema.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "rotograph = rotograph.interop.cli:main" in declared
    assert "[rotograph.plugins]\nrotograph = rotograph.nodes:register" in declared  # built-ins load as a plugin


def test_console_script_and_import_names():
    import rotograph.nodes

    assert rotograph.nodes.__file__.replace("\\", "/").endswith("nodes/__init__.py")
    exe = ROOT / ".venv" / "bin" / "rotograph"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rotograph.interop.cli"]
    out = subprocess.run([*cmd, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("rotograph ")
