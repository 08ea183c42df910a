"""Editor viewer latency: change a cheap node's param (Feather) at 1080p and time until the
viewer's pixels are ready (graph snapshot → evaluation off the UI thread → display RGBA).

Target (issue 4): under 100 ms. Upstream (Read → Keyer → Grow) is cached, as it is after the
first look at a frame.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time

import rotograph
from rotograph.editor.display import to_display
from rotograph.editor.model import EditorModel
from rotograph.editor.worker import EvalWorker

from common import make_exr_sequence


def main() -> float:
    pattern = make_exr_sequence(tempfile.mkdtemp(prefix="rotograph-bench-view-"), 1)
    registry = rotograph.Registry.builtin()
    m = EditorModel(registry)
    m.add_node("rotograph.Read", name="read", file=pattern)
    m.add_node("rotograph.Keyer", name="keyer")
    m.add_node("rotograph.Grow", name="grow", size=2.0)
    m.add_node("rotograph.Feather", name="feather", size=3.0)
    m.connect("read.image", "keyer.image")
    m.connect("keyer.matte", "grow.matte")
    m.connect("grow.out", "feather.matte")
    worker = EvalWorker(registry, rotograph.Cache())

    def view() -> float:
        t0 = time.perf_counter()
        worker.request(rotograph.dumps(m.graph), "feather", None, 1001)
        while (res := worker.result()) is None:
            time.sleep(0.0005)
        assert res.error is None, res.error
        to_display(res.value)
        return time.perf_counter() - t0

    view()  # first look: computes Read, Keyer, Grow
    times = []
    for i in range(15):
        m.set_param("feather", "size", 3.0 + (i % 5))
        times.append(view())
    worker.close()
    med = statistics.median(times)
    print(f"viewer latency after a Feather change at 1920x1080: median {med * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms (target < 100 ms)")
    return med


if __name__ == "__main__":
    sys.exit(0 if main() < 0.1 else 1)
