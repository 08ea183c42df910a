"""bench/gpu_check.py: on a CUDA machine (``-m gpu``; `make test` deselects it, `make gpu-check`
prints the full report) every step runs; anywhere else it stops at once with a clear message."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


def test_without_cuda_gpu_check_says_so_and_exits_2():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py")], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert "no CUDA GPU visible" in out.stdout and "nothing measured" in out.stdout


@pytest.mark.gpu
def test_gpu_check_runs_every_step_on_cuda(capsys):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    sys.path.insert(0, str(ROOT / "bench"))
    import gpu_check

    assert gpu_check.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "gpu-check: all steps ran" in out and "FAILED" not in out
