"""`make docs` builds the API reference and guides without a warning (mkdocs --strict): a
docstring or guide change that breaks the build fails here. Skipped without the docs extra
(pip install -e '.[docs]')."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "WARNING" not in out.stderr, out.stderr[-3000:]
    guide = (tmp_path / "site" / "writing-nodes" / "index.html").read_text(encoding="utf-8")
    for included in ("studio.MatteContrast", "studio.MatteTrail", "studio.WriteCoverageTable"):  # the example files
        assert included in guide, included
    reference = (tmp_path / "site" / "api" / "nodes" / "index.html").read_text(encoding="utf-8")
    assert "compute_range" in reference and ":class:" not in reference
