"""Rendering: evaluate a graph's writers over a frame range, with progress and a report.

With ``workers > 1`` the range (temporal) nodes run first, once per segment, in this process;
then frames are spread over worker processes that share the disk cache, so per-frame nodes read
the range nodes' results instead of running them again.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
import multiprocessing

from .cache import Cache, open_cache
from .errors import GraphError, RotographError
from .evaluate import Evaluator, Stats


def parse_frames(text: str) -> list[int]:
    """``"1001-1100"``, ``"1001,1010-1020"``, ``"1001-1100x10"`` (every 10th) → frame list."""
    frames: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?", part)
        if not m:
            raise GraphError(f"--frames: cannot read {part!r} (use e.g. 1001-1100 or 1001,1005,1010-1020)")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        step = int(m.group(3) or 1)
        if b < a or step < 1:
            raise GraphError(f"--frames: {part!r} is an empty range")
        frames.extend(range(a, b + 1, step))
    return sorted(set(frames))


@dataclass
class RenderReport:
    """What a render did: frames, wall seconds, per-node computes/hits, the error if any."""

    frames: list[int]
    seconds: float = 0.0
    stats: Stats = field(default_factory=Stats)
    done: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def fps(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


def _targets(graph, targets) -> list[str]:
    names = list(targets) if targets else graph.writers()
    if not names:
        raise GraphError("the graph has no writer nodes to render (or name the nodes to render)")
    for n in names:
        graph.node(n)
    return names


def default_frames(graph, targets, evaluator: Evaluator) -> list[int]:
    ranges = [evaluator.frame_range(t) for t in targets]
    ranges = [r for r in ranges if r]
    if not ranges:
        raise GraphError("cannot tell the frame range: give --frames")
    return list(range(min(r[0] for r in ranges), max(r[1] for r in ranges) + 1))


def render(graph, frames=None, *, targets=None, cache: Cache | None = None, workers: int = 1,
           progress=None, evaluator: Evaluator | None = None) -> RenderReport:
    """Render ``targets`` (default: every writer) over ``frames`` (default: their frame range).

    ``progress`` is ``None`` or a callable ``(done, total, hits)``. Raises nothing for node
    failures: the report's ``error`` holds the first one and frames rendered before it stay.
    """
    targets = _targets(graph, targets)
    graph.validate(targets)
    if evaluator is None:
        evaluator = Evaluator(graph, cache if cache is not None else open_cache())
    frames = parse_frames(frames) if isinstance(frames, str) else (list(frames) if frames else None)
    frames = frames or default_frames(graph, targets, evaluator)
    report = RenderReport(frames)
    upstream = graph.upstream(targets)
    range_nodes = [n for n in graph.topological() if n in upstream and graph.nodes[n].is_range]
    evaluator.wanted = {n: set(frames) for n in range_nodes}
    start_stats = Stats()
    start_stats.merge(evaluator.stats)
    t0 = time.perf_counter()

    def tick():
        if progress:
            progress(report.done, len(frames), sum(evaluator.stats.hits.values()) - sum(start_stats.hits.values()))

    try:
        if workers > 1:
            _render_parallel(graph, frames, targets, range_nodes, evaluator, workers, report, tick)
        else:
            for f in frames:
                for t in targets:
                    evaluator.get(t, None, f)
                report.done += 1
                tick()
    except RotographError as e:
        report.error = str(e)
    report.seconds = time.perf_counter() - t0
    report.stats = evaluator.stats.since(start_stats)
    return report


# -- parallel ---------------------------------------------------------------------------------
_WORKER: dict = {}


def _worker_init(graph_json: str, cache_url: str, max_bytes: int, memory_bytes: int, wanted) -> None:
    from .graphio import loads

    graph = loads(graph_json, source="<render>")
    cache = Cache(open_cache(cache_url, max_bytes=max_bytes).disk, memory_bytes)
    ev = Evaluator(graph, cache)
    ev.wanted = wanted
    _WORKER.update(graph=graph, evaluator=ev)


def _worker_frames(frames: list[int], targets: list[str]):
    ev: Evaluator = _WORKER["evaluator"]
    ev.stats = Stats()
    try:
        for f in frames:
            for t in targets:
                ev.get(t, None, f)
    except RotographError as e:
        return ev.stats, str(e)
    return ev.stats, None


def _render_parallel(graph, frames, targets, range_nodes, evaluator, workers, report, tick):
    from .graphio import dumps

    cache = evaluator.cache
    if cache.disk is None:
        raise GraphError("--workers needs a disk cache shared by the workers")
    for name in range_nodes:  # temporal nodes: once per segment, here
        node = graph.nodes[name]
        rng = evaluator.frame_range(name)
        for f in frames:
            if rng and rng[0] <= f <= rng[1]:
                for o in node.outputs:
                    evaluator.get(name, o, f)
    chunk = max(1, min(8, len(frames) // (workers * 4) or 1))
    batches = [frames[i:i + chunk] for i in range(0, len(frames), chunk)]
    ctx = multiprocessing.get_context("spawn")
    init = (dumps(graph), cache.disk.url, cache.disk.max_bytes, cache.memory.max_bytes, evaluator.wanted)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=init) as pool:
        futures = [pool.submit(_worker_frames, b, targets) for b in batches]
        for fut, batch in zip(futures, batches):
            stats, error = fut.result()
            evaluator.stats.merge(stats)
            if error:
                for other in futures:
                    other.cancel()
                raise RotographError(error)
            report.done += len(batch)
            tick()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
