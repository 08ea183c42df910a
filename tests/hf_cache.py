"""Files laid out as huggingface_hub caches a downloaded repo, so that the real loading code
(``hf_hub_download``, ``try_to_load_from_cache``) finds them offline:
``<HF_HOME>/hub/models--org--name/{blobs/<sha256>, snapshots/<revision>/<file> → blob, refs/main}``."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

REVISION = "5f4c1e2d3b4a5968778695a4b3c2d1e0f9e8d7c6"


def hf_snapshot(hf_home: Path, repo: str, files: dict[str, Path], revision: str = REVISION) -> Path:
    """Place ``files`` (name in the repo → local file) as the cached snapshot ``revision`` of
    ``repo`` (also what ``refs/main`` points at); return the snapshot folder."""
    root = Path(hf_home) / "hub" / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / revision
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(exist_ok=True)
    (root / "refs" / "main").write_text(revision)
    for name, src in files.items():
        digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
        blob = root / "blobs" / digest
        shutil.copyfile(src, blob)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() or link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(blob, link.parent), link)
    return snapshot
