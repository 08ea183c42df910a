"""GPU checks (``-m gpu``; `make test` deselects them, `make gpu-check` prints the full report)."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.gpu


def test_full_size_models_and_chunked_tracking_on_cuda(capsys):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    sys.path.insert(0, str(ROOT / "bench"))
    import gpu_check

    assert gpu_check.main(frames=48, chunk=16) == 0
    out = capsys.readouterr().out
    ratio = float(out.split("peak memory max/min over chunks: ")[1].split("x")[0])
    assert ratio < 1.3  # chunking keeps GPU memory flat
