"""Run every benchmark and print its measured ratio; exit non-zero if a target is missed."""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = ["engine_overhead.py", "cache_read.py", "streaming_rss.py", "parallel.py", "viewer_latency.py",
           "flowtrack.py", "small_cache.py", "incremental.py", "shapes.py", "sam3_cpu.py", "pixel4k.py", "editor.py"]

if __name__ == "__main__":
    failed = [b for b in BENCHES if subprocess.run([sys.executable, os.path.join(HERE, b)], cwd=HERE).returncode]
    print("all targets met" if not failed else f"targets missed: {', '.join(failed)}")
    sys.exit(1 if failed else 0)
