"""The editor through its real window (Xvfb, X events): launch to first frame, a cached frame
step, idle CPU over 10 s and RSS.

- launch: from starting ``rotograph edit quickstart.json`` to the window drawn with the graph,
  and to the first image in the viewer after a click on the Read node;
- cached step: Right/Left over frames already viewed (so cached), from the key's handling in
  the editor to the end of the frame that draws it (the viewer's own clock), median;
- idle CPU: the editor process's CPU time over 10 s with nothing happening, as % of one core;
- RSS: the editor's resident memory after that.

Targets (issue 21): launch ≤ 3 s, cached step ≤ 100 ms, idle CPU ≈ 0 %. Needs xvfb, xdotool
and imagemagick (scripts/system-deps.sh). Figures are noisy on a loaded machine.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from editor_session import Session, missing_tools  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> bool:
    if missing_tools():
        print(f"editor bench: skipped (missing {', '.join(missing_tools())})")
        return True
    tmp = Path(tempfile.mkdtemp(prefix="rotograph-bench-editor-"))
    try:
        graph = tmp / "quickstart.json"
        shutil.copy(ROOT / "graphs" / "quickstart.json", graph)
        t0 = time.monotonic()
        with Session(tmp / "s", graph, size=(1600, 900), env={"ROTOGRAPH_EDITOR_HEARTBEAT": ""}) as s:
            s.wait(lambda p: len(p["canvas"]["nodes"]) >= 9, "the graph drawn", timeout=60)
            window = time.monotonic() - t0
            r = s.probe()["canvas"]["nodes"]["read"]
            s.click(r[0] + 10, r[1] + 4)
            s.wait(lambda p: p["viewer"]["shown"] and p["viewer"]["shown"][0] == "read", "the plate", timeout=60)
            first = time.monotonic() - t0
            for _ in range(6):  # view (so cache) 1001-1007
                s.key("Right")
                s.wait(lambda p: not p["viewer"]["waiting"], "the frame", timeout=60)
            steps = []
            for key in ["Left"] * 6 + ["Right"] * 6:
                frame = s.probe()["frame"]
                s.key(key)
                p = s.wait(lambda p: p["frame"] != frame and not p["viewer"]["waiting"] and
                           p["viewer"]["shown"][1] == p["frame"], "the cached frame", timeout=30)
                steps.append(p["viewer"]["latency"])
            s.move(5, 5)
            time.sleep(1.0)
            c0 = cpu_seconds(s.editor.pid)
            time.sleep(10.0)
            idle = (cpu_seconds(s.editor.pid) - c0) / 10.0 * 100
            rss = rss_mb(s.editor.pid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    step = statistics.median(steps)
    print(f"editor launch to the graph drawn: {window:.2f} s; to the first frame viewed (a click on Read): "
          f"{first:.2f} s (target 3 s: {first / 3:.2f}x)")
    print(f"editor cached frame step: median {step * 1000:.1f} ms, max {max(steps) * 1000:.1f} ms "
          f"(target 100 ms: {step / 0.1:.2f}x)")
    print(f"editor idle CPU over 10 s: {idle:.1f}% of a core; RSS {rss:.0f} MB")
    return first <= 3 and step <= 0.1 and idle < 5


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
